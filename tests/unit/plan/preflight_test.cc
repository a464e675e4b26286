// The preflight's named checks (pkg/plan/preflight.h) as the planner applies them, the steps
// a switch takes, and a switch abandoned after its fence (pkg/plan/README.md §19), on the fake
// cluster.
#include "pkg/plan/preflight.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "pkg/model/topology.h"
#include "pkg/plan/planner.h"
#include "tests/fakes/fake_cluster.h"
#include "tests/fakes/plan_driver.h"

namespace sy::plan {
namespace {

using api::Color;
using api::Phase;
using fakes::FakeCluster;
using std::chrono::seconds;

constexpr Color kBlue = Color::kBlue;
constexpr Color kGreen = Color::kGreen;

const Check* Find(const std::vector<Check>& checks, const std::string& name) {
  auto it =
      std::find_if(checks.begin(), checks.end(), [&](const Check& c) { return c.name == name; });
  return it == checks.end() ? nullptr : &*it;
}

struct Case {
  std::string name;
  // Acts on the converged cluster (blue primary, green streaming) and the resource.
  std::function<void(FakeCluster&, api::DeploymentColor&)> setup;
  std::string check;   // the check that decides
  bool blocks = true;  // it fails and holds the switch; false: the switch goes ahead
  std::string reason;  // the hold's reason when it blocks
};

const Case kCases[] = {
    {"ApplyDelayOnTheStandby",
     [](FakeCluster& c, api::DeploymentColor&) {
       c.EditPrerequisites(kGreen, [](model::Prerequisites& p) { p.apply_delay_ms = 5000; });
     },
     "apply-delay", true, "ApplyDelay"},
    {"ReplayLagPastTheBound",
     [](FakeCluster& c, api::DeploymentColor&) { c.SetReplayLag(kGreen, 5001); }, "replay-lag",
     true, "ReplayLagging"},
    {"ReplayLagWithinTheBound",
     [](FakeCluster& c, api::DeploymentColor&) { c.SetReplayLag(kGreen, 5000); }, "replay-lag",
     false, ""},
    {"ReplayLagBoundFromTheSpec",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       c.SetReplayLag(kGreen, 9000);
       dc.spec.database.max_replay_lag_seconds = 10;
     },
     "replay-lag", false, ""},
    {"HotStandbyOffOnTheOldPrimary",
     [](FakeCluster& c, api::DeploymentColor&) {
       c.EditPrerequisites(kBlue, [](model::Prerequisites& p) { p.hot_standby = false; });
     },
     "hot-standby", true, "HotStandbyOff"},
    {"ANonSuperuserWithoutPgPromote",
     [](FakeCluster& c, api::DeploymentColor&) {
       c.EditPrerequisites(kGreen, [](model::Prerequisites& p) {
         p.privileges = {"replication", "pg_monitor", "pg_checkpoint"};
       });
     },
     "privileges", true, "InsufficientPrivileges"},
    {"ANonSuperuserWithEveryGrant",
     [](FakeCluster& c, api::DeploymentColor&) {
       for (Color color : api::kColors) {
         c.EditPrerequisites(color, [](model::Prerequisites& p) {
           p.privileges = {"replication", "pg_promote", "pg_monitor", "pg_checkpoint"};
         });
       }
     },
     "privileges", false, ""},
    // Managing synchronous_standby_names takes ALTER SYSTEM and pg_reload_conf() too.
    {"ANonSuperuserWithoutAlterSystemWhenSyncIsManaged",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       dc.spec.database.synchronous_replication = api::SynchronousReplication::kRequired;
       for (Color color : api::kColors) {
         c.EditPrerequisites(color, [](model::Prerequisites& p) {
           p.privileges = {"replication", "pg_promote", "pg_monitor", "pg_checkpoint",
                           "pg_reload_conf"};
         });
       }
     },
     "privileges", true, "InsufficientPrivileges"},
    {"PostgreSQL13",
     [](FakeCluster& c, api::DeploymentColor&) {
       c.EditPrerequisites(kGreen, [](model::Prerequisites& p) {
         p.version_num = 130011;
         p.version = "13.11";
       });
     },
     "server-version", true, "UnsupportedVersion"},
    // Rule (unknown hosts): what nginx serves must be seen before anything moves.
    {"NginxHostUnknown",
     [](FakeCluster& c, api::DeploymentColor&) {
       c.SetNginxUnknown("agent 10.0.0.9:9754 unreachable: connection refused");
     },
     "hosts-known", true, "AgentUnreachable"},
    // Warnings: shown by yardctl check, never holding the switch.
    {"QueriesMayHoldReplayForEver",
     [](FakeCluster& c, api::DeploymentColor&) {
       c.EditPrerequisites(kGreen, [](model::Prerequisites& p) { p.streaming_delay_ms = -1; });
     },
     "conflict-delay", false, ""},
    {"NoWalLogHintsNorChecksums",
     [](FakeCluster& c, api::DeploymentColor&) {
       c.EditPrerequisites(kBlue, [](model::Prerequisites& p) {
         p.wal_log_hints = false;
         p.data_checksums = false;
       });
     },
     "rewind-possible", false, ""},
};

class PreflightTest : public testing::TestWithParam<Case> {};

TEST_P(PreflightTest, DecidesTheSwitch) {
  const Case& c = GetParam();
  FakeCluster cluster;
  api::DeploymentColor dc = fakes::FakeResource(kBlue);
  ASSERT_EQ(fakes::Settle(cluster, &dc).phase, Phase::kConverged);
  c.setup(cluster, dc);
  dc.spec.active_color = kGreen;
  ++dc.metadata.generation;
  const model::World w = cluster.ObserveWorld();
  const std::vector<Check> checks = Preflight(dc, w, kGreen);
  const Check* check = Find(checks, c.check);
  ASSERT_NE(check, nullptr) << c.check;
  const Plan p = Next(dc, w, cluster.clock().Now());
  if (c.blocks) {
    EXPECT_FALSE(check->ok) << check->observed;
    EXPECT_TRUE(check->blocking);
    EXPECT_EQ(FirstFailure(checks), check);
    EXPECT_FALSE(p.step.has_value()) << p.message;
    EXPECT_EQ(p.reason, c.reason) << p.message;
    EXPECT_EQ(p.message, check->message);
    EXPECT_EQ(p.phase, Phase::kDegraded);
  } else {
    EXPECT_EQ(FirstFailure(checks), nullptr) << FirstFailure(checks)->name;
    ASSERT_TRUE(p.step.has_value()) << p.reason << ": " << p.message;
    EXPECT_EQ(p.step->kind, model::StepKind::kSwitchTraffic);
  }
}

INSTANTIATE_TEST_SUITE_P(Table, PreflightTest, testing::ValuesIn(kCases),
                         [](const testing::TestParamInfo<Case>& param) {
                           return param.param.name;
                         });

// The message of a missing privilege says how to grant it.
TEST(Preflight, AMissingPrivilegeNamesItsGrant) {
  FakeCluster cluster;
  api::DeploymentColor dc = fakes::FakeResource(kBlue);
  ASSERT_EQ(fakes::Settle(cluster, &dc).phase, Phase::kConverged);
  cluster.EditPrerequisites(kGreen, [](model::Prerequisites& p) { p.privileges = {}; });
  const std::vector<Check> checks = Preflight(dc, cluster.ObserveWorld(), kGreen);
  const Check* privileges = Find(checks, "privileges");
  ASSERT_NE(privileges, nullptr);
  EXPECT_FALSE(privileges->ok);
  for (const char* grant :
       {"GRANT EXECUTE ON FUNCTION pg_promote(boolean, integer) TO switchyard",
        "GRANT pg_checkpoint TO switchyard", "ALTER ROLE switchyard REPLICATION",
        "GRANT pg_monitor TO switchyard"}) {
    EXPECT_NE(privileges->message.find(grant), std::string::npos) << privileges->message;
  }
  EXPECT_EQ(privileges->message.find("on blue"), std::string::npos) << privileges->message;
}

// SwitchSteps names exactly the steps the planner then takes, in order.
TEST(Preflight, SwitchStepsAreTheStepsTaken) {
  for (const api::SynchronousReplication mode :
       {api::SynchronousReplication::kUnmanaged, api::SynchronousReplication::kPreferred,
        api::SynchronousReplication::kRequired}) {
    for (const api::RejoinMethod rejoin :
         {api::RejoinMethod::kAuto, api::RejoinMethod::kBasebackup}) {
      FakeCluster cluster;
      api::DeploymentColor dc = fakes::FakeResource(kBlue);
      dc.spec.database.synchronous_replication = mode;
      dc.spec.database.rejoin_method = rejoin;
      ASSERT_EQ(fakes::Settle(cluster, &dc).phase, Phase::kConverged);
      const size_t before = cluster.Steps().size();
      dc.spec.active_color = kGreen;
      ++dc.metadata.generation;
      std::vector<std::string> predicted;
      for (const SwitchStep& s : SwitchSteps(dc, cluster.ObserveWorld(), kGreen)) {
        predicted.push_back(model::Describe(s.step));
      }
      ASSERT_EQ(fakes::Settle(cluster, &dc).phase, Phase::kConverged);
      std::vector<std::string> taken;
      const auto steps = cluster.Steps();
      for (size_t i = before; i < steps.size(); ++i)
        taken.push_back(model::Describe(steps[i].step));
      EXPECT_EQ(predicted, taken) << api::SynchronousReplicationName(mode) << ", rejoin "
                                  << static_cast<int>(rejoin);
    }
  }
}

// Starts a switch to green that green cannot finish (it receives nothing new), up to where
// it waits for green after blue's fence.
void SwitchToGreenThatCannotCatchUp(FakeCluster& cluster, api::DeploymentColor& dc) {
  ASSERT_EQ(fakes::Settle(cluster, &dc).phase, Phase::kConverged);
  cluster.SetLagging(kGreen, true);
  ASSERT_TRUE(cluster.Write().ok());
  dc.spec.active_color = kGreen;
  ++dc.metadata.generation;
  ASSERT_FALSE(fakes::RunUntil(cluster, &dc, model::StepKind::kPromote).has_value());
}

// ... and passes the catch-up timeout: the next pass abandons it.
void SwitchToGreenThatTimesOut(FakeCluster& cluster, api::DeploymentColor& dc) {
  SwitchToGreenThatCannotCatchUp(cluster, dc);
  cluster.clock().Advance(seconds(dc.spec.database.catch_up_timeout_seconds + 1));
}

// Green never catches up after blue's fence: the switch is abandoned, blue becomes the
// primary again with every acknowledged write, green its standby, and the status says so and
// holds until the spec changes; then the switch is tried again and completes.
TEST(Abandon, ACatchUpTimeoutBringsTheOldPrimaryBackUntilTheSpecChanges) {
  FakeCluster cluster;
  api::DeploymentColor dc = fakes::FakeResource(kBlue);
  ASSERT_EQ(fakes::Settle(cluster, &dc).phase, Phase::kConverged);
  cluster.SetLagging(kGreen, true);  // connected, but receives nothing new
  ASSERT_TRUE(cluster.Write().ok());
  dc.spec.active_color = kGreen;
  ++dc.metadata.generation;
  ASSERT_FALSE(fakes::RunUntil(cluster, &dc, model::StepKind::kPromote).has_value());
  cluster.clock().Advance(seconds(dc.spec.database.catch_up_timeout_seconds + 1));

  const fakes::DrivenPass first = fakes::Pass(cluster, &dc);
  ASSERT_TRUE(first.plan.step.has_value()) << first.plan.message;
  EXPECT_EQ(first.plan.reason, "AbandoningSwitch");
  ASSERT_TRUE(dc.status.abandoned_switch.has_value());
  EXPECT_EQ(dc.status.abandoned_switch->color, "green");
  EXPECT_EQ(dc.status.abandoned_switch->generation, dc.metadata.generation);
  EXPECT_EQ(dc.status.abandoned_switch->reason, "CatchUpTimedOut");
  const std::string at = dc.status.abandoned_switch->abandoned_at;
  EXPECT_FALSE(at.empty());

  const Plan held = fakes::Settle(cluster, &dc);
  EXPECT_EQ(held.phase, Phase::kFailed);
  EXPECT_EQ(held.reason, "SwitchAbandoned") << held.message;
  EXPECT_NE(held.message.find("blue is the primary again"), std::string::npos) << held.message;
  EXPECT_TRUE(cluster.server(kBlue).RunningPrimary());
  EXPECT_FALSE(cluster.server(kGreen).RunningPrimary());
  EXPECT_EQ(dc.status.abandoned_switch->abandoned_at, at);  // dated once
  EXPECT_TRUE(cluster.CheckNoAcknowledgedWriteLost().ok());
  ASSERT_TRUE(cluster.Write().ok());  // blue takes writes again

  // A further pass of the same generation changes nothing.
  const size_t steps = cluster.Steps().size();
  EXPECT_EQ(fakes::Pass(cluster, &dc).plan.reason, "SwitchAbandoned");
  EXPECT_EQ(cluster.Steps().size(), steps);

  // The cause goes and the spec changes: the switch is tried again and completes.
  cluster.SetLagging(kGreen, false);
  ++dc.metadata.generation;
  EXPECT_EQ(fakes::Settle(cluster, &dc).phase, Phase::kConverged);
  EXPECT_TRUE(cluster.server(kGreen).RunningPrimary());
  EXPECT_FALSE(dc.status.abandoned_switch.has_value());
  EXPECT_TRUE(cluster.CheckNoAcknowledgedWriteLost().ok());
}

// A replay paused after the fence gives the switch up at once, recording why.
TEST(Abandon, AReplayPausedAfterTheFenceGivesUpAtOnce) {
  FakeCluster cluster;
  api::DeploymentColor dc = fakes::FakeResource(kBlue);
  SwitchToGreenThatCannotCatchUp(cluster, dc);
  cluster.SetReplayPaused(kGreen, true);
  EXPECT_EQ(fakes::Settle(cluster, &dc).reason, "SwitchAbandoned");
  ASSERT_TRUE(dc.status.abandoned_switch.has_value());
  EXPECT_EQ(dc.status.abandoned_switch->reason, "ReplayPaused");
  EXPECT_TRUE(cluster.server(kBlue).RunningPrimary());
  EXPECT_TRUE(cluster.CheckNoAcknowledgedWriteLost().ok());
}

// Green stopped by someone else while the switch is given up: blue's fence is still lifted
// and blue started (the record, written before the first step, says the switch is abandoned;
// without it green would be started and blue fenced again, for ever).
TEST(Abandon, ResumesWhenTheStandbyStoppedMeanwhile) {
  FakeCluster cluster;
  api::DeploymentColor dc = fakes::FakeResource(kBlue);
  SwitchToGreenThatCannotCatchUp(cluster, dc);
  cluster.clock().Advance(seconds(dc.spec.database.catch_up_timeout_seconds + 1));
  cluster.FailNext(model::StepKind::kLiftFence, absl::UnavailableError("the daemon died"));
  ASSERT_FALSE(fakes::Pass(cluster, &dc).step_status.ok());
  ASSERT_TRUE(dc.status.abandoned_switch.has_value());
  cluster.StopServer(kGreen);
  const fakes::DrivenPass next = fakes::Pass(cluster, &dc);
  ASSERT_TRUE(next.plan.step.has_value()) << next.plan.reason << ": " << next.plan.message;
  EXPECT_EQ(model::Describe(*next.plan.step), "lift-fence blue");
  EXPECT_EQ(fakes::Settle(cluster, &dc).reason, "SwitchAbandoned");
  EXPECT_TRUE(cluster.server(kBlue).RunningPrimary());
  EXPECT_TRUE(cluster.CheckNoAcknowledgedWriteLost().ok());
}

// What the switch changed is put back while it stands abandoned: traffic to blue (the primary
// again), and blue's slot on green, made before the fence, which would otherwise pin green's
// WAL for the whole generation.
TEST(Abandon, TrafficGoesBackAndTheSlotMadeForTheSwitchIsDropped) {
  FakeCluster cluster;
  api::DeploymentColor dc = fakes::FakeResource(kBlue);
  SwitchToGreenThatTimesOut(cluster, dc);
  ASSERT_TRUE(model::HasSlotFor(cluster.ObserveWorld().green, kBlue));
  EXPECT_EQ(fakes::Settle(cluster, &dc).reason, "SwitchAbandoned");
  const model::World w = cluster.ObserveWorld();
  EXPECT_EQ(w.nginx.served_color, kBlue);
  EXPECT_FALSE(model::HasSlotFor(w.green, kBlue));
  std::vector<std::string> steps;
  for (const auto& st : cluster.Steps()) steps.push_back(model::Describe(st.step));
  EXPECT_NE(std::find(steps.begin(), steps.end(), "switch-traffic blue"), steps.end());
  EXPECT_NE(std::find(steps.begin(), steps.end(), "drop-slot blue on green"), steps.end());
}

// The daemon recorded the abandonment but died before bringing blue back, and green caught up
// meanwhile: blue still comes back, as the status said, rather than green being promoted.
TEST(Abandon, ARecordedAbandonmentIsNotPromotedOverWhenTheStandbyCatchesUp) {
  FakeCluster cluster;
  api::DeploymentColor dc = fakes::FakeResource(kBlue);
  SwitchToGreenThatTimesOut(cluster, dc);
  cluster.FailNext(model::StepKind::kLiftFence, absl::UnavailableError("the daemon died"));
  ASSERT_FALSE(fakes::Pass(cluster, &dc).step_status.ok());
  ASSERT_TRUE(dc.status.abandoned_switch.has_value());
  cluster.SetLagging(kGreen, false);
  const fakes::DrivenPass next = fakes::Pass(cluster, &dc);
  ASSERT_TRUE(next.plan.step.has_value()) << next.plan.message;
  EXPECT_EQ(model::Describe(*next.plan.step), "lift-fence blue") << next.plan.message;
  EXPECT_EQ(fakes::Settle(cluster, &dc).reason, "SwitchAbandoned");
  EXPECT_TRUE(cluster.server(kBlue).RunningPrimary());
  EXPECT_FALSE(cluster.server(kGreen).RunningPrimary());
}

// A new generation between the lift of blue's fence and blue's start fences blue again: that
// is a new fence, and the catch-up wait runs from it, not from the first one (blue did not
// run in between, so its shutdown checkpoint is the same).
TEST(Abandon, ANewGenerationBeforeTheOldPrimaryStartsWaitsAgainInFull) {
  FakeCluster cluster;
  api::DeploymentColor dc = fakes::FakeResource(kBlue);
  SwitchToGreenThatTimesOut(cluster, dc);
  const fakes::DrivenPass lift = fakes::Pass(cluster, &dc);
  ASSERT_TRUE(lift.plan.step.has_value());
  ASSERT_EQ(model::Describe(*lift.plan.step), "lift-fence blue");
  ASSERT_TRUE(lift.step_status.ok());
  ++dc.metadata.generation;  // still green
  std::vector<std::string> reasons;
  for (int i = 0; i < 6; ++i) {
    const fakes::DrivenPass p = fakes::Pass(cluster, &dc);
    reasons.push_back(p.plan.reason);
    if (p.plan.reason == "CatchingUp") break;
  }
  EXPECT_EQ(reasons.back(), "CatchingUp") << reasons.back();
  EXPECT_FALSE(dc.status.abandoned_switch.has_value() &&
               dc.status.abandoned_switch->generation == dc.metadata.generation);
  // ... and gives up only once catchUpTimeoutSeconds passed from the new fence.
  cluster.clock().Advance(seconds(dc.spec.database.catch_up_timeout_seconds + 1));
  EXPECT_EQ(fakes::Pass(cluster, &dc).plan.reason, "AbandoningSwitch");
}

// A flip back during the abandonment is simply the flip back: blue converges as desired.
TEST(Abandon, AFlipBackMeanwhileConverges) {
  FakeCluster cluster;
  api::DeploymentColor dc = fakes::FakeResource(kBlue);
  SwitchToGreenThatCannotCatchUp(cluster, dc);
  cluster.clock().Advance(seconds(dc.spec.database.catch_up_timeout_seconds + 1));
  ASSERT_TRUE(fakes::Pass(cluster, &dc).step_status.ok());
  dc.spec.active_color = kBlue;
  ++dc.metadata.generation;
  EXPECT_EQ(fakes::Settle(cluster, &dc).phase, Phase::kConverged);
  EXPECT_TRUE(cluster.server(kBlue).RunningPrimary());
  EXPECT_FALSE(dc.status.abandoned_switch.has_value());
  EXPECT_TRUE(cluster.CheckNoAcknowledgedWriteLost().ok());
}

}  // namespace
}  // namespace sy::plan
