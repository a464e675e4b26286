// Hostile input: the codec must answer with problems, never crash, hang or throw.
#include <chrono>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pkg/codec/codec.h"
#include "tests/unit/codec/manifests.h"

namespace sy::codec {
namespace {

using ::testing::HasSubstr;

std::string Repeat(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

// Every problem of every document, one a line.
std::string AllProblems(std::string_view content) {
  std::string out;
  for (const DecodedDocument& doc : DecodeYamlStream(content, "f.yaml")) {
    for (const Problem& p : doc.problems) out += p.ToString() + "\n";
  }
  return out;
}

TEST(HostileInputTest, DeepNestingIsAProblemNotACrash) {
  for (int depth : {65, 1000, 100000}) {
    const std::string flow = Repeat("[", depth) + Repeat("]", depth);
    EXPECT_THAT(AllProblems(flow), HasSubstr("nested deeper than 64 levels")) << depth;
    const std::string json = Repeat("{\"a\":", depth) + "1" + Repeat("}", depth);
    EXPECT_THAT(std::string(DecodeJson(json, "f.json").status().message()),
                HasSubstr("nested deeper than 64 levels"))
        << depth;
  }
  std::string block;
  for (int i = 0; i < 200; ++i) block += std::string(i, ' ') + "a:\n";
  EXPECT_THAT(AllProblems(block), HasSubstr("nested deeper than 64 levels"));
}

TEST(HostileInputTest, AliasBombCostsNothing) {
  std::string bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 30; ++i) {
    bomb += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" +
            Repeat("*a" + std::to_string(i - 1) + ", ", 9) + "*a" + std::to_string(i - 1) + "]\n";
  }
  const std::string manifest = std::string(testing::kShop) + bomb + "metadata2: {labels: *a29}\n";
  const auto start = std::chrono::steady_clock::now();
  const std::string problems = AllProblems(manifest);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_THAT(problems, HasSubstr("f.yaml:24:1: a0: unknown field \"a0\""));
  EXPECT_THAT(problems, HasSubstr("metadata2: unknown field"));
  // Under a known field the schema stops the walk at once.
  EXPECT_THAT(AllProblems(testing::ShopWith("  name: shop\n",
                                            "  name: shop\n  labels: &l {a: b}\n"
                                            "  annotations: {x: *l}\n")),
              HasSubstr("metadata.annotations[x]: must be a string, got a mapping"));
}

TEST(HostileInputTest, RecursiveAliasIsAProblem) {
  EXPECT_THAT(AllProblems("a: &a [1, *a]\n"), HasSubstr("alias refers to a node that contains it"));
  EXPECT_THAT(AllProblems("&a {b: *a}\n"), HasSubstr("alias refers to a node that contains it"));
}

TEST(HostileInputTest, HugeNumbersAreOutOfRange) {
  EXPECT_THAT(AllProblems(testing::ShopWith("port: 15433", "port: 1e400")),
              HasSubstr("port: must be an integer, got \"1e400\""));
  EXPECT_THAT(AllProblems(testing::ShopWith("port: 15433", "port: 4294967296")),
              HasSubstr("port: must be an integer in -2147483648..2147483647, got \"4294967296\""));
  EXPECT_THAT(AllProblems(testing::ShopWith("port: 15433", "port: " + Repeat("9", 10000))),
              HasSubstr("port: must be an integer in"));
  EXPECT_THAT(
      std::string(DecodeJson("{\"a\": " + Repeat("9", 400) + "}", "f.json").status().message()),
      ::testing::StartsWith("f.json:1:406: number overflow parsing '999"));
}

TEST(HostileInputTest, BinaryBytesAndTabs) {
  const std::vector<std::string> inputs = {
      std::string("\0\0\0", 3),
      std::string("apiVersion: \0\xff\xfe\n", 16),
      "\xef\xbb\xbf" + std::string(testing::kShop),  // UTF-8 byte order mark
      "\tapiVersion: switchyard.dev/v1alpha1\n",
      "spec:\n\tactiveColor: blue\n",
      "spec: {activeColor:\tblue}\n",
      "key: \"\\x00\\uD800\"\n",
      Repeat("- ", 5000),
      Repeat("? ", 5000),
      Repeat("&a ", 100) + "x",
      "!<tag:yaml.org,2002:binary> AAAA",
      "%YAML 9.9\n--- x",
      "%TAG ! tag:example.com,2000:\n--- !foo {a: 1}",
      "--- |\n  \x01\x02\n",
      "[" + Repeat("a: b, ", 10000) + "]",
      std::string(1 << 20, 'x'),
  };
  for (const std::string& input : inputs) {
    std::vector<DecodedDocument> docs;
    EXPECT_NO_THROW(docs = DecodeYamlStream(input, "f.yaml"));
    for (const DecodedDocument& doc : docs) {
      // Anything but the BOM-prefixed shop is a problem; the problem is a sentence.
      for (const Problem& p : doc.problems) EXPECT_FALSE(p.message.empty());
    }
    EXPECT_NO_THROW(DecodeJson(input, "f.json").status().IgnoreError());
  }
}

// Random edits of a valid manifest: decoding must not crash; whatever decodes cleanly must
// survive a round trip through both encoders.
TEST(HostileInputTest, RandomMutationsOfAValidManifest) {
  const std::string base(testing::kShop);
  const std::string alphabet = "{}[]:,-&*!|>'\"\t\n #%@`?~\\0aZ9/.\xff";
  std::mt19937 rng(20261127);
  int clean = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string text = base;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % text.size();
      const char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0:
          text[at] = c;
          break;
        case 1:
          text.insert(text.begin() + at, c);
          break;
        default:
          text.erase(at, 1 + rng() % 8);
      }
      if (text.empty()) text = "x";
    }
    for (const DecodedDocument& doc : DecodeYamlStream(text, "m.yaml")) {
      if (!doc.ok()) continue;
      ++clean;
      EXPECT_EQ(DecodeYamlStream(EncodeYaml(doc.object), "e.yaml")[0].object, doc.object) << text;
      const auto json = DecodeJson(EncodeJson(doc.object), "e.json");
      ASSERT_TRUE(json.ok()) << json.status() << "\n" << text;
      EXPECT_EQ(*json, doc.object) << text;
    }
    EXPECT_NO_THROW(DecodeJson(text, "m.json").status().IgnoreError());
  }
  EXPECT_GT(clean, 0);  // some edits (in comments, say) leave it valid
}

}  // namespace
}  // namespace sy::codec
