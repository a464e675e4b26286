// Tests of the transport and the client over real sockets on 127.0.0.1: HTTPS with a
// self-signed certificate, the token, watch events flushed as they happen (not when the
// stream ends), the transport's own 413, and Stop() ending open watches.
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "pkg/server/api_client.h"
#include "pkg/server/connection.h"
#include "pkg/server/http_server.h"
#include "pkg/server/token.h"
#include "pkg/util/files.h"
#include "tests/fakes/temp_dir.h"
#include "tests/unit/server/api_fixture.h"

namespace sy::server::testing {
namespace {

class TransportTest : public ApiTest {
 protected:
  void SetUp() override { ASSERT_FALSE(dir_.empty()); }
  void TearDown() override {
    if (server_) server_->Stop();
  }
  // Starts the handler on a free port; with `tls`, on a fresh self-signed certificate.
  void Start(bool tls) {
    HttpServerOptions o;
    o.max_body_bytes = 256 * 1024;
    if (tls) {
      const std::string cmd = absl::StrCat(
          "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
          "-subj /CN=switchyard -addext subjectAltName=IP:127.0.0.1 -keyout ",
          dir_, "/key.pem -out ", dir_, "/cert.pem >/dev/null 2>&1");
      ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl";
      o.tls_cert_file = dir_ + "/cert.pem";
      o.tls_key_file = dir_ + "/key.pem";
    }
    server_ = std::make_unique<HttpServer>([this](const HttpRequest& r) { return Do(r); }, o);
    ASSERT_TRUE(server_->Start("127.0.0.1:0").ok());
    url_ = absl::StrCat(tls ? "https" : "http", "://127.0.0.1:", server_->port());
  }
  ClientConfig Config(bool with_ca = true) {
    ClientConfig c;
    c.server = url_;
    c.token = kToken;
    if (with_ca) c.ca_pem = *util::ReadFile(dir_ + "/cert.pem");
    return c;
  }

  fakes::TempDir tmp_{"http_transport_test"};
  const std::string dir_ = tmp_.path;
  std::string url_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(TransportTest, HttpsWithTheTokenAndTheCertificate) {
  Start(/*tls=*/true);
  ApiClient cli(Config());
  auto created = cli.Send("POST", kDcs, ShopJson().dump(), "application/json");
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->status, 201) << created->body;
  auto got = cli.Send("GET", kShop);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(Body(*got)["metadata"]["name"], "shop");

  ClientConfig anonymous = Config();
  anonymous.token.clear();
  auto refused = ApiClient(anonymous).Send("DELETE", kShop);
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->status, 401);

  // A certificate nobody said to trust is refused; --insecure-skip-tls-verify accepts it.
  auto untrusted = ApiClient(Config(/*with_ca=*/false)).Send("GET", kShop);
  EXPECT_TRUE(absl::IsUnavailable(untrusted.status())) << untrusted.status();
  ClientConfig insecure = Config(false);
  insecure.insecure_skip_verify = true;
  EXPECT_EQ(ApiClient(insecure).Send("GET", kShop)->status, 200);
  ClientConfig plain = Config();
  plain.server = "http://127.0.0.1:" + std::to_string(server_->port());
  EXPECT_FALSE(ApiClient(plain).Send("GET", kShop).ok());
  ClientConfig bad_ca = Config();
  bad_ca.ca_pem = "not a certificate";
  EXPECT_TRUE(absl::IsInvalidArgument(ApiClient(bad_ca).Send("GET", kShop).status()));
}

TEST_F(TransportTest, BadTlsFilesAreInvalidArgument) {
  HttpServerOptions o;
  o.tls_cert_file = "/nonexistent/cert.pem";
  o.tls_key_file = "/nonexistent/key.pem";
  HttpServer s([](const HttpRequest&) { return HttpResponse(); }, o);
  EXPECT_TRUE(absl::IsInvalidArgument(s.Start("127.0.0.1:0")));
  HttpServerOptions half;
  half.tls_cert_file = "/nonexistent/cert.pem";
  HttpServer h([](const HttpRequest&) { return HttpResponse(); }, half);
  EXPECT_TRUE(absl::IsInvalidArgument(h.Start("127.0.0.1:0")));
}

// TLS 1.0 and 1.1 are refused by the server itself, whatever the system's OpenSSL policy.
TEST_F(TransportTest, TlsBelowOnePointTwoIsRefused) {
  Start(/*tls=*/true);
  auto ctx = TlsContext::Create(dir_ + "/cert.pem", dir_ + "/key.pem");
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  EXPECT_EQ(SSL_CTX_get_min_proto_version((*ctx)->Get()), TLS1_2_VERSION);
  const std::string cmd =
      absl::StrCat("openssl s_client -connect 127.0.0.1:", server_->port(),
                   " -tls1_1 -cipher DEFAULT@SECLEVEL=0 </dev/null >/dev/null 2>&1");
  EXPECT_NE(std::system(cmd.c_str()), 0);
  const std::string tls12 = absl::StrCat("openssl s_client -connect 127.0.0.1:", server_->port(),
                                         " -tls1_2 </dev/null >/dev/null 2>&1");
  EXPECT_EQ(std::system(tls12.c_str()), 0);
}

TEST_F(TransportTest, WatchEventsArriveAsTheyHappen) {
  Start(/*tls=*/false);
  Create();
  ApiClient cli(Config(false));
  std::vector<std::string> types;
  std::thread writer;
  // Each event must reach the client while the stream is open (no buffering, no gzip, though
  // the client accepts it): the second event is made only once the first arrived, and the
  // whole exchange takes far less than the watch's 20 s.
  const auto t0 = std::chrono::steady_clock::now();
  auto status = cli.Stream(
      kDcs + "?watch=true&timeoutSeconds=20", "application/json", [&](std::string_view line) {
        types.push_back(nlohmann::json::parse(line)["type"]);
        if (types.size() == 1) {
          writer = std::thread([&] {
            Do(Req("PATCH", kShop, R"({"spec":{"paused":true}})", "application/merge-patch+json"));
          });
        }
        return types.size() < 2;
      });
  if (writer.joinable()) writer.join();
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(*status, 200);
  EXPECT_EQ(types, (std::vector<std::string>{"ADDED", "MODIFIED"}));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
}

TEST_F(TransportTest, TransportRefusesHugeBodiesWithAStatus) {
  Start(/*tls=*/false);
  ApiClient cli(Config(false));
  auto r = cli.Send("POST", kDcs, std::string(512 * 1024, 'x'), "application/json");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(Body(*r)["reason"], "RequestEntityTooLarge");
}

TEST_F(TransportTest, StopEndsOpenWatches) {
  Start(/*tls=*/false);
  std::thread watcher([&] {
    ApiClient cli(Config(false));
    (void)cli.Stream(kDcs + "?watch=true", "application/json",
                     [](std::string_view) { return true; });
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let the watch begin
  const auto t0 = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  watcher.join();
}

TEST(TokenTest, CreatedOncePrivateAndKept) {
  const fakes::TempDir tmp("token_test");
  ASSERT_FALSE(tmp.path.empty());
  const std::string& dir = tmp.path;
  const std::string path = dir + "/token";
  auto first = LoadOrCreateToken(path);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->size(), 64u);
  EXPECT_EQ(first->find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(std::filesystem::status(path).permissions(),
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  EXPECT_EQ(*LoadOrCreateToken(path), *first);
  EXPECT_EQ(*ReadToken(path), *first);
  std::filesystem::permissions(path, std::filesystem::perms::group_read,
                               std::filesystem::perm_options::add);
  EXPECT_TRUE(absl::IsFailedPrecondition(LoadOrCreateToken(path).status()));
  ASSERT_TRUE(util::WriteFileAtomically(path, "\n", 0600).ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(LoadOrCreateToken(path).status()));
  EXPECT_TRUE(absl::IsNotFound(ReadToken(dir + "/none").status()));
}

}  // namespace
}  // namespace sy::server::testing
