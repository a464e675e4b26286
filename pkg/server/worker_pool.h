// A fixed set of threads serving a bounded queue of tasks. The transport keeps one pool per
// kind of request (health and metrics, API calls, watches), so that one kind can never take
// the threads of another.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace sy::server {

// Thread-safe.
class WorkerPool {
 public:
  // `threads` threads start at once; at most `queue` tasks wait for one.
  WorkerPool(size_t threads, size_t queue);
  // Shutdown().
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Runs `task` on a pool thread, or returns false at once when every thread is busy and
  // the queue is full (or the pool is shut down); the task is then dropped unrun.
  bool TrySubmit(std::function<void()> task);

  // Runs the queued tasks, waits for the running ones and joins the threads. Idempotent.
  void Shutdown();

  // Tasks running or waiting now.
  size_t Load() const;

 private:
  void Work();

  const size_t queue_limit_;
  mutable std::mutex mu_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> queue_;
  size_t idle_ = 0;
  size_t running_ = 0;
  bool shutdown_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace sy::server
