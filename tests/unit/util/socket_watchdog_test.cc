#include "pkg/util/socket_watchdog.h"

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include "gtest/gtest.h"

namespace sy::util {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// A connected pair whose peer never writes: a read on `fds[0]` blocks like libpq waiting for
// the reply of a frozen server.
struct Pair {
  int fds[2] = {-1, -1};
  Pair() { EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0); }
  ~Pair() {
    ::close(fds[0]);
    ::close(fds[1]);
  }
};

TEST(SocketWatchdogTest, WakesABlockedReadAtTheDeadline) {
  SocketWatchdog watchdog;
  Pair p;
  bool fired = false;
  const auto start = steady_clock::now();
  ssize_t n = 1;
  {
    ScopedSocketDeadline deadline(watchdog, p.fds[0], milliseconds(100), &fired);
    char c;
    n = ::read(p.fds[0], &c, 1);  // blocks until the watchdog shuts the socket down
  }
  const auto took = steady_clock::now() - start;
  EXPECT_EQ(n, 0);
  EXPECT_TRUE(fired);
  EXPECT_GE(took, milliseconds(100));
  EXPECT_LT(took, milliseconds(5000));
}

TEST(SocketWatchdogTest, DisarmedInTimeLeavesTheSocketAlone) {
  SocketWatchdog watchdog;
  Pair p;
  bool fired = true;
  {
    ScopedSocketDeadline deadline(watchdog, p.fds[0], milliseconds(200), &fired);
    ASSERT_EQ(::write(p.fds[1], "x", 1), 1);
    char c;
    ASSERT_EQ(::read(p.fds[0], &c, 1), 1);
  }
  EXPECT_FALSE(fired);
  ::usleep(300'000);  // past the old deadline: the socket still works both ways
  ASSERT_EQ(::write(p.fds[0], "y", 1), 1);
  char c;
  EXPECT_EQ(::read(p.fds[1], &c, 1), 1);
}

TEST(SocketWatchdogTest, EarlierDeadlineArmedLaterStillFiresFirst) {
  SocketWatchdog watchdog;
  Pair slow, fast;
  const uint64_t a = watchdog.Arm(slow.fds[0], steady_clock::now() + milliseconds(60'000));
  const auto start = steady_clock::now();
  const uint64_t b = watchdog.Arm(fast.fds[0], steady_clock::now() + milliseconds(50));
  char c;
  EXPECT_EQ(::read(fast.fds[0], &c, 1), 0);
  EXPECT_LT(steady_clock::now() - start, milliseconds(5000));
  EXPECT_TRUE(watchdog.Disarm(b));
  EXPECT_FALSE(watchdog.Disarm(a));
  EXPECT_FALSE(watchdog.Disarm(a));  // unknown ids are not "fired"
}

}  // namespace
}  // namespace sy::util
