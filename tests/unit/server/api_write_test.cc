// Tests of the API's writes: create, replace, merge and JSON patch, server-side apply,
// delete; field validation; objects of manifest files; the status subresource; and the
// dry-run rule: every write with ?dryRun=All answers as the write would, stores nothing and
// notifies nobody.
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "tests/unit/server/api_fixture.h"

namespace sy::server::testing {
namespace {

using nlohmann::json;

constexpr char kMerge[] = "application/merge-patch+json";
constexpr char kApply[] = "application/apply-patch+yaml";

TEST_F(ApiTest, CreateStoresAndAnswers201) {
  const json created = Create();
  EXPECT_EQ(created["metadata"]["generation"], 1);
  EXPECT_FALSE(created["metadata"]["uid"].get<std::string>().empty());
  EXPECT_EQ(created["metadata"]["resourceVersion"], std::to_string(store_.ResourceVersion()));
  EXPECT_EQ(created["status"]["source"], "api");
  EXPECT_EQ(store_.Get("default/shop")->spec.active_color, api::Color::kBlue);

  const HttpResponse again = Do(Req("POST", kDcs, ShopJson().dump(), "application/json"));
  EXPECT_EQ(ExpectStatus(again, 409, "AlreadyExists"),
            "deploymentcolors.switchyard.dev \"shop\" already exists");
}

TEST_F(ApiTest, CreateTakesTheNamespaceOfTheUrlAndYaml) {
  json body = ShopJson();
  body["metadata"].erase("namespace");
  for (const char* color : {"blue", "green"}) {  // servers of its own: no two resources share
    json& db = body["spec"]["colors"][color]["database"];
    db["port"] = db["port"].get<int>() + 10000;
    db["dataDirectory"] = db["dataDirectory"].get<std::string>() + "-retail";
  }
  body["spec"]["nginx"]["upstreamFile"] = "/etc/nginx/switchyard/retail.conf";
  const std::string retail = "/apis/switchyard.dev/v1alpha1/namespaces/retail/deploymentcolors";
  EXPECT_EQ(Do(Req("POST", retail, body.dump(), "application/json")).status, 201);
  EXPECT_TRUE(store_.Get("retail/shop").has_value());
  body["metadata"]["namespace"] = "other";
  ExpectStatus(Do(Req("POST", retail, body.dump(), "application/json")), 400, "BadRequest");

  const std::string yaml = codec::EncodeYaml(fakes::FakeResource(api::Color::kGreen));
  EXPECT_EQ(Do(Req("POST", kDcs, yaml, "application/yaml")).status, 201);
  EXPECT_EQ(store_.Get("default/shop")->spec.active_color, api::Color::kGreen);
}

TEST_F(ApiTest, InvalidSpecIs422WithFieldCauses) {
  json body = ShopJson();
  body["spec"]["activeColor"] = "purple";
  body["spec"]["colors"]["blue"]["database"]["port"] = 70000;
  const HttpResponse r = Do(Req("POST", kDcs, body.dump(), "application/json"));
  const std::string msg = ExpectStatus(r, 422, "Invalid");
  EXPECT_NE(msg.find("DeploymentColor.switchyard.dev \"shop\" is invalid: "), std::string::npos);
  const json details = Body(r)["details"];
  EXPECT_EQ(details["name"], "shop");
  EXPECT_EQ(details["kind"], "DeploymentColor");
  std::vector<std::string> fields;
  for (const auto& c : details["causes"]) fields.push_back(c["field"]);
  EXPECT_EQ(fields,
            (std::vector<std::string>{"spec.activeColor", "spec.colors.blue.database.port"}));
  body = ShopJson();
  body["spec"].erase("colors");
  const HttpResponse missing = Do(Req("POST", kDcs, body.dump(), "application/json"));
  ExpectStatus(missing, 422, "Invalid");
  EXPECT_EQ(Body(missing)["details"]["causes"][0]["reason"], "FieldValueRequired");
  EXPECT_TRUE(store_.List().empty());
}

TEST_F(ApiTest, FieldValidationStrictWarnIgnore) {
  json body = ShopJson();
  body["spec"]["colour"] = "blue";
  const std::string text = body.dump();
  const HttpResponse strict =
      Do(Req("POST", kDcs + "?fieldValidation=Strict", text, "application/json"));
  EXPECT_EQ(ExpectStatus(strict, 400, "BadRequest"),
            "strict decoding error: unknown field \"spec.colour\"");
  EXPECT_TRUE(store_.List().empty());

  const HttpResponse warn = Do(Req("POST", kDcs, text, "application/json"));  // the default
  ASSERT_EQ(warn.status, 201) << warn.body;
  ASSERT_EQ(warn.headers.size(), 1u);
  EXPECT_EQ(warn.headers[0].first, "Warning");
  EXPECT_EQ(warn.headers[0].second, R"(299 - "unknown field \"spec.colour\"")");
  ASSERT_EQ(Do(Req("DELETE", kShop)).status, 200);

  const HttpResponse ignore =
      Do(Req("POST", kDcs + "?fieldValidation=Ignore", text, "application/json"));
  EXPECT_EQ(ignore.status, 201);
  EXPECT_TRUE(ignore.headers.empty());
  ExpectStatus(Do(Req("POST", kDcs + "?fieldValidation=Loose", text, "application/json")), 400,
               "BadRequest");
}

TEST_F(ApiTest, ServerOwnedFieldsAreIgnored) {
  json body = ShopJson();
  body["metadata"]["managedFields"] = json::array({{{"manager", "kubectl"}}});
  body["metadata"]["creationTimestamp"] = nullptr;
  body["metadata"]["finalizers"] = json::array({"x"});
  body["status"] = {{"phase", "Converged"}, {"servingColor", "green"}};
  const HttpResponse r =
      Do(Req("POST", kDcs + "?fieldValidation=Strict", body.dump(), "application/json"));
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(store_.Get("default/shop")->status.phase, "");  // the controller's to write
}

TEST_F(ApiTest, ReplaceNeedsTheCurrentResourceVersion) {
  json cur = Create();
  cur["spec"]["activeColor"] = "green";
  const HttpResponse ok = Do(Req("PUT", kShop, cur.dump(), "application/json"));
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(Body(ok)["metadata"]["generation"], 2);
  // The same resourceVersion again is stale now.
  EXPECT_NE(ExpectStatus(Do(Req("PUT", kShop, cur.dump(), "application/json")), 409, "Conflict")
                .find("the object has been modified"),
            std::string::npos);
  json labels = Body(ok);
  labels["metadata"]["labels"]["team"] = "web";
  const HttpResponse relabeled = Do(Req("PUT", kShop, labels.dump(), "application/json"));
  EXPECT_EQ(Body(relabeled)["metadata"]["generation"], 2);  // spec changes only

  json no_rv = Body(relabeled);
  no_rv["metadata"].erase("resourceVersion");
  const HttpResponse r = Do(Req("PUT", kShop, no_rv.dump(), "application/json"));
  ExpectStatus(r, 422, "Invalid");
  EXPECT_EQ(Body(r)["details"]["causes"][0]["field"], "metadata.resourceVersion");
  ExpectStatus(Do(Req("PUT", kDcs + "/cart", Body(relabeled).dump(), "application/json")), 400,
               "BadRequest");  // the name differs from the URL's
  json cart = Body(relabeled);
  cart["metadata"]["name"] = "cart";
  ExpectStatus(Do(Req("PUT", kDcs + "/cart", cart.dump(), "application/json")), 404, "NotFound");
}

TEST_F(ApiTest, MergePatch) {
  Create();
  const HttpResponse r = Do(Req("PATCH", kShop, R"({"spec":{"activeColor":"green"}})", kMerge));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["spec"]["activeColor"], "green");
  EXPECT_EQ(Body(r)["metadata"]["generation"], 2);
  const HttpResponse labels = Do(
      Req("PATCH", kShop, R"({"metadata":{"labels":{"a":"b"}},"status":{"phase":"X"}})", kMerge));
  EXPECT_EQ(Body(labels)["metadata"]["generation"], 2);
  EXPECT_EQ(store_.Get("default/shop")->metadata.labels.at("a"), "b");
  EXPECT_EQ(store_.Get("default/shop")->status.phase, "");
  EXPECT_EQ(Do(Req("PATCH", kShop, R"({"metadata":{"labels":{"a":null}}})", kMerge)).status, 200);
  EXPECT_TRUE(store_.Get("default/shop")->metadata.labels.empty());

  ExpectStatus(Do(Req("PATCH", kShop, R"({"spec":{"activeColor":"red"}})", kMerge)), 422,
               "Invalid");
  ExpectStatus(Do(Req("PATCH", kShop,
                      R"({"metadata":{"resourceVersion":"1"},"spec":{"paused":true}})", kMerge)),
               409, "Conflict");
  ExpectStatus(Do(Req("PATCH", kDcs + "/nope", "{}", kMerge)), 404, "NotFound");
  ExpectStatus(Do(Req("PATCH", kShop, R"({"metadata":{"name":"other"}})", kMerge)), 400,
               "BadRequest");
}

TEST_F(ApiTest, JsonPatch) {
  Create();
  const char* ok = R"([{"op":"test","path":"/spec/activeColor","value":"blue"},
                       {"op":"replace","path":"/spec/activeColor","value":"green"}])";
  EXPECT_EQ(Do(Req("PATCH", kShop, ok, "application/json-patch+json")).status, 200);
  EXPECT_EQ(store_.Get("default/shop")->spec.active_color, api::Color::kGreen);
  ExpectStatus(Do(Req("PATCH", kShop, ok, "application/json-patch+json")), 422, "Invalid");
  ExpectStatus(Do(Req("PATCH", kShop, "{}", "application/json-patch+json")), 400, "BadRequest");
}

TEST_F(ApiTest, ServerSideApplyCreatesThenMerges) {
  const HttpResponse created =
      Do(Req("PATCH", kShop + "?fieldManager=kubectl", ShopJson().dump(), kApply));
  ASSERT_EQ(created.status, 201) << created.body;
  json green = ShopJson(api::Color::kGreen);
  const HttpResponse merged =
      Do(Req("PATCH", kShop + "?fieldManager=kubectl&force=true", green.dump(), kApply));
  ASSERT_EQ(merged.status, 200) << merged.body;
  EXPECT_EQ(Body(merged)["spec"]["activeColor"], "green");
  EXPECT_EQ(Body(merged)["metadata"]["generation"], 2);
  // YAML bodies too.
  const std::string yaml =
      "apiVersion: switchyard.dev/v1alpha1\nkind: DeploymentColor\n"
      "metadata: {name: shop}\nspec: {paused: true}\n";
  EXPECT_EQ(Do(Req("PATCH", kShop, yaml, kApply)).status, 200);
  EXPECT_TRUE(store_.Get("default/shop")->spec.paused);
}

// A field manager's name is kept in managedFields and served as JSON: one that is not
// printable ASCII or too long is the client's error (400), never a 500 or a stored object.
TEST_F(ApiTest, AFieldManagerThatIsNotPrintableOrTooLongIs400) {
  for (const std::string& manager :
       {std::string("kubectl\x92"), std::string("a\nb"), std::string(129, 'm')}) {
    ExpectStatus(Do(Req("PATCH", kShop + "?fieldManager=" + manager, ShopJson().dump(), kApply)),
                 400, "BadRequest");
    ExpectStatus(
        Do(Req("POST", kDcs + "?fieldManager=" + manager, ShopJson().dump(), "application/json")),
        400, "BadRequest");
  }
  EXPECT_FALSE(store_.Get("default/shop").has_value());
  EXPECT_EQ(
      Do(Req("PATCH", kShop + "?fieldManager=" + std::string(128, 'm'), ShopJson().dump(), kApply))
          .status,
      201);
}

// Apply semantics: what a manager applied before and applies no more is removed (a standing
// permission in an annotation, a relaxed limit), what others set stays.
TEST_F(ApiTest, ServerSideApplyRemovesWhatTheManagerNoLongerApplies) {
  const std::string kubectl = kShop + "?fieldManager=kubectl";
  json full = ShopJson(api::Color::kGreen);
  full["metadata"]["annotations"] = {
      {std::string(api::kAllowDiscardAnnotation), "blue@tli=1,lsn=0/3000148"}};
  full["metadata"]["labels"] = {{"team", "shop"}};
  full["spec"]["database"]["maxLagBytes"] = 1024;
  ASSERT_EQ(Do(Req("PATCH", kubectl, full.dump(), kApply)).status, 201);
  // Another writer sets a label and pauses; another manager applies a label of its own.
  ASSERT_EQ(Do(Req("PATCH", kShop, R"({"metadata":{"labels":{"owner":"ops"}}})", kMerge)).status,
            200);
  ASSERT_EQ(Do(Req("PATCH", kShop + "?fieldManager=ci",
                   R"({"apiVersion":"switchyard.dev/v1alpha1","kind":"DeploymentColor",)"
                   R"("metadata":{"name":"shop","labels":{"ci":"yes","team":"shop"}}})",
                   kApply))
                .status,
            200);
  json less = full;
  less["metadata"].erase("annotations");
  less["metadata"].erase("labels");
  less["spec"]["database"].erase("maxLagBytes");
  const HttpResponse r = Do(Req("PATCH", kubectl, less.dump(), kApply));
  ASSERT_EQ(r.status, 200) << r.body;
  const api::DeploymentColor dc = *store_.Get("default/shop");
  EXPECT_EQ(dc.metadata.annotations.count(std::string(api::kAllowDiscardAnnotation)), 0u);
  EXPECT_EQ(dc.spec.database.max_lag_bytes, api::DatabaseSpec().max_lag_bytes);  // the default
  EXPECT_EQ(dc.metadata.labels.at("owner"), "ops");  // not applied by kubectl
  EXPECT_EQ(dc.metadata.labels.at("ci"), "yes");     // ci's
  EXPECT_EQ(dc.metadata.labels.at("team"), "shop");  // ci applies it too
  EXPECT_EQ(dc.spec.active_color, api::Color::kGreen);
  // The same apply again changes nothing; a dry run of the full one shows the removal undone.
  const std::string rv = dc.metadata.resource_version;
  ASSERT_EQ(Do(Req("PATCH", kubectl, less.dump(), kApply)).status, 200);
  EXPECT_EQ(store_.Get("default/shop")->metadata.resource_version, rv);
  const HttpResponse dry = Do(Req("PATCH", kubectl + "&dryRun=All", full.dump(), kApply));
  EXPECT_EQ(Body(dry)["metadata"]["annotations"][std::string(api::kAllowDiscardAnnotation)],
            "blue@tli=1,lsn=0/3000148");
}

TEST_F(ApiTest, DeleteAnswersTheObjectThen404) {
  const json created = Create();
  const HttpResponse r =
      Do(Req("DELETE", kShop, R"({"propagationPolicy":"Background"})", "application/json"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["metadata"]["uid"], created["metadata"]["uid"]);
  EXPECT_FALSE(store_.Get("default/shop"));
  ExpectStatus(Do(Req("DELETE", kShop)), 404, "NotFound");

  Create();
  ExpectStatus(Do(Req("DELETE", kShop, R"({"preconditions":{"uid":"x"}})", "application/json")),
               409, "Conflict");
  ExpectStatus(
      Do(Req("DELETE", kShop, R"({"preconditions":{"resourceVersion":"1"}})", "application/json")),
      409, "Conflict");
  EXPECT_TRUE(store_.Get("default/shop"));
}

TEST_F(ApiTest, ManifestFileObjectsAreReadOnly) {
  ASSERT_TRUE(store_.Apply(fakes::FakeResource(), "/srv/gitops/shop.yaml (commit abc123)").ok());
  const json cur = Body(Do(Req("GET", kShop)));
  const std::vector<HttpResponse> writes = {
      Do(Req("PUT", kShop, cur.dump(), "application/json")),
      Do(Req("PATCH", kShop, R"({"spec":{"activeColor":"green"}})", kMerge)),
      Do(Req("PATCH", kShop, ShopJson(api::Color::kGreen).dump(), kApply)),
      Do(Req("DELETE", kShop)),
      Do(Req("DELETE", kShop + "?dryRun=All")),
  };
  for (const HttpResponse& r : writes) {
    EXPECT_NE(ExpectStatus(r, 403, "Forbidden").find("/srv/gitops/shop.yaml (commit abc123)"),
              std::string::npos);
  }
  EXPECT_EQ(store_.Get("default/shop")->spec.active_color, api::Color::kBlue);
}

TEST_F(ApiTest, StatusIsTheControllersOnly) {
  Create();
  const HttpResponse get = Do(Req("GET", kShop + "/status"));
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(Body(get)["metadata"]["name"], "shop");
  ExpectStatus(Do(Req("PUT", kShop + "/status", Body(get).dump(), "application/json")), 405,
               "MethodNotAllowed");
  ExpectStatus(Do(Req("PATCH", kShop + "/status", R"({"status":{"phase":"X"}})", kMerge)), 405,
               "MethodNotAllowed");
}

// The dry-run rule, for every write: the answer is the write's, the store is untouched.
TEST_F(ApiTest, DryRunStoresNothingForEveryWrite) {
  std::vector<std::string> changes;
  store_.OnChange([&](const std::string& k) { changes.push_back(k); });
  const HttpResponse created =
      Do(Req("POST", kDcs + "?dryRun=All", ShopJson().dump(), "application/json"));
  EXPECT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(Body(created)["metadata"]["name"], "shop");
  const HttpResponse applied = Do(Req("PATCH", kShop + "?dryRun=All", ShopJson().dump(), kApply));
  EXPECT_EQ(applied.status, 201) << applied.body;
  EXPECT_TRUE(store_.List().empty());
  EXPECT_EQ(store_.ResourceVersion(), 0);

  const json cur = Create();
  changes.clear();
  const api::DeploymentColor before = *store_.Get("default/shop");
  json replaced = cur;
  replaced["spec"]["activeColor"] = "green";
  const std::vector<HttpResponse> writes = {
      Do(Req("PUT", kShop + "?dryRun=All", replaced.dump(), "application/json")),
      Do(Req("PATCH", kShop + "?dryRun=All", R"({"spec":{"activeColor":"green"}})", kMerge)),
      Do(Req("PATCH", kShop + "?dryRun=All", ShopJson(api::Color::kGreen).dump(), kApply)),
      Do(Req("PATCH", kShop + "?dryRun=All",
             R"([{"op":"replace","path":"/spec/activeColor","value":"green"}])",
             "application/json-patch+json")),
  };
  for (const HttpResponse& r : writes) {
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(Body(r)["spec"]["activeColor"], "green");  // what the write would store
    EXPECT_EQ(Body(r)["metadata"]["generation"], 2);
  }
  const HttpResponse deleted =
      Do(Req("DELETE", kShop, R"({"dryRun":["All"]})", "application/json"));
  EXPECT_EQ(deleted.status, 200);
  EXPECT_EQ(Do(Req("DELETE", kShop + "?dryRun=All")).status, 200);
  EXPECT_EQ(*store_.Get("default/shop"), before);
  EXPECT_TRUE(changes.empty());
  // Dry runs check like the real thing, and unknown values are refused.
  ExpectStatus(Do(Req("POST", kDcs + "?dryRun=All", ShopJson().dump(), "application/json")), 409,
               "AlreadyExists");
  ExpectStatus(Do(Req("PATCH", kShop + "?dryRun=All", R"({"spec":{"activeColor":"x"}})", kMerge)),
               422, "Invalid");
  ExpectStatus(Do(Req("DELETE", kShop + "?dryRun=Some")), 400, "BadRequest");
  EXPECT_EQ(*store_.Get("default/shop"), before);
}

// Mangled bodies for every write never crash the handler nor make it answer 500.
TEST_F(ApiTest, MangledBodiesAreClientErrors) {
  Create();
  const std::string good = ShopJson(api::Color::kGreen).dump();
  const char* seed = std::getenv("SY_FUZZ_SEED");  // explore: SY_FUZZ_SEED=n
  std::mt19937 rng(seed != nullptr ? std::atoi(seed) : 7);
  const std::vector<std::pair<std::string, std::string>> writes = {
      {"POST", "application/json"},
      {"PUT", "application/json"},
      {"PATCH", "application/merge-patch+json"},
      {"PATCH", "application/apply-patch+yaml"},
      {"PATCH", "application/json-patch+json"},
      {"DELETE", "application/json"}};
  for (int i = 0; i < 1000; ++i) {
    std::string body = good;
    for (int k = 0; k < 1 + i % 4; ++k) {
      const size_t at = rng() % body.size();
      switch (rng() % 3) {
        case 0:
          body[at] = "{}[]\":,0a-\\ \n"[rng() % 14];
          break;
        case 1:
          body.erase(at, rng() % 8);
          break;
        default:
          body.insert(at, body.substr(rng() % body.size(), rng() % 16));
      }
      if (body.empty()) body = "{";
    }
    const auto& [method, type] = writes[i % writes.size()];
    const HttpResponse r = Do(Req(method, method == "POST" ? kDcs : kShop, body, type));
    EXPECT_LT(r.status, 500) << method << " " << type << " " << body << " -> " << r.body;
    if (r.status == 404 || r.status == 403) Create();  // a DELETE got through: put it back
  }
}

}  // namespace
}  // namespace sy::server::testing
