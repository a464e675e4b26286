// Tests of the Kubernetes-shaped API, read side: discovery as kubectl asks for it, the token
// rules, get and list (selectors, Table), and the errors every request can get.
#include <gtest/gtest.h>

#include "tests/unit/server/api_fixture.h"

namespace sy::server::testing {
namespace {

using nlohmann::json;

constexpr char kTableAccept[] =
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;"
    "g=meta.k8s.io,application/json";

TEST_F(ApiTest, DiscoveryNamesTheResource) {
  const json groups = Body(Do(Req("GET", "/apis", "", "", "")));
  EXPECT_EQ(groups["kind"], "APIGroupList");
  EXPECT_EQ(groups["groups"][0]["name"], "switchyard.dev");
  EXPECT_EQ(groups["groups"][0]["preferredVersion"]["groupVersion"], "switchyard.dev/v1alpha1");

  const HttpResponse r = Do(Req("GET", "/apis/switchyard.dev/v1alpha1", "", "", ""));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");  // plain: kubectl falls back to it
  const json dc = Body(r)["resources"][0];
  EXPECT_EQ(dc["name"], "deploymentcolors");
  EXPECT_EQ(dc["singularName"], "deploymentcolor");
  EXPECT_EQ(dc["kind"], "DeploymentColor");
  EXPECT_EQ(dc["namespaced"], true);
  EXPECT_EQ(dc["shortNames"], json::array({"dc"}));
  EXPECT_EQ(dc["verbs"], json({"create", "delete", "get", "list", "patch", "update", "watch"}));
  EXPECT_EQ(Body(r)["resources"][1]["verbs"], json::array({"get"}));  // status: read-only

  EXPECT_EQ(Body(Do(Req("GET", "/api", "", "", "")))["versions"], json::array());
  EXPECT_EQ(Body(Do(Req("GET", "/apis/switchyard.dev", "", "", "")))["kind"], "APIGroup");
  EXPECT_FALSE(
      Body(Do(Req("GET", "/version", "", "", "")))["gitVersion"].get<std::string>().empty());
  const HttpResponse openapi = Do(Req("GET", "/openapi/v2", "", "", ""));
  EXPECT_EQ(openapi.status, 200);
  EXPECT_EQ(openapi.body, "");
  EXPECT_EQ(openapi.content_type, "application/com.github.proto-openapi.spec.v2.v1.0+protobuf");
  ExpectStatus(Do(Req("GET", "/openapi/v3", "", "", "")), 404, "NotFound");
}

TEST_F(ApiTest, WritesNeedTheTokenReadsDoNot) {
  const std::string body = ShopJson().dump();
  EXPECT_NE(ExpectStatus(Do(Req("POST", kDcs, body, "application/json", "")), 401, "Unauthorized")
                .find("token"),
            std::string::npos);
  ExpectStatus(Do(Req("POST", kDcs, body, "application/json", "wrong")), 403, "Forbidden");
  EXPECT_TRUE(store_.List().empty());
  for (const char* method : {"PUT", "PATCH", "DELETE"}) {
    ExpectStatus(Do(Req(method, kShop, body, "application/json", "")), 401, "Unauthorized");
  }
  EXPECT_EQ(Do(Req("GET", kDcs, "", "", "")).status, 200);
  // A wrong token is refused even where none is needed: a misconfiguration shows at once.
  ExpectStatus(Do(Req("GET", kDcs, "", "", "wrong")), 403, "Forbidden");
  HttpRequest basic = Req("GET", kDcs, "", "", "");
  basic.headers.emplace("authorization", "Basic " + kToken);
  ExpectStatus(Do(basic), 403, "Forbidden");
  EXPECT_EQ(Do(Req("GET", "/healthz", "", "", "wrong")).status, 200);
}

TEST_F(ApiTest, AuthReadsAndNoTokenConfigured) {
  ApiOptions o = Options();
  o.auth_reads = true;
  ApiHandler strict(
      store_, clock_, [] { return true; }, o);
  ExpectStatus(strict.Handle(Req("GET", kDcs, "", "", "")), 401, "Unauthorized");
  ExpectStatus(strict.Handle(Req("GET", "/apis", "", "", "")), 401, "Unauthorized");
  EXPECT_EQ(strict.Handle(Req("GET", kDcs)).status, 200);
  EXPECT_EQ(strict.Handle(Req("GET", "/readyz", "", "", "")).status, 200);

  ApiHandler none(
      store_, clock_, [] { return true; }, ApiOptions{});  // fails closed
  ExpectStatus(none.Handle(Req("POST", kDcs, ShopJson().dump(), "application/json")), 403,
               "Forbidden");
  ExpectStatus(none.Handle(Req("POST", kDcs, ShopJson().dump(), "application/json", "")), 401,
               "Unauthorized");
}

TEST_F(ApiTest, GetAndNotFound) {
  const json created = Create();
  const HttpResponse r = Do(Req("GET", kShop, "", "", ""));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Body(r), created);
  auto dc = codec::DecodeJson(r.body, "answer");
  ASSERT_TRUE(dc.ok()) << dc.status();
  EXPECT_EQ(*dc, *store_.Get("default/shop"));

  const HttpResponse missing = Do(Req("GET", kDcs + "/nope"));
  EXPECT_EQ(ExpectStatus(missing, 404, "NotFound"),
            "deploymentcolors.switchyard.dev \"nope\" not found");
  EXPECT_EQ(Body(missing)["details"]["name"], "nope");
  EXPECT_EQ(Body(missing)["details"]["group"], "switchyard.dev");
  ExpectStatus(
      Do(Req("GET", "/apis/switchyard.dev/v1alpha1/namespaces/other/deploymentcolors/shop")), 404,
      "NotFound");
  ExpectStatus(Do(Req("GET", kShop + "/status/x")), 404, "NotFound");
  ExpectStatus(Do(Req("GET", "/apis/switchyard.dev/v1alpha1/widgets")), 404, "NotFound");
  ExpectStatus(Do(Req("GET", "/nothing")), 404, "NotFound");
}

TEST_F(ApiTest, ListsWithVersionSelectorsAndNamespaces) {
  Create();
  api::DeploymentColor cart = fakes::FakeResource(api::Color::kGreen);
  cart.metadata.name = "cart";
  cart.metadata.namespace_ = "retail";
  cart.metadata.labels["tier"] = "web";
  ASSERT_TRUE(store_.Apply(cart, "api").ok());

  const json list = Body(Do(Req("GET", kDcs)));
  EXPECT_EQ(list["kind"], "DeploymentColorList");
  EXPECT_EQ(list["metadata"]["resourceVersion"], std::to_string(store_.ResourceVersion()));
  ASSERT_EQ(list["items"].size(), 1u);
  EXPECT_EQ(list["items"][0]["metadata"]["name"], "shop");

  auto names = [&](const std::string& target) {
    std::vector<std::string> out;
    const json answer = Body(Do(Req("GET", target)));
    for (const auto& i : answer["items"]) {
      out.push_back(i["metadata"]["name"]);
    }
    return out;
  };
  const std::string all = "/apis/switchyard.dev/v1alpha1/deploymentcolors";
  EXPECT_EQ(names(all), (std::vector<std::string>{"shop", "cart"}));  // by namespace/name
  EXPECT_EQ(names(all + "?labelSelector=tier%3Dweb"), std::vector<std::string>{"cart"});
  EXPECT_EQ(names(all + "?labelSelector=!tier"), std::vector<std::string>{"shop"});
  EXPECT_EQ(names(all + "?labelSelector=tier in (web%2Cdb)"), std::vector<std::string>{"cart"});
  EXPECT_EQ(names(all + "?fieldSelector=metadata.name%3Dshop"), std::vector<std::string>{"shop"});
  EXPECT_EQ(names(all + "?fieldSelector=metadata.namespace!%3Dretail"),
            std::vector<std::string>{"shop"});
  EXPECT_EQ(names(kDcs + "?limit=500"), std::vector<std::string>{"shop"});
  ExpectStatus(Do(Req("GET", all + "?fieldSelector=spec.activeColor%3Dblue")), 400, "BadRequest");
  ExpectStatus(Do(Req("GET", all + "?labelSelector=a in b")), 400, "BadRequest");
}

TEST_F(ApiTest, TableForKubectlGet) {
  Create();
  api::DeploymentColorStatus st;
  st.phase = "Progressing";
  st.serving_color = "green";
  st.step = "fence blue";
  const std::string at = util::FormatRfc3339(clock_.Now());
  st.conditions = {{"Drifted", "True", "Drifted", "differs", at},
                   {"TrafficSwitched", "False", "ServingOther", "nginx serves green", at},
                   {"PrimaryPromoted", "True", "Primary", "blue is the primary", at},
                   {"StandbyStreaming", "False", "NotStreaming", "green is down", at}};
  ASSERT_TRUE(store_.WriteStatus("default/shop", st).ok());
  clock_.Advance(std::chrono::minutes(3) + std::chrono::seconds(12));

  HttpRequest req = Req("GET", kDcs);
  req.headers.emplace("accept", kTableAccept);
  const HttpResponse r = Do(req);
  ASSERT_EQ(r.status, 200) << r.body;
  const json t = Body(r);
  EXPECT_EQ(t["kind"], "Table");
  EXPECT_EQ(t["apiVersion"], "meta.k8s.io/v1");
  std::vector<std::string> columns;
  for (const auto& c : t["columnDefinitions"]) {
    columns.push_back(c["name"].get<std::string>() + (c["priority"] == 0 ? "" : "*"));
  }
  EXPECT_EQ(columns, (std::vector<std::string>{"Name", "Desired", "Serving", "Primary", "Phase",
                                               "Drift", "Age", "Step*", "Source*"}));
  ASSERT_EQ(t["rows"].size(), 1u);
  EXPECT_EQ(t["rows"][0]["cells"],
            json({"shop", "blue", "green", nullptr, "Progressing", "traffic,standby for 3m12s",
                  "3m12s", "fence blue", "api"}));
  EXPECT_EQ(t["rows"][0]["object"]["kind"], "PartialObjectMetadata");
  EXPECT_EQ(t["rows"][0]["object"]["metadata"]["name"], "shop");

  HttpRequest one = Req("GET", kShop + "?includeObject=Object");
  one.headers.emplace("accept", kTableAccept);
  const json single = Body(Do(one));
  EXPECT_EQ(single["rows"][0]["object"]["spec"]["activeColor"], "blue");
  HttpRequest none = Req("GET", kShop + "?includeObject=None");
  none.headers.emplace("accept", "application/json;as=Table;v=v1beta1;g=meta.k8s.io");
  const json bare = Body(Do(none));
  EXPECT_EQ(bare["apiVersion"], "meta.k8s.io/v1beta1");
  EXPECT_FALSE(bare["rows"][0].contains("object"));
  HttpRequest bad = Req("GET", kShop + "?includeObject=All");
  bad.headers.emplace("accept", kTableAccept);
  ExpectStatus(Do(bad), 400, "BadRequest");

  // In sync: the Drift cell says so.
  st.conditions = {{"Drifted", "False", "InSync", "matches", at}};
  ASSERT_TRUE(store_.WriteStatus("default/shop", st).ok());
  HttpRequest again = Req("GET", kShop);
  again.headers.emplace("accept", kTableAccept);
  EXPECT_EQ(Body(Do(again))["rows"][0]["cells"][5], "none");
}

TEST_F(ApiTest, OversizedBodyIs413) {
  const std::string big(70 * 1024, ' ');
  EXPECT_NE(
      ExpectStatus(Do(Req("POST", kDcs, big, "application/json")), 413, "RequestEntityTooLarge")
          .find("65536"),
      std::string::npos);
  EXPECT_TRUE(store_.List().empty());
}

TEST_F(ApiTest, UnsupportedMethodsAndMediaTypes) {
  Create();
  ExpectStatus(Do(Req("POST", kShop, "{}", "application/json")), 405, "MethodNotAllowed");
  ExpectStatus(Do(Req("DELETE", kDcs)), 405, "MethodNotAllowed");
  ExpectStatus(
      Do(Req("POST", "/apis/switchyard.dev/v1alpha1/deploymentcolors", "{}", "application/json")),
      405, "MethodNotAllowed");
  ExpectStatus(Do(Req("POST", kDcs, ShopJson().dump(), "text/plain")), 415, "UnsupportedMediaType");
  ExpectStatus(Do(Req("PATCH", kShop, "{}", "application/strategic-merge-patch+json")), 415,
               "UnsupportedMediaType");
  ExpectStatus(Do(Req("POST", kDcs, "{not json", "application/json")), 400, "BadRequest");
  ExpectStatus(Do(Req("POST", kDcs, "[1]", "application/json")), 400, "BadRequest");
  ExpectStatus(Do(Req("GET", kDcs + "?watch=true&resourceVersion=x")), 400, "BadRequest");
}

}  // namespace
}  // namespace sy::server::testing
