// The daemon's own CPU, memory and file descriptors, read from /proc (Linux), for the
// process_* metrics every Prometheus client library exports (prometheus-cpp core has none).
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace sy::metrics {

struct ProcessStats {
  double cpu_seconds = 0;            // user + system time
  double resident_memory_bytes = 0;  // RSS
  double virtual_memory_bytes = 0;
  double open_fds = 0;
  double max_fds = 0;             // the soft RLIMIT_NOFILE (0 when unlimited)
  double start_time_seconds = 0;  // Unix time
};

// Reads <proc>/self/{stat,fd,limits} and <proc>/stat. kUnavailable naming the file when one
// cannot be read or parsed. Thread-safe.
absl::StatusOr<ProcessStats> ReadProcessStats(const std::string& proc = "/proc");

// The pure parts, for tests. `stat` is /proc/<pid>/stat; fills cpu_seconds,
// resident_memory_bytes, virtual_memory_bytes and start_time_seconds (from `boot_time`).
absl::Status ParsePidStat(std::string_view stat, double ticks_per_second, double page_size,
                          double boot_time, ProcessStats* out);
// "btime" of /proc/stat: the Unix time the machine booted.
absl::StatusOr<double> ParseBootTime(std::string_view proc_stat);
// The soft limit of "Max open files" in /proc/<pid>/limits (0 when unlimited).
absl::StatusOr<double> ParseMaxOpenFiles(std::string_view limits);

}  // namespace sy::metrics
