#include "pkg/observe/pg_controldata.h"

#include <string>

#include "gtest/gtest.h"

namespace sy::observe {
namespace {

// pg_controldata of a PostgreSQL 15.18 primary right after a fast shutdown (LC_ALL=C).
constexpr char kShutDownPrimary[] = R"(pg_control version number:            1300
Catalog version number:               202209061
Database system identifier:           7712684126675136648
Database cluster state:               shut down
pg_control last modified:             Fri Nov 27 03:13:32 2026
Latest checkpoint location:           0/3000028
Latest checkpoint's REDO location:    0/3000028
Latest checkpoint's REDO WAL file:    000000010000000000000003
Latest checkpoint's TimeLineID:       1
Latest checkpoint's PrevTimeLineID:   1
Latest checkpoint's full_page_writes: on
Latest checkpoint's NextXID:          0:724
Latest checkpoint's NextOID:          13572
Latest checkpoint's NextMultiXactId:  1
Latest checkpoint's NextMultiOffset:  0
Latest checkpoint's oldestXID:        716
Latest checkpoint's oldestXID's DB:   1
Latest checkpoint's oldestActiveXID:  0
Latest checkpoint's oldestMultiXid:   1
Latest checkpoint's oldestMulti's DB: 1
Latest checkpoint's oldestCommitTsXid:0
Latest checkpoint's newestCommitTsXid:0
Time of latest checkpoint:            Fri Nov 27 03:13:32 2026
Fake LSN counter for unlogged rels:   0/3E8
Minimum recovery ending location:     0/0
Min recovery ending loc's timeline:   0
Backup start location:                0/0
Backup end location:                  0/0
End-of-backup record required:        no
wal_level setting:                    replica
wal_log_hints setting:                on
max_connections setting:              100
max_worker_processes setting:         8
max_wal_senders setting:              10
max_prepared_xacts setting:           0
max_locks_per_xact setting:           64
track_commit_timestamp setting:       off
Maximum data alignment:               8
Database block size:                  8192
Blocks per segment of large relation: 131072
WAL block size:                       8192
Bytes per WAL segment:                16777216
Maximum length of identifiers:        64
Maximum columns in an index:          32
Maximum size of a TOAST chunk:        1996
Size of a large-object chunk:         2048
Date/time type storage:               64-bit integers
Float8 argument passing:              by value
Data page checksum version:           0
Mock authentication nonce:            bcbe3efc667a5ff33e9aa432a59ac1b495e6b36ff4fd508b8eafadacb8f14ab7
)";

TEST(ParseControlDataTest, ParsesRealOutputOfAShutDownPrimary) {
  absl::StatusOr<ControlData> c = ParseControlData(kShutDownPrimary);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->cluster_state, "shut down");
  EXPECT_EQ(c->system_identifier, 7712684126675136648ULL);
  EXPECT_EQ(c->checkpoint_lsn, 0x3000028u);
  EXPECT_EQ(c->checkpoint_timeline, 1u);
  EXPECT_EQ(c->min_recovery_end, 0u);
}

TEST(ParseControlDataTest, ParsesAStandbyInRecovery) {
  const std::string out =
      "Database system identifier:           7712684126675136648\n"
      "Database cluster state:               shut down in recovery\n"
      "Latest checkpoint location:           1A/B374D848\n"
      "Latest checkpoint's TimeLineID:       3\n"
      "Latest checkpoint's oldestCommitTsXid:0\n"
      "Minimum recovery ending location:     1A/B3750000\n";
  absl::StatusOr<ControlData> c = ParseControlData(out);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->cluster_state, "shut down in recovery");
  EXPECT_EQ(c->checkpoint_lsn, 0x1AB374D848u);
  EXPECT_EQ(c->checkpoint_timeline, 3u);
  EXPECT_EQ(c->min_recovery_end, 0x1AB3750000u);
}

TEST(ParseControlDataTest, MissingOrMalformedFieldIsInvalidArgument) {
  absl::StatusOr<ControlData> c = ParseControlData("Database cluster state: shut down\n");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("Database system identifier"), std::string::npos);

  std::string bad = kShutDownPrimary;
  bad.replace(bad.find("0/3000028"), 9, "garbage!!");
  c = ParseControlData(bad);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("Latest checkpoint location"), std::string::npos);
  EXPECT_EQ(ParseControlData("").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ParseTimelineHistoryTest, ParsesRealFiles) {
  // 00000002.history as PostgreSQL 15 wrote it on promotion.
  absl::StatusOr<std::vector<TimelineFork>> h =
      ParseTimelineHistory("1\t0/3000000\tno recovery target specified\n");
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(*h, (std::vector<TimelineFork>{{1, 0x3000000}}));

  h = ParseTimelineHistory(
      "1\t0/3000000\tno recovery target specified\n"
      "\n"
      "# a comment\n"
      "2\t0/50000A0\tno recovery target specified\n"
      "3\t1/0\tbefore 2026-11-27 03:00:00+00\n");
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(*h, (std::vector<TimelineFork>{{1, 0x3000000}, {2, 0x50000A0}, {3, 0x100000000}}));
}

TEST(ParseTimelineHistoryTest, EmptyFileHasNoForks) {
  absl::StatusOr<std::vector<TimelineFork>> h = ParseTimelineHistory("");
  ASSERT_TRUE(h.ok());
  EXPECT_TRUE(h->empty());
}

TEST(ParseTimelineHistoryTest, MalformedLineIsInvalidArgumentWithLineNumber) {
  absl::StatusOr<std::vector<TimelineFork>> h =
      ParseTimelineHistory("1\t0/3000000\treason\nx\t0/1\n");
  EXPECT_EQ(h.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(h.status().message().find("line 2"), std::string::npos);
  EXPECT_FALSE(ParseTimelineHistory("2\n").ok());
  EXPECT_FALSE(ParseTimelineHistory("2\tnot-an-lsn\n").ok());
}

TEST(TimelineHistoryFileNameTest, IsEightUpperHexDigits) {
  EXPECT_EQ(TimelineHistoryFileName(2), "00000002.history");
  EXPECT_EQ(TimelineHistoryFileName(0x1A), "0000001A.history");
}

}  // namespace
}  // namespace sy::observe
