// The clock, injected everywhere time matters so tests can drive it (never read directly).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace sy::util {

// Thread-safe. Wall time for timestamps people read; monotonic time for durations.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point Now() const = 0;
  virtual std::chrono::steady_clock::time_point MonotonicNow() const = 0;
  // Blocks the calling thread for `d` (a fake advances its time instead).
  virtual void SleepFor(std::chrono::nanoseconds d) const = 0;
};

// The process's real clocks.
class RealClock final : public Clock {
 public:
  std::chrono::system_clock::time_point Now() const override;
  std::chrono::steady_clock::time_point MonotonicNow() const override;
  void SleepFor(std::chrono::nanoseconds d) const override;
  // A process-wide instance, for the composition root.
  static const RealClock& Get();
};

// RFC 3339 UTC with second precision ("2026-11-26T17:30:00Z").
std::string FormatRfc3339(std::chrono::system_clock::time_point t);
// RFC 3339 UTC with milliseconds ("2026-11-26T17:30:00.123Z"), for what lasts under a second.
std::string FormatRfc3339Millis(std::chrono::system_clock::time_point t);
// Parses FormatRfc3339's output (also accepts fractional seconds); false when malformed.
bool ParseRfc3339(const std::string& s, std::chrono::system_clock::time_point* out);

}  // namespace sy::util
