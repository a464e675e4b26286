// The fence, promote, checkpoint, lift-fence and stop steps of PostgresActuator over the
// fakes: each one's success, the refusals its safety re-checks enforce, and failing commands.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include "tests/unit/actuate/pg_step_fixture.h"

namespace sy::actuate {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

// --- fence ---

TEST_F(PgStepTest, FenceWritesTheFenceThenCheckpointsThenStopsThePrimary) {
  StepOutcome out;
  ASSERT_TRUE(Run(model::StepKind::kFence, Color::kBlue, &out).ok());
  EXPECT_TRUE(Directory(Color::kBlue).startup.fenced);
  EXPECT_TRUE(Directory(Color::kBlue).startup.standby_signal);
  EXPECT_THAT(Directory(Color::kBlue).fence_note, HasSubstr("default/shop"));
  EXPECT_FALSE(host_.PostmasterAlive(Dir(Color::kBlue)));
  EXPECT_EQ(Directory(Color::kBlue).control.cluster_state, "shut down");
  EXPECT_EQ(Server(Color::kBlue).checkpoints, 1);
  EXPECT_EQ(host_.Signals(), (std::vector<std::pair<int, int>>{{100, SIGINT}}));
  EXPECT_TRUE(out.writes_stopped_at.has_value());
  EXPECT_TRUE(pg_.Dropped(Address(Color::kBlue)));
  // Done: a second run only writes the (present) fence again.
  EXPECT_TRUE(Run(model::StepKind::kFence, Color::kBlue).ok());
  EXPECT_EQ(host_.Signals().size(), 1u);
}

TEST_F(PgStepTest, FenceRefusedWhenTheStandbyNoLongerStreams) {
  Server(Color::kBlue).streaming.clear();
  const absl::Status s = Run(model::StepKind::kFence, Color::kBlue);
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("no longer streams"));
  EXPECT_FALSE(Directory(Color::kBlue).startup.fenced);
  EXPECT_THAT(host_.Signals(), IsEmpty());
}

TEST_F(PgStepTest, FenceRefusedOnAStandby) {
  const absl::Status s = Run(model::StepKind::kFence, Color::kGreen);
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_FALSE(Directory(Color::kGreen).startup.fenced);
  EXPECT_THAT(host_.Signals(), IsEmpty());
}

TEST_F(PgStepTest, FenceOfAStoppedServerOnlyWritesTheFence) {
  host_.Process(Pid(Color::kBlue)).alive = false;
  Directory(Color::kBlue).pid.reset();
  ASSERT_TRUE(Run(model::StepKind::kFence, Color::kBlue).ok());
  EXPECT_TRUE(Directory(Color::kBlue).startup.fenced);
  EXPECT_THAT(pg_.Statements(), IsEmpty());
}

TEST_F(PgStepTest, FenceOfAPostmasterThatTakesNoConnectionsIsRetried) {
  Server(Color::kBlue).reachable = false;
  const absl::Status s = Run(model::StepKind::kFence, Color::kBlue);
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_FALSE(Directory(Color::kBlue).startup.fenced);
}

TEST_F(PgStepTest, FenceWithAFailingCheckpointKeepsTheFenceAndTheServerRunning) {
  pg_.FailNext(Address(Color::kBlue), "CHECKPOINT",
               absl::UnavailableError("querying 127.0.0.1:15433: no reply within 60000 ms"));
  const absl::Status s = Run(model::StepKind::kFence, Color::kBlue);
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("fencing blue (127.0.0.1:15433)"));
  EXPECT_TRUE(Directory(Color::kBlue).startup.fenced);  // durable before anything stops
  EXPECT_TRUE(host_.PostmasterAlive(Dir(Color::kBlue)));
}

TEST_F(PgStepTest, FenceFailsWhenTheFenceCannotBeWritten) {
  host_.FailNext("FenceDirectory", absl::PermissionDeniedError("writing standby.signal"));
  const absl::Status s = Run(model::StepKind::kFence, Color::kBlue);
  EXPECT_TRUE(absl::IsPermissionDenied(s)) << s;
  EXPECT_EQ(Server(Color::kBlue).checkpoints, 0);
  EXPECT_TRUE(host_.PostmasterAlive(Dir(Color::kBlue)));
}

TEST_F(PgStepTest, FenceOfAFrozenPostmasterTimesOut) {
  host_.Process(Pid(Color::kBlue)).frozen = true;
  const absl::Status s = Run(model::StepKind::kFence, Color::kBlue);
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("still running"));
}

// --- promote ---

TEST_F(PgStepTest, PromoteRecordsTheRequestInTheFencePromotesAndCheckpoints) {
  FencedBlue();
  StepOutcome out;
  ASSERT_TRUE(Run(model::StepKind::kPromote, Color::kGreen, &out).ok()) << out.detail;
  EXPECT_FALSE(Server(Color::kGreen).in_recovery);
  EXPECT_EQ(Server(Color::kGreen).timeline, 2u);
  EXPECT_EQ(Server(Color::kGreen).checkpoint_timeline, 2u);  // pg_control shows it
  EXPECT_TRUE(Directory(Color::kBlue).startup.fence_promotion_requested);
  EXPECT_TRUE(out.writes_resumed_at.has_value());
  // Done: a second run finds a primary whose pg_control is current, and sends no pg_promote.
  ASSERT_TRUE(Run(model::StepKind::kPromote, Color::kGreen).ok());
  EXPECT_EQ(pg_.Count(Address(Color::kGreen), "pg_promote"), 1);
  EXPECT_EQ(Server(Color::kGreen).checkpoints, 1);
}

TEST_F(PgStepTest, PromoteRefusedBelowThePromotionThreshold) {
  FencedBlue(/*replayed=*/kBlueCheckpoint);  // the shutdown checkpoint not yet replayed
  const absl::Status s = Run(model::StepKind::kPromote, Color::kGreen);
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("not yet"));
  EXPECT_EQ(pg_.Count(Address(Color::kGreen), "pg_promote"), 0);
  EXPECT_FALSE(Directory(Color::kBlue).startup.fence_promotion_requested);
  EXPECT_TRUE(Server(Color::kGreen).in_recovery);
}

TEST_F(PgStepTest, PromoteRefusedBelowThePlannedThreshold) {
  FencedBlue();
  StepOutcome out;
  model::Step step{model::StepKind::kPromote, Color::kGreen, std::nullopt};
  step.replayed_at_least = kBlueCheckpoint + 1000;
  EXPECT_TRUE(absl::IsFailedPrecondition(actuator_.Run(dc_, step, &out)));
  EXPECT_EQ(pg_.Count(Address(Color::kGreen), "pg_promote"), 0);
}

TEST_F(PgStepTest, PromoteRefusedWhileTheOldPrimaryRuns) {
  const absl::Status s = Run(model::StepKind::kPromote, Color::kGreen);
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("not stopped"));
  EXPECT_EQ(pg_.Count(Address(Color::kGreen), "pg_promote"), 0);
}

TEST_F(PgStepTest, PromoteOverAStalePostmasterPidBesideACleanShutdown) {
  FencedBlue();
  Directory(Color::kBlue).pid = Pid(Color::kBlue);  // killed after its shutdown checkpoint
  ASSERT_TRUE(Run(model::StepKind::kPromote, Color::kGreen).ok());
  EXPECT_FALSE(Server(Color::kGreen).in_recovery);
}

TEST_F(PgStepTest, PromoteRefusedOverAStoppedButUnfencedOldPrimary) {
  host_.Process(Pid(Color::kBlue)).alive = false;
  Directory(Color::kBlue).pid.reset();
  Directory(Color::kBlue).control.cluster_state = "shut down";
  Server(Color::kGreen).replay_lsn = kBlueCheckpoint + 120;
  const absl::Status s = Run(model::StepKind::kPromote, Color::kGreen);
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("not fenced"));
  EXPECT_EQ(pg_.Count(Address(Color::kGreen), "pg_promote"), 0);
}

TEST_F(PgStepTest, PromoteRefusedOverAnOldPrimaryThatCrashedDuringItsFence) {
  FencedBlue();
  Directory(Color::kBlue).control.cluster_state = "in production";  // no clean stop proven
  const absl::Status s = Run(model::StepKind::kPromote, Color::kGreen);
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("proves no clean stop"));
}

TEST_F(PgStepTest, PromoteOfAnUnreachableStandbyWantsItStarted) {
  FencedBlue();
  Server(Color::kGreen).reachable = false;
  const absl::Status s = Run(model::StepKind::kPromote, Color::kGreen);
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("start it first"));
}

TEST_F(PgStepTest, PromoteReportsPgPromoteReturningFalse) {
  FencedBlue();
  Server(Color::kGreen).promote_signals = false;
  const absl::Status s = Run(model::StepKind::kPromote, Color::kGreen);
  EXPECT_TRUE(absl::IsInternal(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("could not signal the postmaster"));
  EXPECT_TRUE(Server(Color::kGreen).in_recovery);
}

TEST_F(PgStepTest, PromoteFailingMidStatementLeavesTheRequestRecorded) {
  FencedBlue();
  pg_.FailNext(Address(Color::kGreen), "pg_promote",
               absl::UnavailableError("127.0.0.1:15434: server closed the connection"));
  const absl::Status s = Run(model::StepKind::kPromote, Color::kGreen);
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_TRUE(Directory(Color::kBlue).startup.fence_promotion_requested);
}

TEST_F(PgStepTest, PromoteThatNeverEndsTimesOutWithTheRequestPending) {
  FencedBlue();
  Server(Color::kGreen).polls_until_promoted = -1;
  const absl::Status s = Run(model::StepKind::kPromote, Color::kGreen);
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("still in recovery"));
}

TEST_F(PgStepTest, PromoteWhoseCheckpointFailsSaysThePromotionHappened) {
  FencedBlue();
  pg_.FailNext(Address(Color::kGreen), "CHECKPOINT", absl::InternalError("could not fsync"));
  const absl::Status s = Run(model::StepKind::kPromote, Color::kGreen);
  EXPECT_TRUE(absl::IsInternal(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("(after the promotion)"));
  EXPECT_FALSE(Server(Color::kGreen).in_recovery);
}

// --- checkpoint ---

TEST_F(PgStepTest, CheckpointRunsWhenPgControlShowsAnOlderTimeline) {
  Server(Color::kBlue).timeline = 2;  // promoted, pg_control still on 1
  ASSERT_TRUE(Run(model::StepKind::kCheckpoint, Color::kBlue).ok());
  EXPECT_EQ(Server(Color::kBlue).checkpoints, 1);
  ASSERT_TRUE(Run(model::StepKind::kCheckpoint, Color::kBlue).ok());  // done: nothing more
  EXPECT_EQ(Server(Color::kBlue).checkpoints, 1);
}

TEST_F(PgStepTest, CheckpointRefusedOnAStandby) {
  const absl::Status s = Run(model::StepKind::kCheckpoint, Color::kGreen);
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_EQ(Server(Color::kGreen).checkpoints, 0);
}

TEST_F(PgStepTest, CheckpointFailingIsReported) {
  Server(Color::kBlue).timeline = 2;
  pg_.FailNext(Address(Color::kBlue), "CHECKPOINT", absl::UnavailableError("no reply"));
  const absl::Status s = Run(model::StepKind::kCheckpoint, Color::kBlue);
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("checkpointing blue"));
}

// --- lift-fence ---

TEST_F(PgStepTest, LiftFenceWhileTheOtherRunsAsAStandbyNeverAskedToPromote) {
  FencedBlue();
  ASSERT_TRUE(Run(model::StepKind::kLiftFence, Color::kBlue).ok());
  EXPECT_FALSE(Directory(Color::kBlue).startup.fenced);
  EXPECT_FALSE(Directory(Color::kBlue).startup.standby_signal);
}

TEST_F(PgStepTest, LiftFenceRefusedWhileTheOtherMayPromote) {
  FencedBlue();
  Directory(Color::kBlue).startup.fence_promotion_requested = true;  // a promote step began
  const absl::Status s = Run(model::StepKind::kLiftFence, Color::kBlue);
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("asked to promote"));
  EXPECT_TRUE(Directory(Color::kBlue).startup.fenced);
}

TEST_F(PgStepTest, LiftFenceRefusedWhileTheOtherHasAPromotionPending) {
  FencedBlue();
  Directory(Color::kGreen).startup.promote_requested = true;
  EXPECT_TRUE(absl::IsFailedPrecondition(Run(model::StepKind::kLiftFence, Color::kBlue)));
  EXPECT_TRUE(Directory(Color::kBlue).startup.fenced);
}

TEST_F(PgStepTest, LiftFenceOfARunningServerOnlyForAPrimary) {
  Directory(Color::kGreen).startup.fenced = true;
  const absl::Status s = Run(model::StepKind::kLiftFence, Color::kGreen);
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("not a primary"));
  EXPECT_TRUE(Directory(Color::kGreen).startup.fenced);
}

TEST_F(PgStepTest, LiftFenceFailingToWriteIsReported) {
  FencedBlue();
  host_.FailNext("LiftFenceDirectory", absl::PermissionDeniedError("removing standby.signal"));
  EXPECT_TRUE(absl::IsPermissionDenied(Run(model::StepKind::kLiftFence, Color::kBlue)));
  EXPECT_TRUE(Directory(Color::kBlue).startup.fenced);
}

// --- stop ---

TEST_F(PgStepTest, StopCancelsAPendingPromotionThenStopsTheStandby) {
  Directory(Color::kGreen).startup.promote_requested = true;
  ASSERT_TRUE(Run(model::StepKind::kStop, Color::kGreen).ok());
  EXPECT_FALSE(Directory(Color::kGreen).startup.promote_requested);
  EXPECT_FALSE(host_.PostmasterAlive(Dir(Color::kGreen)));
  EXPECT_EQ(Directory(Color::kGreen).control.cluster_state, "shut down in recovery");
  ASSERT_TRUE(Run(model::StepKind::kStop, Color::kGreen).ok());  // done: already stopped
  EXPECT_EQ(host_.Signals().size(), 1u);
}

TEST_F(PgStepTest, StopRefusedForTheOnlyPrimary) {
  const absl::Status s = Run(model::StepKind::kStop, Color::kBlue);
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("only primary"));
  EXPECT_TRUE(host_.PostmasterAlive(Dir(Color::kBlue)));
  EXPECT_FALSE(Directory(Color::kBlue).startup.fenced);
}

TEST_F(PgStepTest, StopOfASecondPrimaryFencesItFirst) {
  Directory(Color::kGreen).control.cluster_state = "in production";  // a split brain
  ASSERT_TRUE(Run(model::StepKind::kStop, Color::kBlue).ok());
  EXPECT_TRUE(Directory(Color::kBlue).startup.fenced);
  EXPECT_FALSE(host_.PostmasterAlive(Dir(Color::kBlue)));
}

TEST_F(PgStepTest, StopRefusedWhenPgControlCannotBeRead) {
  Directory(Color::kGreen).control_error = absl::DataLossError("untrustworthy");
  const absl::Status s = Run(model::StepKind::kStop, Color::kGreen);
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_TRUE(host_.PostmasterAlive(Dir(Color::kGreen)));
}

TEST_F(PgStepTest, StopOfAnotherUsersPostmasterGoesThroughPgCtl) {
  host_.Process(Pid(Color::kGreen)).signal_denied = true;
  runner_.OnRun([&](const util::Command& cmd) -> absl::StatusOr<util::CommandResult> {
    host_.Process(Pid(Color::kGreen)).signal_denied = false;
    EXPECT_TRUE(host_.SignalProcess(Pid(Color::kGreen), SIGINT).ok());  // what pg_ctl does
    EXPECT_EQ(cmd.run_as, dc_.spec.database.os_user);
    return util::CommandResult{};
  });
  ASSERT_TRUE(Run(model::StepKind::kStop, Color::kGreen).ok());
  ASSERT_EQ(runner_.Commands().size(), 1u);
  EXPECT_EQ(runner_.Commands()[0][1], "stop");
  EXPECT_FALSE(host_.PostmasterAlive(Dir(Color::kGreen)));
}

TEST_F(PgStepTest, StopOfAPostmasterThatCrashesIsAborted) {
  host_.Process(Pid(Color::kGreen)).crashes_on_stop = true;
  const absl::Status s = Run(model::StepKind::kStop, Color::kGreen);
  EXPECT_TRUE(absl::IsAborted(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("without a clean shutdown"));
}

}  // namespace
}  // namespace sy::actuate
