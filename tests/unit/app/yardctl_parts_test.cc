// Tests of yardctl's pure parts: the unified diff and the resource arguments.
#include <gtest/gtest.h>

#include <sstream>

#include "pkg/app/yardctl.h"

namespace sy::app {
namespace {

TEST(UnifiedDiffTest, EqualIsEmpty) { EXPECT_EQ(UnifiedDiff("a\nb\n", "a\nb\n", "x", "y"), ""); }

TEST(UnifiedDiffTest, OneChangeWithContext) {
  const std::string a = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
  const std::string b = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n";
  EXPECT_EQ(UnifiedDiff(a, b, "live", "merged"),
            "--- live\n+++ merged\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");
}

TEST(UnifiedDiffTest, FarApartChangesAreTwoHunks) {
  std::string a;
  for (int i = 1; i <= 20; ++i) a += std::to_string(i) + "\n";
  std::string b = a;
  b.replace(b.find("2\n"), 2, "two\n");
  b.replace(b.find("\n19\n") + 1, 3, "nineteen\n");
  const std::string d = UnifiedDiff(a, b, "a", "b");
  EXPECT_NE(d.find("@@ -1,5 +1,5 @@\n 1\n-2\n+two\n 3\n 4\n 5\n"), std::string::npos) << d;
  EXPECT_NE(d.find("@@ -16,5 +16,5 @@\n 16\n 17\n 18\n-19\n+nineteen\n 20\n"), std::string::npos)
      << d;
}

TEST(UnifiedDiffTest, FromNothing) {
  EXPECT_EQ(UnifiedDiff("", "a\nb\n", "live", "merged"),
            "--- live\n+++ merged\n@@ -0,0 +1,2 @@\n+a\n+b\n");
}

TEST(ParseTargetsTest, KindsAndNames) {
  std::ostringstream err;
  std::vector<std::string> names;
  EXPECT_TRUE(ParseTargets({"dc"}, false, &names, err));
  EXPECT_TRUE(names.empty());
  EXPECT_TRUE(ParseTargets({"deploymentcolors", "a", "b"}, false, &names, err));
  EXPECT_TRUE(ParseTargets({"dc/c", "deploymentcolor.switchyard.dev/d"}, false, &names, err));
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b", "c", "d"}));
  names.clear();
  EXPECT_TRUE(ParseTargets({"shop"}, true, &names, err));
  EXPECT_EQ(names, std::vector<std::string>{"shop"});
  EXPECT_FALSE(ParseTargets({"pods"}, false, &names, err));
  EXPECT_FALSE(ParseTargets({"pod/x"}, true, &names, err));
  EXPECT_NE(err.str().find("doesn't have a resource type \"pods\""), std::string::npos);
}

}  // namespace
}  // namespace sy::app
