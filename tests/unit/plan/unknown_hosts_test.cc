// Rule (unknown hosts, pkg/plan/README.md §20) on the fake cluster: a host whose agent does
// not answer, or on which an operation is in doubt, holds every step that acts on it or rests
// on what it is, with AgentUnreachable naming it; once it answers, the pass goes on.
#include <gtest/gtest.h>

#include <string>

#include "gmock/gmock.h"
#include "pkg/model/topology.h"
#include "pkg/plan/planner.h"
#include "pkg/plan/preflight.h"
#include "tests/fakes/fake_cluster.h"
#include "tests/fakes/plan_driver.h"

namespace sy::plan {
namespace {

using api::Color;
using api::Phase;
using fakes::FakeCluster;
using model::StepKind;
using ::testing::HasSubstr;

constexpr Color kBlue = Color::kBlue;
constexpr Color kGreen = Color::kGreen;
constexpr char kGreenUnreachable[] = "agent 10.0.0.2:9754 unreachable: connect: timed out";
constexpr char kPromoteInDoubt[] =
    "operation 1.6.shop.4.17.promote.green (promote) in doubt on 10.0.0.2:9754";
constexpr char kNginxUnreachable[] = "agent 10.0.0.9:9754 unreachable: connection refused";

class UnknownHostsTest : public ::testing::Test {
 protected:
  void Desire(Color c) {
    dc_.spec.active_color = c;
    ++dc_.metadata.generation;
  }
  int CountSteps(StepKind kind) {
    int n = 0;
    for (const auto& s : cluster_.Steps()) n += s.step.kind == kind ? 1 : 0;
    return n;
  }
  // `passes` passes a few seconds apart, each expected to hold with AgentUnreachable naming
  // `who` and `why`, taking no step.
  void ExpectHeld(int passes, const std::string& who, const std::string& why) {
    const size_t steps = cluster_.Steps().size();
    for (int i = 0; i < passes; ++i) {
      const fakes::DrivenPass p = fakes::Pass(cluster_, &dc_);
      EXPECT_FALSE(p.plan.step.has_value()) << model::Describe(*p.plan.step);
      EXPECT_EQ(p.plan.reason, "AgentUnreachable") << p.plan.message;
      EXPECT_EQ(p.plan.phase, Phase::kDegraded);
      EXPECT_THAT(p.plan.message, HasSubstr(who));
      EXPECT_THAT(p.plan.message, HasSubstr(why));
      const api::Condition* ready = api::FindCondition(dc_.status, api::kConditionReady);
      ASSERT_NE(ready, nullptr);
      EXPECT_EQ(ready->status, "False");
      EXPECT_EQ(ready->reason, "AgentUnreachable");
      cluster_.clock().Advance(std::chrono::seconds(20));  // past catchUpTimeoutSeconds
    }
    EXPECT_EQ(cluster_.Steps().size(), steps);
  }
  void ExpectConvergedOn(Color c) {
    const Plan p = fakes::Settle(cluster_, &dc_, 40);
    EXPECT_EQ(p.reason, "Converged") << p.message;
    EXPECT_TRUE(cluster_.RunningPrimary(c));
    EXPECT_TRUE(cluster_.Violations().empty()) << cluster_.Violations().front();
    const absl::Status lost = cluster_.CheckNoAcknowledgedWriteLost();
    EXPECT_TRUE(lost.ok()) << lost;
  }

  FakeCluster cluster_;
  api::DeploymentColor dc_ = fakes::FakeResource(kBlue);
};

// Green's host stops answering right after the fence of blue: nothing is promoted (green
// may be anything), blue's fence is not lifted either, however long it lasts (the catch-up
// timeout does not abandon the switch over a host nobody sees); once green answers, the
// switch completes.
TEST_F(UnknownHostsTest, ASwitchWaitsAfterTheFenceForTheNewPrimarysHost) {
  ASSERT_TRUE(cluster_.Write().ok());
  Desire(kGreen);
  ASSERT_TRUE(fakes::RunUntil(cluster_, &dc_, StepKind::kPromote).has_value());
  ASSERT_EQ(CountSteps(StepKind::kFence), 1);
  cluster_.SetHostUnknown(kGreen, kGreenUnreachable);
  ExpectHeld(5, "green", kGreenUnreachable);
  EXPECT_EQ(CountSteps(StepKind::kPromote), 0);
  EXPECT_EQ(CountSteps(StepKind::kLiftFence), 0);
  EXPECT_FALSE(cluster_.server(kBlue).Running());
  EXPECT_FALSE(dc_.status.abandoned_switch.has_value());
  ASSERT_TRUE(dc_.status.fence.has_value()) << "the fence record stays";

  cluster_.SetHostUnknown(kGreen, "");
  ExpectConvergedOn(kGreen);
  EXPECT_EQ(CountSteps(StepKind::kPromote), 1);
  EXPECT_EQ(CountSteps(StepKind::kLiftFence), 0);
}

// The same, and a flip back is declared while green's host is unknown: blue is not started
// as the primary again (green may have been promoted) until green is seen.
TEST_F(UnknownHostsTest, AFlipBackAfterTheFenceWaitsForTheOtherHost) {
  ASSERT_TRUE(cluster_.Write().ok());
  Desire(kGreen);
  ASSERT_TRUE(fakes::RunUntil(cluster_, &dc_, StepKind::kPromote).has_value());
  cluster_.SetHostUnknown(kGreen, kGreenUnreachable);
  Desire(kBlue);
  ExpectHeld(5, "green", kGreenUnreachable);
  EXPECT_EQ(CountSteps(StepKind::kLiftFence), 0);
  EXPECT_EQ(CountSteps(StepKind::kStart), 0);
  EXPECT_FALSE(cluster_.server(kBlue).Running());

  cluster_.SetHostUnknown(kGreen, "");
  ExpectConvergedOn(kBlue);
}

// A promotion in doubt: green's agent reports its promote operation unfinished, and what
// green shows is what a promotion looks like before it completes (in recovery, standby.signal).
// A flip back to blue, stopped and configured as a primary, must not start blue beside it.
// Without the mark the planner would: green looks like a standby that competes with nobody.
TEST(UnknownHostsWorld, APromotionInDoubtStartsNothingAsAPrimary) {
  FakeCluster cluster(fakes::FakeSpec(), kBlue);
  ASSERT_TRUE(cluster.Write().ok());
  cluster.StopServer(kBlue);  // cleanly, configured as a primary, not fenced
  api::DeploymentColor dc = fakes::FakeResource(kBlue);
  dc.metadata.generation = 3;
  model::World w = cluster.ObserveWorld();
  ASSERT_TRUE(w.green.RunningStandby());
  ASSERT_TRUE(w.green.startup.standby_signal);
  ASSERT_FALSE(w.green.startup.promote_requested);  // the startup process took the file
  const Plan known = Next(dc, w, cluster.clock().Now());
  ASSERT_TRUE(known.step.has_value()) << known.message;
  ASSERT_EQ(model::Describe(*known.step), "start blue");  // what the rule is for

  cluster.SetOperationInDoubt(kGreen, kPromoteInDoubt);
  w = cluster.ObserveWorld();
  EXPECT_EQ(w.green.host_unknown, kPromoteInDoubt);
  EXPECT_TRUE(w.green.reachable) << "the agent still reports what it sees";
  const Plan held = Next(dc, w, cluster.clock().Now());
  EXPECT_FALSE(held.step.has_value()) << model::Describe(*held.step);
  EXPECT_EQ(held.reason, "AgentUnreachable");
  EXPECT_THAT(held.message, HasSubstr("green (127.0.0.1:15434): its host cannot be observed ("));
  EXPECT_THAT(held.message, HasSubstr(kPromoteInDoubt));
  // The re-check before a start says the same, on what the agent reports.
  EXPECT_THAT(model::WhyNotStartAsPrimary(w.blue, w.green), HasSubstr(kPromoteInDoubt));
}

// The same with the fake's promotion itself left pending: the switch to green fenced blue and
// asked green to promote (its postmaster frozen, so the request waits); the agent reports the
// operation in doubt, and a flip back is declared. Nothing is lifted, started or stopped
// until the operation is resolved; then the planner takes it from there.
TEST_F(UnknownHostsTest, AFlipBackDuringAPromotionInDoubt) {
  ASSERT_TRUE(cluster_.Write().ok());
  cluster_.SetFrozen(kGreen, true);
  Desire(kGreen);
  for (int i = 0; i < 10 && CountSteps(StepKind::kPromote) == 0; ++i) {
    (void)fakes::Pass(cluster_, &dc_);
  }
  ASSERT_EQ(CountSteps(StepKind::kPromote), 1);
  ASSERT_TRUE(cluster_.server(kGreen).promote_requested);
  cluster_.SetOperationInDoubt(kGreen, kPromoteInDoubt);
  Desire(kBlue);
  ExpectHeld(4, "green", kPromoteInDoubt);
  EXPECT_EQ(CountSteps(StepKind::kLiftFence), 0);
  EXPECT_EQ(CountSteps(StepKind::kStop), 0);
  EXPECT_FALSE(cluster_.server(kBlue).Running());

  cluster_.SetFrozen(kGreen, false);  // the promotion completes
  ASSERT_TRUE(cluster_.RunningPrimary(kGreen));
  cluster_.SetOperationInDoubt(kGreen, "");
  ExpectConvergedOn(kBlue);
}

// nginx's host unknown before the switch: the preflight names it and nothing moves (no
// traffic switch, no fence). Once traffic was switched and nginx's host then stops
// answering, the fence waits too: it never precedes an nginx seen serving the new color.
TEST_F(UnknownHostsTest, NoTrafficSwitchNorFenceWhileNginxIsUnknown) {
  ASSERT_EQ(fakes::Settle(cluster_, &dc_).phase, Phase::kConverged);
  cluster_.SetNginxUnknown(kNginxUnreachable);
  Desire(kGreen);
  ExpectHeld(2, "nginx", kNginxUnreachable);
  const std::vector<Check> checks = Preflight(dc_, cluster_.ObserveWorld(), kGreen);
  const Check* failed = FirstFailure(checks);
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->name, "hosts-known");
  EXPECT_EQ(failed->observed, std::string("nginx: ") + kNginxUnreachable);
  EXPECT_EQ(CountSteps(StepKind::kSwitchTraffic), 0);

  cluster_.SetNginxUnknown("");
  ASSERT_TRUE(fakes::RunUntil(cluster_, &dc_, StepKind::kFence).has_value());
  ASSERT_EQ(CountSteps(StepKind::kSwitchTraffic), 1);
  cluster_.SetNginxUnknown(kNginxUnreachable);
  ExpectHeld(2, "nginx", kNginxUnreachable);
  EXPECT_EQ(CountSteps(StepKind::kFence), 0);
  EXPECT_TRUE(cluster_.RunningPrimary(kBlue));

  cluster_.SetNginxUnknown("");
  ExpectConvergedOn(kGreen);
}

// Converged, then a host stops answering: not Converged any more, and nothing is done to
// the pair; once it answers, Converged again without a step.
TEST_F(UnknownHostsTest, AConvergedPairWithAnUnknownHostIsNotConverged) {
  ASSERT_EQ(fakes::Settle(cluster_, &dc_).phase, Phase::kConverged);
  const size_t steps = cluster_.Steps().size();
  cluster_.SetHostUnknown(kGreen, kGreenUnreachable);
  ExpectHeld(2, "green", kGreenUnreachable);
  EXPECT_EQ(api::FindCondition(dc_.status, api::kConditionStandbyStreaming)->status, "False");
  cluster_.SetHostUnknown(kGreen, "");
  cluster_.SetNginxUnknown(kNginxUnreachable);
  ExpectHeld(1, "nginx", kNginxUnreachable);
  EXPECT_EQ(dc_.status.serving_color, "");
  EXPECT_EQ(api::FindCondition(dc_.status, api::kConditionTrafficSwitched)->reason,
            "AgentUnreachable");
  cluster_.SetNginxUnknown("");
  EXPECT_EQ(fakes::Settle(cluster_, &dc_).phase, Phase::kConverged);
  EXPECT_EQ(cluster_.Steps().size(), steps);
}

// A standby whose host stays unknown is held like any other: past slotRetentionSeconds its
// slot on the primary (a step on the primary's host, which answers), no longer in use, is
// dropped, so that it does not pin the primary's WAL for ever.
TEST_F(UnknownHostsTest, AnUnknownStandbysSlotGoesAfterTheRetention) {
  ASSERT_EQ(fakes::Settle(cluster_, &dc_).phase, Phase::kConverged);
  cluster_.SetHostUnknown(kGreen, kGreenUnreachable);
  cluster_.CrashServer(kGreen);  // its machine went down
  ExpectHeld(1, "green", kGreenUnreachable);
  cluster_.clock().Advance(std::chrono::seconds(dc_.spec.database.slot_retention_seconds));
  const fakes::DrivenPass p = fakes::Pass(cluster_, &dc_);
  ASSERT_TRUE(p.plan.step.has_value()) << p.plan.reason << ": " << p.plan.message;
  EXPECT_EQ(model::Describe(*p.plan.step), "drop-slot green on blue");
  EXPECT_TRUE(p.step_status.ok()) << p.step_status;
  cluster_.SetHostUnknown(kGreen, "");
  ExpectConvergedOn(kBlue);
}

// The standby's host unknown, its observation empty (no data directory seen): it is not
// "missing", and nothing is copied over what may be a live database.
TEST_F(UnknownHostsTest, AMissingLookingUnknownHostIsNotCopiedOver) {
  cluster_.SetHostUnknown(kGreen, kGreenUnreachable);
  const model::World w = cluster_.ObserveWorld();
  ASSERT_FALSE(w.green.data_directory_exists);  // what an empty observation says
  ExpectHeld(2, "green", kGreenUnreachable);
  EXPECT_EQ(CountSteps(StepKind::kBasebackup), 0);
  cluster_.SetHostUnknown(kGreen, "");
  ExpectConvergedOn(kBlue);
  EXPECT_EQ(CountSteps(StepKind::kBasebackup), 0);
}

}  // namespace
}  // namespace sy::plan
