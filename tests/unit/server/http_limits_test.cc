// Tests of the transport's limits over real sockets on 127.0.0.1, with hostile clients: no
// body is read before the request is admitted, chunked and compressed bodies are bounded as
// sent and once inflated, heads are bounded in size, line length, field count and time,
// parse errors close the connection, and neither slow clients nor watches take the threads
// that /healthz and the API need.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "pkg/server/http_server.h"
#include "pkg/util/files.h"
#include "tests/fakes/temp_dir.h"
#include "tests/unit/server/api_fixture.h"
#include "tests/unit/server/raw_client.h"

namespace sy::server::testing {
namespace {

using std::chrono::milliseconds;

class LimitsTest : public ApiTest {
 protected:
  void Start(const HttpServerOptions& o = Defaults()) {
    server_ = std::make_unique<HttpServer>(
        [this](const HttpRequest& r) {
          size_t seen = largest_body_.load();
          while (r.body.size() > seen &&
                 !largest_body_.compare_exchange_weak(seen, r.body.size())) {
          }
          ++handled_;
          return Do(r);
        },
        o, [this](const HttpRequest& head) { return handler_.Admit(head); });
    ASSERT_TRUE(server_->Start("127.0.0.1:0").ok());
  }
  static HttpServerOptions Defaults() {
    HttpServerOptions o;
    o.max_body_bytes = Options().max_body_bytes + 1;
    o.head_timeout = milliseconds(1000);
    return o;
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }
  RawClient Connect() { return RawClient(server_->port()); }
  // GET path on a new connection; the status, 0 when none came within `timeout`.
  int Get(const std::string& path, milliseconds timeout = milliseconds(2000)) {
    RawClient c = Connect();
    c.Send(absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ",
                        kToken, "\r\n\r\n"));
    c.ReadResponse(timeout);
    return c.Status();
  }
  // `size` zero bytes, gzip-compressed (a compression bomb).
  std::string GzipOfZeros(size_t size) {
    const std::string path = tmp_.path + "/zeros.gz";
    const std::string cmd = absl::StrCat("head -c ", size, " /dev/zero | gzip -9 -c > ", path);
    EXPECT_EQ(std::system(cmd.c_str()), 0);
    return util::ReadFile(path).value_or("");
  }

  fakes::TempDir tmp_{"http_limits_test"};
  std::unique_ptr<HttpServer> server_;
  std::atomic<size_t> largest_body_{0};
  std::atomic<int> handled_{0};
};

std::string Post(const std::string& extra_headers, bool token) {
  return absl::StrCat(
      "POST ", kDcs, " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n",
      token ? "Authorization: Bearer " + kToken + "\r\n" : "", extra_headers, "\r\n");
}

TEST_F(LimitsTest, AnAnonymousChunkedBodyIsRefusedBeforeItIsRead) {
  Start();
  RawClient c = Connect();
  ASSERT_TRUE(c.Send(Post("Transfer-Encoding: chunked\r\n", /*token=*/false)));
  ASSERT_TRUE(c.Send("400\r\n" + std::string(1024, 'x') + "\r\n"));  // and never the end
  c.ReadResponse(milliseconds(2000));
  EXPECT_EQ(c.Status(), 401) << c.received();
  EXPECT_NE(c.received().find("Connection: close"), std::string::npos) << c.received();
  EXPECT_TRUE(c.ClosedWithin(milliseconds(1000)));  // its body is never read
  EXPECT_EQ(handled_.load(), 0);
}

TEST_F(LimitsTest, AnAnonymousCompressionBombIsNeverInflated) {
  Start();
  const std::string bomb = GzipOfZeros(64 << 20);
  ASSERT_LT(bomb.size(), 256u * 1024);
  RawClient c = Connect();
  c.Send(Post(absl::StrCat("Content-Encoding: gzip\r\nContent-Length: ", bomb.size(), "\r\n"),
              /*token=*/false));
  c.Send(bomb);
  c.ReadResponse(milliseconds(5000));
  EXPECT_EQ(c.Status(), 401) << c.received();
  EXPECT_EQ(largest_body_.load(), 0u);  // the handler never saw the inflated bytes
}

TEST_F(LimitsTest, AnAdmittedCompressionBombStopsAtTheLimitOnceInflated) {
  Start();
  const std::string bomb = GzipOfZeros(64 << 20);
  RawClient c = Connect();
  c.Send(Post(absl::StrCat("Content-Encoding: gzip\r\nContent-Length: ", bomb.size(), "\r\n"),
              /*token=*/true));
  c.Send(bomb);
  c.ReadResponse(milliseconds(5000));
  EXPECT_EQ(c.Status(), 413) << c.received();
  EXPECT_LE(largest_body_.load(), Options().max_body_bytes);
  EXPECT_TRUE(c.ClosedWithin(milliseconds(1000)));
}

TEST_F(LimitsTest, AnAdmittedChunkedBodyStopsAtTheLimit) {
  Start();
  RawClient c = Connect();
  c.Send(Post("Transfer-Encoding: chunked\r\n", /*token=*/true));
  const std::string chunk = "4000\r\n" + std::string(0x4000, 'x') + "\r\n";
  for (int i = 0; i < 64 && c.Send(chunk); ++i) {  // 1 MiB, 16 times the limit
  }
  c.ReadResponse(milliseconds(5000));
  EXPECT_EQ(c.Status(), 413) << c.received();
  EXPECT_LE(largest_body_.load(), Options().max_body_bytes);
  EXPECT_TRUE(c.ClosedWithin(milliseconds(1000)));
}

TEST_F(LimitsTest, ADeclaredBodyOverTheLimitIs413BeforeAnyOfItIsSent) {
  Start();
  RawClient c = Connect();
  c.Send(Post("Content-Length: 1000000000\r\n", /*token=*/false));
  c.ReadResponse(milliseconds(2000));
  EXPECT_EQ(c.Status(), 413) << c.received();
}

TEST_F(LimitsTest, AnEndlessHeaderLineIs431AtItsLimit) {
  Start();
  RawClient c = Connect();
  c.Send("GET /healthz HTTP/1.1\r\nX-Long: ");
  const std::string a(4096, 'a');
  for (int i = 0; i < 8 && c.Send(a); ++i) {  // 32 KiB, and no end of line
  }
  c.ReadResponse(milliseconds(2000));
  EXPECT_EQ(c.Status(), 431) << c.received().substr(0, 200);
  EXPECT_TRUE(c.ClosedWithin(milliseconds(1000)));
}

TEST_F(LimitsTest, TooManyHeaderFieldsIs431) {
  Start();
  RawClient c = Connect();
  std::string head = "GET /healthz HTTP/1.1\r\n";
  for (int i = 0; i < 200; ++i) absl::StrAppend(&head, "X-", i, ": y\r\n");
  c.Send(head + "\r\n");
  c.ReadResponse(milliseconds(2000));
  EXPECT_EQ(c.Status(), 431) << c.received().substr(0, 200);
}

TEST_F(LimitsTest, AParseErrorClosesTheConnectionAtOnce) {
  Start();
  for (const std::string bad :
       {"GET /healthz HTTP/1.1\nHost: x\n\n", "NONSENSE\r\n\r\n", "GET /healthz HTTP/9.9\r\n\r\n",
        "POST /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "POST /x HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
        "POST /x HTTP/1.1\r\nContent-Encoding: compress\r\nContent-Length: 1\r\n\r\nx"}) {
    RawClient c = Connect();
    c.Send(bad);
    const auto t0 = std::chrono::steady_clock::now();
    c.ReadResponse(milliseconds(2000));
    EXPECT_GE(c.Status(), 400) << bad;
    EXPECT_TRUE(c.ClosedWithin(milliseconds(500))) << bad;
    EXPECT_LT(std::chrono::steady_clock::now() - t0, milliseconds(1000)) << bad;
  }
}

TEST_F(LimitsTest, AHeadDribbledByteByByteHitsTheDeadline) {
  Start();  // head_timeout 1 s
  RawClient c = Connect();
  const std::string head = "GET /healthz HTTP/1.1\r\nX-Slow: " + std::string(200, 's');
  const auto t0 = std::chrono::steady_clock::now();
  bool closed = false;
  for (char ch : head) {  // one byte every 20 ms: each read is quick, the head never ends
    if (!c.Send(std::string(1, ch)) || c.ClosedWithin(milliseconds(20))) {
      closed = true;
      break;
    }
  }
  EXPECT_TRUE(closed);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, milliseconds(2500));
  EXPECT_EQ(c.Status(), 408) << c.received();
}

TEST_F(LimitsTest, AFloodOfConnectionsFromOneClientEvictsItsOldest) {
  HttpServerOptions o = Defaults();
  o.head_timeout = milliseconds(10000);
  o.max_waiting_per_client = 8;
  Start(o);
  std::vector<RawClient> idle;
  idle.reserve(20);
  for (int i = 0; i < 7; ++i) idle.push_back(Connect());
  // Idle once they have sent nothing for a while (a just-connected client is not).
  std::this_thread::sleep_for(milliseconds(300));
  for (int i = 7; i < 14; ++i) idle.push_back(Connect());  // each evicts an idle one
  EXPECT_TRUE(idle.front().ClosedWithin(milliseconds(1000)));
  EXPECT_FALSE(idle.back().ClosedWithin(milliseconds(100)));
  EXPECT_EQ(Get("/healthz"), 200);
}

// Over the cap, connections that sent nothing go before one that started its head: a stream
// of idle connections cannot push out a client in the middle of sending (or, with TLS, of
// its handshake).
TEST_F(LimitsTest, IdleConnectionsAreEvictedBeforeOneThatStartedItsHead) {
  HttpServerOptions o = Defaults();
  o.head_timeout = milliseconds(10000);
  o.max_waiting_per_client = 8;
  Start(o);
  RawClient started = Connect();
  ASSERT_TRUE(started.Send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
  std::this_thread::sleep_for(milliseconds(100));  // read by the acceptor
  std::vector<RawClient> idle;
  idle.reserve(20);
  for (int i = 0; i < 7; ++i) idle.push_back(Connect());
  // Idle once they have sent nothing for a while (a just-connected client is not).
  std::this_thread::sleep_for(milliseconds(300));
  for (int i = 7; i < 14; ++i) idle.push_back(Connect());  // each evicts an idle one
  EXPECT_TRUE(idle.front().ClosedWithin(milliseconds(1000)));
  EXPECT_FALSE(started.ClosedWithin(milliseconds(100)));
  ASSERT_TRUE(started.Send("\r\n"));
  started.ReadResponse(milliseconds(2000));
  EXPECT_EQ(started.Status(), 200);
}

// Slow heads hold no thread, watches have threads of their own: /healthz and the API answer
// at once while hundreds of connections send half a head and the watch cap is reached.
TEST_F(LimitsTest, SlowClientsAndWatchesStarveNothing) {
  Start();
  std::vector<RawClient> slow;
  for (int i = 0; i < 200; ++i) {
    slow.push_back(Connect());
    slow.back().Send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n");  // and no more
  }
  std::vector<RawClient> watches;
  for (int i = 0; i < Options().max_watches; ++i) {
    watches.push_back(Connect());
    watches.back().Send(
        absl::StrCat("GET ", kDcs, "?watch=true HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  }
  for (auto& w : watches) {  // every watch is open (its headers came)
    const auto deadline = std::chrono::steady_clock::now() + milliseconds(3000);
    while (w.received().find("\r\n\r\n") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline) {
      w.ReadResponse(milliseconds(50));
    }
    ASSERT_EQ(w.Status(), 200);
  }
  for (const char* path : {"/healthz", "/readyz", "/metrics"}) {
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_NE(Get(path, milliseconds(500)), 0) << path;
    EXPECT_LT(std::chrono::steady_clock::now() - t0, milliseconds(500)) << path;
  }
  EXPECT_EQ(Get(kDcs, milliseconds(500)), 200);
  EXPECT_EQ(Get(kDcs + "?watch=true", milliseconds(500)), 429);  // the cap, at once
}

TEST_F(LimitsTest, KeptAliveConnectionsServeOneRequestAfterAnother) {
  Start();
  RawClient c = Connect();
  for (int i = 0; i < 3; ++i) {
    c.Clear();
    c.Send(absl::StrCat("GET ", kDcs, " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
    c.ReadResponse(milliseconds(2000));
    EXPECT_EQ(c.Status(), 200) << i;
  }
  // Two requests in one write (pipelined): both answered, in order.
  c.Clear();
  c.Send("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\nGET /readyz HTTP/1.1\r\nHost: a\r\n\r\n");
  const std::string both = c.ReadFor(milliseconds(500));
  EXPECT_EQ(both.rfind("HTTP/1.1 200", 0), 0u) << both;
  EXPECT_NE(both.find("HTTP/1.1 200", 1), std::string::npos) << both;
}

}  // namespace
}  // namespace sy::server::testing
