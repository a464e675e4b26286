// Table-driven tests of the API's small parts: selectors and kubectl's ages.
#include <gtest/gtest.h>

#include "pkg/server/api_selector.h"
#include "pkg/server/api_table.h"
#include "tests/fakes/plan_driver.h"

namespace sy::server {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(HumanDurationTest, AsKubectlShowsAges) {
  const std::vector<std::pair<std::chrono::nanoseconds, std::string>> cases = {
      {seconds(-5), "<invalid>"},
      {seconds(0), "0s"},
      {seconds(119), "119s"},
      {minutes(3), "3m"},
      {seconds(192), "3m12s"},
      {minutes(42), "42m"},
      {hours(5), "5h"},
      {minutes(330), "5h30m"},
      {hours(30), "30h"},
      {hours(52), "2d4h"},
      {hours(24 * 30), "30d"},
      {hours(24 * 365 * 3), "3y"},
      {hours(24 * 400 * 3), "3y105d"},
      {hours(24 * 365 * 9), "9y"},
  };
  for (const auto& [d, want] : cases) EXPECT_EQ(HumanDuration(d), want) << want;
}

struct SelectorCase {
  std::string labels;
  std::string fields;
  bool match;
};

TEST(SelectorTest, LabelsAndFields) {
  api::DeploymentColor dc = fakes::FakeResource();
  dc.metadata.labels = {{"app", "shop"}, {"tier", "web"}};
  const std::vector<SelectorCase> cases = {
      {"", "", true},
      {"app=shop", "", true},
      {"app==shop", "", true},
      {"app!=shop", "", false},
      {"app=cart", "", false},
      {"app", "", true},
      {"!app", "", false},
      {"!legacy", "", true},
      {"tier in (web, db)", "", true},
      {"tier notin (web)", "", false},
      {"app=shop,tier=db", "", false},
      {" app = shop , tier ", "", true},
      {"", "metadata.name=shop", true},
      {"", "metadata.name==cart", false},
      {"", "metadata.name!=cart,metadata.namespace=default", true},
      {"app=shop", "metadata.namespace=prod", false},
  };
  for (const auto& c : cases) {
    auto s = Selector::Parse(c.labels, c.fields);
    ASSERT_TRUE(s.ok()) << c.labels << " " << c.fields << ": " << s.status();
    EXPECT_EQ(s->Matches(dc), c.match) << c.labels << " | " << c.fields;
  }
  for (const auto& [labels, fields] :
       std::vector<std::pair<std::string, std::string>>{{"a in b", ""},
                                                        {"a (x)", ""},
                                                        {"", "spec.activeColor=blue"},
                                                        {"", "metadata.name"},
                                                        {"=x", ""}}) {
    EXPECT_TRUE(absl::IsInvalidArgument(Selector::Parse(labels, fields).status()))
        << labels << " | " << fields;
  }
}

}  // namespace
}  // namespace sy::server
