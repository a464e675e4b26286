// The clock, injected everywhere time matters so tests can drive it (never read directly).
//
// Exempt, and the only places that read std::chrono::steady_clock themselves: deadlines
// handed to the kernel or to a condition variable for one blocking call, where the wait
// itself is on the real clock and a fake time could only make it spin or hang:
//  - pkg/server (acceptor, connection, http_server): socket read/write and head deadlines
//    for poll();
//  - pkg/util/command_runner.cc, socket_watchdog: a child's timeout, a socket's deadline;
//  - pkg/app/yardctl_get.cc: the CLI's --timeout of a watch over HTTP.
// Classes that schedule by time take a Clock and turn what is left into such a wait:
// controller::WorkQueue::Get() and Controller::RunOnce's watchdog wait on a condition
// variable for the remaining duration (as the Clock measures it); source::ManifestSource
// polls inotify in 100 ms slices and reads the Clock for its backstop and settle times.
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
