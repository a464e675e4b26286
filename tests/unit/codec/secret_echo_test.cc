// A password put where it does not belong (in passwordFile, in a field that does not exist, in
// a string left unterminated) never comes back in a decoding problem: problems become the
// Invalid status, the daemon's log lines and the API's 400/422 answers. Shell syntax in a path
// is refused by the decoder, through validation, whatever the syntax (YAML or JSON).
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "pkg/codec/codec.h"
#include "tests/unit/codec/manifests.h"

namespace sy::codec {
namespace {

using testing::ShopWith;

constexpr char kSecret[] = "sy-pw-Hunter2x";

// Every problem of decoding `yaml` as one message block.
std::string AllProblems(const std::string& yaml) {
  std::string all;
  for (const DecodedDocument& doc : DecodeYamlStream(yaml, "shop.yaml")) {
    for (const Problem& p : doc.problems) all += p.ToString() + "\n";
  }
  return all;
}

TEST(SecretEchoTest, YamlProblemsNeverQuoteThePassword) {
  const std::string db = "\n  database:\n";  // spec.database (not a color's)
  const std::vector<std::string> manifests = {
      ShopWith(db, db + "    passwordFile: " + kSecret + "\n"),
      ShopWith(db, db + "    passwordFile: \"" + kSecret + " $(x)\"\n"),
      ShopWith(db, db + "    passwordFile: /etc/../" + kSecret + "\n"),
      ShopWith(db, db + "    password: " + kSecret + "\n"),  // no such field
  };
  for (const std::string& m : manifests) {
    const std::string problems = AllProblems(m);
    EXPECT_FALSE(problems.empty()) << m;
    if (problems.find("spec.database.passwordFile") != std::string::npos) {
      EXPECT_NE(problems.find("not shown"), std::string::npos) << problems;
    }
    EXPECT_EQ(problems.find("Hunter2"), std::string::npos) << problems;
  }
}

TEST(SecretEchoTest, JsonSyntaxErrorsDoNotQuoteTheInput) {
  for (const std::string& json :
       {std::string(R"({"spec":{"database":{"passwordFile":")") + kSecret,
        std::string(R"({"spec":{"database":{"passwordFile":")") + kSecret + "\n}}}",
        std::string(R"({"spec":{"database":{"passwordFile":)") + kSecret + "}}}",
        std::string(R"({"spec":{"database":{"passwordFile":")") + kSecret + "\"\x01}}}"}) {
    const auto dc = DecodeJson(json, "shop.json");
    ASSERT_FALSE(dc.ok()) << json;
    const std::string message(dc.status().message());
    EXPECT_EQ(message.find("Hunter2"), std::string::npos) << message;
    EXPECT_NE(message.find("shop.json:"), std::string::npos) << message;
    EXPECT_NE(message.find("syntax error"), std::string::npos) << message;
  }
}

TEST(SecretEchoTest, ShellSyntaxInPathsIsRefusedByTheDecoder) {
  for (const std::string& payload :
       {std::string("/tmp/x/$(touch /tmp/sy-pwned)"), std::string("/tmp/x/`touch /tmp/sy-pwned`"),
        std::string("/tmp/x;touch /tmp/sy-pwned"), std::string("/tmp/x/../../etc")}) {
    const std::string problems =
        AllProblems(ShopWith("dataDirectory: /tmp/pg/blue", "dataDirectory: '" + payload + "'"));
    EXPECT_NE(problems.find("shop.yaml:14:"), std::string::npos) << problems;
    EXPECT_NE(problems.find(" spec.colors.blue.database.dataDirectory: must"), std::string::npos)
        << problems;
  }
}

}  // namespace
}  // namespace sy::codec
