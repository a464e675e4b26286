// The API refuses a resource on servers another resource names with 422 Invalid, naming the
// other resource and the field (README "How a switch goes": one actor per pair); server-side apply
// does not retry it.
#include <gtest/gtest.h>

#include "tests/unit/server/api_fixture.h"

namespace sy::server::testing {
namespace {

using nlohmann::json;

TEST_F(ApiTest, AResourceOnAnotherOnesServersIs422NamingIt) {
  Create();
  json body = ShopJson(api::Color::kGreen);
  body["metadata"]["name"] = "shop2";
  std::string msg =
      ExpectStatus(Do(Req("POST", kDcs, body.dump(), "application/json")), 422, "Invalid");
  EXPECT_NE(msg.find("\"shop2\" is invalid: "), std::string::npos) << msg;
  EXPECT_NE(msg.find("spec.colors.green.database.dataDirectory: \"/var/lib/switchyard/shop/green\" "
                     "is also spec.colors.green.database.dataDirectory of default/shop"),
            std::string::npos)
      << msg;
  msg = ExpectStatus(Do(Req("PATCH", kDcs + "/shop2?fieldManager=kubectl", body.dump(),
                            "application/apply-patch+yaml")),
                     422, "Invalid");
  EXPECT_NE(msg.find("two resources must not act on the same servers"), std::string::npos) << msg;
  EXPECT_FALSE(store_.Get("default/shop2").has_value());
}

}  // namespace
}  // namespace sy::server::testing
