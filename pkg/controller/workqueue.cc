#include "pkg/controller/workqueue.h"

#include <algorithm>

namespace sy::controller {

WorkQueue::WorkQueue(const util::Clock& clock, std::chrono::milliseconds base_backoff,
                     std::chrono::milliseconds max_backoff)
    : clock_(clock), base_backoff_(base_backoff), max_backoff_(max_backoff) {}

void WorkQueue::AddAfter(const std::string& key, std::chrono::nanoseconds delay) {
  const auto due = clock_.MonotonicNow() + std::chrono::duration_cast<TimePoint::duration>(delay);
  {
    std::lock_guard<std::mutex> l(mu_);
    if (shutdown_) return;
    auto& target = processing_.count(key) ? deferred_ : pending_;
    auto it = target.find(key);
    if (it == target.end() || due < it->second) target[key] = due;
  }
  cv_.notify_all();
}

std::chrono::milliseconds WorkQueue::AddRateLimited(const std::string& key) {
  std::chrono::milliseconds delay;
  {
    std::lock_guard<std::mutex> l(mu_);
    const int n = failures_[key]++;
    ++total_retries_;
    delay = base_backoff_;
    for (int i = 0; i < n && delay < max_backoff_; ++i) delay *= 2;
    delay = std::min(delay, max_backoff_);
  }
  AddAfter(key, delay);
  return delay;
}

void WorkQueue::Forget(const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  failures_.erase(key);
}

int WorkQueue::Retries(const std::string& key) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

std::optional<std::string> WorkQueue::Get() {
  std::unique_lock<std::mutex> l(mu_);
  while (true) {
    if (shutdown_) return std::nullopt;
    auto next = std::min_element(pending_.begin(), pending_.end(),
                                 [](const auto& a, const auto& b) { return a.second < b.second; });
    if (next == pending_.end()) {
      cv_.wait(l);
      continue;
    }
    const TimePoint now = clock_.MonotonicNow();
    if (next->second > now) {
      // What is left by the injected clock, computed before waiting: another thread may erase
      // the entry meanwhile (the lock is released while waiting).
      cv_.wait_for(l, next->second - now);
      continue;
    }
    std::string key = next->first;
    pending_.erase(next);
    processing_.insert(key);
    return key;
  }
}

void WorkQueue::Done(const std::string& key) {
  {
    std::lock_guard<std::mutex> l(mu_);
    processing_.erase(key);
    auto it = deferred_.find(key);
    if (it != deferred_.end()) {
      auto p = pending_.find(key);
      if (p == pending_.end() || it->second < p->second) pending_[key] = it->second;
      deferred_.erase(it);
    }
  }
  cv_.notify_all();
}

void WorkQueue::Shutdown() {
  {
    std::lock_guard<std::mutex> l(mu_);
    shutdown_ = true;
  }
  cv_.notify_all();
}

size_t WorkQueue::Depth() const {
  std::lock_guard<std::mutex> l(mu_);
  return pending_.size() + deferred_.size();
}

int64_t WorkQueue::TotalRetries() const {
  std::lock_guard<std::mutex> l(mu_);
  return total_retries_;
}

}  // namespace sy::controller
