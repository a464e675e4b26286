// A util::Clock whose time moves only when a test (or a fake doing "work") advances it.
#pragma once

#include <chrono>
#include <mutex>

#include "pkg/util/clock.h"

namespace sy::fakes {

// Thread-safe. Starts at 2026-11-26T17:00:00Z. SleepFor() advances the time instead of
// blocking, so code that polls with a Clock runs instantly under test.
class FakeClock final : public util::Clock {
 public:
  FakeClock();
  std::chrono::system_clock::time_point Now() const override;
  std::chrono::steady_clock::time_point MonotonicNow() const override;
  void SleepFor(std::chrono::nanoseconds d) const override;
  // Moves both clocks forward by `d` (negative values are ignored).
  void Advance(std::chrono::nanoseconds d) const;

 private:
  mutable std::mutex mu_;
  mutable std::chrono::nanoseconds elapsed_{0};  // since construction
  const std::chrono::system_clock::time_point wall_start_;
};

}  // namespace sy::fakes
