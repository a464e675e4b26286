// The HTTP side of observing: HttpGet, HttpUpstreamProber and the served-color probe,
// against in-process servers.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pkg/observe/http_get.h"
#include "pkg/observe/http_upstream_prober.h"
#include "pkg/observe/nginx_observer.h"
#include "tests/integration/nginx/test_servers.h"

namespace sy::observe {
namespace {

using ::sy::testing::ColorServer;
using ::sy::testing::FreePort;
using ::testing::HasSubstr;

constexpr auto kTimeout = std::chrono::milliseconds(2000);

api::ProbeSpec Probe(int port) {
  api::ProbeSpec p;
  p.url = "http://127.0.0.1:" + std::to_string(port) + "/health?x=1";
  p.timeout_seconds = 2;
  return p;
}

TEST(HttpGetTest, ReturnsStatusAndHeadersCaseInsensitively) {
  ColorServer green("green", 503);
  auto reply = HttpGet("http://" + green.address() + "/anything", kTimeout);
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->status, 503);
  EXPECT_EQ(reply->Header("x-switchyard-color"), "green");
  EXPECT_EQ(reply->Header("X-Missing"), std::nullopt);
}

TEST(HttpGetTest, MalformedUrlIsInvalid) {
  EXPECT_EQ(HttpGet("127.0.0.1:80/", kTimeout).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(HttpGet("ftp://127.0.0.1/", kTimeout).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(HttpGet("http:///x", kTimeout).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(HttpGetTest, NoListenerIsUnavailableNamingTheAddress) {
  const int port = FreePort();
  auto reply = HttpGet("http://127.0.0.1:" + std::to_string(port), kTimeout);
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(reply.status().message(),
              HasSubstr("cannot connect to 127.0.0.1:" + std::to_string(port)));
}

TEST(HttpGetTest, SilentServerTimesOut) {
  // Listening (so connect succeeds through the backlog) but never accepting or answering.
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 8), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string address = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  auto reply = HttpGet("http://" + address + "/", std::chrono::milliseconds(200));
  ::close(fd);
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(reply.status().message(), HasSubstr(address));
  EXPECT_THAT(reply.status().message(), HasSubstr("200 ms"));
}

TEST(HttpUpstreamProberTest, HealthyOn2xxOnly) {
  ColorServer ok("blue");
  ColorServer failing("blue", 503);
  HttpUpstreamProber prober;
  model::UpstreamState s = prober.Probe(ok.address(), kTimeout);
  EXPECT_TRUE(s.healthy) << s.error;
  EXPECT_EQ(s.address, ok.address());
  s = prober.Probe(failing.address(), kTimeout);
  EXPECT_FALSE(s.healthy);
  EXPECT_EQ(s.error, "HTTP 503 from http://" + failing.address() + "/");
  s = prober.Probe("127.0.0.1:" + std::to_string(FreePort()), kTimeout);
  EXPECT_FALSE(s.healthy);
  EXPECT_THAT(s.error, HasSubstr("cannot connect"));
}

TEST(ProbeServedColorTest, ReadsTheColorHeader) {
  ColorServer blue("blue");
  ColorServer green(" green ");
  EXPECT_EQ(*ProbeServedColor(Probe(blue.port())), api::Color::kBlue);
  EXPECT_EQ(*ProbeServedColor(Probe(green.port())), api::Color::kGreen);
}

TEST(ProbeServedColorTest, SaysWhyThereIsNoColor) {
  ColorServer bad_gateway("", 502);
  ColorServer no_header("");
  ColorServer purple("purple");
  auto why = [](const api::ProbeSpec& p) {
    auto r = ProbeServedColor(p);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
    return std::string(r.status().message());
  };
  EXPECT_EQ(why(Probe(bad_gateway.port())), "HTTP 502 from " + Probe(bad_gateway.port()).url);
  EXPECT_EQ(why(Probe(no_header.port())),
            "header X-Switchyard-Color missing in the reply from " + Probe(no_header.port()).url);
  EXPECT_EQ(why(Probe(purple.port())),
            "header X-Switchyard-Color is \"purple\", not blue or green");
  EXPECT_THAT(why(Probe(FreePort())), HasSubstr("cannot connect to 127.0.0.1:"));
}

}  // namespace
}  // namespace sy::observe
