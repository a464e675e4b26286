#include "pkg/server/worker_pool.h"

namespace sy::server {

WorkerPool::WorkerPool(size_t threads, size_t queue) : queue_limit_(queue) {
  threads_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { Work(); });
}

WorkerPool::~WorkerPool() { Shutdown(); }

bool WorkerPool::TrySubmit(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (shutdown_) return false;
    // A task waits only when no thread is idle; idle threads take the queue's head first.
    if (queue_.size() >= idle_ + queue_limit_) return false;
    queue_.push_back(std::move(task));
  }
  ready_.notify_one();
  return true;
}

void WorkerPool::Work() {
  std::unique_lock<std::mutex> l(mu_);
  for (;;) {
    ++idle_;
    ready_.wait(l, [this] { return shutdown_ || !queue_.empty(); });
    --idle_;
    if (queue_.empty()) return;  // shut down and drained
    std::function<void()> task = std::move(queue_.front());
    queue_.pop_front();
    ++running_;
    l.unlock();
    task();
    task = nullptr;  // what it captured goes before the next task
    l.lock();
    --running_;
  }
}

void WorkerPool::Shutdown() {
  {
    std::lock_guard<std::mutex> l(mu_);
    shutdown_ = true;
  }
  ready_.notify_all();
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
}

size_t WorkerPool::Load() const {
  std::lock_guard<std::mutex> l(mu_);
  return running_ + queue_.size();
}

}  // namespace sy::server
