#include "tests/fakes/fake_clock.h"

namespace sy::fakes {

namespace {
// 2026-11-26T17:00:00Z: a fixed, readable origin for timestamps in test output.
constexpr std::chrono::seconds kOrigin{1795712400};
}  // namespace

FakeClock::FakeClock() : wall_start_(std::chrono::system_clock::time_point(kOrigin)) {}

std::chrono::system_clock::time_point FakeClock::Now() const {
  std::lock_guard<std::mutex> l(mu_);
  return wall_start_ + std::chrono::duration_cast<std::chrono::system_clock::duration>(elapsed_);
}

std::chrono::steady_clock::time_point FakeClock::MonotonicNow() const {
  std::lock_guard<std::mutex> l(mu_);
  return std::chrono::steady_clock::time_point(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(elapsed_));
}

void FakeClock::SleepFor(std::chrono::nanoseconds d) const { Advance(d); }

void FakeClock::Advance(std::chrono::nanoseconds d) const {
  if (d.count() <= 0) {
    return;
  }
  std::lock_guard<std::mutex> l(mu_);
  elapsed_ += d;
}

}  // namespace sy::fakes
