// CopyLock on real files and processes: a second copy never runs while one does, and the
// leftovers of a copy whose daemon died are killed before the next copy starts.
#include "pkg/host/copy_lock.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pkg/host/process.h"
#include "pkg/util/clock.h"
#include "pkg/util/command_runner.h"
#include "pkg/util/files.h"
#include "tests/fakes/temp_dir.h"

namespace sy::host {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const util::Clock& Clock() { return util::RealClock::Get(); }

template <typename F>
bool Eventually(F done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {  // poll
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return done();
}

class CopyLockTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(tmp_.path.empty()); }
  void TearDown() override {
    for (int pid : started_) ::kill(pid, SIGKILL);
  }

  // Starts `sleep 60` detached (re-parented to init, as the copy tools of a killed daemon
  // are) with `fd` inherited, as a copy tool holds the lock. Returns its pid.
  int StartHolder(int fd) {
    util::ExecCommandRunner runner;
    util::Command c;
    c.argv = {"/bin/sleep", "60"};
    c.inherit_fds = {fd};
    absl::StatusOr<int> pid = runner.Spawn(c, tmp_.path + "/holder.log");
    EXPECT_TRUE(pid.ok()) << pid.status();
    if (!pid.ok()) return 0;
    started_.push_back(*pid);
    // Holding it once it has exec'ed (Spawn returns then).
    EXPECT_TRUE(Eventually([&] { return host::HasFileOpen(*pid, Lock()); }));
    return *pid;
  }

  std::string Dir() const { return tmp_.path + "/green"; }
  std::string Lock() const { return CopyLock::PathFor(Dir()); }

  fakes::TempDir tmp_{"sy-copy-lock"};
  std::vector<int> started_;
};

TEST_F(CopyLockTest, TakesALockFileBesideTheDirectoryNamingUs) {
  absl::StatusOr<CopyLock> lock = CopyLock::Acquire(Dir(), Clock());
  ASSERT_TRUE(lock.ok()) << lock.status();
  EXPECT_EQ(Lock(), Dir() + ".switchyard-copy-lock");
  struct stat st {};
  ASSERT_EQ(::stat(Lock().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_uid, ::geteuid());
  EXPECT_EQ(*util::ReadFile(Lock()), std::to_string(::getpid()) + "\n");
  EXPECT_TRUE(lock->Killed().empty());
}

TEST_F(CopyLockTest, ASecondCopyWhileOneRunsIsRefused) {
  absl::StatusOr<CopyLock> first = CopyLock::Acquire(Dir(), Clock());
  ASSERT_TRUE(first.ok()) << first.status();
  const int tool = StartHolder(first->Descriptor());  // the running copy's tool
  absl::StatusOr<CopyLock> second = CopyLock::Acquire(Dir(), Clock(), milliseconds(300));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable) << second.status();
  EXPECT_THAT(second.status().message(), HasSubstr("another copy into " + Dir()));
  EXPECT_TRUE(host::ProcessAlive(tool)) << "a live copy's tool is never killed";
  // Once that copy is over (tool and lock gone), the next one runs.
  ::kill(tool, SIGKILL);
  first = absl::CancelledError("copy done");  // releases the lock
  ASSERT_TRUE(Eventually([&] { return !host::ProcessAlive(tool); }));
  EXPECT_TRUE(CopyLock::Acquire(Dir(), Clock()).ok());
}

TEST_F(CopyLockTest, TheLeftoversOfACopyWhoseDaemonDiedAreKilled) {
  int leftover = 0;
  {
    absl::StatusOr<CopyLock> dead = CopyLock::Acquire(Dir(), Clock());
    ASSERT_TRUE(dead.ok()) << dead.status();
    leftover = StartHolder(dead->Descriptor());
  }  // our descriptor is closed, as a SIGKILLed daemon's is; its tool still holds the lock
  ASSERT_TRUE(host::ProcessAlive(leftover));
  absl::StatusOr<CopyLock> next = CopyLock::Acquire(Dir(), Clock());
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_THAT(next->Killed(), ElementsAre(leftover));
  EXPECT_TRUE(Eventually([&] { return !host::ProcessAlive(leftover); }));
  EXPECT_EQ(*util::ReadFile(Lock()), std::to_string(::getpid()) + "\n");
}

TEST_F(CopyLockTest, ALockHeldByAnotherLiveDaemonIsRefusedNotKilled) {
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t daemon = ::fork();
  if (daemon == 0) {  // another daemon, holding the lock for its copy
    absl::StatusOr<CopyLock> lock = CopyLock::Acquire(Dir(), Clock());
    const char ok = lock.ok() ? 'y' : 'n';
    (void)!::write(ready[1], &ok, 1);
    ::pause();
    ::_exit(0);
  }
  started_.push_back(daemon);
  char ok = 0;
  ASSERT_EQ(::read(ready[0], &ok, 1), 1);
  ASSERT_EQ(ok, 'y');
  absl::StatusOr<CopyLock> mine = CopyLock::Acquire(Dir(), Clock(), milliseconds(300));
  EXPECT_EQ(mine.status().code(), absl::StatusCode::kUnavailable) << mine.status();
  EXPECT_THAT(mine.status().message(), HasSubstr(std::to_string(daemon)));
  EXPECT_TRUE(host::ProcessAlive(daemon));
  ::kill(daemon, SIGKILL);
  ::waitpid(daemon, nullptr, 0);
  EXPECT_TRUE(CopyLock::Acquire(Dir(), Clock()).ok());
  ::close(ready[0]);
  ::close(ready[1]);
}

TEST_F(CopyLockTest, APlantedLockFileIsRefused) {
  ASSERT_EQ(::symlink("/etc/passwd", Lock().c_str()), 0);
  EXPECT_EQ(CopyLock::Acquire(Dir(), Clock()).status().code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_EQ(::unlink(Lock().c_str()), 0);
  ASSERT_TRUE(util::WriteFileAtomically(Lock(), "", 0666).ok());
  ASSERT_EQ(::chmod(Lock().c_str(), 0666), 0);
  absl::StatusOr<CopyLock> lock = CopyLock::Acquire(Dir(), Clock());
  EXPECT_EQ(lock.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(lock.status().message(), HasSubstr(Lock()));
}

}  // namespace
}  // namespace sy::host
