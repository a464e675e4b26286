// Tests of RaiseOpenFileLimit() in a forked child (the limit is the process's).
#include "pkg/util/process_limits.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace sy::util {
namespace {

TEST(ProcessLimitsTest, TheSoftOpenFileLimitRisesToTheHardOne) {
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    rlimit lim{};
    ::getrlimit(RLIMIT_NOFILE, &lim);
    if (lim.rlim_max <= 64) ::_exit(3);  // nothing to raise on this machine
    lim.rlim_cur = 64;
    if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) ::_exit(4);
    auto raised = RaiseOpenFileLimit();
    rlimit now{};
    ::getrlimit(RLIMIT_NOFILE, &now);
    ::_exit(raised.ok() && *raised == now.rlim_cur && now.rlim_cur == lim.rlim_max ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 3) GTEST_SKIP() << "hard limit too low to test";
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace sy::util
