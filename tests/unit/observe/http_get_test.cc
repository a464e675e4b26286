// HttpGet against a one-shot HTTP server on 127.0.0.1 that records the request it got.
#include "pkg/observe/http_get.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "absl/strings/ascii.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sy::observe {
namespace {

using ::testing::HasSubstr;

// Listens on a free loopback port, accepts one connection, keeps the request head and
// answers `reply`.
class OneShotServer {
 public:
  explicit OneShotServer(std::string reply) : reply_(std::move(reply)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 1) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "cannot listen on 127.0.0.1";
      return;
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~OneShotServer() {
    ::shutdown(fd_, SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }
  // The request head, lower-cased; valid once HttpGet returned.
  std::string request() {
    if (thread_.joinable()) thread_.join();
    return absl::AsciiStrToLower(request_);
  }

 private:
  void Serve() {
    const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) return;
    char buf[4096];
    while (request_.find("\r\n\r\n") == std::string::npos) {
      const ssize_t n = ::read(c, buf, sizeof buf);
      if (n <= 0) break;
      request_.append(buf, static_cast<size_t>(n));
    }
    (void)!::write(c, reply_.data(), reply_.size());
    ::close(c);
  }

  std::string reply_;
  std::string request_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

TEST(HttpGetTest, AsksPastEveryCacheOnAFreshConnection) {
  OneShotServer server(
      "HTTP/1.1 200 OK\r\nX-Switchyard-Color: green\r\nContent-Length: 0\r\n"
      "Connection: close\r\n\r\n");
  absl::StatusOr<HttpReply> reply = HttpGet(server.url(), std::chrono::milliseconds(2000));
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->Header("x-switchyard-color"), "green");
  const std::string request = server.request();
  EXPECT_THAT(request, HasSubstr("get / http/1.1\r\n"));
  EXPECT_THAT(request, HasSubstr("\r\ncache-control: no-cache\r\n"));
  EXPECT_THAT(request, HasSubstr("\r\npragma: no-cache\r\n"));
  EXPECT_THAT(request, HasSubstr("\r\nconnection: close\r\n"));
}

}  // namespace
}  // namespace sy::observe
