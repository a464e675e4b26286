// A work queue keyed by resource, in the manner of client-go's rate-limited queue: a key is
// queued at most once, is never handed to two workers at the same time, and failures are
// retried with exponential backoff.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "pkg/util/clock.h"

namespace sy::controller {

// Thread-safe. Due times are read from the injected clock; Get() blocks on a condition
// variable for what is left of the wait (util/clock.h says why that wait is on the real clock).
class WorkQueue {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  // `clock` must outlive this object.
  explicit WorkQueue(const util::Clock& clock,
                     std::chrono::milliseconds base_backoff = std::chrono::seconds(1),
                     std::chrono::milliseconds max_backoff = std::chrono::minutes(5));

  // Queues `key` to run no later than `delay` from now (an earlier schedule wins).
  void AddAfter(const std::string& key, std::chrono::nanoseconds delay);
  void Add(const std::string& key) { AddAfter(key, std::chrono::nanoseconds(0)); }
  // Queues `key` after its next backoff delay (1 s doubling to 5 min) and returns the delay.
  std::chrono::milliseconds AddRateLimited(const std::string& key);
  // Resets `key`'s backoff after a success.
  void Forget(const std::string& key);
  int Retries(const std::string& key) const;

  // Blocks until a key is due (or Shutdown()); nullopt after shutdown. The key stays
  // "processing" until Done(): adds meanwhile are kept and run after.
  std::optional<std::string> Get();
  void Done(const std::string& key);

  void Shutdown();
  size_t Depth() const;  // keys waiting (due or not)
  int64_t TotalRetries() const;

 private:
  const util::Clock& clock_;
  const std::chrono::milliseconds base_backoff_;
  const std::chrono::milliseconds max_backoff_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, TimePoint> pending_;  // key -> due time
  std::set<std::string> processing_;
  std::map<std::string, TimePoint> deferred_;  // added while processing
  std::map<std::string, int> failures_;
  int64_t total_retries_ = 0;
  bool shutdown_ = false;
};

}  // namespace sy::controller
