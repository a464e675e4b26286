// Bad manifests and the exact messages a user sees for them: each case edits the valid kShop
// (see manifests.h for its line numbers) and lists every expected problem, in order.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pkg/codec/codec.h"
#include "tests/unit/codec/manifests.h"

namespace sy::codec {
namespace {

using ::testing::ElementsAreArray;
using testing::ShopWith;

struct BadCase {
  std::string name;
  std::string from;  // replaced in kShop by `to`; empty: `to` is the whole manifest
  std::string to;
  std::vector<std::string> want;
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

std::vector<std::string> Messages(const std::vector<DecodedDocument>& docs) {
  std::vector<std::string> out;
  for (const DecodedDocument& doc : docs) {
    for (const Problem& p : doc.problems) out.push_back(p.ToString());
  }
  return out;
}

const std::vector<BadCase>& Cases() {
  static const auto* const kCases = new std::vector<BadCase>{
      // Values of the wrong kind.
      {"WrongColor",
       "activeColor: blue",
       "activeColor: purple",
       {R"(shop.yaml:7:16: spec.activeColor: must be "blue" or "green", got "purple")"}},
      {"MapForString",
       "upstreamFile: /tmp/nginx/shop.conf",
       "upstreamFile: {path: /tmp/x}",
       {"shop.yaml:19:19: spec.nginx.upstreamFile: must be a string, got a mapping"}},
      {"WordForInt",
       "port: 15433",
       "port: abc",
       {R"(shop.yaml:13:15: spec.colors.blue.database.port: must be an integer, got "abc")"}},
      {"QuotedInt",
       "port: 15433",
       "port: \"15433\"",
       {"shop.yaml:13:15: spec.colors.blue.database.port: must be an integer, got the string "
        "\"15433\""}},
      {"HugeInt",
       "maxLagBytes: 16777216",
       "maxLagBytes: 99999999999999999999",
       {"shop.yaml:23:18: spec.database.maxLagBytes: must be an integer in "
        "-9223372036854775808..9223372036854775807, got \"99999999999999999999\""}},
      {"MaybeBool",
       "activeColor: blue",
       "activeColor: blue\n  paused: maybe",
       {R"(shop.yaml:8:11: spec.paused: must be true or false, got "maybe")"}},
      {"ScalarForList",
       R"(upstreams: ["127.0.0.1:18081"])",
       "upstreams: 127.0.0.1:18081",
       {"shop.yaml:10:18: spec.colors.blue.upstreams: must be a sequence, got "
        "\"127.0.0.1:18081\""}},
      {"BadRejoinMethod",
       "maxLagBytes: 16777216",
       "maxLagBytes: 16777216\n    rejoinMethod: sometimes",
       {"shop.yaml:24:19: spec.database.rejoinMethod: must be \"auto\" or \"basebackup\", got "
        "\"sometimes\""}},
      {"BadSynchronousReplication",
       "maxLagBytes: 16777216",
       "maxLagBytes: 16777216\n    synchronousReplication: on",
       {"shop.yaml:24:29: spec.database.synchronousReplication: must be \"unmanaged\", "
        "\"preferred\" or \"required\", got \"on\""}},
      {"UnsupportedTag",
       "activeColor: blue",
       "activeColor: !color blue",
       {R"(shop.yaml:7:16: spec.activeColor: unsupported YAML tag "!color")"}},
      {"NotAMapping",
       "",
       "just a string",
       {R"(shop.yaml:1:1: must be a mapping, got "just a string")"}},
      // Unknown and duplicate fields, at several depths.
      {"UnknownTopLevel",
       "kind: DeploymentColor",
       "kind: DeploymentColor\ncolour: blue",
       {R"(shop.yaml:4:1: colour: unknown field "colour")"}},
      {"UnknownInSpec",
       "  activeColor: blue",
       "  activeColor: blue\n  colour: blue",
       {R"(shop.yaml:8:3: spec.colour: unknown field "colour")"}},
      {"UnknownDeep",
       "port: 15433",
       "port: 15433\n        sslmode: require",
       {"shop.yaml:14:9: spec.colors.blue.database.sslmode: unknown field \"sslmode\""}},
      {"UnknownInFlowMapping",
       "port: 15434,",
       "port: 15434, sslmode: require,",
       {"shop.yaml:17:48: spec.colors.green.database.sslmode: unknown field \"sslmode\""}},
      {"UnknownInStatus",
       "",
       std::string(testing::kShop) + "status:\n  color: blue\n",
       {R"(shop.yaml:25:3: status.color: unknown field "color")"}},
      {"DuplicateField",
       "  activeColor: blue",
       "  activeColor: blue\n  activeColor: green",
       {R"(shop.yaml:8:3: spec.activeColor: duplicate field "activeColor")"}},
      // Missing required fields: reported at the mapping that lacks them.
      {"MisspelledRequired",
       "activeColor: blue",
       "activeColour: blue",
       {"shop.yaml:7:3: spec.activeColor: required field missing",
        R"(shop.yaml:7:3: spec.activeColour: unknown field "activeColour")"}},
      {"MissingName",
       "  name: shop",
       "  labels: {app: shop}",
       {"shop.yaml:5:3: metadata.name: required field missing"}},
      {"NullName",
       "  name: shop",
       "  name:",
       {"shop.yaml:5:3: metadata.name: required field missing"}},
      {"MissingPort",
       "        port: 15433\n",
       "",
       {"shop.yaml:12:9: spec.colors.blue.database.port: required field missing"}},
      {"MissingGreen",
       "    green:\n",
       "    grün:\n",
       {"shop.yaml:9:5: spec.colors.green: required field missing",
        R"(shop.yaml:15:5: spec.colors.grün: unknown field "grün")"}},
      {"MissingApiVersion",
       "apiVersion: switchyard.dev/v1alpha1\n",
       "",
       {"shop.yaml:2:1: apiVersion: required field missing"}},
      // Validation, mapped back to the field's position.
      {"WrongApiVersion",
       "switchyard.dev/v1alpha1",
       "switchyard.dev/v1",
       {R"(shop.yaml:2:13: apiVersion: must be "switchyard.dev/v1alpha1", got "switchyard.dev/v1")"}},
      {"WrongKind",
       "kind: DeploymentColor",
       "kind: Deployment",
       {R"(shop.yaml:3:7: kind: must be "DeploymentColor", got "Deployment")"}},
      {"BadName",
       "name: shop",
       "name: Shop_1",
       {"shop.yaml:5:9: metadata.name: must be a DNS-1123 label (at most 63 of a-z, 0-9 and "
        "\"-\", alphanumeric at both ends), got \"Shop_1\""}},
      {"BadNamespace",
       "  name: shop",
       "  name: shop\n  namespace: -prod",
       {"shop.yaml:6:14: metadata.namespace: must be a DNS-1123 label (at most 63 of a-z, 0-9 "
        "and \"-\", alphanumeric at both ends), got \"-prod\""}},
      {"BadDiscardAnnotation",
       "  name: shop",
       "  name: shop\n  annotations:\n    switchyard.dev/allow-discard-diverged-writes: \"yes\"",
       {"shop.yaml:7:51: metadata.annotations[switchyard.dev/allow-discard-diverged-writes]: "
        "must be \"<color>@tli=<timeline>,lsn=<LSN>\" as the Ready condition gives it, e.g. "
        "\"green@tli=2,lsn=0/3000148\", got \"yes\""}},
      {"SharedDatabase",
       "port: 15434",
       "port: 15433",
       {"shop.yaml:17:41: spec.colors.green.database.port: same database server as blue "
        "(127.0.0.1:15433)"}},
      {"SharedDataDirectory",
       "/tmp/pg/green",
       "/tmp/pg/blue/",
       {"shop.yaml:17:63: spec.colors.green.database.dataDirectory: same data directory as "
        "blue (\"/tmp/pg/blue\")"}},
      {"NestedDataDirectory",
       "/tmp/pg/green",
       "/tmp/pg/blue/green",
       {"shop.yaml:17:63: spec.colors.green.database.dataDirectory: must not be nested with "
        "blue's data directory \"/tmp/pg/blue\""}},
      {"RelativePath",
       "dataDirectory: /tmp/pg/blue",
       "dataDirectory: pg/blue",
       {"shop.yaml:14:24: spec.colors.blue.database.dataDirectory: must be an absolute path, "
        "got \"pg/blue\""}},
      {"ShellInPath",
       "/tmp/nginx/shop.conf",
       "/tmp/$(touch /tmp/x)",
       {"shop.yaml:19:19: spec.nginx.upstreamFile: must contain only letters, digits and "
        "\"._/+-\", got \"/tmp/$(touch /tmp/x)\""}},
      {"DotDotInPath",
       "/tmp/pg/blue",
       "/tmp/pg/../../etc",
       {"shop.yaml:14:24: spec.colors.blue.database.dataDirectory: must not contain \"..\" "
        "components, got \"/tmp/pg/../../etc\""}},
      {"UpstreamWithoutPort",
       R"(["127.0.0.1:18081"])",
       R"(["127.0.0.1"])",
       {"shop.yaml:10:19: spec.colors.blue.upstreams[0]: must be \"host:port\" with a port in "
        "1..65535, got \"127.0.0.1\""}},
      {"NoUpstreams",
       R"(["127.0.0.1:18082"])",
       "[]",
       {"shop.yaml:16:18: spec.colors.green.upstreams: must list at least one \"host:port\""}},
      {"OverlappingUpstreams",
       "127.0.0.1:18082",
       "127.0.0.1:18081",
       {"shop.yaml:16:19: spec.colors.green.upstreams[0]: \"127.0.0.1:18081\" is also an "
        "upstream of blue"}},
      {"PortOutOfRange",
       "port: 15433",
       "port: 70000",
       {"shop.yaml:13:15: spec.colors.blue.database.port: must be in 1..65535, got 70000"}},
      {"BadDatabaseHost",
       "host: 127.0.0.1",
       "host: \"db;rm\"",
       {R"(shop.yaml:12:15: spec.colors.blue.database.host: must be a hostname or an IPv4 address, got "db;rm")"}},
      {"HttpsProbe",
       "http://127.0.0.1:18080/",
       "https://127.0.0.1/",
       {R"(shop.yaml:21:12: spec.nginx.probe.url: must be an http:// URL with a host, got "https://127.0.0.1/")"}},
      {"BadProbeHeader",
       "url: http://127.0.0.1:18080/",
       "url: http://127.0.0.1:18080/\n      header: X Color",
       {R"(shop.yaml:22:15: spec.nginx.probe.header: must be an HTTP header name (a token), got "X Color")"}},
      {"ZeroTimeout",
       "url: http://127.0.0.1:18080/",
       "url: http://127.0.0.1:18080/\n      timeoutSeconds: 0",
       {"shop.yaml:22:23: spec.nginx.probe.timeoutSeconds: must be in 1..3600, got 0"}},
      {"ShellInBinary",
       "upstreamFile: /tmp/nginx/shop.conf",
       "upstreamFile: /tmp/nginx/shop.conf\n    binary: \"nginx; rm -rf /\"",
       {"shop.yaml:20:13: spec.nginx.binary: must be an absolute path or a program name of "
        "letters, digits and \"._+-\", got \"nginx; rm -rf /\""}},
      {"NegativeLag",
       "maxLagBytes: 16777216",
       "maxLagBytes: -1",
       {"shop.yaml:23:18: spec.database.maxLagBytes: must not be negative, got -1"}},
      {"BadUser",
       "maxLagBytes: 16777216",
       "maxLagBytes: 16777216\n    user: \"a b\"",
       {"shop.yaml:24:11: spec.database.user: must be a name of letters, digits, \"_\", \".\" "
        "and \"-\" (at most 63), got \"a b\""}},
      // Every problem of the document, in the order of the text.
      {"Several",
       "",
       ShopWith("port: 15433", "port: abc\n        extra: 1"),
       {R"(shop.yaml:13:15: spec.colors.blue.database.port: must be an integer, got "abc")",
        R"(shop.yaml:14:9: spec.colors.blue.database.extra: unknown field "extra")"}},
      // Syntax errors: the yaml-cpp message at its position.
      {"BadIndentation",
       "  name: shop",
       "  name: shop\n bad: 1",
       {"shop.yaml:6:2: end of map not found"}},
      {"UnclosedQuote",
       "activeColor: blue",
       "activeColor: \"blue",
       {"shop.yaml:10:20: end of map not found"}},  // the string ends at line 10
      {"UnclosedFlowSequence",
       R"(["127.0.0.1:18082"])",
       R"(["127.0.0.1:18082")",
       {"shop.yaml:17:7: end of sequence flow not found"}},
      {"UndefinedAlias",
       "activeColor: blue",
       "activeColor: *color",
       {"shop.yaml:7:16: the referenced anchor is not defined"}},
      // Bytes that are not UTF-8 (found by fuzzing: JSON would have given them back as U+FFFD,
      // another value than the one stored). Not quoted back: they are not text.
      {"NotUtf8Value",
       "upstreamFile: /tmp/nginx/shop.conf",
       "upstreamFile: /tmp/nginx/sh\xffp.conf",
       {"shop.yaml:19:19: spec.nginx.upstreamFile: must be valid UTF-8 text"}},
      {"NotUtf8LabelKey",
       "  name: shop\n",
       "  name: shop\n  labels: {\"a\xc0\xafp\": shop}\n",
       {"shop.yaml:6:12: metadata.labels: keys must be valid UTF-8 text"}},
  };
  return *kCases;
}

class BadManifestTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadManifestTest, ReportsExactly) {
  const BadCase& c = GetParam();
  const std::string manifest = c.from.empty() ? c.to : ShopWith(c.from, c.to);
  const std::vector<DecodedDocument> docs = DecodeYamlStream(manifest, "shop.yaml");
  EXPECT_THAT(Messages(docs), ElementsAreArray(c.want)) << manifest;
}

INSTANTIATE_TEST_SUITE_P(Table, BadManifestTest, ::testing::ValuesIn(Cases()),
                         [](const auto& param_info) { return param_info.param.name; });

TEST(BadManifestTest, TableIsLarge) { EXPECT_GE(Cases().size(), 25u); }

TEST(BadManifestTest, DecodeManifestsListsEveryProblemOneALine) {
  const auto result = DecodeManifests(
      ShopWith("activeColor: blue", "activeColor: purple\n  extra: 1"), "shop.yaml");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(result.status().message()),
            "shop.yaml:7:16: spec.activeColor: must be \"blue\" or \"green\", got \"purple\"\n"
            "shop.yaml:8:3: spec.extra: unknown field \"extra\"");
}

}  // namespace
}  // namespace sy::codec
