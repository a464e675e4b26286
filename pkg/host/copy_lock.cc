#include "pkg/host/copy_lock.h"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "pkg/host/process.h"
#include "pkg/util/log.h"
#include "pkg/util/status_macros.h"

namespace sy::host {
namespace {

using std::chrono::milliseconds;

// A holder that is a live copy waits this long for a fork that holds the lock between its
// fork and exec to pass, then the caller backs off.
constexpr milliseconds kLiveGrace{200};
constexpr milliseconds kPoll{10};

// The copy locks this process holds: another thread's copy is live even though our own
// descriptor (open to probe the lock) makes us a holder of the file too.
std::mutex& HeldMu() {
  static std::mutex mu;
  return mu;
}
std::set<std::string>& Held() {
  static std::set<std::string> held;
  return held;
}

// A holder of the lock file that belongs to a live copy, never to be killed: a child of ours
// (a copy tool we run, or a fork of ours not yet exec'ed), the daemon the file names, or any
// process running our own program (another daemon, or its fork before exec).
bool LiveHolder(int pid, int owner, const std::optional<std::string>& our_program) {
  if (pid == owner || host::ParentPid(pid) == ::getpid()) return true;
  const std::optional<std::string> program = host::ProcessExecutable(pid);
  return our_program && program == our_program;
}

// SIGKILLs `pid` if it still has `path` open; through a pidfd, so a pid reused since the scan
// is never signalled.
bool KillHolder(int pid, const std::string& path) {
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) return ::kill(pid, 0) == 0 && ::kill(pid, SIGKILL) == 0;  // no pidfds here
  const bool killed = host::HasFileOpen(pid, path) &&
                      ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0) == 0;
  ::close(pidfd);
  return killed;
}

std::string Pids(const std::vector<int>& pids) { return absl::StrJoin(pids, " "); }

}  // namespace

std::string CopyLock::PathFor(const std::string& data_directory) {
  return util::LockFile::Beside(data_directory, ".switchyard-copy-lock");
}

absl::StatusOr<CopyLock> CopyLock::Acquire(const std::string& data_directory,
                                           const util::Clock& clock, milliseconds wait) {
  const std::string path = PathFor(data_directory);
  SY_ASSIGN_OR_RETURN(util::LockFile file, util::LockFile::Open(path));
  const std::optional<std::string> our_program = host::ProcessExecutable(::getpid());
  const auto start = clock.MonotonicNow();
  std::vector<int> killed;
  while (true) {
    {
      std::lock_guard<std::mutex> l(HeldMu());
      if (!Held().count(path) && file.TryLock()) {
        Held().insert(path);
        file.SetHolder(std::to_string(::getpid()));
        break;
      }
    }
    const auto waited = clock.MonotonicNow() - start;
    int owner = 0;
    if (!absl::SimpleAtoi(file.Holder(), &owner)) owner = 0;
    std::vector<int> holders = host::ProcessesWithFileOpen(path);
    std::erase(holders, ::getpid());  // our probe descriptor
    std::vector<int> live;
    {
      std::lock_guard<std::mutex> l(HeldMu());
      if (Held().count(path)) live.push_back(::getpid());
    }
    for (int pid : holders) {
      if (LiveHolder(pid, owner, our_program)) live.push_back(pid);
    }
    // Safety rule: a live copy is never killed and never joined by a second copy.
    if (!live.empty()) {
      if (waited >= std::min(kLiveGrace, wait)) {
        return absl::UnavailableError(absl::StrCat("another copy into ", data_directory,
                                                   " is running (pids ", Pids(live), " hold ", path,
                                                   "); trying again later"));
      }
      clock.SleepFor(kPoll);
      continue;
    }
    // Safety rule: what is left holds the lock of a daemon that died mid-copy and would keep
    // writing into the directory under a new copy. They go first.
    for (int pid : holders) {
      if (std::find(killed.begin(), killed.end(), pid) == killed.end() && KillHolder(pid, path)) {
        killed.push_back(pid);
      }
    }
    if (waited >= wait) {
      return absl::UnavailableError(absl::StrCat(
          "leftover copy processes (pids ", Pids(holders), ") still hold ", path, " ",
          std::chrono::duration_cast<milliseconds>(waited).count(), " ms after SIGKILL"));
    }
    clock.SleepFor(kPoll);
  }
  if (!killed.empty()) {
    std::sort(killed.begin(), killed.end());
    log::Warn("copy-lock", {{"lock", path},
                            {"killed", Pids(killed)},
                            {"reason", "leftover processes of a copy whose daemon died"}});
  }
  return CopyLock(std::move(file), std::move(killed));
}

CopyLock::CopyLock(CopyLock&& other) noexcept = default;

CopyLock& CopyLock::operator=(CopyLock&& other) noexcept {
  if (this != &other) {
    Release();
    file_ = std::move(other.file_);
    killed_ = std::move(other.killed_);
  }
  return *this;
}

CopyLock::~CopyLock() { Release(); }

void CopyLock::Release() {
  if (file_.Descriptor() < 0) return;  // moved from
  const std::string path = file_.Path();
  { util::LockFile closing = std::move(file_); }  // closed before another thread may take it
  std::lock_guard<std::mutex> l(HeldMu());
  Held().erase(path);
}

}  // namespace sy::host
