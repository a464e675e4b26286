// The real-fault scenarios that once made two primaries or destroyed acknowledged writes,
// replayed on FakeCluster from start to convergence: a flip back during a stalled
// promotion, a fenced old primary restarted by someone else, a failing pg_controldata on a
// crashed old primary, a new primary crashing before its first checkpoint, and others acting
// between the observation and the step. Each checks the ground truth after every pass.
#include <gtest/gtest.h>

#include "pkg/model/topology.h"
#include "pkg/plan/planner.h"
#include "tests/fakes/fake_cluster.h"
#include "tests/fakes/plan_driver.h"

namespace sy::plan {
namespace {

using api::Color;
using api::Phase;
using fakes::FakeCluster;

constexpr Color kBlue = Color::kBlue;
constexpr Color kGreen = Color::kGreen;

class SafetyTest : public ::testing::Test {
 protected:
  // Passes (with ground-truth checks after each) until one plans no step that is not a
  // poll; returns that plan. Steps may fail: the next pass re-plans.
  Plan SettleChecked(int max_passes = 60) {
    Plan last;
    for (int i = 0; i < max_passes; ++i) {
      const fakes::DrivenPass p = fakes::Pass(cluster_, &dc_);
      last = p.plan;
      EXPECT_TRUE(cluster_.Violations().empty()) << cluster_.Violations().front();
      if (p.plan.step) {
        steps_.push_back(model::Describe(*p.plan.step) +
                         (p.step_status.ok() ? "" : " (" + p.step_status.ToString() + ")"));
      }
      if (p.plan.done() && p.plan.wait != Wait::kPoll) {
        return last;
      }
      cluster_.clock().Advance(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "no settled plan after " << max_passes << " passes";
    return last;
  }
  void Desire(Color c) {
    dc_.spec.active_color = c;
    ++dc_.metadata.generation;
  }
  int CountSteps(model::StepKind kind) {
    int n = 0;
    for (const auto& s : cluster_.Steps()) {
      n += s.step.kind == kind ? 1 : 0;
    }
    return n;
  }
  void ExpectConvergedOn(Color c) {
    const Plan p = SettleChecked();
    EXPECT_EQ(p.reason, "Converged") << p.message;
    EXPECT_TRUE(cluster_.RunningPrimary(c));
    EXPECT_EQ(cluster_.RunningPrimaries(), 1);
    const absl::Status lost = cluster_.CheckNoAcknowledgedWriteLost();
    EXPECT_TRUE(lost.ok()) << lost;
  }

  FakeCluster cluster_;
  api::DeploymentColor dc_ = fakes::FakeResource(kBlue);
  std::vector<std::string> steps_;
};

// Issue scenario 1: green's postmaster frozen, flip to green: the fence works, pg_promote()
// times out and stays pending. Flip back to blue: nothing may start blue as a primary while
// green can still act on the request; once green is thawed (it stops first: the shutdown
// request outranks the promotion) blue comes back as the primary and green as its standby.
TEST_F(SafetyTest, FlipBackDuringAStalledPromotion) {
  ASSERT_TRUE(cluster_.Write().ok());
  cluster_.SetFrozen(kGreen, true);
  Desire(kGreen);
  for (int i = 0; i < 10 && CountSteps(model::StepKind::kPromote) == 0; ++i) {
    (void)fakes::Pass(cluster_, &dc_);
  }
  ASSERT_EQ(CountSteps(model::StepKind::kPromote), 1);
  ASSERT_TRUE(cluster_.server(kGreen).promote_requested);
  ASSERT_FALSE(cluster_.server(kBlue).Running());

  Desire(kBlue);
  const Plan held = SettleChecked();
  EXPECT_EQ(held.reason, "ServerUnreachable") << held.message;  // green does not respond
  EXPECT_FALSE(cluster_.server(kBlue).Running());
  EXPECT_EQ(CountSteps(model::StepKind::kLiftFence), 0);

  cluster_.SetFrozen(kGreen, false);
  EXPECT_EQ(cluster_.RunningPrimaries(), 0);  // green stopped instead of promoting
  ExpectConvergedOn(kBlue);
  EXPECT_EQ(cluster_.server(kGreen).mode, fakes::Mode::kStandby);
  EXPECT_EQ(CountSteps(model::StepKind::kRewind) + CountSteps(model::StepKind::kBasebackup), 0);
}

// Found by the 500-flip nemesis: the old primary's postmaster is killed after its shutdown
// checkpoint, before it removed postmaster.pid ("shut down" with a stale postmaster.pid).
// It is fenced, its checkpoint is the promotion threshold, and green is promoted; before the
// fix the stale file made it "not cleanly shut down": fence and lift-fence alternated.
TEST_F(SafetyTest, AStalePostmasterPidAfterACleanShutdownIsNoCrash) {
  ASSERT_TRUE(cluster_.Write().ok());
  cluster_.KillAfterShutdownCheckpoint(kBlue);
  ASSERT_TRUE(cluster_.server(kBlue).stale_pid);
  Desire(kGreen);
  ExpectConvergedOn(kGreen);
  EXPECT_EQ(CountSteps(model::StepKind::kLiftFence), 0);
  EXPECT_EQ(CountSteps(model::StepKind::kFence), 1);
  EXPECT_EQ(CountSteps(model::StepKind::kRewind) + CountSteps(model::StepKind::kBasebackup), 0);
}

// The same, but green is thawed (and promotes) before any pass sees the flip back: blue
// stays fenced and rejoins green; then the switch back to blue runs the normal protocol.
TEST_F(SafetyTest, APendingPromotionThatCompletesBeforeTheFlipBackIsFollowed) {
  ASSERT_TRUE(cluster_.Write().ok());
  cluster_.SetFrozen(kGreen, true);
  Desire(kGreen);
  for (int i = 0; i < 10 && CountSteps(model::StepKind::kPromote) == 0; ++i) {
    (void)fakes::Pass(cluster_, &dc_);
  }
  Desire(kBlue);
  cluster_.SetFrozen(kGreen, false);
  ASSERT_TRUE(cluster_.RunningPrimary(kGreen));
  ExpectConvergedOn(kBlue);
  EXPECT_EQ(CountSteps(model::StepKind::kRewind) + CountSteps(model::StepKind::kBasebackup), 0);
}

// Issue scenario 2: the daemon stops right after the promotion; someone (systemd, an
// operator, the local stack's script) starts the fenced old primary with pg_ctl. It comes up
// read-only; the next passes rejoin it.
TEST_F(SafetyTest, AFencedOldPrimaryRestartedBySomeoneElseIsNoSecondPrimary) {
  ASSERT_TRUE(cluster_.Write().ok());
  Desire(kGreen);
  ASSERT_TRUE(fakes::RunUntil(cluster_, &dc_, model::StepKind::kConfigureStandby).has_value());
  ASSERT_TRUE(cluster_.RunningPrimary(kGreen));
  cluster_.StartServer(kBlue);
  EXPECT_EQ(cluster_.server(kBlue).mode, fakes::Mode::kStandby);
  EXPECT_TRUE(cluster_.Violations().empty());
  ASSERT_TRUE(cluster_.Write().ok());
  ExpectConvergedOn(kGreen);
}

// ... and started between the fence and the promotion: stopped again, then the promotion.
TEST_F(SafetyTest, AFencedOldPrimaryRestartedBeforeThePromotion) {
  Desire(kGreen);
  ASSERT_TRUE(fakes::RunUntil(cluster_, &dc_, model::StepKind::kPromote).has_value());
  cluster_.StartServer(kBlue);
  EXPECT_EQ(cluster_.RunningPrimaries(), 0);
  ExpectConvergedOn(kGreen);
}

// ... or started between the observation that planned the promotion and the promotion: the
// step re-checks and refuses; the next pass stops blue again.
TEST_F(SafetyTest, AStartBetweenObservationAndPromotionIsCaughtByTheStep) {
  Desire(kGreen);
  ASSERT_TRUE(fakes::RunUntil(cluster_, &dc_, model::StepKind::kPromote).has_value());
  cluster_.BeforeNextStep([](FakeCluster& c) { c.StartServer(kBlue); });
  const fakes::DrivenPass p = fakes::Pass(cluster_, &dc_);
  ASSERT_TRUE(p.plan.step && p.plan.step->kind == model::StepKind::kPromote);
  EXPECT_TRUE(absl::IsFailedPrecondition(p.step_status)) << p.step_status;
  EXPECT_EQ(cluster_.RunningPrimaries(), 0);
  ExpectConvergedOn(kGreen);
}

// A promotion behind Switchyard's back between the observation that planned starting a
// crashed primary and that start: the start re-checks and refuses (no second primary).
TEST_F(SafetyTest, APromotionBetweenObservationAndStartIsCaughtByTheStep) {
  cluster_.CrashServer(kBlue);
  const fakes::DrivenPass planned = [&] {
    cluster_.BeforeNextStep([](FakeCluster& c) { c.PromoteBehindBack(kGreen); });
    return fakes::Pass(cluster_, &dc_);
  }();
  ASSERT_TRUE(planned.plan.step && planned.plan.step->kind == model::StepKind::kStart &&
              planned.plan.step->target == kBlue);
  EXPECT_TRUE(absl::IsFailedPrecondition(planned.step_status)) << planned.step_status;
  EXPECT_EQ(cluster_.RunningPrimaries(), 1);
  EXPECT_TRUE(cluster_.Violations().empty());
}

// Issue scenario 3: a crashed old primary holding a write the primary lacks, and
// pg_controldata failing on it: no copy over it, no loop of copies; once it can be read, it
// is reported diverged and kept.
TEST_F(SafetyTest, AFailingPgControldataNeverReplacesData) {
  cluster_.SetLagging(kGreen, true);
  ASSERT_TRUE(cluster_.Write().ok());  // on blue only
  cluster_.CrashServer(kBlue);
  cluster_.PromoteBehindBack(kGreen);  // an operator's failover (blue could not restart)
  cluster_.SetLagging(kGreen, false);
  cluster_.SetControlDataFault(kBlue, fakes::ControlFault::kFails);
  Desire(kGreen);
  for (int i = 0; i < 3; ++i) {
    const Plan p = SettleChecked();
    EXPECT_EQ(p.reason, "ServerUnreadable") << p.message;
    EXPECT_EQ(p.wait, Wait::kRetry);
  }
  cluster_.SetControlDataFault(kBlue, fakes::ControlFault::kUntrustworthy);
  EXPECT_EQ(SettleChecked().reason, "ServerUnreadable");
  EXPECT_EQ(CountSteps(model::StepKind::kBasebackup) + CountSteps(model::StepKind::kRewind), 0);
  cluster_.SetControlDataFault(kBlue, fakes::ControlFault::kNone);
  EXPECT_EQ(SettleChecked().reason, "SplitBrain");
  EXPECT_EQ(CountSteps(model::StepKind::kBasebackup) + CountSteps(model::StepKind::kRewind), 0);
  EXPECT_EQ(cluster_.WritesOn(kBlue).count(1), 1u);
}

// Issue scenario 4: the new primary crashes after acknowledging writes and before its first
// checkpoint; pg_control still shows the old timeline. It is started (its pg_wal shows the
// newer timeline), not the old primary over it; then a switch back loses nothing.
TEST_F(SafetyTest, ANewPrimaryCrashingBeforeItsFirstCheckpointKeepsItsWrites) {
  Desire(kGreen);
  ASSERT_TRUE(fakes::RunUntil(cluster_, &dc_, model::StepKind::kPromote).has_value());
  cluster_.PromoteBehindBack(kGreen);  // the promotion, without the checkpoint after it
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(cluster_.WriteOn(kGreen).ok());
  }
  cluster_.CrashServer(kGreen);
  ExpectConvergedOn(kGreen);
  Desire(kBlue);
  ExpectConvergedOn(kBlue);
  EXPECT_EQ(CountSteps(model::StepKind::kBasebackup) + CountSteps(model::StepKind::kRewind), 0);
}

// The same crash after a flip back was declared: green still wins (newest data); blue's
// fence stays until it rejoins green; then the normal protocol brings blue back.
TEST_F(SafetyTest, AFlipBackAfterANewPrimaryCrashedKeepsItsWrites) {
  Desire(kGreen);
  ASSERT_TRUE(fakes::RunUntil(cluster_, &dc_, model::StepKind::kPromote).has_value());
  cluster_.PromoteBehindBack(kGreen);
  ASSERT_TRUE(cluster_.WriteOn(kGreen).ok());
  cluster_.CrashServer(kGreen);
  Desire(kBlue);
  ExpectConvergedOn(kBlue);
  EXPECT_EQ(CountSteps(model::StepKind::kLiftFence), 0);
}

// An old primary that crashed while being fenced (its shutdown not clean: it may hold
// acknowledged writes the standby never got) becomes the primary again, the standby
// stopped first; the switch then starts over.
TEST_F(SafetyTest, AnOldPrimaryCrashedDuringItsFenceComesBack) {
  cluster_.SetLagging(kGreen, true);
  Desire(kGreen);
  ASSERT_TRUE(fakes::RunUntil(cluster_, &dc_, model::StepKind::kFence).has_value());
  cluster_.BeforeNextStep([](FakeCluster& c) {
    (void)c.WriteOn(kBlue);  // acknowledged, never shipped to lagging green
    c.CrashServer(kBlue);
  });
  (void)fakes::Pass(cluster_, &dc_);  // the fence finds blue crashed: it only writes the fence
  ASSERT_TRUE(cluster_.server(kBlue).fenced);
  cluster_.SetLagging(kGreen, false);
  ExpectConvergedOn(kGreen);
  EXPECT_EQ(CountSteps(model::StepKind::kLiftFence), 1);
}

// Regression: a fenced old primary that crashed before its clean shutdown, started by
// someone else and stopped again during its crash recovery, reads "shut down in recovery"
// with no minimum recovery point. That proves nothing about how far its WAL goes: green,
// which missed blue's last commits, must not be promoted over it (and rejoinMethod
// basebackup must not re-clone it); blue comes back as the primary.
TEST_F(SafetyTest, ACrashedFencedPrimaryStoppedInCrashRecoveryProvesNothing) {
  dc_.spec.database.rejoin_method = api::RejoinMethod::kBasebackup;
  cluster_.SetLagging(kGreen, true);  // blue's next commits never reach green
  Desire(kGreen);
  ASSERT_TRUE(fakes::RunUntil(cluster_, &dc_, model::StepKind::kFence).has_value());
  ASSERT_TRUE(cluster_.WriteOn(kBlue).ok());
  cluster_.SetFrozen(kBlue, true);  // the fence is written, the shutdown never happens
  ASSERT_TRUE(absl::IsUnavailable(fakes::Pass(cluster_, &dc_).step_status));
  cluster_.CrashServer(kBlue);
  cluster_.StopDuringCrashRecovery(kBlue);
  ASSERT_EQ(cluster_.server(kBlue).stopped_state, "shut down in recovery");
  cluster_.SetLagging(kGreen, false);
  ExpectConvergedOn(kGreen);  // blue's write survived: blue was the primary again first
  EXPECT_EQ(CountSteps(model::StepKind::kLiftFence), 1);
}

// Regression: green's stalled promotion completes between the observation that planned
// its cancellation (a flip back) and the stop. The stop must not shut down (and fence) the
// only primary; the pair then converges on blue by the normal protocol, losing nothing.
TEST_F(SafetyTest, APromotionCompletingBeforeItsCancellationIsFollowed) {
  cluster_.SetFrozen(kGreen, true);
  Desire(kGreen);
  for (int i = 0; i < 10 && CountSteps(model::StepKind::kPromote) == 0; ++i) {
    (void)fakes::Pass(cluster_, &dc_);
  }
  Desire(kBlue);
  cluster_.BeforeNextStep([](FakeCluster& c) {
    c.SetFrozen(kGreen, false);  // promotes
    ASSERT_TRUE(c.WriteOn(kGreen).ok());
  });
  const fakes::DrivenPass p = fakes::Pass(cluster_, &dc_);
  ASSERT_TRUE(p.plan.step && p.plan.step->kind == model::StepKind::kStop);
  EXPECT_TRUE(absl::IsFailedPrecondition(p.step_status)) << p.step_status;
  EXPECT_TRUE(cluster_.RunningPrimary(kGreen));
  ExpectConvergedOn(kBlue);
}

}  // namespace
}  // namespace sy::plan
