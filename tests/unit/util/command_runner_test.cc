#include "pkg/util/command_runner.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pkg/host/process.h"
#include "pkg/util/files.h"
#include "tests/fakes/temp_dir.h"

namespace sy::util {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

Command Cmd(std::vector<std::string> argv,
            std::chrono::milliseconds timeout = std::chrono::milliseconds(10000)) {
  Command c;
  c.argv = std::move(argv);
  c.timeout = timeout;
  return c;
}

// Polls `done` every 5 ms for up to 10 s; true when it held.
template <typename F>
bool Eventually(F done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {  // poll
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

// A fresh directory, removed with everything in it when this goes out of scope.
struct TempDir : fakes::TempDir {
  TempDir() : fakes::TempDir("sy-cmd") { EXPECT_FALSE(path.empty()); }
};

TEST(ExecCommandRunnerTest, TrueSucceedsWithNoOutput) {
  ExecCommandRunner runner;
  auto r = runner.Run(Cmd({"/bin/true"}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_EQ(r->output, "");
}

TEST(ExecCommandRunnerTest, ExitCodeIsReportedNotAnError) {
  ExecCommandRunner runner;
  auto r = runner.Run(Cmd({"/bin/sh", "-c", "exit 3"}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 3);
}

TEST(ExecCommandRunnerTest, KilledBySignalIsMinusOne) {
  ExecCommandRunner runner;
  auto r = runner.Run(Cmd({"/bin/sh", "-c", "kill -9 $$"}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, -1);
}

TEST(ExecCommandRunnerTest, CapturesStdoutAndStderr) {
  ExecCommandRunner runner;
  auto r = runner.Run(Cmd({"/bin/echo", "hello", "it's me"}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->output, "hello it's me\n");
  r = runner.Run(Cmd({"/bin/sh", "-c", "echo out; echo err >&2"}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->output, "out\nerr\n");
}

TEST(ExecCommandRunnerTest, LooksUpBareNamesInPath) {
  ExecCommandRunner runner;
  auto r = runner.Run(Cmd({"echo", "from", "path"}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->output, "from path\n");
}

TEST(ExecCommandRunnerTest, StdinIsEmpty) {
  ExecCommandRunner runner;
  auto r = runner.Run(Cmd({"/bin/cat"}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_EQ(r->output, "");
}

TEST(ExecCommandRunnerTest, TimeoutKillsAndReportsDeadlineExceeded) {
  ExecCommandRunner runner;
  auto r = runner.Run(Cmd({"/bin/sleep", "30"}, std::chrono::milliseconds(200)));
  ASSERT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("'/bin/sleep' '30'"));
  EXPECT_THAT(r.status().message(), HasSubstr("200 ms"));
}

TEST(ExecCommandRunnerTest, TimeoutKillsTheWholeProcessGroup) {
  ExecCommandRunner runner;
  auto r = runner.Run(
      Cmd({"/bin/sh", "-c", "sleep 30 & echo bg=$!; wait"}, std::chrono::milliseconds(300)));
  ASSERT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded) << r.status();
  const std::string msg(r.status().message());
  const size_t at = msg.rfind("bg=");  // in the output, not the command line
  ASSERT_NE(at, std::string::npos) << msg;
  int bg = 0;
  ASSERT_TRUE(absl::SimpleAtoi(absl::StripAsciiWhitespace(msg.substr(at + 3)), &bg)) << msg;
  EXPECT_TRUE(Eventually([&] { return !host::ProcessAlive(bg); }));
}

TEST(ExecCommandRunnerTest, ReturnsWhenTheCommandExitsEvenIfItsChildKeepsTheOutput) {
  ExecCommandRunner runner;
  auto r = runner.Run(Cmd({"/bin/sh", "-c", "sleep 30 & echo $!"}));
  ASSERT_TRUE(r.ok()) << r.status();
  int bg = 0;
  ASSERT_TRUE(absl::SimpleAtoi(absl::StripAsciiWhitespace(r->output), &bg)) << r->output;
  ::kill(bg, SIGKILL);
}

TEST(ExecCommandRunnerTest, MissingProgramIsNotFound) {
  ExecCommandRunner runner;
  auto r = runner.Run(Cmd({"/nonexistent/program"}));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound) << r.status();
  r = runner.Run(Cmd({"switchyard-no-such-program"}));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("switchyard-no-such-program"));
}

TEST(ExecCommandRunnerTest, EmptyArgvIsInvalid) {
  ExecCommandRunner runner;
  EXPECT_EQ(runner.Run(Cmd({})).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ExecCommandRunnerTest, RunsInTheWorkingDirectory) {
  ExecCommandRunner runner;
  const TempDir tmp;
  const std::string dir = tmp.path;
  Command c = Cmd({"/bin/pwd"});
  c.working_directory = dir;
  auto r = runner.Run(c);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->output, dir + "\n");
  c.working_directory = dir + "/missing";
  EXPECT_EQ(runner.Run(c).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(ExecCommandRunnerTest, TruncatesOutputAt64KiB) {
  ExecCommandRunner runner;
  auto r = runner.Run(Cmd({"/bin/sh", "-c", "head -c 200000 /dev/zero | tr '\\0' x"}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_EQ(r->output.size(), kMaxCommandOutput);
  EXPECT_EQ(r->output.find_first_not_of('x'), std::string::npos);
}

TEST(ExecCommandRunnerTest, DoesNotLeakDescriptors) {
  const int leaky = ::open("/dev/null", O_RDONLY);  // deliberately without O_CLOEXEC
  ASSERT_GE(leaky, 0);
  ASSERT_EQ(::dup2(leaky, 77), 77);
  ExecCommandRunner runner;
  auto r = runner.Run(Cmd({"/bin/ls", "/proc/self/fd"}));
  ::close(77);
  ::close(leaky);
  ASSERT_TRUE(r.ok()) << r.status();
  const std::vector<std::string> fds = absl::StrSplit(r->output, '\n', absl::SkipEmpty());
  // 0-2 and the directory ls reads; nothing of ours.
  EXPECT_LE(fds.size(), 4u) << r->output;
  EXPECT_THAT(fds, Not(::testing::Contains("77")));
}

TEST(ExecCommandRunnerTest, InheritedDescriptorsStayOpenInTheProgram) {
  const TempDir tmp;
  const std::string held = tmp.path + "/held";
  const int fd = ::open(held.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 3);
  ExecCommandRunner runner;
  Command c = Cmd({"/usr/bin/readlink", "/proc/self/fd/" + std::to_string(fd)});
  auto r = runner.Run(c);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_NE(r->exit_code, 0) << "not inherited unless asked: " << r->output;
  c.inherit_fds = {fd};
  r = runner.Run(c);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->output, held + "\n");
  // Ours is still close-on-exec: only that program keeps it.
  EXPECT_EQ(::fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  ::close(fd);
  EXPECT_EQ(runner.Run(c).status().code(), absl::StatusCode::kInvalidArgument);  // closed now
  c.inherit_fds = {1};
  EXPECT_EQ(runner.Run(c).status().code(), absl::StatusCode::kInvalidArgument);
}

// Runs `/bin/sleep 30` through Run() in a forked helper process with `die_with_parent`, kills
// the helper with SIGKILL (as a daemon is killed) and returns the pid of the sleep.
int SleepOfAKilledParent(bool die_with_parent) {
  const pid_t helper = ::fork();
  if (helper == 0) {
    ExecCommandRunner runner;
    Command c = Cmd({"/bin/sleep", "30"}, std::chrono::milliseconds(60000));
    c.die_with_parent = die_with_parent;
    (void)runner.Run(c);
    ::_exit(0);
  }
  int sleeper = 0;
  EXPECT_TRUE(Eventually([&] {
    for (int pid : host::ChildPids(helper)) {
      if (host::ProcessCommandLine(pid).value_or("").starts_with("/bin/sleep")) {
        sleeper = pid;
      }
    }
    return sleeper != 0;
  }));
  ::kill(helper, SIGKILL);
  ::waitpid(helper, nullptr, 0);
  return sleeper;
}

TEST(ExecCommandRunnerTest, DieWithParentKillsTheProgramWhenTheCallerDies) {
  const int sleeper = SleepOfAKilledParent(/*die_with_parent=*/true);
  ASSERT_GT(sleeper, 0);
  EXPECT_TRUE(Eventually([&] { return !host::ProcessAlive(sleeper); }));
  ::kill(sleeper, SIGKILL);  // if the test failed
}

TEST(ExecCommandRunnerTest, WithoutDieWithParentTheProgramOutlivesTheCaller) {
  const int sleeper = SleepOfAKilledParent(/*die_with_parent=*/false);
  ASSERT_GT(sleeper, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_TRUE(host::ProcessAlive(sleeper));
  ::kill(sleeper, SIGKILL);
}

TEST(ExecCommandRunnerTest, RunsAsAnotherUserWhenRoot) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  ExecCommandRunner runner;
  Command c = Cmd({"/bin/sh", "-c", "id -u; id -g; echo $HOME $USER"});
  c.run_as = "nobody";
  auto r = runner.Run(c);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->output, "65534\n65534\n/nonexistent nobody\n");
}

TEST(ExecCommandRunnerTest, UnknownUserIsInvalid) {
  ExecCommandRunner runner;
  Command c = Cmd({"/bin/true"});
  c.run_as = "switchyard-no-such-user";
  auto r = runner.Run(c);
  EXPECT_EQ(r.status().code(), ::geteuid() == 0 ? absl::StatusCode::kInvalidArgument
                                                : absl::StatusCode::kPermissionDenied);
}

TEST(ExecCommandRunnerTest, IsThreadSafe) {
  ExecCommandRunner runner;
  std::vector<std::thread> threads;
  std::vector<std::string> outputs(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      for (int j = 0; j < 10; ++j) {
        auto r = runner.Run(Cmd({"/bin/echo", std::to_string(i)}));
        outputs[i] += r.ok() ? r->output : std::string(r.status().message());
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < 8; ++i) {
    std::string want;
    for (int j = 0; j < 10; ++j) want += std::to_string(i) + "\n";
    EXPECT_EQ(outputs[i], want);
  }
}

TEST(ExecCommandRunnerSpawnTest, StartsADetachedProcessThatLogs) {
  ExecCommandRunner runner;
  const TempDir tmp;
  const std::string log = tmp.path + "/daemon.log";
  auto pid = runner.Spawn(Cmd({"/bin/sh", "-c", "echo started; exec sleep 30"}), log);
  ASSERT_TRUE(pid.ok()) << pid.status();
  EXPECT_TRUE(host::ProcessAlive(*pid));
  // Not our child: nothing to reap here, ever.
  EXPECT_EQ(::waitpid(*pid, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
  EXPECT_EQ(::getpgid(*pid), *pid);
  EXPECT_NE(::getsid(*pid), ::getsid(0));
  EXPECT_TRUE(Eventually([&] {
    auto content = util::ReadFile(log);
    return content.ok() && *content == "started\n";
  }));
  ASSERT_EQ(::kill(*pid, SIGKILL), 0);
  EXPECT_TRUE(Eventually([&] { return !host::ProcessAlive(*pid); }));
}

TEST(ExecCommandRunnerSpawnTest, AppendsToAnExistingLog) {
  ExecCommandRunner runner;
  const TempDir tmp;
  const std::string log = tmp.path + "/daemon.log";
  ASSERT_TRUE(util::WriteFileAtomically(log, "before\n").ok());
  auto pid = runner.Spawn(Cmd({"/bin/echo", "after"}), log);
  ASSERT_TRUE(pid.ok()) << pid.status();
  EXPECT_TRUE(Eventually([&] { return *util::ReadFile(log) == "before\nafter\n"; }));
}

TEST(ExecCommandRunnerSpawnTest, ReportsAMissingProgram) {
  ExecCommandRunner runner;
  const TempDir tmp;
  const std::string log = tmp.path + "/daemon.log";
  EXPECT_EQ(runner.Spawn(Cmd({"/nonexistent/daemon"}), log).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(runner.Spawn(Cmd({"/bin/true"}), "relative.log").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ExecCommandRunnerSpawnTest, RefusesDieWithParent) {
  ExecCommandRunner runner;
  const TempDir tmp;
  Command c = Cmd({"/bin/true"});
  c.die_with_parent = true;
  EXPECT_EQ(runner.Spawn(c, tmp.path + "/daemon.log").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ExecCommandRunnerSpawnTest, RunsAsAnotherUserAndGivesItTheLog) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  ExecCommandRunner runner;
  const TempDir tmp;
  const std::string log = tmp.path + "/daemon.log";
  Command c = Cmd({"/usr/bin/id", "-u"});
  c.run_as = "nobody";
  auto pid = runner.Spawn(c, log);
  ASSERT_TRUE(pid.ok()) << pid.status();
  EXPECT_TRUE(Eventually([&] { return *util::ReadFile(log) == "65534\n"; }));
  struct stat st;
  ASSERT_EQ(::stat(log.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 65534u);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
}

}  // namespace
}  // namespace sy::util
