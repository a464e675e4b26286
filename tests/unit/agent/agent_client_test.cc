#include "pkg/agent/agent_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "pkg/util/clock.h"
#include "pkg/util/files.h"
#include "tests/fakes/temp_dir.h"
#include "tests/unit/agent/fake_agent.h"

namespace sy::agent {
namespace {

using testing::ClosedAddress;
using testing::FakeAgent;
using testing::Refuse;
using testing::TestTransport;
using testing::TheAgent;

TEST(AgentClientTest, AnAddressMustBeHostAndPort) {
  AgentStats stats;
  for (const std::string bad : {"10.0.0.1", "10.0.0.1:", ":9754", "10.0.0.1:99999", "host:x"}) {
    absl::StatusOr<std::unique_ptr<AgentClient>> c =
        AgentClient::Create(bad, TestTransport(), stats, util::RealClock::Get());
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_TRUE(
      AgentClient::Create("[::1]:9754", TestTransport(), stats, util::RealClock::Get()).ok());
}

TEST(AgentClientTest, ARefusalKeepsTheAgentsCodeAndIsCounted) {
  FakeAgent agent;
  agent.on_epoch = [](const EpochRequest&) {
    return Refuse(Code::kStaleEpoch, "epoch 5 is lower than 6");
  };
  AgentStats stats;
  auto c = AgentClient::Create(agent.address(), TestTransport(), stats, util::RealClock::Get());
  ASSERT_TRUE(c.ok()) << c.status();
  absl::Status s = (*c)->AnnounceEpoch({.epoch = {"era-1", 5}, .leader = "ctl"});
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(AgentCodeOf(s), Code::kStaleEpoch);
  EXPECT_EQ(s.message(),
            "agent " + agent.address() + " refused epoch: STALE_EPOCH: epoch 5 is lower than 6");
  const model::AgentReport r = stats.Of(agent.address());
  EXPECT_TRUE(r.reachable);  // it answered
  EXPECT_EQ(r.stale_epoch, 1);
  EXPECT_EQ(r.requests.at({"epoch", "STALE_EPOCH"}), 1);
  EXPECT_EQ(r.last_error, std::string(s.message()));
  // A transport failure has no agent code: its outcome is unknown.
  EXPECT_EQ(AgentCodeOf(absl::UnavailableError("x")), std::nullopt);
}

TEST(AgentClientTest, AConnectionTheAgentClosedWhileIdleIsNotAnUnreachableAgent) {
  server::HttpServerOptions o;
  o.head_timeout = std::chrono::milliseconds(150);  // closes idle kept-alive connections
  FakeAgent agent(o);
  AgentStats stats;
  auto c = AgentClient::Create(agent.address(), TestTransport(), stats, util::RealClock::Get());
  ASSERT_TRUE(c.ok()) << c.status();
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<AgentInfo> info = (*c)->Info();
    ASSERT_TRUE(info.ok()) << info.status();
    EXPECT_EQ(*info, TheAgent());
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
  }
  const model::AgentReport r = stats.Of(agent.address());
  EXPECT_EQ(r.requests,
            (std::map<std::pair<std::string, std::string>, int64_t>{{{"info", "OK"}, 3}}));
  EXPECT_TRUE(r.reachable);
  EXPECT_EQ(r.latency.at("info").count, 3u);
}

// An agent that answers the first request of each connection and closes the connection when
// the next one arrives on it, unanswered: a kept-alive connection dropped just as the client
// sends on it, which the client cannot see beforehand.
class ForgetfulAgent {
 public:
  ForgetfulAgent() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    socklen_t len = sizeof addr;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len), 0);
    EXPECT_EQ(::listen(fd_, 8), 0);
    EXPECT_EQ(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~ForgetfulAgent() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::atomic<int> answered{0};
  std::atomic<int> dropped{0};

 private:
  // One connection at a time: the client opens the next only after this one failed it.
  void Serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      for (int n = 0; ReadHead(c); ++n) {
        if (n == 1) {
          ++dropped;
          break;
        }
        const std::string body = EncodeAgentInfo(TheAgent());
        const std::string res =
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
            std::to_string(body.size()) + "\r\n\r\n" + body;
        EXPECT_EQ(::write(c, res.data(), res.size()), static_cast<ssize_t>(res.size()));
        ++answered;
      }
      ::close(c);
    }
  }
  // Reads one request head (GETs only); false when the client closed or went quiet.
  bool ReadHead(int c) {
    std::string head;
    char buf[1024];
    while (head.find("\r\n\r\n") == std::string::npos) {
      pollfd p{c, POLLIN, 0};
      if (::poll(&p, 1, 2000) <= 0) return false;
      const ssize_t n = ::read(c, buf, sizeof buf);
      if (n <= 0) return false;
      head.append(buf, static_cast<size_t>(n));
    }
    return true;
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST(AgentClientTest, ARequestOnAConnectionDroppedUnderItIsSentAgainOnANewOne) {
  ForgetfulAgent agent;
  AgentStats stats;
  auto c = AgentClient::Create(agent.address(), TestTransport(), stats, util::RealClock::Get());
  ASSERT_TRUE(c.ok()) << c.status();
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<AgentInfo> info = (*c)->Info();
    ASSERT_TRUE(info.ok()) << info.status();
  }
  EXPECT_EQ(agent.answered, 2);
  EXPECT_EQ(agent.dropped, 1);  // the second request's first try
  EXPECT_EQ(stats.Of(agent.address()).requests,
            (std::map<std::pair<std::string, std::string>, int64_t>{{{"info", "OK"}, 2}}));
}

// Each announcement waits until both agents have theirs: one after the other, the first
// would give up (and the test fail).
TEST(AgentClientTest, TheEpochIsAnnouncedToEveryAgentAtOnce) {
  std::mutex mu;
  std::condition_variable cv;
  int in_flight = 0;
  bool at_once = true;
  auto handler = [&](const EpochRequest& r) {
    std::unique_lock<std::mutex> l(mu);
    ++in_flight;
    cv.notify_all();
    if (!cv.wait_for(l, std::chrono::milliseconds(300), [&] { return in_flight >= 2; })) {
      at_once = false;
    }
    EXPECT_EQ(r.epoch, (Epoch{"era-1", 9}));
    EXPECT_EQ(r.leader, "ctl/1");
    return testing::Json(200, EncodeErrorReply({TheAgent(), Code::kOk, ""}));
  };
  FakeAgent a;
  FakeAgent b;
  a.on_epoch = handler;
  b.on_epoch = handler;
  AgentClients clients(TestTransport(), {"era-1", 9}, "ctl/1", util::RealClock::Get());
  const std::string closed = ClosedAddress();
  std::map<std::string, absl::Status> results =
      clients.AnnounceAll({a.address(), b.address(), closed});
  ASSERT_EQ(results.size(), 3u);
  EXPECT_TRUE(results[a.address()].ok()) << results[a.address()];
  EXPECT_TRUE(results[b.address()].ok()) << results[b.address()];
  EXPECT_EQ(results[closed].code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(results[closed].message().find("agent " + closed + " unreachable (epoch): "),
            std::string::npos)
      << results[closed];
  EXPECT_TRUE(at_once);
  EXPECT_FALSE(clients.Stats().Of(closed).reachable);
}

// --- mutual TLS: a CA, the agent's certificate naming its address, the controller's ---------

class AgentClientTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access("/usr/bin/openssl", X_OK) != 0) GTEST_SKIP() << "openssl not installed";
    ASSERT_FALSE(dir_.path.empty());
    Sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
       "-subj /CN=test-ca -addext basicConstraints=critical,CA:TRUE "
       "-addext keyUsage=critical,keyCertSign -keyout ca.key -out ca.crt");
    Issue("agent", "IP:127.0.0.1");
    Issue("elsewhere", "IP:10.9.9.9");  // an agent certificate for another address
    Issue("controller", "URI:switchyard://test/controller/1");
  }

  void Sh(const std::string& command) {
    ASSERT_EQ(std::system(("cd " + dir_.path + " && " + command + " >/dev/null 2>&1").c_str()), 0)
        << command;
  }
  void Issue(const std::string& name, const std::string& san) {
    ASSERT_TRUE(
        util::WriteFileAtomically(dir_.path + "/" + name + ".ext", "subjectAltName=" + san + "\n")
            .ok());
    Sh("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=" + name +
       " -keyout " + name + ".key -out " + name + ".csr");
    Sh("openssl x509 -req -in " + name +
       ".csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 "
       "-extfile " +
       name + ".ext -out " + name + ".crt");
  }
  std::string File(const std::string& name) const { return dir_.path + "/" + name; }

  server::HttpServerOptions Serving(const std::string& name) const {
    server::HttpServerOptions o;
    o.tls_cert_file = File(name + ".crt");
    o.tls_key_file = File(name + ".key");
    return o;
  }
  AgentTransport Transport() const {
    AgentTransport t = TestTransport();
    t.insecure_http = false;
    t.read_timeout = std::chrono::milliseconds(2000);  // TLS handshakes under sanitizers
    t.connect_timeout = std::chrono::milliseconds(1000);
    t.ca_file = File("ca.crt");
    t.cert_file = File("controller.crt");
    t.key_file = File("controller.key");
    return t;
  }

  fakes::TempDir dir_;
  AgentStats stats_;
};

TEST_F(AgentClientTlsTest, AnAgentWhoseCertificateNamesItsAddressIsTrusted) {
  FakeAgent agent(Serving("agent"));
  auto c = AgentClient::Create(agent.address(), Transport(), stats_, util::RealClock::Get());
  ASSERT_TRUE(c.ok()) << c.status();
  absl::StatusOr<AgentInfo> info = (*c)->Info();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(*info, TheAgent());
}

// Safety rule: a machine posing as the agent could report a running primary as stopped.
TEST_F(AgentClientTlsTest, ACertificateForAnotherAddressOrAnotherCaIsRefused) {
  {
    FakeAgent agent(Serving("elsewhere"));
    auto c = AgentClient::Create(agent.address(), Transport(), stats_, util::RealClock::Get());
    ASSERT_TRUE(c.ok()) << c.status();
    absl::StatusOr<AgentInfo> info = (*c)->Info();
    EXPECT_EQ(info.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_NE(info.status().message().find("not trusted or does not name this address"),
              std::string::npos)
        << info.status();
  }
  {
    FakeAgent agent(Serving("agent"));
    AgentTransport t = Transport();
    t.ca_file = File("agent.crt");  // not the CA that signed it
    auto c = AgentClient::Create(agent.address(), t, stats_, util::RealClock::Get());
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_EQ((*c)->Info().status().code(), absl::StatusCode::kUnavailable);
  }
  // Plain HTTP to a TLS agent is no answer either.
  FakeAgent agent(Serving("agent"));
  auto c = AgentClient::Create(agent.address(), TestTransport(), stats_, util::RealClock::Get());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE((*c)->Info().ok());
}

TEST_F(AgentClientTlsTest, AClientKeyThatCannotBeLoadedIsAnError) {
  AgentTransport t = Transport();
  t.key_file = File("missing.key");
  absl::StatusOr<std::unique_ptr<AgentClient>> c =
      AgentClient::Create("127.0.0.1:9754", t, stats_, util::RealClock::Get());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("missing.key"), std::string::npos) << c.status();
}

}  // namespace
}  // namespace sy::agent
