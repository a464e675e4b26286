// The control loop: a work queue of resource keys served by worker threads running the
// reconciler, with resync and backoff; and the --once mode.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "pkg/controller/reconciler.h"
#include "pkg/controller/workqueue.h"
#include "pkg/source/store.h"
#include "pkg/util/clock.h"

namespace sy::controller {

class Controller {
 public:
  // All must outlive this object. Subscribes to the store's changes.
  Controller(source::Store& store, Reconciler& reconciler, WorkQueue& queue,
             std::chrono::nanoseconds resync, const util::Clock& clock);

  // Serves the queue with `workers` threads until Stop(). Every stored resource is queued.
  void Start(int workers);
  // Lets in-flight passes finish (a step is never interrupted), then joins the workers.
  void Stop();

  // Reconciles every resource until each is Converged or Paused (true) or one is Failed,
  // Invalid or `timeout` passes by the clock (false). Single-threaded; does not need Start().
  bool RunOnce(std::chrono::nanoseconds timeout, std::string* report);

  bool Ready() const { return started_.load(); }

 private:
  void Worker();
  void Schedule(const std::string& key, const PassResult& r);

  source::Store& store_;
  Reconciler& reconciler_;
  WorkQueue& queue_;
  const std::chrono::nanoseconds resync_;
  const util::Clock& clock_;
  std::vector<std::thread> workers_;
  std::atomic<bool> started_{false};
};

// An exclusive lock on a state directory, held for the life of the process (flock). A second
// daemon on the same directory gets kFailedPrecondition naming the holder's pid; so does a
// directory that group or others may write (they could replace the token or the objects).
class StateLock {
 public:
  // While the lock is held, tries again for up to `wait`: a daemon restarted right after its
  // predecessor was killed can find the lock still held for a moment by a child of the dead
  // one, forked but not yet exec'ed (the descriptor is close-on-exec: it goes with the exec).
  static constexpr std::chrono::milliseconds kDefaultWait{3000};
  // `clock` times the wait (and sleeps between tries).
  static absl::StatusOr<std::unique_ptr<StateLock>> Acquire(
      const std::string& state_dir, const util::Clock& clock,
      std::chrono::milliseconds wait = kDefaultWait);
  ~StateLock();
  StateLock(const StateLock&) = delete;
  StateLock& operator=(const StateLock&) = delete;

 private:
  explicit StateLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace sy::controller
