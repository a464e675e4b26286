// The start, create-slot, configure-standby, rewind and basebackup steps of PostgresActuator
// over the fakes: each one's success, the refusals its safety re-checks enforce (starting a
// primary, replacing a data directory), and failing commands.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_join.h"
#include "pkg/model/topology.h"
#include "tests/unit/actuate/pg_step_fixture.h"

namespace sy::actuate {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

class PgStartCopyTest : public PgStepTest {
 protected:
  // `c` stopped cleanly (postmaster gone, unreachable).
  void Stopped(Color c, const std::string& state) {
    host_.Process(Pid(c)).alive = false;
    Directory(c).pid.reset();
    Directory(c).control.cluster_state = state;
    Server(c).reachable = false;
  }
  // Spawning postgres brings the server up in `dir` with pid 300, answering as `in_recovery`.
  void SpawnStarts(Color c, bool in_recovery) {
    runner_.OnSpawn([this, c, in_recovery](const util::Command&, const std::string&) {
      host_.RunPostmaster(Dir(c), 300);
      Server(c).reachable = true;
      Server(c).in_recovery = in_recovery;
      return absl::StatusOr<int>(300);
    });
  }
  model::Step CopyStep(model::StepKind kind, Color target) {
    return model::Step{kind, target, api::Other(target)};
  }
  // Green promoted to a running primary on timeline 2; blue stopped, fenced, diverged or not.
  void GreenPrimaryBlueStopped() {
    Stopped(Color::kBlue, "shut down");
    Directory(Color::kBlue).startup.fenced = true;
    Directory(Color::kBlue).startup.standby_signal = true;
    Server(Color::kGreen).in_recovery = false;
    Server(Color::kGreen).timeline = 2;
  }
  // The operator's consent for `c`'s incident as observed now (the value the condition gives).
  void Consent(Color c) {
    const absl::StatusOr<model::ServerState> s = observer_.Observe(dc_.spec, c);
    ASSERT_TRUE(s.ok()) << s.status();
    dc_.metadata.annotations[std::string(api::kAllowDiscardAnnotation)] =
        api::FormatDiscardConsent(model::IncidentOf(*s));
  }
  std::string AllCommands() {
    std::vector<std::string> out;
    for (const auto& argv : runner_.Commands()) out.push_back(absl::StrJoin(argv, " "));
    return absl::StrJoin(out, "\n");
  }
};

// --- start ---

TEST_F(PgStartCopyTest, StartOfAStandbySpawnsPostgresAndWaitsForIt) {
  Stopped(Color::kGreen, "shut down in recovery");
  SpawnStarts(Color::kGreen, /*in_recovery=*/true);
  ASSERT_TRUE(Run(model::StepKind::kStart, Color::kGreen).ok());
  ASSERT_EQ(runner_.Commands().size(), 1u);
  EXPECT_EQ(
      runner_.Commands()[0],
      (std::vector<std::string>{"/usr/lib/postgresql/15/bin/postgres", "-D", Dir(Color::kGreen),
                                "-c", "port=15434", "-c", "listen_addresses=127.0.0.1"}));
  EXPECT_TRUE(host_.PostmasterAlive(Dir(Color::kGreen)));
  ASSERT_TRUE(Run(model::StepKind::kStart, Color::kGreen).ok());  // done: already running
  EXPECT_EQ(runner_.Commands().size(), 1u);
}

TEST_F(PgStartCopyTest, StartOfAPackagedClusterNamesItsConfigFileAndDataDirectory) {
  dc_.spec.green.database.config_file = "/etc/postgresql/15/shop-green/postgresql.conf";
  Stopped(Color::kGreen, "shut down in recovery");
  SpawnStarts(Color::kGreen, /*in_recovery=*/true);
  ASSERT_TRUE(Run(model::StepKind::kStart, Color::kGreen).ok());
  ASSERT_EQ(runner_.Commands().size(), 1u);
  EXPECT_EQ(
      runner_.Commands()[0],
      (std::vector<std::string>{"/usr/lib/postgresql/15/bin/postgres", "-D", Dir(Color::kGreen),
                                "-c", "port=15434", "-c", "listen_addresses=127.0.0.1", "-c",
                                "config_file=/etc/postgresql/15/shop-green/postgresql.conf", "-c",
                                "data_directory=" + Dir(Color::kGreen)}));
}

TEST_F(PgStartCopyTest, StartAsPrimaryRefusedWhileTheOtherRunsAsPrimary) {
  Stopped(Color::kGreen, "shut down");
  Directory(Color::kGreen).startup = {};  // configured to start as a primary
  const absl::Status s = Run(model::StepKind::kStart, Color::kGreen);
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("blue runs as a primary"));
  EXPECT_THAT(runner_.Commands(), IsEmpty());
}

TEST_F(PgStartCopyTest, StartAsPrimaryWhenTheOtherIsAStandbyOfIt) {
  Stopped(Color::kBlue, "shut down");
  SpawnStarts(Color::kBlue, /*in_recovery=*/false);
  ASSERT_TRUE(Run(model::StepKind::kStart, Color::kBlue).ok());
  EXPECT_TRUE(host_.PostmasterAlive(Dir(Color::kBlue)));
}

TEST_F(PgStartCopyTest, StartRefusedForAFencedDirectory) {
  Stopped(Color::kBlue, "shut down");
  Directory(Color::kBlue).startup.fenced = true;
  Directory(Color::kBlue).startup.standby_signal = true;
  const absl::Status s = Run(model::StepKind::kStart, Color::kBlue);
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("fenced"));
  EXPECT_THAT(runner_.Commands(), IsEmpty());
}

TEST_F(PgStartCopyTest, StartRefusedWithoutACluster) {
  Stopped(Color::kGreen, "shut down in recovery");
  Directory(Color::kGreen).cluster = false;
  EXPECT_TRUE(absl::IsFailedPrecondition(Run(model::StepKind::kStart, Color::kGreen)));
  EXPECT_THAT(runner_.Commands(), IsEmpty());
}

TEST_F(PgStartCopyTest, StartFindsAnotherServerOnThePort) {
  Stopped(Color::kGreen, "shut down in recovery");
  SpawnStarts(Color::kGreen, true);
  Server(Color::kGreen).data_directory = "/srv/someone-else";
  const absl::Status s = Run(model::StepKind::kStart, Color::kGreen);
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("served by another server"));
}

TEST_F(PgStartCopyTest, StartOfAPostgresThatExitsAtOnce) {
  Stopped(Color::kGreen, "shut down in recovery");
  Directory(Color::kGreen).log = "FATAL:  could not load pg_hba.conf";
  runner_.OnSpawn(
      [](const util::Command&, const std::string&) { return absl::StatusOr<int>(301); });
  const absl::Status s = Run(model::StepKind::kStart, Color::kGreen);
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("exited during start-up"));
  EXPECT_THAT(s.message(), HasSubstr("pg_hba.conf"));
}

TEST_F(PgStartCopyTest, StartWithoutThePostgresProgram) {
  Stopped(Color::kGreen, "shut down in recovery");
  runner_.OnSpawn([](const util::Command&, const std::string&) -> absl::StatusOr<int> {
    return absl::NotFoundError("postgres: no such file");
  });
  const absl::Status s = Run(model::StepKind::kStart, Color::kGreen);
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("binDirectory"));
}

// --- create-slot ---

TEST_F(PgStartCopyTest, CreateSlotOnThePrimaryOnce) {
  StepOutcome out;
  ASSERT_TRUE(actuator_.Run(dc_, CopyStep(model::StepKind::kCreateSlot, Color::kGreen), &out).ok());
  EXPECT_EQ(Server(Color::kBlue).slots, (std::set<std::string>{model::SlotName(Color::kGreen)}));
  EXPECT_THAT(out.detail, HasSubstr("created slot"));
  ASSERT_TRUE(actuator_.Run(dc_, CopyStep(model::StepKind::kCreateSlot, Color::kGreen), &out).ok());
  EXPECT_THAT(out.detail, HasSubstr("exists"));
}

// The standby about to be promoted gets the old primary's slot before the fence: created
// there, it reserves WAL from before the fork (pkg/plan/README.md §3).
TEST_F(PgStartCopyTest, CreateSlotOnAStandby) {
  ASSERT_TRUE(
      actuator_.Run(dc_, CopyStep(model::StepKind::kCreateSlot, Color::kBlue), nullptr).ok());
  EXPECT_EQ(Server(Color::kGreen).slots, (std::set<std::string>{model::SlotName(Color::kBlue)}));
}

// --- drop-slot ---

TEST_F(PgStartCopyTest, DropSlotDropsAnInactiveSlotAndIsIdempotent) {
  Server(Color::kBlue).slots = {model::SlotName(Color::kGreen), "backup_tool"};
  StepOutcome out;
  ASSERT_TRUE(actuator_.Run(dc_, CopyStep(model::StepKind::kDropSlot, Color::kGreen), &out).ok());
  EXPECT_EQ(Server(Color::kBlue).slots, (std::set<std::string>{"backup_tool"}));
  EXPECT_THAT(out.detail, HasSubstr("dropped slot switchyard_green"));
  ASSERT_TRUE(actuator_.Run(dc_, CopyStep(model::StepKind::kDropSlot, Color::kGreen), &out).ok());
  EXPECT_THAT(out.detail, HasSubstr("does not exist"));
}

TEST_F(PgStartCopyTest, DropSlotRefusesAnActiveSlot) {
  Server(Color::kBlue).slots = {model::SlotName(Color::kGreen)};
  Server(Color::kBlue).active_slots = {model::SlotName(Color::kGreen)};
  const absl::Status s =
      actuator_.Run(dc_, CopyStep(model::StepKind::kDropSlot, Color::kGreen), nullptr);
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("active"));
  EXPECT_EQ(Server(Color::kBlue).slots, (std::set<std::string>{model::SlotName(Color::kGreen)}));
}

TEST_F(PgStartCopyTest, CreateSlotMadeInBetweenIsDone) {
  pg_.FailNext(Address(Color::kBlue), "pg_create_physical_replication_slot",
               absl::AlreadyExistsError("replication slot exists (SQLSTATE 42710)"));
  EXPECT_TRUE(
      actuator_.Run(dc_, CopyStep(model::StepKind::kCreateSlot, Color::kGreen), nullptr).ok());
}

TEST_F(PgStartCopyTest, CreateSlotWithoutThePrivilege) {
  pg_.FailNext(Address(Color::kBlue), "pg_create_physical_replication_slot",
               absl::PermissionDeniedError("permission denied (SQLSTATE 42501)"));
  const absl::Status s =
      actuator_.Run(dc_, CopyStep(model::StepKind::kCreateSlot, Color::kGreen), nullptr);
  EXPECT_TRUE(absl::IsPermissionDenied(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("creating slot"));
}

// --- configure-standby ---

TEST_F(PgStartCopyTest, ConfigureStandbyOfAStoppedFencedServerRemovesTheFence) {
  GreenPrimaryBlueStopped();
  Directory(Color::kBlue).local_slots = {"backup_tool", "switchyard_green"};
  ASSERT_TRUE(
      actuator_.Run(dc_, CopyStep(model::StepKind::kConfigureStandby, Color::kBlue), nullptr).ok());
  const model::StartupConfig& startup = Directory(Color::kBlue).startup;
  EXPECT_TRUE(startup.standby_signal);
  EXPECT_FALSE(startup.fenced);
  EXPECT_THAT(startup.primary_conninfo, HasSubstr("port=15434"));
  EXPECT_THAT(startup.primary_conninfo, HasSubstr("application_name=blue"));
  EXPECT_EQ(startup.primary_slot_name, model::SlotName(Color::kBlue));
  // Only Switchyard's own slot goes: the backup tool's stays.
  EXPECT_EQ(Directory(Color::kBlue).local_slots, std::vector<std::string>{"backup_tool"});
}

TEST_F(PgStartCopyTest, ConfigureStandbyRefusedWhileItRuns) {
  const absl::Status s =
      actuator_.Run(dc_, CopyStep(model::StepKind::kConfigureStandby, Color::kGreen), nullptr);
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("stop it first"));
}

TEST_F(PgStartCopyTest, ConfigureStandbyFailingToWrite) {
  GreenPrimaryBlueStopped();
  host_.FailNext("ConfigureStandbyDirectory", absl::PermissionDeniedError("postgresql.auto.conf"));
  EXPECT_TRUE(absl::IsPermissionDenied(
      actuator_.Run(dc_, CopyStep(model::StepKind::kConfigureStandby, Color::kBlue), nullptr)));
  EXPECT_TRUE(Directory(Color::kBlue).startup.fenced);
}

// --- rewind ---

TEST_F(PgStartCopyTest, RewindWithTheOperatorsConsentThenConfigures) {
  GreenPrimaryBlueStopped();
  Consent(Color::kBlue);
  StepOutcome out;
  ASSERT_TRUE(actuator_.Run(dc_, CopyStep(model::StepKind::kRewind, Color::kBlue), &out).ok())
      << out.detail;
  EXPECT_THAT(AllCommands(), HasSubstr("pg_rewind --target-pgdata=" + Dir(Color::kBlue)));
  EXPECT_EQ(Server(Color::kGreen).checkpoints, 1);  // pg_rewind reads the source's pg_control
  EXPECT_FALSE(Directory(Color::kBlue).startup.fenced);
  EXPECT_TRUE(Directory(Color::kBlue).startup.standby_signal);
  EXPECT_FALSE(host_.CopyLocked(Dir(Color::kBlue)));  // released with the step
}

TEST_F(PgStartCopyTest, RewindOfAPackagedClusterGivesPgRewindItsConfigFile) {
  GreenPrimaryBlueStopped();
  dc_.spec.blue.database.config_file = "/etc/postgresql/15/shop-blue/postgresql.conf";
  Consent(Color::kBlue);
  StepOutcome out;
  ASSERT_TRUE(actuator_.Run(dc_, CopyStep(model::StepKind::kRewind, Color::kBlue), &out).ok())
      << out.detail;
  EXPECT_THAT(AllCommands(),
              HasSubstr("--config-file=/etc/postgresql/15/shop-blue/postgresql.conf"));
}

TEST_F(PgStartCopyTest, RewindRefusedByWhyNotReplace) {
  GreenPrimaryBlueStopped();  // blue's history is unknown to the fake: it may hold writes
  const absl::Status s =
      actuator_.Run(dc_, CopyStep(model::StepKind::kRewind, Color::kBlue), nullptr);
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("not replacing it"));
  EXPECT_THAT(runner_.Commands(), IsEmpty());
  EXPECT_EQ(Server(Color::kGreen).checkpoints, 0);
}

// Consent per incident: blue ran and stopped again since the operator consented (another
// shutdown checkpoint): the consent names an earlier incident, and nothing is replaced.
TEST_F(PgStartCopyTest, RewindRefusedWhenTheConsentNamesAnotherIncident) {
  GreenPrimaryBlueStopped();
  Consent(Color::kBlue);
  Directory(Color::kBlue).control.checkpoint_lsn += 0x1000;
  const absl::Status s =
      actuator_.Run(dc_, CopyStep(model::StepKind::kRewind, Color::kBlue), nullptr);
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("does not name blue's incident blue@tli="));
  EXPECT_THAT(runner_.Commands(), IsEmpty());
  EXPECT_TRUE(Directory(Color::kBlue).startup.fenced);
}

TEST_F(PgStartCopyTest, RewindRefusedWhenTheSourceIsNoPrimary) {
  Stopped(Color::kBlue, "shut down");
  Consent(Color::kBlue);
  const absl::Status s =
      actuator_.Run(dc_, CopyStep(model::StepKind::kRewind, Color::kBlue), nullptr);
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_THAT(runner_.Commands(), IsEmpty());
}

TEST_F(PgStartCopyTest, RewindRefusedWhileItRuns) {
  Consent(Color::kGreen);
  EXPECT_TRUE(absl::IsFailedPrecondition(
      actuator_.Run(dc_, CopyStep(model::StepKind::kRewind, Color::kGreen), nullptr)));
  EXPECT_THAT(runner_.Commands(), IsEmpty());
}

TEST_F(PgStartCopyTest, RewindWaitsForAnotherCopy) {
  GreenPrimaryBlueStopped();
  Consent(Color::kBlue);
  host_.HoldCopyLock(Dir(Color::kBlue));
  const absl::Status s =
      actuator_.Run(dc_, CopyStep(model::StepKind::kRewind, Color::kBlue), nullptr);
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_THAT(runner_.Commands(), IsEmpty());
}

TEST_F(PgStartCopyTest, RewindFailingIsAbortedForABasebackup) {
  GreenPrimaryBlueStopped();
  Consent(Color::kBlue);
  runner_.OnRun([](const util::Command&) -> absl::StatusOr<util::CommandResult> {
    return util::CommandResult{1, "pg_rewind: fatal: could not find common ancestor"};
  });
  const absl::Status s =
      actuator_.Run(dc_, CopyStep(model::StepKind::kRewind, Color::kBlue), nullptr);
  EXPECT_TRUE(absl::IsAborted(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("common ancestor"));
  EXPECT_TRUE(Directory(Color::kBlue).startup.fenced);  // not configured
}

// pg_rewind refusing the directory as another cluster is no failure to rewind: no fallback.
TEST_F(PgStartCopyTest, RewindRefusingAnotherClusterIsFailedPreconditionNotAborted) {
  GreenPrimaryBlueStopped();
  Consent(Color::kBlue);
  runner_.OnRun([](const util::Command&) -> absl::StatusOr<util::CommandResult> {
    return util::CommandResult{
        1, "pg_rewind: fatal: source and target clusters are from different systems"};
  });
  const absl::Status s =
      actuator_.Run(dc_, CopyStep(model::StepKind::kRewind, Color::kBlue), nullptr);
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("refused another cluster"));
}

// --- basebackup ---

TEST_F(PgStartCopyTest, BasebackupCopiesConfiguresAndSwapsIn) {
  GreenPrimaryBlueStopped();
  Consent(Color::kBlue);
  Directory(Color::kBlue).control.system_identifier = 99;  // the old cluster's
  runner_.OnRun([&](const util::Command& cmd) -> absl::StatusOr<util::CommandResult> {
    EXPECT_EQ(cmd.argv[4], host::CopyDirectory(Dir(Color::kBlue)));
    host_.Directory(host::CopyDirectory(Dir(Color::kBlue)));  // the copy: a stopped cluster
    return util::CommandResult{};
  });
  ASSERT_TRUE(
      actuator_.Run(dc_, CopyStep(model::StepKind::kBasebackup, Color::kBlue), nullptr).ok());
  EXPECT_EQ(Directory(Color::kBlue).control.system_identifier, 7u);  // the copy is in place
  EXPECT_TRUE(Directory(Color::kBlue).startup.standby_signal);
  EXPECT_EQ(Directory(Color::kBlue).startup.primary_slot_name, model::SlotName(Color::kBlue));
  EXPECT_FALSE(host_.Exists(host::CopyDirectory(Dir(Color::kBlue))));
}

TEST_F(PgStartCopyTest, BasebackupIntoAnEmptyDirectoryNeedsNoConsent) {
  GreenPrimaryBlueStopped();
  host_.Remove(Dir(Color::kBlue));
  runner_.OnRun([&](const util::Command&) -> absl::StatusOr<util::CommandResult> {
    host_.Directory(host::CopyDirectory(Dir(Color::kBlue)));
    return util::CommandResult{};
  });
  ASSERT_TRUE(
      actuator_.Run(dc_, CopyStep(model::StepKind::kBasebackup, Color::kBlue), nullptr).ok());
  EXPECT_TRUE(host_.HoldsCluster(Dir(Color::kBlue)));
}

TEST_F(PgStartCopyTest, BasebackupRefusedByWhyNotReplace) {
  GreenPrimaryBlueStopped();
  const absl::Status s =
      actuator_.Run(dc_, CopyStep(model::StepKind::kBasebackup, Color::kBlue), nullptr);
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_THAT(runner_.Commands(), IsEmpty());
  EXPECT_TRUE(Directory(Color::kBlue).startup.fenced);
}

TEST_F(PgStartCopyTest, BasebackupRefusedOverAnUnreadableDirectory) {
  GreenPrimaryBlueStopped();
  Consent(Color::kBlue);
  Directory(Color::kBlue).control_error = absl::DataLossError("untrustworthy");
  const absl::Status s =
      actuator_.Run(dc_, CopyStep(model::StepKind::kBasebackup, Color::kBlue), nullptr);
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("cannot be read"));
  EXPECT_THAT(runner_.Commands(), IsEmpty());
}

TEST_F(PgStartCopyTest, BasebackupFailingLeavesTheOldDirectory) {
  GreenPrimaryBlueStopped();
  Consent(Color::kBlue);
  runner_.OnRun([&](const util::Command&) -> absl::StatusOr<util::CommandResult> {
    host_.Directory(host::CopyDirectory(Dir(Color::kBlue))).cluster = false;  // half a copy
    return util::CommandResult{1, "pg_basebackup: error: connection lost"};
  });
  const absl::Status s =
      actuator_.Run(dc_, CopyStep(model::StepKind::kBasebackup, Color::kBlue), nullptr);
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("connection lost"));
  EXPECT_FALSE(host_.Exists(host::CopyDirectory(Dir(Color::kBlue))));
  EXPECT_TRUE(Directory(Color::kBlue).startup.fenced);
}

TEST_F(PgStartCopyTest, BasebackupCompletesASwapACrashInterrupted) {
  GreenPrimaryBlueStopped();
  host_.Directory(Dir(Color::kBlue) + ".old") = Directory(Color::kBlue);
  host_.Remove(Dir(Color::kBlue));
  host_.Directory(host::CopyDirectory(Dir(Color::kBlue))).control.system_identifier = 7;
  StepOutcome out;
  ASSERT_TRUE(actuator_.Run(dc_, CopyStep(model::StepKind::kBasebackup, Color::kBlue), &out).ok());
  EXPECT_THAT(out.detail, HasSubstr("finished swapping"));
  EXPECT_FALSE(host_.Exists(Dir(Color::kBlue) + ".old"));
  EXPECT_THAT(runner_.Commands(), IsEmpty());
}

TEST_F(PgStartCopyTest, BasebackupPutsTheOldDirectoryBackAfterAnIncompleteCopy) {
  GreenPrimaryBlueStopped();
  host_.Directory(Dir(Color::kBlue) + ".old") = Directory(Color::kBlue);
  host_.Remove(Dir(Color::kBlue));
  host_.Directory(host::CopyDirectory(Dir(Color::kBlue))).cluster = false;
  const absl::Status s =
      actuator_.Run(dc_, CopyStep(model::StepKind::kBasebackup, Color::kBlue), nullptr);
  EXPECT_TRUE(absl::IsAborted(s)) << s;
  EXPECT_TRUE(Directory(Color::kBlue).startup.fenced);  // the old one is back
  EXPECT_THAT(runner_.Commands(), IsEmpty());
}

}  // namespace
}  // namespace sy::actuate
