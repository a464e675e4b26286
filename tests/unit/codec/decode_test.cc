// Decoding valid manifests: defaults, multi-document streams, JSON, status, files and the
// examples/ folder.
#include <string>
#include <vector>

#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pkg/codec/codec.h"
#include "pkg/util/files.h"
#include "tests/unit/codec/manifests.h"

namespace sy::codec {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::kShop;
using testing::ShopWith;

// The object kShop describes, every default spelled out.
api::DeploymentColor ShopWithDefaults() {
  api::DeploymentColor want;
  want.metadata.name = "shop";
  want.metadata.namespace_ = "default";
  want.spec.active_color = api::Color::kBlue;
  want.spec.paused = false;
  want.spec.blue.upstreams = {"127.0.0.1:18081"};
  want.spec.blue.database = {"127.0.0.1", 15433, "/tmp/pg/blue"};
  want.spec.green.upstreams = {"127.0.0.1:18082"};
  want.spec.green.database = {"127.0.0.1", 15434, "/tmp/pg/green"};
  api::NginxSpec& n = want.spec.nginx;
  n.upstream_file = "/tmp/nginx/shop.conf";
  n.upstream_name = "shop";
  n.binary = "nginx";
  n.config_file = "/etc/nginx/nginx.conf";
  n.probe = {"http://127.0.0.1:18080/", "X-Switchyard-Color", 5};
  api::DatabaseSpec& d = want.spec.database;
  d.user = "switchyard";
  d.password_file = "";
  d.replication_user = "replicator";
  d.os_user = "postgres";
  d.bin_directory = "/usr/lib/postgresql/15/bin";
  d.max_lag_bytes = 16777216;
  d.catch_up_timeout_seconds = 30;
  d.rejoin_method = api::RejoinMethod::kAuto;
  d.archive_timeout_seconds = 30;
  return want;
}

TEST(DecodeTest, MinimalManifestGetsEveryDefault) {
  const std::vector<DecodedDocument> docs = DecodeYamlStream(kShop, "shop.yaml");
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_TRUE(docs[0].ok()) << docs[0].problems[0].ToString();
  EXPECT_EQ(docs[0].index, 0);
  EXPECT_EQ(docs[0].line, 2);  // its first token, after the comment
  EXPECT_EQ(docs[0].object, ShopWithDefaults());
}

TEST(DecodeTest, ExplicitValuesWinOverDefaults) {
  std::string manifest = ShopWith("  name: shop\n", "  name: shop\n  namespace: prod\n");
  manifest.replace(manifest.find("  nginx:\n"), 9,
                   "  paused: true\n  nginx:\n    upstreamName: shop_v2\n");
  const auto objects = DecodeManifests(manifest, "x.yaml");
  ASSERT_TRUE(objects.ok()) << objects.status();
  EXPECT_EQ((*objects)[0].Key(), "prod/shop");
  EXPECT_TRUE((*objects)[0].spec.paused);
  EXPECT_EQ((*objects)[0].spec.nginx.upstream_name, "shop_v2");
}

// Agents: absent means none (the controller's machine); an IPv6 address in brackets is a
// plain YAML string. Agents on loopback: the spec's hosts are 127.0.0.1.
TEST(DecodeTest, AgentsAreReadAndDefaultToNone) {
  const auto none = DecodeManifests(kShop, "x.yaml");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ((*none)[0].spec.blue.database.agent, "");
  EXPECT_EQ((*none)[0].spec.nginx.agent, "");
  std::string manifest =
      ShopWith("        dataDirectory: /tmp/pg/blue\n",
               "        dataDirectory: /tmp/pg/blue\n        agent: 127.0.0.1:9754\n");
  manifest = absl::StrReplaceAll(manifest, {{"dataDirectory: /tmp/pg/green}",
                                             "dataDirectory: /tmp/pg/green, agent: "
                                             "\"[::1]:9755\"}"},
                                            {"  nginx:\n", "  nginx:\n    agent: lb:9754\n"}});
  const auto objects = DecodeManifests(manifest, "x.yaml");
  ASSERT_TRUE(objects.ok()) << objects.status() << "\n" << manifest;
  EXPECT_EQ((*objects)[0].spec.blue.database.agent, "127.0.0.1:9754");
  EXPECT_EQ((*objects)[0].spec.green.database.agent, "[::1]:9755");
  EXPECT_EQ((*objects)[0].spec.nginx.agent, "lb:9754");
}

TEST(DecodeTest, MultiDocumentStreamSkipsEmptyDocuments) {
  const std::string billing = ShopWith("name: shop", "name: billing");
  const std::string stream = "---\n" + std::string(kShop) + "---\n# nothing here\n---\n" + billing;
  const std::vector<DecodedDocument> docs = DecodeYamlStream(stream, "all.yaml");
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_TRUE(docs[0].ok());
  EXPECT_TRUE(docs[1].ok());
  EXPECT_EQ(docs[0].object.metadata.name, "shop");
  EXPECT_EQ(docs[1].object.metadata.name, "billing");
  EXPECT_EQ(docs[0].index, 0);
  EXPECT_EQ(docs[1].index, 2);
  EXPECT_EQ(docs[1].line, 27);  // its "---"
  const auto objects = DecodeManifests(stream, "all.yaml");
  ASSERT_TRUE(objects.ok()) << objects.status();
  EXPECT_EQ(objects->size(), 2u);
}

TEST(DecodeTest, ProblemsOfOneDocumentCarryTheirOwnLines) {
  const std::string stream =
      std::string(kShop) + "---\n" + ShopWith("activeColor: blue", "activeColor: red");
  const std::vector<DecodedDocument> docs = DecodeYamlStream(stream, "all.yaml");
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_TRUE(docs[0].ok());
  ASSERT_EQ(docs[1].problems.size(), 1u);
  EXPECT_EQ(docs[1].problems[0].ToString(),
            R"(all.yaml:31:16: spec.activeColor: must be "blue" or "green", got "red")");
  const auto objects = DecodeManifests(stream, "all.yaml");
  EXPECT_EQ(objects.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(objects.status().message()), docs[1].problems[0].ToString());
}

TEST(DecodeTest, SyntaxErrorKeepsTheDocumentsBeforeIt) {
  const std::string stream =
      std::string(kShop) + "---\nspec: [unclosed\n---\n" + std::string(kShop);
  const std::vector<DecodedDocument> docs = DecodeYamlStream(stream, "all.yaml");
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_TRUE(docs[0].ok());
  EXPECT_EQ(docs[1].index, 1);
  ASSERT_EQ(docs[1].problems.size(), 1u);
  EXPECT_EQ(docs[1].problems[0].field, "");
  EXPECT_EQ(docs[1].problems[0].file, "all.yaml");
  EXPECT_FALSE(DecodeManifests(stream, "all.yaml").ok());
}

TEST(DecodeTest, DuplicateResourceInOneStreamIsAnError) {
  const std::string stream = std::string(kShop) + "---\n" + std::string(kShop);
  const auto objects = DecodeManifests(stream, "all.yaml");
  EXPECT_EQ(objects.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(objects.status().message()),
            "all.yaml:24: metadata.name: \"default/shop\" is defined again (first at line 2)");
}

TEST(DecodeTest, EmptyStreamIsNoManifest) {
  EXPECT_TRUE(DecodeYamlStream("", "e.yaml").empty());
  EXPECT_TRUE(DecodeYamlStream("# only a comment\n---\n---\n", "e.yaml").empty());
  const auto objects = DecodeManifests("---\n", "e.yaml");
  EXPECT_EQ(objects.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(objects.status().message()), "e.yaml: no document found");
}

TEST(DecodeTest, AliasesAreResolved) {
  const auto objects = DecodeManifests(
      ShopWith("  name: shop\n", "  name: shop\n  labels: &l {app: shop}\n  annotations: *l\n"),
      "a.yaml");
  ASSERT_TRUE(objects.ok()) << objects.status();
  EXPECT_EQ((*objects)[0].metadata.annotations.at("app"), "shop");
}

TEST(DecodeTest, ServerSetFieldsAndStatusAreAccepted) {
  const std::string manifest = ShopWith("  name: shop\n", R"(  name: shop
  uid: 7c1a
  generation: 3
  resourceVersion: "12"
  creationTimestamp: "2026-11-26T17:00:00Z"
)") + R"(status:
  observedGeneration: 3
  phase: Converged
  servingColor: blue
  primaryColor: blue
  conditions:
  - {type: Ready, status: "True", reason: Converged, observedGeneration: 3}
  lastSwitchover: {from: green, to: blue, writeUnavailableMs: 95}
  fence: {color: green, checkpointLsn: 0/3000028, timeline: 4}
  source: file:examples/local.yaml
)";
  const auto objects = DecodeManifests(manifest, "s.yaml");
  ASSERT_TRUE(objects.ok()) << objects.status();
  const api::DeploymentColor& dc = (*objects)[0];
  EXPECT_EQ(dc.metadata.uid, "7c1a");
  EXPECT_EQ(dc.metadata.generation, 3);
  EXPECT_EQ(dc.metadata.resource_version, "12");
  EXPECT_EQ(dc.status.phase, "Converged");
  ASSERT_EQ(dc.status.conditions.size(), 1u);
  EXPECT_EQ(dc.status.conditions[0].status, "True");
  EXPECT_EQ(dc.status.conditions[0].observed_generation, 3);
  ASSERT_TRUE(dc.status.last_switchover.has_value());
  EXPECT_EQ(dc.status.last_switchover->write_unavailable_ms, 95);
  ASSERT_TRUE(dc.status.fence.has_value());
  EXPECT_EQ(dc.status.fence->checkpoint_lsn, "0/3000028");
  EXPECT_EQ(dc.status.fence->timeline, 4u);
}

constexpr std::string_view kShopJson = R"({
  "apiVersion": "switchyard.dev/v1alpha1",
  "kind": "DeploymentColor",
  "metadata": {"name": "shop"},
  "spec": {
    "activeColor": "blue",
    "colors": {
      "blue": {"upstreams": ["127.0.0.1:18081"],
               "database": {"host": "127.0.0.1", "port": 15433, "dataDirectory": "/tmp/pg/blue"}},
      "green": {"upstreams": ["127.0.0.1:18082"],
                "database": {"port": 15434, "dataDirectory": "/tmp/pg/green"}}
    },
    "nginx": {"upstreamFile": "/tmp/nginx/shop.conf",
              "probe": {"url": "http://127.0.0.1:18080/"}},
    "database": {"maxLagBytes": 16777216}
  }
})";

TEST(DecodeTest, JsonIsYaml) {
  const std::vector<DecodedDocument> docs = DecodeYamlStream(kShopJson, "shop.json");
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_TRUE(docs[0].ok()) << docs[0].problems[0].ToString();
  EXPECT_EQ(docs[0].object, ShopWithDefaults());
}

TEST(DecodeJsonTest, DecodesWithTheSameDefaults) {
  const auto dc = DecodeJson(kShopJson, "shop.json");
  ASSERT_TRUE(dc.ok()) << dc.status();
  EXPECT_EQ(*dc, ShopWithDefaults());
}

TEST(DecodeJsonTest, FieldProblemsHaveNoPosition) {
  std::string json(kShopJson);
  json.replace(json.find("\"blue\","), 7, "\"purple\",");
  json.replace(json.find("15433"), 5, "\"15433\"");
  json.replace(json.find("16777216"), 8, "1.5");
  json.replace(json.find("\"kind\""), 6, "\"kind\": \"DeploymentColor\", \"kind\"");
  const auto dc = DecodeJson(json, "shop.json");
  EXPECT_EQ(dc.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(dc.status().message()),
            "shop.json: kind: duplicate field \"kind\"\n"
            "shop.json: spec.activeColor: must be \"blue\" or \"green\", got \"purple\"\n"
            "shop.json: spec.colors.blue.database.port: must be an integer, got the string "
            "\"15433\"\n"
            "shop.json: spec.database.maxLagBytes: must be an integer, got \"1.5\"");
}

TEST(DecodeJsonTest, SyntaxErrorHasLineAndColumn) {
  const auto dc = DecodeJson("{\n  \"metadata\": {\"name\": shop}\n}", "shop.json");
  EXPECT_EQ(dc.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(dc.status().message()),
            "shop.json:2:24: syntax error while parsing value - invalid literal");
}

TEST(DecodeJsonTest, RejectsWhatIsNotOneJsonObject) {
  for (std::string_view bad : {"", "null", "[]", "\"shop\"", "{} {}", "{\"a\": 1,}"}) {
    EXPECT_EQ(DecodeJson(bad, "x.json").status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(ReadManifestFileTest, MissingFileIsNotFoundAndNamesThePath) {
  const std::string path = "/nonexistent/switchyard/shop.yaml";
  const auto objects = ReadManifestFile(path);
  EXPECT_EQ(objects.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(objects.status().message()), HasSubstr(path));
}

TEST(ReadManifestFileTest, ProblemsNameTheFile) {
  const std::string path = ::testing::TempDir() + "/bad.yaml";
  ASSERT_TRUE(util::WriteFileAtomically(path, "kind: [").ok());
  const auto objects = ReadManifestFile(path);
  EXPECT_EQ(objects.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(objects.status().message()), ::testing::StartsWith(path + ":"));
}

TEST(ExamplesTest, LocalStackManifestIsValid) {
  const auto objects = ReadManifestFile(testing::ExamplePath("local.yaml"));
  ASSERT_TRUE(objects.ok()) << objects.status();
  ASSERT_EQ(objects->size(), 1u);
  const api::DeploymentColor& dc = (*objects)[0];
  EXPECT_EQ(dc.Key(), "default/shop");
  EXPECT_EQ(dc.spec.active_color, api::Color::kBlue);
  EXPECT_THAT(dc.spec.blue.upstreams, ElementsAre("127.0.0.1:18081"));
  EXPECT_EQ(dc.spec.blue.database,
            (api::DatabaseRef{"127.0.0.1", 15433, "/tmp/switchyard-local/pg/blue"}));
  EXPECT_THAT(dc.spec.green.upstreams, ElementsAre("127.0.0.1:18082"));
  EXPECT_EQ(dc.spec.green.database,
            (api::DatabaseRef{"127.0.0.1", 15434, "/tmp/switchyard-local/pg/green"}));
  EXPECT_EQ(dc.spec.nginx.upstream_file, "/tmp/switchyard-local/nginx/switchyard/shop.conf");
  EXPECT_EQ(dc.spec.nginx.upstream_name, "shop");
  EXPECT_EQ(dc.spec.nginx.binary, "/usr/sbin/nginx");
  EXPECT_EQ(dc.spec.nginx.config_file, "/tmp/switchyard-local/nginx/nginx.conf");
  EXPECT_EQ(dc.spec.nginx.probe,
            (api::ProbeSpec{"http://127.0.0.1:18080/", "X-Switchyard-Color", 2}));
  EXPECT_EQ(dc.spec.database.user, "switchyard");
  EXPECT_EQ(dc.spec.database.replication_user, "replicator");
  EXPECT_EQ(dc.spec.database.os_user, "postgres");
  EXPECT_EQ(dc.spec.database.bin_directory, "/usr/lib/postgresql/15/bin");
  EXPECT_EQ(dc.spec.database.max_lag_bytes, 16777216);
  EXPECT_EQ(dc.spec.database.catch_up_timeout_seconds, 30);
  EXPECT_EQ(dc.spec.database.rejoin_method, api::RejoinMethod::kAuto);
  EXPECT_EQ(dc.spec.database.synchronous_replication, api::SynchronousReplication::kUnmanaged);
}

TEST(ExamplesTest, OtherExamplesAreValid) {
  const auto production = ReadManifestFile(testing::ExamplePath("production.yaml"));
  ASSERT_TRUE(production.ok()) << production.status();
  EXPECT_EQ((*production)[0].Key(), "production/shop");
  EXPECT_EQ((*production)[0].spec.database.synchronous_replication,
            api::SynchronousReplication::kRequired);
  const auto multi = ReadManifestFile(testing::ExamplePath("multi.yaml"));
  ASSERT_TRUE(multi.ok()) << multi.status();
  ASSERT_EQ(multi->size(), 2u);
  EXPECT_EQ((*multi)[1].Key(), "default/billing");
  EXPECT_TRUE((*multi)[1].spec.paused);
  EXPECT_EQ((*multi)[1].spec.database.rejoin_method, api::RejoinMethod::kBasebackup);
}

TEST(ProblemTest, ToStringLeavesOutWhatIsUnknown) {
  EXPECT_EQ((Problem{"f.yaml", 3, 5, "spec.paused", "m"}).ToString(), "f.yaml:3:5: spec.paused: m");
  EXPECT_EQ((Problem{"f.yaml", 3, 0, "spec", "m"}).ToString(), "f.yaml:3: spec: m");
  EXPECT_EQ((Problem{"f.yaml", 0, 0, "spec", "m"}).ToString(), "f.yaml: spec: m");
  EXPECT_EQ((Problem{"f.yaml", 3, 5, "", "m"}).ToString(), "f.yaml:3:5: m");
  EXPECT_EQ((Problem{"", 0, 0, "", "m"}).ToString(), "m");
}

}  // namespace
}  // namespace sy::codec
