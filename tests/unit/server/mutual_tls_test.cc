// Mutual TLS in the transport (HttpServerOptions::tls_client_ca_file): a client without a
// certificate, or with one another CA signed, fails its handshake and reaches no handler;
// one the CA signed reaches the admission with its URI names (HttpRequest::peer_uris), which
// can refuse it (403) before any byte of the body is read.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>

#include "absl/strings/match.h"
#include "pkg/server/api_errors.h"
#include "pkg/server/http_server.h"
#include "tests/fakes/temp_dir.h"
#include "tests/fakes/test_certs.h"
#include "tests/fakes/tls_client.h"

namespace sy::server {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

constexpr char kGet[] = "GET /v1/info HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
constexpr char kController[] = "URI:switchyard://test/controller/1";

class MutualTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.empty());
    for (const char* ca : {"ca", "other-ca"}) ASSERT_TRUE(fakes::MintCa(dir_, ca).ok());
    ASSERT_TRUE(fakes::MintCert(dir_, "server", "ca", "IP:127.0.0.1").ok());
    ASSERT_TRUE(fakes::MintCert(dir_, "controller", "ca", kController).ok());
    ASSERT_TRUE(fakes::MintCert(dir_, "stranger", "other-ca", kController).ok());
    ASSERT_TRUE(fakes::MintCert(dir_, "viewer", "ca", "URI:spiffe://test/viewer").ok());
    HttpServerOptions o;
    o.tls_cert_file = dir_ + "/server.crt";
    o.tls_key_file = dir_ + "/server.key";
    o.tls_client_ca_file = dir_ + "/ca.crt";
    server_ = std::make_unique<HttpServer>(
        [this](const HttpRequest& r) {
          ++handled_;
          return HttpResponse(200, "text/plain",
                              "uris=" + (r.peer_uris.empty() ? "" : r.peer_uris[0]));
        },
        o,
        [this](const HttpRequest& head) -> std::optional<HttpResponse> {
          seen_uris_ = head.peer_uris.empty() ? "" : head.peer_uris[0];
          for (const std::string& u : head.peer_uris) {
            if (absl::StartsWith(u, "switchyard://")) return std::nullopt;
          }
          return StatusResponse(403, "Forbidden", "not a controller");
        });
    ASSERT_TRUE(server_->Start("127.0.0.1:0").ok());
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }
  fakes::TlsExchange As(const std::string& who, bool max_tls12 = false) {
    return fakes::TlsRequest(server_->port(), kGet, who.empty() ? "" : dir_ + "/" + who + ".crt",
                             who.empty() ? "" : dir_ + "/" + who + ".key", max_tls12);
  }

  fakes::TempDir tmp_{"mutual_tls_test"};
  const std::string dir_ = tmp_.path;
  std::unique_ptr<HttpServer> server_;
  std::atomic<int> handled_{0};
  std::string seen_uris_;
};

TEST_F(MutualTlsTest, WithoutAClientCertificateTheHandshakeFails) {
  EXPECT_FALSE(As("", /*max_tls12=*/true).handshake);
  // TLS 1.3: the client may finish its side; the server's refusal ends the connection with
  // no response.
  EXPECT_THAT(As("").response, IsEmpty());
  EXPECT_EQ(handled_.load(), 0);
}

TEST_F(MutualTlsTest, ACertificateOfAnotherCaFailsTheHandshake) {
  EXPECT_FALSE(As("stranger", /*max_tls12=*/true).handshake);
  EXPECT_THAT(As("stranger").response, IsEmpty());
  EXPECT_EQ(handled_.load(), 0);
}

TEST_F(MutualTlsTest, TheAdmissionSeesTheUriAndMayRefuseIt) {
  const fakes::TlsExchange x = As("viewer");
  EXPECT_TRUE(x.handshake);
  EXPECT_THAT(x.response, StartsWith("HTTP/1.1 403"));
  EXPECT_EQ(seen_uris_, "spiffe://test/viewer");
  EXPECT_EQ(handled_.load(), 0);
}

TEST_F(MutualTlsTest, TheControllersCertificateIsServed) {
  for (bool tls12 : {false, true}) {
    const fakes::TlsExchange x = As("controller", tls12);
    EXPECT_TRUE(x.handshake);
    EXPECT_THAT(x.response, StartsWith("HTTP/1.1 200"));
    EXPECT_THAT(x.response, HasSubstr("uris=switchyard://test/controller/1"));
  }
  EXPECT_EQ(handled_.load(), 2);
}

TEST(MutualTlsOptionsTest, AClientCaNeedsTlsAndALoadableFile) {
  fakes::TempDir tmp("mutual_tls_options");
  HttpServerOptions plain;
  plain.tls_client_ca_file = "/nonexistent/ca.crt";
  HttpServer a([](const HttpRequest&) { return HttpResponse(); }, plain);
  EXPECT_TRUE(absl::IsInvalidArgument(a.Start("127.0.0.1:0")));
  ASSERT_TRUE(fakes::MintCa(tmp.path, "ca").ok());
  HttpServerOptions missing;
  missing.tls_cert_file = tmp.path + "/ca.crt";
  missing.tls_key_file = tmp.path + "/ca.key";
  missing.tls_client_ca_file = tmp.path + "/nonexistent.crt";
  HttpServer b([](const HttpRequest&) { return HttpResponse(); }, missing);
  const absl::Status s = b.Start("127.0.0.1:0");
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("nonexistent.crt"));
}

}  // namespace
}  // namespace sy::server
