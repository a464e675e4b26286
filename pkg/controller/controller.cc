#include "pkg/controller/controller.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <set>

#include "absl/strings/str_cat.h"
#include "pkg/util/files.h"
#include "pkg/util/log.h"

namespace sy::controller {
namespace {

// "<phase>: <Ready message>" of `key` as last stored, for the --once report.
std::string LastSeen(const source::Store& store, const std::string& key) {
  auto dc = store.Get(key);
  if (!dc) return "Removed";
  const api::Condition* c = api::FindCondition(dc->status, api::kConditionReady);
  if (c == nullptr || c->message.empty()) return dc->status.phase;
  return absl::StrCat(dc->status.phase, ": ", c->message);
}

}  // namespace

Controller::Controller(source::Store& store, Reconciler& reconciler, WorkQueue& queue,
                       std::chrono::nanoseconds resync, const util::Clock& clock)
    : store_(store), reconciler_(reconciler), queue_(queue), resync_(resync), clock_(clock) {
  store_.OnChange([this](const std::string& key) { queue_.Add(key); });
}

void Controller::Start(int workers) {
  for (const auto& dc : store_.List()) queue_.Add(dc.Key());
  for (int i = 0; i < workers; ++i) workers_.emplace_back([this] { Worker(); });
  started_ = true;
}

void Controller::Stop() {
  queue_.Shutdown();
  for (auto& t : workers_) t.join();
  workers_.clear();
  started_ = false;
}

void Controller::Schedule(const std::string& key, const PassResult& r) {
  switch (r.next) {
    case PassResult::Next::kForget:
      queue_.Forget(key);
      break;
    case PassResult::Next::kNow:
      queue_.Forget(key);
      queue_.Add(key);
      break;
    case PassResult::Next::kAfter:
      if (r.error.ok()) queue_.Forget(key);
      queue_.AddAfter(key, r.after);
      break;
    case PassResult::Next::kBackoff: {
      // Blocked states retry with backoff, but never slower than the resync period.
      const auto delay = queue_.AddRateLimited(key);
      if (delay > resync_) queue_.AddAfter(key, resync_);
      break;
    }
  }
}

void Controller::Worker() {
  while (auto key = queue_.Get()) {
    PassResult r = reconciler_.Reconcile(*key);
    Schedule(*key, r);
    queue_.Done(*key);
  }
}

bool Controller::RunOnce(std::chrono::nanoseconds timeout, std::string* report) {
  const auto deadline = clock_.MonotonicNow() + timeout;
  std::set<std::string> open;
  for (const auto& dc : store_.List()) {
    open.insert(dc.Key());
    queue_.Add(dc.Key());
  }
  bool ok = true;
  std::mutex mu;
  std::condition_variable cv;
  bool finished = false;
  std::thread watchdog([&] {
    std::unique_lock<std::mutex> l(mu);
    // The clock says when the deadline is; the wait for it is the condition variable's.
    while (!finished) {
      const auto left = deadline - clock_.MonotonicNow();
      if (left <= std::chrono::nanoseconds::zero()) {
        queue_.Shutdown();
        return;
      }
      cv.wait_for(l, left);
    }
  });
  while (!open.empty()) {
    auto key = queue_.Get();
    if (!key) {
      ok = false;
      // Say where each one is stuck: "not converged" alone leaves the operator to dig.
      for (const auto& k : open) {
        absl::StrAppend(report, k, ": not converged before the deadline (", LastSeen(store_, k),
                        ")\n");
      }
      break;
    }
    PassResult r = reconciler_.Reconcile(*key);
    const bool settled = r.next != PassResult::Next::kNow && r.error.ok() &&
                         (r.phase == api::Phase::kConverged || r.phase == api::Phase::kPaused);
    const bool failed =
        r.phase == api::Phase::kFailed || r.phase == api::Phase::kInvalid || r.terminal;
    if (settled || failed || r.next == PassResult::Next::kForget) {
      absl::StrAppend(report, *key, ": ", LastSeen(store_, *key), "\n");
      if (failed) ok = false;
      open.erase(*key);
    } else {
      Schedule(*key, r);
    }
    queue_.Done(*key);
  }
  {
    std::lock_guard<std::mutex> l(mu);
    finished = true;
  }
  cv.notify_all();
  watchdog.join();
  queue_.Shutdown();
  return ok;
}

absl::StatusOr<std::unique_ptr<StateLock>> StateLock::Acquire(const std::string& state_dir,
                                                              const util::Clock& clock,
                                                              std::chrono::milliseconds wait) {
  if (::mkdir(state_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return util::ErrnoStatus(errno, "creating state directory " + state_dir);
  }
  // Whoever may write the directory may replace the API token or the stored objects.
  struct stat st {};
  if (::stat(state_dir.c_str(), &st) != 0) {
    return util::ErrnoStatus(errno, "state directory " + state_dir);
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return absl::FailedPreconditionError(absl::StrCat(
        "state directory ", state_dir, " is writable by group or others (mode ", mode,
        "): they could replace the API token or the stored objects; chmod go-w ", state_dir));
  }
  const std::string path = state_dir + "/lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return util::ErrnoStatus(errno, "opening " + path);
  const auto deadline = clock.MonotonicNow() + wait;
  bool locked = ::flock(fd, LOCK_EX | LOCK_NB) == 0;
  while (!locked && clock.MonotonicNow() < deadline) {
    clock.SleepFor(std::chrono::milliseconds(20));  // the holder may be going
    locked = ::flock(fd, LOCK_EX | LOCK_NB) == 0;
  }
  if (!locked) {
    std::string holder = "another process";
    char buf[32] = {0};
    if (::pread(fd, buf, sizeof buf - 1, 0) > 0) holder = absl::StrCat("pid ", buf);
    ::close(fd);
    while (!holder.empty() && (holder.back() == '\n')) holder.pop_back();
    return absl::FailedPreconditionError(
        absl::StrCat("state directory ", state_dir, " is locked by ", holder,
                     ": only one switchyard may act on it at a time"));
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) == 0) (void)!::pwrite(fd, pid.data(), pid.size(), 0);
  return std::unique_ptr<StateLock>(new StateLock(fd));
}

StateLock::~StateLock() { ::close(fd_); }

}  // namespace sy::controller
