// Tests of YamlToJson: generic YAML documents (request bodies, kubeconfigs) as JSON.
#include "pkg/codec/yaml_json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "pkg/codec/codec.h"

namespace sy::codec {
namespace {

nlohmann::json Json(const std::string& yaml) {
  auto text = YamlToJson(yaml, "f.yaml");
  EXPECT_TRUE(text.ok()) << text.status();
  return text.ok() ? nlohmann::json::parse(*text) : nlohmann::json();
}

TEST(YamlToJsonTest, CoreSchemaScalars) {
  const nlohmann::json j =
      Json("a: 1\nb: -2.5\nc: true\nd: ~\ne: \"1\"\nf: yes\ng: 0x10\nh: [x, 2]\ni: {k: v}\nj:\n");
  EXPECT_EQ(j, nlohmann::json::parse(R"({"a":1,"b":-2.5,"c":true,"d":null,"e":"1","f":"yes",
                                        "g":"0x10","h":["x",2],"i":{"k":"v"},"j":null})"));
}

TEST(YamlToJsonTest, JsonIsYamlToo) {
  EXPECT_EQ(Json(R"({"apiVersion": "v1", "n": [1, {"x": null}]})"),
            nlohmann::json::parse(R"({"apiVersion":"v1","n":[1,{"x":null}]})"));
}

TEST(YamlToJsonTest, Kubeconfig) {
  const nlohmann::json j = Json(
      "apiVersion: v1\nclusters:\n- name: sy\n  cluster:\n    server: https://127.0.0.1:9753\n"
      "current-context: sy\n");
  EXPECT_EQ(j["clusters"][0]["cluster"]["server"], "https://127.0.0.1:9753");
}

TEST(YamlToJsonTest, ErrorsNameThePosition) {
  auto bad = YamlToJson("a: [1, 2\n", "f.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().rfind("f.yaml:", 0), 0u) << bad.status();
  EXPECT_FALSE(YamlToJson("a: 1\n---\nb: 2\n", "f.yaml").ok());
  EXPECT_FALSE(YamlToJson("", "f.yaml").ok());
  EXPECT_FALSE(YamlToJson("? [a]\n: 1\n", "f.yaml").ok());
  // An alias bomb expands past the budget instead of exhausting memory.
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'h'; ++c) {
    const char p = static_cast<char>(c - 1);
    bomb += std::string(1, c) + ": &" + c + " [*" + p + ", *" + p + ", *" + p + ", *" + p + ", *" +
            p + ", *" + p + ", *" + p + ", *" + p + ", *" + p + ", *" + p + "]\n";
  }
  auto exploded = YamlToJson(bomb, "f.yaml");
  ASSERT_FALSE(exploded.ok());
  EXPECT_NE(exploded.status().message().find("100000 nodes"), std::string::npos);
}

// yaml-cpp 0.7 yields empty documents forever after a flow mapping followed by ",": the
// parser stops with a problem at the place instead of filling memory.
TEST(YamlToJsonTest, StuckParserIsAProblemNotAnEndlessStream) {
  for (const std::string text : {R"({"a":1},"d":2})", "{\"a\":{\"b\"},\"c\":1},\"d\":2}\n"}) {
    auto json = YamlToJson(text, "f.yaml");
    ASSERT_FALSE(json.ok()) << text;
    EXPECT_NE(json.status().message().find("unexpected content"), std::string::npos)
        << json.status();
    const std::vector<DecodedDocument> docs = DecodeYamlStream(text, "f.yaml");
    ASSERT_FALSE(docs.empty());
    EXPECT_LE(docs.size(), 2u);
    EXPECT_EQ(docs.back().problems.at(0).message, "unexpected content after the document");
  }
}

// Bytes that are not UTF-8 are a problem with their position, not an exception when the
// JSON is written (found by fuzzing the API's apply-patch+yaml bodies: it answered 500).
TEST(YamlToJsonTest, NotUtf8IsAProblem) {
  auto value = YamlToJson("a: \"x\xf7y\"\n", "f.yaml");
  ASSERT_FALSE(value.ok());
  EXPECT_EQ(value.status().message(), "f.yaml:1:4: not valid UTF-8 text");
  auto key = YamlToJson("b: 1\n\xc0\xaf: 2\n", "f.yaml");
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().message(), "f.yaml:2:1: keys must be valid UTF-8 text");
  EXPECT_TRUE(YamlToJson("caf\xc3\xa9: \"\xe2\x82\xac \xf0\x9f\x9a\x80\"\n", "f.yaml").ok());
}

}  // namespace
}  // namespace sy::codec
