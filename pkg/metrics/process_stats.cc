#include "pkg/metrics/process_stats.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <sstream>
#include <vector>

#include "pkg/util/files.h"
#include "pkg/util/status_macros.h"

namespace sy::metrics {
namespace {

absl::Status Malformed(const std::string& what) {
  return absl::UnavailableError("cannot parse " + what);
}

absl::StatusOr<std::string> Read(const std::string& path) {
  absl::StatusOr<std::string> text = util::ReadFile(path);
  if (!text.ok()) return absl::UnavailableError(std::string(text.status().message()));
  return text;
}

absl::StatusOr<double> CountEntries(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return absl::UnavailableError("cannot list " + dir);
  double n = 0;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n - 1;  // the descriptor opendir itself held
}

// The words of `text` split at blanks.
std::vector<std::string> Words(std::string_view text) {
  std::istringstream in{std::string(text)};
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

bool ToDouble(const std::string& s, double* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  *out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

// The line of `text` that starts with `prefix`, without it; nullopt when none does.
std::optional<std::string_view> LineAfter(std::string_view text, std::string_view prefix) {
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    if (line.substr(0, prefix.size()) == prefix) return line.substr(prefix.size());
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return std::nullopt;
}

}  // namespace

absl::Status ParsePidStat(std::string_view stat, double ticks_per_second, double page_size,
                          double boot_time, ProcessStats* out) {
  // "pid (comm) S ppid ...": comm may hold spaces and ')', so fields count from the last ')'.
  const size_t close = stat.rfind(')');
  if (close == std::string_view::npos) return Malformed("/proc/self/stat");
  const std::vector<std::string> f = Words(stat.substr(close + 1));
  // f[0] is field 3 (state) of proc(5): field n is f[n - 3].
  constexpr size_t kUtime = 14 - 3, kStime = 15 - 3, kStart = 22 - 3, kVsize = 23 - 3,
                   kRss = 24 - 3;
  double utime = 0, stime = 0, start = 0, vsize = 0, rss = 0;
  if (f.size() <= kRss || !ToDouble(f[kUtime], &utime) || !ToDouble(f[kStime], &stime) ||
      !ToDouble(f[kStart], &start) || !ToDouble(f[kVsize], &vsize) || !ToDouble(f[kRss], &rss)) {
    return Malformed("/proc/self/stat");
  }
  out->cpu_seconds = (utime + stime) / ticks_per_second;
  out->start_time_seconds = boot_time + start / ticks_per_second;
  out->virtual_memory_bytes = vsize;
  out->resident_memory_bytes = rss * page_size;
  return absl::OkStatus();
}

absl::StatusOr<double> ParseBootTime(std::string_view proc_stat) {
  const std::optional<std::string_view> line = LineAfter(proc_stat, "btime ");
  double t = 0;
  if (line) {
    const std::vector<std::string> f = Words(*line);
    if (f.size() == 1 && ToDouble(f[0], &t)) return t;
  }
  return Malformed("btime in /proc/stat");
}

absl::StatusOr<double> ParseMaxOpenFiles(std::string_view limits) {
  const std::optional<std::string_view> line = LineAfter(limits, "Max open files ");
  if (line) {
    const std::vector<std::string> f = Words(*line);  // soft, hard, "files"
    double soft = 0;
    if (!f.empty() && f[0] == "unlimited") return 0.0;
    if (!f.empty() && ToDouble(f[0], &soft)) return soft;
  }
  return Malformed("Max open files in /proc/self/limits");
}

absl::StatusOr<ProcessStats> ReadProcessStats(const std::string& proc) {
  ProcessStats s;
  SY_ASSIGN_OR_RETURN(const std::string machine, Read(proc + "/stat"));
  SY_ASSIGN_OR_RETURN(const double boot, ParseBootTime(machine));
  SY_ASSIGN_OR_RETURN(const std::string stat, Read(proc + "/self/stat"));
  SY_RETURN_IF_ERROR(ParsePidStat(stat, static_cast<double>(::sysconf(_SC_CLK_TCK)),
                                  static_cast<double>(::sysconf(_SC_PAGESIZE)), boot, &s));
  SY_ASSIGN_OR_RETURN(s.open_fds, CountEntries(proc + "/self/fd"));
  SY_ASSIGN_OR_RETURN(const std::string limits, Read(proc + "/self/limits"));
  SY_ASSIGN_OR_RETURN(s.max_fds, ParseMaxOpenFiles(limits));
  return s;
}

}  // namespace sy::metrics
