// Tests of what the API checks on a request's head, before its body: the Host header (DNS
// rebinding), the bearer token's scheme in any case, /metrics as a read behind --auth-reads,
// and the audit line every write leaves.
#include <gtest/gtest.h>

#include "tests/unit/server/api_fixture.h"

namespace sy::server::testing {
namespace {

HttpRequest WithHost(HttpRequest r, const std::string& host) {
  r.headers.emplace("host", host);
  return r;
}

TEST_F(ApiTest, AHostThatIsNoNameOfTheServerIsRefused) {
  Create();
  // What a page on evil.example sees after pointing its DNS name at 127.0.0.1.
  for (const std::string host : {"evil.example", "evil.example:9753", "127.0.0.1.evil.example",
                                 "localhost.evil.example:80"}) {
    const std::string msg =
        ExpectStatus(Do(WithHost(Req("GET", kShop, "", "", ""), host)), 403, "Forbidden");
    EXPECT_NE(msg.find("--allowed-host"), std::string::npos) << msg;
    EXPECT_EQ(Do(WithHost(Req("GET", "/metrics", "", "", ""), host)).status, 403) << host;
  }
  for (const std::string host : {"127.0.0.1:9753", "127.0.0.1", "[::1]:9753", "::1", "localhost",
                                 "LOCALHOST:9753", "10.1.2.3:443", "localhost."}) {
    EXPECT_EQ(Do(WithHost(Req("GET", kShop), host)).status, 200) << host;
  }
  // Health checks answer whatever name a prober uses.
  EXPECT_EQ(Do(WithHost(Req("GET", "/healthz", "", "", ""), "evil.example")).status, 200);
}

TEST_F(ApiTest, AllowedHostsAreAccepted) {
  ApiOptions o = Options();
  o.allowed_hosts = {"Switchyard.Example.COM"};
  ApiHandler h(
      store_, clock_, [] { return true; }, o);
  EXPECT_EQ(h.Handle(WithHost(Req("GET", kDcs), "switchyard.example.com:9753")).status, 200);
  EXPECT_EQ(h.Handle(WithHost(Req("GET", kDcs), "other.example.com")).status, 403);
}

TEST_F(ApiTest, TheBearerSchemeMatchesInAnyCase) {
  for (const std::string scheme : {"Bearer", "bearer", "BEARER", "bEaReR"}) {
    HttpRequest r =
        Req("PATCH", kShop, R"({"spec":{"paused":true}})", "application/merge-patch+json", "");
    r.headers.emplace("authorization", scheme + " " + kToken);
    Create();
    EXPECT_EQ(Do(r).status, 200) << scheme;
    ASSERT_TRUE(store_.Delete("default/shop", {}).ok());
  }
}

TEST_F(ApiTest, MetricsAreAReadBehindAuthReads) {
  auto metrics = [] { return HttpResponse{200, "text/plain", "switchyard_up 1\n"}; };
  ApiOptions open = Options();
  open.metrics = metrics;
  ApiHandler public_reads(
      store_, clock_, [] { return true; }, open);
  EXPECT_EQ(public_reads.Handle(Req("GET", "/metrics", "", "", "")).status, 200);

  ApiOptions closed = open;
  closed.auth_reads = true;
  ApiHandler private_reads(
      store_, clock_, [] { return true; }, closed);
  ExpectStatus(private_reads.Handle(Req("GET", "/metrics", "", "", "")), 401, "Unauthorized");
  EXPECT_EQ(private_reads.Handle(Req("GET", "/metrics")).body, "switchyard_up 1\n");
  EXPECT_EQ(private_reads.Handle(Req("GET", "/healthz", "", "", "")).status, 200);
  EXPECT_EQ(private_reads.Handle(Req("GET", "/readyz", "", "", "")).status, 200);
}

TEST_F(ApiTest, EveryWriteLeavesAnAuditLine) {
  Create();
  ::testing::internal::CaptureStderr();
  HttpRequest ok = Req("PATCH", kShop + "?fieldManager=kubectl", R"({"spec":{"paused":true}})",
                       "application/merge-patch+json");
  ok.remote = "127.0.0.1";
  ok.headers.emplace("user-agent", "kubectl/v1.28");
  Do(ok);
  HttpRequest anonymous = Req("DELETE", kShop, "", "", "");
  anonymous.remote = "10.0.0.9";
  Do(anonymous);
  HttpRequest wrong = Req("DELETE", kShop + "?dryRun=All", "", "", "");
  wrong.headers.emplace("authorization", "Bearer nope");
  Do(wrong);
  Do(Req("GET", kShop));  // reads are not audited
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("audit verb=PATCH path=" + kShop +
                     " code=200 user=token-holder remote=127.0.0.1 agent=kubectl/v1.28 "
                     "dry_run=false field_manager=kubectl"),
            std::string::npos)
      << log;
  EXPECT_NE(
      log.find("audit verb=DELETE path=" + kShop + " code=401 user=anonymous remote=10.0.0.9"),
      std::string::npos)
      << log;
  EXPECT_NE(log.find("code=403 user=wrong-token"), std::string::npos) << log;
  EXPECT_NE(log.find("dry_run=true"), std::string::npos) << log;
  EXPECT_EQ(log.find("verb=GET"), std::string::npos) << log;
  EXPECT_EQ(log.find(kToken), std::string::npos) << log;
}

}  // namespace
}  // namespace sy::server::testing
