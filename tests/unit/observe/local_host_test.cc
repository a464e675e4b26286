#include "pkg/observe/local_host.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sy::observe {
namespace {

using ::testing::HasSubstr;

// An IPv4 address of one of this machine's interfaces other than loopback ("" when none).
std::string NonLoopbackAddress() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return "";
  std::string out;
  for (const ifaddrs* i = list; i != nullptr && out.empty(); i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
    const in_addr a = reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr;
    if ((ntohl(a.s_addr) >> 24) == 127) continue;
    char text[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &a, text, sizeof text);
    out = text;
  }
  ::freeifaddrs(list);
  return out;
}

TEST(CheckLocalHostTest, ThisMachineByAnyName) {
  for (const char* host :
       {"localhost", "LocalHost", "127.0.0.1", "127.1.2.3", "::1", "[::1]", "::ffff:127.0.0.1"}) {
    EXPECT_TRUE(CheckLocalHost(host).ok()) << host << ": " << CheckLocalHost(host);
  }
  char name[256] = {};
  ASSERT_EQ(::gethostname(name, sizeof name - 1), 0);
  EXPECT_TRUE(CheckLocalHost(name).ok()) << name << ": " << CheckLocalHost(name);
  const std::string own = NonLoopbackAddress();
  if (!own.empty()) {
    EXPECT_TRUE(CheckLocalHost(own).ok()) << own << ": " << CheckLocalHost(own);
  }
}

TEST(CheckLocalHostTest, AnotherMachineIsInvalidSayingWhy) {
  for (const char* host : {"192.0.2.10", "2001:db8::1", "[2001:db8::1]"}) {
    const absl::Status s = CheckLocalHost(host);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << host << ": " << s;
    EXPECT_THAT(s.message(), HasSubstr(std::string(host) + " is not this machine"));
    EXPECT_THAT(s.message(), HasSubstr("PostgreSQL on another machine needs an agent there"));
  }
  // A name that resolves to nothing is not this machine either (or, without a resolver,
  // unknown for now): never OK.
  EXPECT_FALSE(CheckLocalHost("switchyard-no-such-host.invalid").ok());
}

}  // namespace
}  // namespace sy::observe
