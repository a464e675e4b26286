// Security of the API, verb by verb: every write (create, replace, merge patch, JSON patch,
// server-side apply, delete, their dry runs, the status subresource) is 401 without the token
// and 403 with a wrong one, before anything else is looked at (no 404, 405, 413, 415 or 422
// tells an anonymous client what exists); the answers never echo a token; and the same holds
// through the real HTTP server on 127.0.0.1 (loopback is not trusted), where bodies over the
// limit get 413 from the handler or, far larger, from the transport.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>

#include "absl/strings/str_cat.h"
#include "pkg/server/api_client.h"
#include "pkg/server/http_server.h"
#include "tests/unit/server/api_fixture.h"

namespace sy::server::testing {
namespace {

struct Write {
  std::string method;
  std::string target;
  std::string body;
  std::string type;
};

// One of each write the API serves, each one that would succeed with the token (status
// writes are refused anyway), on "default/shop" as Create() makes it.
std::vector<Write> EveryWrite() {
  const std::string shop = ShopJson().dump();
  const std::string green = ShopJson(api::Color::kGreen).dump();
  const std::string json_patch = R"([{"op":"replace","path":"/spec/activeColor","value":"green"}])";
  std::vector<Write> w = {
      {"POST", kDcs, shop, "application/json"},
      {"PUT", kShop, green, "application/json"},
      {"PATCH", kShop, R"({"spec":{"activeColor":"green"}})", "application/merge-patch+json"},
      {"PATCH", kShop, json_patch, "application/json-patch+json"},
      {"PATCH", kShop + "?fieldManager=kubectl&force=true", green, "application/apply-patch+yaml"},
      {"PATCH", kDcs + "/cart?fieldManager=kubectl", shop, "application/apply-patch+yaml"},
      {"DELETE", kShop, "", ""},
      {"DELETE", kShop, R"({"propagationPolicy":"Background"})", "application/json"},
      {"PUT", kShop + "/status", green, "application/json"},
      {"PATCH", kShop + "/status", R"({"status":{"phase":"Converged"}})",
       "application/merge-patch+json"},
      // Errors an authorized client would get (404, 405, 415, 400) must not show either.
      {"PUT", kDcs + "/nope", green, "application/json"},
      {"DELETE", kDcs, "", ""},
      {"PATCH", kShop, "{}", "application/strategic-merge-patch+json"},
      {"POST", kDcs, "{not json", "application/json"},
  };
  const size_t n = w.size();
  for (size_t i = 0; i < n; ++i) {  // and every one as a dry run
    Write d = w[i];
    d.target += (d.target.find('?') == std::string::npos ? "?" : "&") + std::string("dryRun=All");
    w.push_back(d);
  }
  return w;
}

std::string Describe(const Write& w) { return absl::StrCat(w.method, " ", w.target, " ", w.type); }

// Tokens that are not this server's: near misses included (a prefix of it, it with a byte more
// or changed, other cases, another scheme, an empty bearer).
std::vector<std::string> WrongAuthorizations() {
  std::string flipped = kToken;
  flipped.back() ^= 1;
  return {"Bearer wrong",
          "Bearer " + kToken.substr(0, kToken.size() - 1),
          "Bearer " + kToken + "x",
          "Bearer " + flipped,
          "Bearer  " + kToken,
          "bearer" + kToken,
          "Basic " + kToken,
          kToken,
          "Bearer ",
          "Bearer"};
}

TEST_F(ApiTest, EveryWriteIs401WithoutTheToken) {
  Create();
  const api::DeploymentColor before = *store_.Get("default/shop");
  for (const Write& w : EveryWrite()) {
    const HttpResponse r = Do(Req(w.method, w.target, w.body, w.type, ""));
    const std::string message = ExpectStatus(r, 401, "Unauthorized");
    EXPECT_NE(message.find("token"), std::string::npos) << Describe(w);
    EXPECT_EQ(r.body.find(kToken), std::string::npos) << Describe(w);
  }
  EXPECT_EQ(store_.List().size(), 1u);
  EXPECT_EQ(*store_.Get("default/shop"), before);
}

TEST_F(ApiTest, EveryWriteIs403WithAWrongToken) {
  Create();
  const api::DeploymentColor before = *store_.Get("default/shop");
  for (const std::string& auth : WrongAuthorizations()) {
    for (const Write& w : EveryWrite()) {
      HttpRequest req = Req(w.method, w.target, w.body, w.type, "");
      req.headers.emplace("authorization", auth);
      const HttpResponse r = Do(req);
      EXPECT_EQ(r.status, 403) << Describe(w) << " with '" << auth << "': " << r.body;
      EXPECT_EQ(Body(r).value("reason", ""), "Forbidden") << Describe(w);
      // Neither the server's token nor what the client sent comes back.
      EXPECT_EQ(r.body.find(kToken), std::string::npos) << Describe(w);
      EXPECT_EQ(r.body.find("wrong"), std::string::npos) << Describe(w);
    }
  }
  EXPECT_EQ(store_.List().size(), 1u);
  EXPECT_EQ(*store_.Get("default/shop"), before);
}

TEST_F(ApiTest, TheRightTokenStillWritesAndIsNeverEchoed) {
  Create();
  for (const Write& w : EveryWrite()) {
    const HttpResponse r = Do(Req(w.method, w.target, w.body, w.type));
    EXPECT_NE(r.status, 401) << Describe(w);
    EXPECT_EQ(r.body.find(kToken), std::string::npos) << Describe(w) << ": " << r.body;
    if (!store_.Get("default/shop")) Create();  // a DELETE got through: put it back
  }
  for (const char* read : {"/apis", "/version", "/healthz", "/readyz"}) {
    EXPECT_EQ(Do(Req("GET", read)).body.find(kToken), std::string::npos) << read;
  }
  EXPECT_EQ(Do(Req("GET", kDcs)).body.find(kToken), std::string::npos);
}

// A password sent where it does not belong is not echoed: not in a 422 (passwordFile), a 400
// (an unknown field under Strict, a body cut short), nor a Warning header (unknown field).
TEST_F(ApiTest, MisplacedPasswordsAreNotEchoed) {
  Create();
  const std::string secret = "sy-pw-Hunter2x";
  nlohmann::json bad = ShopJson();
  bad["metadata"]["name"] = "cart";
  bad["spec"]["database"]["passwordFile"] = secret;
  const std::string merge = "application/merge-patch+json";
  const std::string unknown = R"({"spec":{"database":{"password":")" + secret + R"("}}})";
  const std::vector<HttpRequest> requests = {
      Req("POST", kDcs, bad.dump(), "application/json"),
      Req("PATCH", kShop, R"({"spec":{"database":{"passwordFile":")" + secret + R"("}}})", merge),
      Req("PATCH", kShop, unknown, merge),
      Req("PATCH", kShop + "?fieldValidation=Strict", unknown, merge),
      Req("PATCH", kShop, unknown.substr(0, unknown.size() - 5), merge),
      Req("POST", kDcs, bad.dump().substr(0, bad.dump().find(secret) + 8), "application/json"),
      Req("PATCH", kShop, "spec:\n  database:\n    passwordFile: " + secret + "\n",
          "application/apply-patch+yaml"),
  };
  for (const HttpRequest& r : requests) {
    const HttpResponse res = Do(r);
    EXPECT_NE(res.status, 500) << r.body;
    EXPECT_EQ(res.body.find("Hunter2"), std::string::npos) << r.body << " -> " << res.body;
    for (const auto& [name, value] : res.headers) {
      EXPECT_EQ(value.find("Hunter2"), std::string::npos) << name << ": " << value;
    }
  }
  EXPECT_EQ(store_.Get("default/shop")->spec.database.password_file, "");
}

// Oversized bodies are refused for every write, and only once the token was shown: an
// anonymous client learns nothing, not even the limit.
TEST_F(ApiTest, OversizedBodiesAre413ForEveryWriteVerb) {
  Create();
  const std::string big(Options().max_body_bytes + 1, ' ');
  for (const Write& w : EveryWrite()) {
    ExpectStatus(Do(Req(w.method, w.target, big, w.type)), 413, "RequestEntityTooLarge");
    ExpectStatus(Do(Req(w.method, w.target, big, w.type, "")), 401, "Unauthorized");
  }
  EXPECT_EQ(Do(Req("PATCH", kShop,
                   std::string(Options().max_body_bytes - 40, ' ') + R"({"spec":{"paused":true}})",
                   "application/merge-patch+json"))
                .status,
            200);  // at the limit is fine
}

// The same rules through the real transport on loopback: 127.0.0.1 is not trusted.
class LoopbackTest : public ApiTest {
 protected:
  void SetUp() override {
    HttpServerOptions o;
    o.max_body_bytes = 256 * 1024;  // the handler's 64 KiB answer first, the transport's above
    server_ = std::make_unique<HttpServer>([this](const HttpRequest& r) { return Do(r); }, o);
    ASSERT_TRUE(server_->Start("127.0.0.1:0").ok());
    Create();
  }
  void TearDown() override { server_->Stop(); }
  absl::StatusOr<ClientResponse> Send(const std::string& token, const Write& w,
                                      const std::string& body) {
    ClientConfig c;
    c.server = absl::StrCat("http://127.0.0.1:", server_->port());
    c.token = token;
    return ApiClient(c).Send(w.method, w.target, body, w.type);
  }

  std::unique_ptr<HttpServer> server_;
};

TEST_F(LoopbackTest, WritesNeedTheTokenAndBigBodiesAre413) {
  const api::DeploymentColor before = *store_.Get("default/shop");
  for (const Write& w : EveryWrite()) {
    auto anonymous = Send("", w, w.body);
    ASSERT_TRUE(anonymous.ok()) << anonymous.status();
    EXPECT_EQ(anonymous->status, 401) << Describe(w) << ": " << anonymous->body;
    auto wrong = Send(kToken + "x", w, w.body);
    ASSERT_TRUE(wrong.ok()) << wrong.status();
    EXPECT_EQ(wrong->status, 403) << Describe(w) << ": " << wrong->body;
    EXPECT_EQ(wrong->body.find(kToken), std::string::npos);
    // Above the handler's limit: its 413 (after the token check).
    auto big = Send(kToken, w, std::string(100 * 1024, ' '));
    ASSERT_TRUE(big.ok()) << big.status();
    EXPECT_EQ(big->status, 413) << Describe(w);
    EXPECT_EQ(Body(*big)["reason"], "RequestEntityTooLarge") << Describe(w);
  }
  // Above the transport's: refused before a handler sees it, with a Status all the same.
  for (const char* method : {"POST", "PUT", "PATCH", "DELETE"}) {
    const Write w{method, std::string(method) == "POST" ? kDcs : kShop, "", "application/json"};
    auto huge = Send(kToken, w, std::string(512 * 1024, ' '));
    ASSERT_TRUE(huge.ok()) << huge.status();
    EXPECT_EQ(huge->status, 413) << Describe(w);
    EXPECT_EQ(Body(*huge)["reason"], "RequestEntityTooLarge") << Describe(w);
  }
  EXPECT_EQ(store_.List().size(), 1u);
  EXPECT_EQ(*store_.Get("default/shop"), before);
  // With the token, a write goes through on the same connection path.
  auto ok = Send(kToken, {"PATCH", kShop, "", "application/merge-patch+json"},
                 R"({"spec":{"paused":true}})");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->status, 200) << ok->body;
}

}  // namespace
}  // namespace sy::server::testing
