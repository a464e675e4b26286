#include "pkg/host/pg_datadir.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pkg/model/topology.h"
#include "pkg/util/files.h"
#include "tests/fakes/fake_command_runner.h"
#include "tests/fakes/temp_dir.h"
#include "tests/unit/host/pg_controldata_outputs.h"

namespace sy::host {
namespace {

class PgDatadirTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(dir_.empty()); }
  void Write(const std::string& rel, const std::string& content) {
    std::filesystem::create_directories(std::filesystem::path(dir_ + "/" + rel).parent_path());
    ASSERT_TRUE(util::WriteFileAtomically(dir_ + "/" + rel, content).ok());
  }
  fakes::TempDir tmp_{"pg_datadir_test"};
  const std::string dir_ = tmp_.path;
};

TEST_F(PgDatadirTest, HoldsClusterNeedsVersionAndControlFile) {
  EXPECT_FALSE(HoldsCluster(dir_));
  Write("PG_VERSION", "15\n");
  EXPECT_FALSE(HoldsCluster(dir_));
  Write("global/pg_control", "x");
  EXPECT_TRUE(HoldsCluster(dir_));
  EXPECT_FALSE(HoldsCluster(dir_ + "/missing"));
}

TEST_F(PgDatadirTest, PostmasterPidAndLiveness) {
  EXPECT_EQ(ReadPostmasterPid(dir_), std::nullopt);
  EXPECT_FALSE(PostmasterAlive(dir_));
  Write("postmaster.pid", "garbage\n");
  EXPECT_EQ(ReadPostmasterPid(dir_), std::nullopt);
  // A live pid that is not a PostgreSQL server (this test): a stale file after pid reuse.
  Write("postmaster.pid", std::to_string(::getpid()) + "\n" + dir_ + "\n1700000000\n5432\n");
  EXPECT_EQ(ReadPostmasterPid(dir_), ::getpid());
  EXPECT_FALSE(PostmasterAlive(dir_));
  Write("postmaster.pid", "999999999\n");
  EXPECT_FALSE(PostmasterAlive(dir_));
}

TEST_F(PgDatadirTest, APostmasterWorksInItsDataDirectory) {
  Write("postmaster.pid", std::to_string(::getpid()) + "\n");
  char cwd[4096];
  ASSERT_NE(::getcwd(cwd, sizeof cwd), nullptr);
  ASSERT_EQ(::chdir(dir_.c_str()), 0);
  const bool alive = PostmasterAlive(dir_);
  ASSERT_EQ(::chdir(cwd), 0);
  EXPECT_TRUE(alive);
}

TEST_F(PgDatadirTest, InspectTellsClusterAbsentOtherAndUnreadableApart) {
  EXPECT_EQ(*InspectDataDirectory(dir_ + "/missing"), DirectoryContent::kAbsent);
  EXPECT_EQ(*InspectDataDirectory(dir_), DirectoryContent::kAbsent);  // empty
  Write("notes.txt", "x");
  EXPECT_EQ(*InspectDataDirectory(dir_), DirectoryContent::kOther);
  Write("PG_VERSION", "15\n");
  Write("global/pg_control", "x");
  EXPECT_EQ(*InspectDataDirectory(dir_), DirectoryContent::kCluster);
  // A file that cannot be looked at (here a symlink loop: ELOOP, as EIO or EACCES would be)
  // is an error, not "no cluster". Root ignores permissions, so a loop stands in for them.
  std::filesystem::remove(dir_ + "/PG_VERSION");
  std::filesystem::create_symlink("PG_VERSION", dir_ + "/PG_VERSION");
  absl::StatusOr<DirectoryContent> loop = InspectDataDirectory(dir_);
  ASSERT_FALSE(loop.ok());
  EXPECT_NE(loop.status().message().find("PG_VERSION"), std::string::npos);
}

TEST_F(PgDatadirTest, FenceMarkerAndPendingPromotion) {
  EXPECT_FALSE(ReadStartupConfig(dir_)->fenced);
  EXPECT_FALSE(ReadStartupConfig(dir_)->promote_requested);
  Write(kFenceMarkerFile, "fenced\n");
  Write(kPromoteSignalFile, "");
  EXPECT_TRUE(ReadStartupConfig(dir_)->fenced);
  EXPECT_TRUE(ReadStartupConfig(dir_)->promote_requested);
  std::filesystem::remove(dir_ + "/" + kPromoteSignalFile);
  std::filesystem::create_symlink(kPromoteSignalFile, dir_ + "/" + kPromoteSignalFile);
  EXPECT_FALSE(ReadStartupConfig(dir_).ok());  // unreadable: unknown, not "no request"
}

TEST_F(PgDatadirTest, StartupConfigFromSignalAndAutoConf) {
  EXPECT_EQ(*ReadStartupConfig(dir_), model::StartupConfig{});
  Write("standby.signal", "");
  Write("postgresql.auto.conf",
        "primary_conninfo = 'host=127.0.0.1 port=15433 user=replicator'\n"
        "primary_slot_name = 'switchyard_green'\n"
        "primary_conninfo = 'host=127.0.0.1 port=15434 user=replicator application_name=blue "
        "passfile=''/etc/pass file'''\n");
  const model::StartupConfig c = *ReadStartupConfig(dir_);
  EXPECT_TRUE(c.standby_signal);
  EXPECT_EQ(c.primary_conninfo,
            "host=127.0.0.1 port=15434 user=replicator application_name=blue "
            "passfile='/etc/pass file'");
  EXPECT_EQ(c.primary_slot_name, "switchyard_green");
  EXPECT_EQ(c.primary_host, "127.0.0.1");
  EXPECT_EQ(c.primary_port, 15434);
}

// A leftover recovery.signal counts like standby.signal: the directory would not start as
// the primary it was (pkg/observe/README.md #31).
TEST_F(PgDatadirTest, StartupConfigSeesALeftoverRecoverySignal) {
  Write("recovery.signal", "");
  const model::StartupConfig c = *ReadStartupConfig(dir_);
  EXPECT_TRUE(c.recovery_signal);
  EXPECT_FALSE(c.standby_signal);
  model::ServerState s;
  s.startup = c;
  EXPECT_TRUE(model::ConfiguredAsStandby(s));
}

TEST_F(PgDatadirTest, ArchiveReadyCountsReadyFilesOnly) {
  EXPECT_EQ(*CountArchiveReady(dir_), 0);  // no pg_wal/archive_status: nothing pending
  Write("pg_wal/archive_status/000000010000000000000003.done", "");
  EXPECT_EQ(*CountArchiveReady(dir_), 0);
  Write("pg_wal/archive_status/000000010000000000000004.ready", "");
  Write("pg_wal/archive_status/000000010000000000000005.ready", "");
  Write("pg_wal/archive_status/00000002.history.ready", "");
  EXPECT_EQ(*CountArchiveReady(dir_), 3);
}

TEST_F(PgDatadirTest, LocalSlotsAreSortedDirectoriesWithoutTemporaryOnes) {
  EXPECT_TRUE(ReadLocalSlots(dir_).empty());
  Write("pg_replslot/switchyard_green/state", "x");
  Write("pg_replslot/other/state", "x");
  Write("pg_replslot/half.tmp/state", "x");
  Write("pg_replslot/not-a-dir", "x");
  EXPECT_EQ(ReadLocalSlots(dir_), (std::vector<std::string>{"other", "switchyard_green"}));
}

TEST_F(PgDatadirTest, TimelineHistoryOfTheGivenTimeline) {
  EXPECT_TRUE(ReadTimelineHistory(dir_, 1)->empty());
  EXPECT_TRUE(ReadTimelineHistory(dir_, 2)->empty());  // absent
  Write("pg_wal/00000002.history", "1\t0/3000000\tno recovery target specified\n");
  Write("pg_wal/00000003.history", "bad\n");
  EXPECT_EQ(*ReadTimelineHistory(dir_, 2), (std::vector<model::TimelineFork>{{1, 0x3000000}}));
  absl::StatusOr<std::vector<model::TimelineFork>> bad = ReadTimelineHistory(dir_, 3);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("00000003.history"), std::string::npos);
}

TEST_F(PgDatadirTest, WalTimelinesFromSegmentsAndHistoryFiles) {
  EXPECT_FALSE(ReadWalTimelines(dir_).ok());  // no pg_wal at all: a broken cluster
  std::filesystem::create_directories(dir_ + "/pg_wal");
  EXPECT_EQ(*ReadWalTimelines(dir_), (WalTimelines{0, 0}));
  Write("pg_wal/000000010000000000000003", "x");
  Write("pg_wal/archive_status/000000090000000000000001.done", "x");  // not in pg_wal itself
  EXPECT_EQ(*ReadWalTimelines(dir_), (WalTimelines{1, 1}));
  Write("pg_wal/00000002.history", "1\t0/3000000\tx\n");
  EXPECT_EQ(*ReadWalTimelines(dir_), (WalTimelines{2, 1}));
  Write("pg_wal/0000000A0000000000000004", "x");
  Write("pg_wal/0000000B0000000000000004.partial", "x");  // not a segment name
  Write("pg_wal/ZZZZZZZZ0000000000000004", "x");          // not hex
  EXPECT_EQ(*ReadWalTimelines(dir_), (WalTimelines{10, 10}));
}

// RunControlData against a scripted pg_controldata (FakeCommandRunner) in a bin directory of
// its own (the binaries' version is kept per program file).
class RunControlDataTest : public PgDatadirTest {
 protected:
  void SetUp() override {
    PgDatadirTest::SetUp();
    Write("bin/pg_controldata", "");
    ASSERT_EQ(::chmod((dir_ + "/bin/pg_controldata").c_str(), 0755), 0);
    Write("data/PG_VERSION", "15\n");
    runner_.OnRun([this](const util::Command& c) -> absl::StatusOr<util::CommandResult> {
      util::CommandResult r;
      r.output = c.argv.back() == "--version" ? testdata::kVersion15 : output_;
      return r;
    });
  }
  absl::StatusOr<model::ControlData> Run() {
    return RunControlData(runner_, dir_ + "/bin", Data());
  }
  std::string Data() const { return dir_ + "/data"; }
  int VersionRuns() {
    int n = 0;
    for (const auto& argv : runner_.Commands()) n += argv.back() == "--version";
    return n;
  }

  fakes::FakeCommandRunner runner_;
  std::string output_ = testdata::kShutDownPrimary;
};

TEST_F(RunControlDataTest, ParsesAndAsksTheBinariesVersionOnce) {
  absl::StatusOr<model::ControlData> c = Run();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->cluster_state, "shut down");
  EXPECT_TRUE(Run().ok());
  EXPECT_EQ(VersionRuns(), 1);
  EXPECT_EQ(runner_.Commands().back(),
            (std::vector<std::string>{"/usr/bin/env", "LC_ALL=C", dir_ + "/bin/pg_controldata",
                                      "-D", Data()}));
}

TEST_F(RunControlDataTest, AnUntrustworthyOutputIsDataLoss) {
  output_ = testdata::CrcMismatch();
  absl::StatusOr<model::ControlData> c = Run();
  EXPECT_EQ(c.status().code(), absl::StatusCode::kDataLoss) << c.status();
  EXPECT_THAT(c.status().message(), ::testing::HasSubstr("Calculated CRC checksum"));
  EXPECT_THAT(c.status().message(), ::testing::HasSubstr(Data()));
}

TEST_F(RunControlDataTest, ADirectoryOfAnotherMajorIsRefusedNamingBoth) {
  Write("data/PG_VERSION", "14\n");
  absl::StatusOr<model::ControlData> c = Run();
  EXPECT_EQ(c.status().code(), absl::StatusCode::kFailedPrecondition) << c.status();
  EXPECT_THAT(c.status().message(), ::testing::HasSubstr("PostgreSQL 14 data directory"));
  EXPECT_THAT(c.status().message(), ::testing::HasSubstr("PostgreSQL 15 binaries"));
  EXPECT_EQ(runner_.Commands().size(), 1u) << "pg_controldata -D never ran";
}

TEST_F(RunControlDataTest, APgControlOfAnotherVersionIsRefusedNamingBoth) {
  output_.replace(output_.find("1300"), 4, "1201");
  absl::StatusOr<model::ControlData> c = Run();
  EXPECT_EQ(c.status().code(), absl::StatusCode::kFailedPrecondition) << c.status();
  EXPECT_THAT(c.status().message(), ::testing::HasSubstr("has version 1201"));
  EXPECT_THAT(c.status().message(), ::testing::HasSubstr("(PostgreSQL 15) reads version 1300"));
}

}  // namespace
}  // namespace sy::host
