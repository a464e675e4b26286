// Shared by the API's unit tests: a handler on a memory store with a token, requests built
// like kubectl sends them, and checks of Kubernetes Status answers.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "pkg/codec/codec.h"
#include "pkg/server/api_handler.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/plan_driver.h"

namespace sy::server::testing {

inline const std::string kToken = "s3cret-token";
inline const std::string kDcs = "/apis/switchyard.dev/v1alpha1/namespaces/default/deploymentcolors";
inline const std::string kShop = kDcs + "/shop";

// "path?a=b&c=d" as a request (%3D and %2C in values decoded), with the token unless `token`
// is empty.
inline HttpRequest Req(const std::string& method, const std::string& target,
                       const std::string& body = "", const std::string& content_type = "",
                       const std::string& token = kToken) {
  HttpRequest r;
  r.method = method;
  const size_t q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string::npos) {
    for (absl::string_view kv : absl::StrSplit(target.substr(q + 1), '&')) {
      std::pair<std::string, std::string> p = absl::StrSplit(kv, absl::MaxSplits('=', 1));
      for (auto [from, to] : {std::pair{"%3D", "="}, std::pair{"%2C", ","}}) {
        for (size_t at; (at = p.second.find(from)) != std::string::npos;) {
          p.second.replace(at, 3, to);
        }
      }
      r.query.emplace(p.first, p.second);
    }
  }
  if (!token.empty()) r.headers.emplace("authorization", "Bearer " + token);
  if (!content_type.empty()) r.headers.emplace("content-type", content_type);
  r.body = body;
  return r;
}

// The JSON a client sends for "default/shop" with `color` (no status, no server fields).
inline nlohmann::json ShopJson(api::Color color = api::Color::kBlue) {
  api::DeploymentColor dc = fakes::FakeResource(color);
  dc.metadata.generation = 0;
  return nlohmann::json::parse(codec::EncodeJson(dc));
}

inline nlohmann::json Body(const HttpResponse& r) {
  return nlohmann::json::parse(r.body, nullptr, false);
}
template <typename Response>
nlohmann::json Body(const Response& r) {
  return nlohmann::json::parse(r.body, nullptr, false);
}

// `r` is a Status with `code` and `reason`; returns its message.
inline std::string ExpectStatus(const HttpResponse& r, int code, const std::string& reason) {
  EXPECT_EQ(r.status, code) << r.body;
  const nlohmann::json j = Body(r);
  EXPECT_TRUE(j.is_object()) << r.body;
  if (!j.is_object()) return "";
  EXPECT_EQ(j.value("kind", ""), "Status") << r.body;
  EXPECT_EQ(j.value("apiVersion", ""), "v1");
  EXPECT_EQ(j.value("code", 0), code);
  EXPECT_EQ(j.value("reason", ""), reason) << r.body;
  return j.value("message", "");
}

class ApiTest : public ::testing::Test {
 protected:
  static ApiOptions Options() {
    ApiOptions o;
    o.token = kToken;
    o.max_body_bytes = 64 * 1024;
    o.watch_heartbeat = std::chrono::milliseconds(50);
    return o;
  }
  HttpResponse Do(const HttpRequest& r) { return handler_.Handle(r); }
  // Creates default/shop through the API; returns the stored object's JSON.
  nlohmann::json Create(api::Color color = api::Color::kBlue) {
    const HttpResponse r = Do(Req("POST", kDcs, ShopJson(color).dump(), "application/json"));
    EXPECT_EQ(r.status, 201) << r.body;
    return Body(r);
  }

  fakes::FakeClock clock_;
  source::Store store_{"", clock_};
  ApiHandler handler_{store_, clock_, [] { return true; }, Options()};
};

}  // namespace sy::server::testing
