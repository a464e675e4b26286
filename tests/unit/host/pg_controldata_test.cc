#include "pkg/host/pg_controldata.h"

#include <string>

#include "gtest/gtest.h"
#include "tests/unit/host/pg_controldata_outputs.h"

namespace sy::host {
namespace {

using testdata::kShutDownPrimary;

TEST(ParseControlDataTest, ParsesRealOutputOfAShutDownPrimary) {
  absl::StatusOr<model::ControlData> c = ParseControlData(kShutDownPrimary);
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
  absl::StatusOr<model::ControlData> c = ParseControlData(out);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->cluster_state, "shut down in recovery");
  EXPECT_EQ(c->checkpoint_lsn, 0x1AB374D848u);
  EXPECT_EQ(c->checkpoint_timeline, 3u);
  EXPECT_EQ(c->min_recovery_end, 0x1AB3750000u);
}

TEST(ParseControlDataTest, MissingOrMalformedFieldIsInvalidArgument) {
  absl::StatusOr<model::ControlData> c = ParseControlData("Database cluster state: shut down\n");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("Database system identifier"), std::string::npos);

  std::string bad = kShutDownPrimary;
  bad.replace(bad.find("0/3000028"), 9, "garbage!!");
  c = ParseControlData(bad);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("Latest checkpoint location"), std::string::npos);
  EXPECT_EQ(ParseControlData("").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ParseControlDataTest, AWarningIsDataLossNeverValues) {
  absl::StatusOr<model::ControlData> c = ParseControlData(testdata::CrcMismatch());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kDataLoss) << c.status();
  EXPECT_NE(c.status().message().find(
                "WARNING: Calculated CRC checksum does not match value stored in file."),
            std::string::npos)
      << c.status();
  EXPECT_NE(c.status().message().find("The results below are untrustworthy."), std::string::npos);
  // Its own log's warnings too (stderr, merged into the output).
  c = ParseControlData(std::string("pg_controldata: warning: possible byte ordering mismatch\n") +
                       kShutDownPrimary);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kDataLoss) << c.status();
  EXPECT_TRUE(ParseControlData(kShutDownPrimary).ok());
}

TEST(ParseControlVersionTest, ReadsTheNumber) {
  EXPECT_EQ(*ParseControlVersion(kShutDownPrimary), 1300u);
  EXPECT_EQ(ParseControlVersion("Database cluster state: shut down\n").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseControlVersion("pg_control version number: x\n").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ParseBinariesMajorTest, MajorAsPgVersionSpellsIt) {
  EXPECT_EQ(*ParseBinariesMajor(testdata::kVersion15), "15");
  EXPECT_EQ(*ParseBinariesMajor("pg_controldata (PostgreSQL) 17devel\n"), "17");
  EXPECT_EQ(*ParseBinariesMajor("pg_controldata (PostgreSQL) 12.22\n"), "12");
  EXPECT_EQ(*ParseBinariesMajor("pg_controldata (PostgreSQL) 9.6.24\n"), "9.6");
  EXPECT_EQ(ParseBinariesMajor("pg_controldata 15\n").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ControlVersionOfMajorTest, KnownMajors) {
  EXPECT_EQ(ControlVersionOfMajor("12"), 1201u);
  for (const char* m : {"13", "14", "15", "16"}) EXPECT_EQ(ControlVersionOfMajor(m), 1300u) << m;
  EXPECT_EQ(ControlVersionOfMajor("17"), 1700u);
  EXPECT_EQ(ControlVersionOfMajor("9.6"), 0u);
  EXPECT_EQ(ControlVersionOfMajor("18"), 0u);
}

TEST(ParseTimelineHistoryTest, ParsesRealFiles) {
  // 00000002.history as PostgreSQL 15 wrote it on promotion.
  absl::StatusOr<std::vector<model::TimelineFork>> h =
      ParseTimelineHistory("1\t0/3000000\tno recovery target specified\n");
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(*h, (std::vector<model::TimelineFork>{{1, 0x3000000}}));

  h = ParseTimelineHistory(
      "1\t0/3000000\tno recovery target specified\n"
      "\n"
      "# a comment\n"
      "2\t0/50000A0\tno recovery target specified\n"
      "3\t1/0\tbefore 2026-11-27 03:00:00+00\n");
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(*h,
            (std::vector<model::TimelineFork>{{1, 0x3000000}, {2, 0x50000A0}, {3, 0x100000000}}));
}

TEST(ParseTimelineHistoryTest, EmptyFileHasNoForks) {
  absl::StatusOr<std::vector<model::TimelineFork>> h = ParseTimelineHistory("");
  ASSERT_TRUE(h.ok());
  EXPECT_TRUE(h->empty());
}

TEST(ParseTimelineHistoryTest, MalformedLineIsInvalidArgumentWithLineNumber) {
  absl::StatusOr<std::vector<model::TimelineFork>> h =
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
}  // namespace sy::host
