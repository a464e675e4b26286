// The /proc parsers behind the process_* metrics, on captured text and on this process.
#include "pkg/metrics/process_stats.h"

#include <gtest/gtest.h>

#include <chrono>

namespace sy::metrics {
namespace {

// /proc/<pid>/stat of a process whose name holds a space and a parenthesis.
constexpr std::string_view kStat =
    "4242 (switch yard)) S 1 4242 4242 0 -1 4194560 1042 0 0 0 150 50 0 0 20 0 7 0 "
    "123400 500000000 2048 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0";

TEST(ProcessStatsTest, ParsesPidStat) {
  ProcessStats s;
  ASSERT_TRUE(ParsePidStat(kStat, 100, 4096, 1'700'000'000, &s).ok());
  EXPECT_DOUBLE_EQ(s.cpu_seconds, 2.0);  // (150 + 50) ticks at 100 Hz
  EXPECT_DOUBLE_EQ(s.start_time_seconds, 1'700'000'000 + 1234.0);
  EXPECT_DOUBLE_EQ(s.virtual_memory_bytes, 500000000);
  EXPECT_DOUBLE_EQ(s.resident_memory_bytes, 2048.0 * 4096);
}

TEST(ProcessStatsTest, RejectsTruncatedStat) {
  ProcessStats s;
  EXPECT_FALSE(ParsePidStat("4242 (x) S 1 2 3", 100, 4096, 0, &s).ok());
  EXPECT_FALSE(ParsePidStat("garbage", 100, 4096, 0, &s).ok());
}

TEST(ProcessStatsTest, ParsesBootTimeAndOpenFileLimit) {
  EXPECT_EQ(ParseBootTime("cpu  1 2 3\nintr 5\nbtime 1700000000\nprocesses 9\n").value(),
            1700000000);
  EXPECT_FALSE(ParseBootTime("cpu 1 2 3\n").ok());
  const std::string limits =
      "Limit                     Soft Limit           Hard Limit           Units     \n"
      "Max cpu time              unlimited            unlimited            seconds   \n"
      "Max open files            1024                 524288               files     \n";
  EXPECT_EQ(ParseMaxOpenFiles(limits).value(), 1024);
  EXPECT_EQ(ParseMaxOpenFiles("Max open files  unlimited unlimited files\n").value(), 0);
  EXPECT_FALSE(ParseMaxOpenFiles("Max cpu time 1 1 seconds\n").ok());
}

TEST(ProcessStatsTest, ReadsThisProcess) {
  absl::StatusOr<ProcessStats> s = ReadProcessStats();
  ASSERT_TRUE(s.ok()) << s.status();
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_GT(s->start_time_seconds, now - 3600);  // a test binary started minutes ago at most
  EXPECT_LE(s->start_time_seconds, now + 1);
  EXPECT_GT(s->resident_memory_bytes, 0);
  EXPECT_GE(s->open_fds, 3);  // stdin, stdout, stderr
  EXPECT_GE(s->cpu_seconds, 0);
  EXPECT_FALSE(ReadProcessStats("/nonexistent").ok());
}

}  // namespace
}  // namespace sy::metrics
