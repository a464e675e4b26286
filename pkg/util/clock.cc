#include "pkg/util/clock.h"

#include <ctime>
#include <thread>

#include "absl/time/time.h"

namespace sy::util {

std::chrono::system_clock::time_point RealClock::Now() const {
  return std::chrono::system_clock::now();
}

std::chrono::steady_clock::time_point RealClock::MonotonicNow() const {
  return std::chrono::steady_clock::now();
}

void RealClock::SleepFor(std::chrono::nanoseconds d) const { std::this_thread::sleep_for(d); }

const RealClock& RealClock::Get() {
  static const RealClock clock;
  return clock;
}

std::string FormatRfc3339(std::chrono::system_clock::time_point t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromChrono(t), absl::UTCTimeZone());
}

std::string FormatRfc3339Millis(std::chrono::system_clock::time_point t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromChrono(t), absl::UTCTimeZone());
}

bool ParseRfc3339(const std::string& s, std::chrono::system_clock::time_point* out) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, s, &t, &err)) return false;
  *out = absl::ToChronoTime(t);
  return true;
}

}  // namespace sy::util
