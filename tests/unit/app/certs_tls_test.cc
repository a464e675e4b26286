// What `yardctl certs` mints does its job in a real mutual-TLS handshake on 127.0.0.1
// (cpp-httplib over OpenSSL, as agents and the controller speak): an agent that trusts the
// CA admits the controller's certificate and sees its URI, the controller accepts the
// agent's certificate for the agent's address; certificates of another CA, for another
// address, or used for what they are not (a server's as a client's) fail.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <mutex>
#include <sstream>
#include <thread>

#include "pkg/app/yardctl.h"
#include "tests/fakes/temp_dir.h"
#include "tests/unit/app/x509_util.h"

namespace sy::app::testing {
namespace {

// The URI subjectAltName of the client's certificate, "" without one.
std::string PeerUri(const httplib::Request& req) {
  if (req.ssl == nullptr) return "";
  ssl::X509Ptr peer(SSL_get1_peer_certificate(req.ssl));
  if (!peer) return "";
  for (const std::string& n : AltNames(peer.get())) {
    if (n.starts_with("URI:")) return n.substr(4);
  }
  return "";
}

// An agent's TLS endpoint on 127.0.0.1: serves <dir>/<base>.crt and .key, admits clients
// whose certificate chains to <ca_dir>/ca.crt, and answers GET /whoami with the client's URI.
class TlsAgent {
 public:
  TlsAgent(const std::string& dir, const std::string& base, const std::string& ca_dir)
      : server_((dir + "/" + base + ".crt").c_str(), (dir + "/" + base + ".key").c_str(),
                (ca_dir + "/ca.crt").c_str()) {
    // The same checks cpp-httplib asks for, plus a note of why OpenSSL refused a client:
    // under TLS 1.3 the client learns only that the connection closed.
    SSL_CTX_set_app_data(server_.ssl_context(), this);
    SSL_CTX_set_verify(server_.ssl_context(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                       &TlsAgent::Verified);
    server_.Get("/whoami", [this](const httplib::Request& req, httplib::Response& res) {
      ++requests_;
      res.set_content(PeerUri(req), "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~TlsAgent() {
    server_.stop();
    thread_.join();
  }
  TlsAgent(const TlsAgent&) = delete;
  TlsAgent& operator=(const TlsAgent&) = delete;

  bool Valid() const { return server_.is_valid() && port_ > 0; }
  int port() const { return port_; }
  int Requests() const { return requests_; }
  // Why OpenSSL last refused a client's chain, "" when it never did.
  std::string Refusal() const {
    std::lock_guard<std::mutex> lock(mu_);
    return refusal_;
  }

 private:
  static int Verified(int ok, X509_STORE_CTX* store) {
    auto* ssl =
        static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
    auto* self = static_cast<TlsAgent*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
    if (ok == 0) {
      std::lock_guard<std::mutex> lock(self->mu_);
      self->refusal_ = X509_verify_cert_error_string(X509_STORE_CTX_get_error(store));
    }
    return ok;
  }

  httplib::SSLServer server_;
  int port_ = -1;
  std::thread thread_;
  std::atomic<int> requests_{0};
  mutable std::mutex mu_;
  std::string refusal_;
};

// The controller's side: dials 127.0.0.1:`port` with <dir>/<base>.crt and .key (none when
// `base` is ""), trusting <ca_dir>/ca.crt and checking that the agent's certificate names
// 127.0.0.1. The URI the agent saw, or the error with OpenSSL's verdict on the agent's
// chain. The address is checked by OpenSSL itself, as part of the chain: cpp-httplib
// 0.11.4's own check of IP names compares against uninitialised memory (valgrind), and
// falls back to the CN.
std::string Dial(int port, const std::string& dir, const std::string& base,
                 const std::string& ca_dir) {
  httplib::SSLClient cli("127.0.0.1", port, base.empty() ? "" : dir + "/" + base + ".crt",
                         base.empty() ? "" : dir + "/" + base + ".key");
  cli.set_ca_cert_path(ca_dir + "/ca.crt");
  X509_VERIFY_PARAM_set1_ip_asc(SSL_CTX_get0_param(cli.ssl_context()), "127.0.0.1");
  cli.enable_server_certificate_verification(true);
  cli.set_connection_timeout(5);
  cli.set_read_timeout(5);
  httplib::Result res = cli.Get("/whoami");
  if (!res) {
    return "error: " + httplib::to_string(res.error()) + ", chain " +
           X509_verify_cert_error_string(cli.get_openssl_verify_result());
  }
  if (res->status != 200) return "status " + std::to_string(res->status);
  return res->body;
}

class CertsTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp_.path.empty());
    // Two clusters' worth: the same names under two different CAs.
    for (const std::string& dir : {a_, b_}) {
      CertsOptions o;
      o.dir = dir;
      o.controllers = {"c1"};
      // "127.0.0.1" names an agent at 127.0.0.2: its CN is the address dialled, its SAN not.
      o.agents = {"local=127.0.0.1:7443", "elsewhere=127.0.0.2", "127.0.0.1=127.0.0.2"};
      std::ostringstream out;
      std::ostringstream err;
      ASSERT_EQ(CtlCerts(o, out, err), 0) << err.str();
    }
    ASSERT_NE(ReadOrEmpty(a_ + "/ca.crt"), ReadOrEmpty(b_ + "/ca.crt"));
  }

  fakes::TempDir tmp_{"certs_tls_test"};
  const std::string a_ = tmp_.path + "/a";
  const std::string b_ = tmp_.path + "/b";
};

TEST_F(CertsTlsTest, MintedCertificatesCompleteAMutualHandshake) {
  TlsAgent agent(a_, "agent-local", a_);
  ASSERT_TRUE(agent.Valid());
  EXPECT_EQ(Dial(agent.port(), a_, "controller-c1", a_), "switchyard://local/controller/c1");
  EXPECT_EQ(agent.Requests(), 1);
  EXPECT_EQ(agent.Refusal(), "");
}

TEST_F(CertsTlsTest, TheAgentRefusesAControllerOfAnotherCa) {
  TlsAgent agent(a_, "agent-local", a_);
  ASSERT_TRUE(agent.Valid());
  const std::string got = Dial(agent.port(), b_, "controller-c1", a_);
  EXPECT_TRUE(got.starts_with("error: ")) << got;
  EXPECT_EQ(agent.Refusal(), "unable to get local issuer certificate");
  // Without a certificate at all.
  EXPECT_TRUE(Dial(agent.port(), a_, "", a_).starts_with("error: "));
  EXPECT_EQ(agent.Requests(), 0);
}

TEST_F(CertsTlsTest, TheControllerRefusesAnAgentOfAnotherCa) {
  TlsAgent agent(b_, "agent-local", a_);
  ASSERT_TRUE(agent.Valid());
  EXPECT_EQ(Dial(agent.port(), a_, "controller-c1", a_),
            "error: SSLServerVerification, chain unable to get local issuer certificate");
  EXPECT_EQ(agent.Requests(), 0);
}

TEST_F(CertsTlsTest, TheControllerRefusesAnAgentCertificateForAnotherAddress) {
  // Signed by the right CA, but for 127.0.0.2.
  TlsAgent agent(a_, "agent-elsewhere", a_);
  ASSERT_TRUE(agent.Valid());
  EXPECT_EQ(Dial(agent.port(), a_, "controller-c1", a_),
            "error: SSLServerVerification, chain IP address mismatch");
  EXPECT_EQ(agent.Requests(), 0);
}

TEST_F(CertsTlsTest, TheControllerGoesByTheAddressNotTheCommonName) {
  TlsAgent agent(a_, "agent-127.0.0.1", a_);
  ASSERT_TRUE(agent.Valid());
  EXPECT_EQ(Dial(agent.port(), a_, "controller-c1", a_),
            "error: SSLServerVerification, chain IP address mismatch");
  EXPECT_EQ(agent.Requests(), 0);
}

TEST_F(CertsTlsTest, EachCertificateServesOnlyItsSide) {
  // An agent's certificate (serverAuth) offered as a controller's: the agent refuses it.
  TlsAgent agent(a_, "agent-local", a_);
  ASSERT_TRUE(agent.Valid());
  EXPECT_TRUE(Dial(agent.port(), a_, "agent-local", a_).starts_with("error: "));
  EXPECT_EQ(agent.Refusal(), "unsuitable certificate purpose");
  EXPECT_EQ(agent.Requests(), 0);
  // A controller's certificate (clientAuth) served by an agent: the controller refuses it
  // for its purpose, before its name.
  TlsAgent impostor(a_, "controller-c1", a_);
  ASSERT_TRUE(impostor.Valid());
  EXPECT_EQ(Dial(impostor.port(), a_, "controller-c1", a_),
            "error: SSLServerVerification, chain unsuitable certificate purpose");
  EXPECT_EQ(impostor.Requests(), 0);
}

}  // namespace
}  // namespace sy::app::testing
