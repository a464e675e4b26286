// Encoding: the YAML a person would write, JSON of the same shape, and decode(encode(x)) == x.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pkg/codec/codec.h"
#include "tests/unit/codec/manifests.h"

namespace sy::codec {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Every field set, none to its default.
api::DeploymentColor FullyPopulated() {
  api::DeploymentColor dc;
  dc.metadata.name = "shop";
  dc.metadata.namespace_ = "prod";
  dc.metadata.labels = {{"app", "shop"}, {"tier", "web"}};
  dc.metadata.annotations = {
      {std::string(api::kAllowDiscardAnnotation), "green@tli=2,lsn=0/3000148"}};
  dc.metadata.uid = "5f0c3a5e-1b7e-4c1e-9a43-7d1f0d6d2b10";
  dc.metadata.generation = 7;
  dc.metadata.resource_version = "42";
  dc.metadata.creation_timestamp = "2026-11-26T17:00:00Z";
  dc.spec.active_color = api::Color::kGreen;
  dc.spec.paused = true;
  dc.spec.blue = {{"10.0.1.11:8080", "10.0.1.12:8080"},
                  {"db-blue", 5433, "/srv/pg/blue", "/etc/pg/blue.conf", "db-blue:9754"}};
  dc.spec.green = {{"10.0.2.11:8080"},
                   {"db-green", 5434, "/srv/pg/green", "/etc/pg/green.conf", "[2001:db8::2]:9754"}};
  dc.spec.nginx = {"/srv/nginx/shop.conf",
                   "shop_up",
                   "/opt/nginx/sbin/nginx",
                   "/srv/nginx/nginx.conf",
                   {"http://lb.example:8080/health", "X-Color", 3},
                   "lb.example:9754"};
  dc.spec.database = {"sy",
                      "/etc/switchyard/pgpass",
                      "repl",
                      "pg",
                      "/opt/pg/bin",
                      0,
                      7,
                      120,
                      api::RejoinMethod::kBasebackup,
                      api::SynchronousReplication::kUnmanaged,
                      300,
                      45};
  api::DeploymentColorStatus& s = dc.status;
  s.observed_generation = 7;
  s.phase = "Progressing";
  s.serving_color = "green";
  s.primary_color = "blue";
  s.step = "fencing blue";
  s.conditions = {
      {"Ready", "False", "Switching", "switching to green: fencing blue", "2026-11-26T17:30:00Z",
       7},
      {"TrafficSwitched", "True", "Served", "nginx serves green", "2026-11-26T17:29:59Z", 7}};
  s.last_switchover =
      api::Switchover{"blue", "green", "2026-11-20T10:00:00Z", "2026-11-20T10:00:01Z", 95};
  s.fence = api::FenceRecord{"blue", "0/3000028", 4, "2026-11-26T17:30:00Z"};
  s.source = "file:/etc/switchyard/shop.yaml";
  return dc;
}

api::DeploymentColor DecodeOne(const std::string& text) {
  std::vector<DecodedDocument> docs = DecodeYamlStream(text, "encoded");
  EXPECT_EQ(docs.size(), 1u) << text;
  if (docs.size() != 1) return {};
  for (const Problem& p : docs[0].problems) ADD_FAILURE() << p.ToString() << "\n" << text;
  return docs[0].object;
}

TEST(RoundTripTest, YamlKeepsEveryField) {
  const api::DeploymentColor dc = FullyPopulated();
  EXPECT_EQ(DecodeOne(EncodeYaml(dc)), dc);
}

TEST(RoundTripTest, JsonKeepsEveryField) {
  const api::DeploymentColor dc = FullyPopulated();
  for (int indent : {-1, 2}) {
    const auto decoded = DecodeJson(EncodeJson(dc, indent), "encoded.json");
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, dc);
    EXPECT_EQ(DecodeOne(EncodeJson(dc, indent)), dc);  // JSON is YAML too
  }
}

TEST(RoundTripTest, StringsThatLookLikeOtherTypesStayStrings) {
  api::DeploymentColor dc = FullyPopulated();
  dc.metadata.labels = {{"yes", "no"},        {"n", "5"},        {"f", "1.5e3"},
                        {"null", "~"},        {"t", "True"},     {"e", ""},
                        {"d", "2026-11-26"},  {"s", "a: b # c"}, {"q", "\"quoted\""},
                        {"nl", "two\nlines"}, {"u", "grün"},     {"x", "0x1F"},
                        {"o", "0o17"},        {"sx", "1:30"},    {"i", "+.inf"},
                        {"h", ".5"},          {"k", "1_000"},    {"on", "On"}};
  dc.status.conditions[0].status = "True";
  const std::string yaml = EncodeYaml(dc);
  EXPECT_EQ(DecodeOne(yaml), dc) << yaml;
  EXPECT_THAT(yaml, HasSubstr("status: \"True\""));
  EXPECT_THAT(yaml, HasSubstr("\"n\": \"5\""));
}

TEST(EncodeYamlTest, WritesBlockYamlInTheDesignOrder) {
  const auto objects = DecodeManifests(testing::kShop, "shop.yaml");
  ASSERT_TRUE(objects.ok()) << objects.status();
  EXPECT_EQ(EncodeYaml((*objects)[0]), R"(apiVersion: switchyard.dev/v1alpha1
kind: DeploymentColor
metadata:
  name: shop
  namespace: default
spec:
  activeColor: blue
  paused: false
  colors:
    blue:
      upstreams:
        - 127.0.0.1:18081
      database:
        host: 127.0.0.1
        port: 15433
        dataDirectory: /tmp/pg/blue
    green:
      upstreams:
        - 127.0.0.1:18082
      database:
        host: 127.0.0.1
        port: 15434
        dataDirectory: /tmp/pg/green
  nginx:
    upstreamFile: /tmp/nginx/shop.conf
    upstreamName: shop
    binary: nginx
    configFile: /etc/nginx/nginx.conf
    probe:
      url: http://127.0.0.1:18080/
      header: X-Switchyard-Color
      timeoutSeconds: 5
  database:
    user: switchyard
    replicationUser: replicator
    osUser: postgres
    binDirectory: /usr/lib/postgresql/15/bin
    maxLagBytes: 16777216
    maxReplayLagSeconds: 5
    catchUpTimeoutSeconds: 30
    slotRetentionSeconds: 300
    archiveTimeoutSeconds: 30
    rejoinMethod: auto
)");
}

TEST(EncodeYamlTest, EmptyStatusIsLeftOutAndSetStatusIsWritten) {
  api::DeploymentColor dc = FullyPopulated();
  dc.status = {};
  EXPECT_THAT(EncodeYaml(dc), Not(HasSubstr("status")));
  EXPECT_THAT(EncodeJson(dc), Not(HasSubstr("status")));
  dc.status.phase = "Invalid";
  EXPECT_THAT(EncodeYaml(dc), HasSubstr("\nstatus:\n  phase: Invalid\n"));
  EXPECT_THAT(EncodeJson(dc), HasSubstr(R"("status":{"phase":"Invalid"})"));
}

TEST(EncodeJsonTest, CompactIsOneLineInTheDesignOrder) {
  const std::string json = EncodeJson(FullyPopulated());
  EXPECT_EQ(json.find('\n'), std::string::npos);
  EXPECT_THAT(json, ::testing::StartsWith(
                        R"({"apiVersion":"switchyard.dev/v1alpha1","kind":"DeploymentColor",)"
                        R"("metadata":{"name":"shop","namespace":"prod",)"));
  EXPECT_THAT(json, HasSubstr(R"("database":{"host":"db-blue","port":5433,)"));
  EXPECT_THAT(json, HasSubstr(R"("paused":true,)"));
  EXPECT_THAT(EncodeJson(FullyPopulated(), 2), HasSubstr("{\n  \"apiVersion\""));
}

TEST(EncodeTest, InvalidUtf8DoesNotThrow) {
  api::DeploymentColor dc = FullyPopulated();
  dc.status.conditions[0].message = "server said \xff\xfe";
  EXPECT_THAT(EncodeJson(dc), HasSubstr("server said"));
  EXPECT_FALSE(EncodeYaml(dc).empty());
}

}  // namespace
}  // namespace sy::codec
