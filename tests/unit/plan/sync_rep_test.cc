// The planner and synchronous_standby_names (pkg/plan/README.md §17), on the fakes: a switch
// after which the new primary's commits would wait for ever is refused before anything moves;
// a primary whose commits wait for a standby is never Converged, and every hold says so.
#include "pkg/model/sync_rep.h"

#include <gtest/gtest.h>

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

bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

std::vector<std::string> StepsTaken(FakeCluster& c) {
  std::vector<std::string> out;
  for (const auto& s : c.Steps()) out.push_back(model::Describe(s.step));
  return out;
}

// The case: 'green' on both servers (the standby's configuration is a copy of the
// primary's). Green promoted would wait for a standby named green, which never exists.
TEST(SyncRep, ASwitchWhoseNewPrimaryNamesItselfIsHeldBeforeAnythingMoves) {
  FakeCluster cluster;
  cluster.SetSyncStandbyNames(kBlue, "green");
  cluster.SetSyncStandbyNames(kGreen, "green");
  api::DeploymentColor dc = fakes::FakeResource(kBlue);
  ASSERT_EQ(fakes::Settle(cluster, &dc).reason, "Converged");  // blue's commits: green streams
  dc.spec.active_color = kGreen;
  const Plan held = fakes::Settle(cluster, &dc);
  EXPECT_TRUE(held.done());
  EXPECT_EQ(held.phase, Phase::kDegraded);
  EXPECT_EQ(held.reason, "SynchronousStandbyUnsatisfiable");
  EXPECT_TRUE(Contains(held.message, "synchronous_standby_names = 'green'")) << held.message;
  EXPECT_TRUE(Contains(held.message, "ALTER SYSTEM SET synchronous_standby_names = 'blue'"))
      << held.message;
  EXPECT_TRUE(StepsTaken(cluster).empty());
  EXPECT_TRUE(cluster.RunningPrimary(kBlue));
  EXPECT_TRUE(cluster.Write().ok());

  // Set as the message says: the switch goes through, no commit waits once blue streams.
  cluster.SetSyncStandbyNames(kGreen, "blue");
  const Plan done = fakes::Settle(cluster, &dc);
  EXPECT_EQ(done.reason, "Converged") << done.message;
  EXPECT_TRUE(cluster.RunningPrimary(kGreen));
  EXPECT_EQ(StepsTaken(cluster),
            (std::vector<std::string>{"switch-traffic green", "create-slot blue on green",
                                      "fence blue", "promote green",
                                      "configure-standby blue from green", "start blue"}));
  EXPECT_TRUE(cluster.CheckNoAcknowledgedWriteLost().ok());
  EXPECT_TRUE(cluster.Violations().empty());
}

// What counts is the new primary's own setting: the old one's is never used again.
TEST(SyncRep, TheOldPrimarysSettingDoesNotHoldTheSwitch) {
  FakeCluster cluster;
  cluster.SetSyncStandbyNames(kBlue, "green");
  api::DeploymentColor dc = fakes::FakeResource(kGreen);
  const fakes::DrivenPass first = fakes::Pass(cluster, &dc);
  ASSERT_TRUE(first.plan.step.has_value()) << first.plan.message;
  EXPECT_EQ(first.plan.step->kind, model::StepKind::kSwitchTraffic);
}

// ANY 1 (blue, green) on both: each color's commits are satisfied by the other once it
// streams, so flips go both ways and converge (commits wait only while the old primary
// rejoins).
TEST(SyncRep, ASettingTheOtherColorSatisfiesFlipsBothWays) {
  FakeCluster cluster;
  cluster.SetSyncStandbyNames(kBlue, "ANY 1 (blue, green)");
  cluster.SetSyncStandbyNames(kGreen, "ANY 1 (blue, green)");
  api::DeploymentColor dc = fakes::FakeResource(kBlue);
  for (Color to : {kGreen, kBlue, kGreen}) {
    ASSERT_TRUE(cluster.Write().ok());
    dc.spec.active_color = to;
    const Plan p = fakes::Settle(cluster, &dc);
    EXPECT_EQ(p.reason, "Converged") << p.message;
    EXPECT_TRUE(cluster.RunningPrimary(to));
  }
  EXPECT_TRUE(cluster.CheckNoAcknowledgedWriteLost().ok());
}

// Someone sets a name no standby has on the running primary: its commits hang, and the
// status says so instead of Converged.
TEST(SyncRep, APrimaryWhoseCommitsWaitIsNotConverged) {
  FakeCluster cluster;
  api::DeploymentColor dc = fakes::FakeResource(kBlue);
  ASSERT_EQ(fakes::Settle(cluster, &dc).reason, "Converged");
  cluster.SetSyncStandbyNames(kBlue, "nobody");
  const Plan p = fakes::Settle(cluster, &dc);
  EXPECT_TRUE(p.done());
  EXPECT_EQ(p.phase, Phase::kDegraded);
  EXPECT_EQ(p.reason, "CommitsBlocked");
  EXPECT_TRUE(Contains(p.message,
                       "synchronous_standby_names = 'nobody' asks for 1 synchronous "
                       "standby and 0 stream"))
      << p.message;
  EXPECT_TRUE(StepsTaken(cluster).empty());
  cluster.SetSyncStandbyNames(kBlue, "green");
  EXPECT_EQ(fakes::Settle(cluster, &dc).reason, "Converged");
}

// A synchronous standby that still shows as streaming but flushes nothing (frozen): the
// commits waiting longer than the bound are the evidence.
TEST(SyncRep, CommitsWaitingPastTheBoundAreNotConverged) {
  FakeCluster cluster;
  cluster.SetSyncStandbyNames(kBlue, "green");
  api::DeploymentColor dc = fakes::FakeResource(kBlue);
  ASSERT_EQ(fakes::Settle(cluster, &dc).reason, "Converged");
  model::World w = cluster.ObserveWorld();
  w.blue.sync.waiting_commits = 4;
  w.blue.sync.longest_wait_ms = model::kCommitWaitBoundMs + 1'000;
  const Plan p = Next(dc, w, cluster.clock().Now());
  EXPECT_EQ(p.reason, "CommitsBlocked");
  EXPECT_TRUE(Contains(p.message, "4 commits have waited for a synchronous standby")) << p.message;
  w.blue.sync.longest_wait_ms = 20;  // commits waiting a moment: normal
  EXPECT_EQ(Next(dc, w, cluster.clock().Now()).reason, "Converged");
}

// While the new primary's standby is not back, its commits wait: the hold says so.
TEST(SyncRep, AHoldOnTheStandbySaysTheCommitsWait) {
  FakeCluster cluster;
  cluster.SetSyncStandbyNames(kBlue, "*");
  cluster.SetSyncStandbyNames(kGreen, "*");
  api::DeploymentColor dc = fakes::FakeResource(kBlue);
  dc.spec.active_color = kGreen;
  ASSERT_EQ(fakes::Settle(cluster, &dc).reason, "Converged");
  cluster.SetDisconnected(kBlue, true);
  const Plan p = fakes::Settle(cluster, &dc);
  EXPECT_EQ(p.reason, "StandbyConnecting");
  EXPECT_TRUE(Contains(p.message, "commits on green wait: synchronous_standby_names = '*'"))
      << p.message;
}

// --- spec.database.synchronousReplication: Switchyard keeps the setting ----------------------

std::string SyncNames(FakeCluster& c, Color color) {
  return c.server(color).synchronous_standby_names;
}

// required, with the 'green' on both: before the switch green (still a standby, where
// the setting does nothing) is made to name blue; the switch converges and green's commits
// complete once blue streams. And back.
TEST(SyncRep, RequiredNamesTheOtherColorBeforeEachSwitch) {
  FakeCluster cluster;
  cluster.SetSyncStandbyNames(kBlue, "green");
  cluster.SetSyncStandbyNames(kGreen, "green");
  api::DeploymentColor dc = fakes::FakeResource(kBlue);
  dc.spec.database.synchronous_replication = api::SynchronousReplication::kRequired;
  ASSERT_EQ(fakes::Settle(cluster, &dc).reason, "Converged");
  EXPECT_EQ(SyncNames(cluster, kBlue), "\"green\"");  // the primary's, made Switchyard's own
  dc.spec.active_color = kGreen;
  const size_t before = cluster.Steps().size();
  const Plan p = fakes::Settle(cluster, &dc);
  EXPECT_EQ(p.reason, "Converged") << p.message;
  std::vector<std::string> steps = StepsTaken(cluster);
  steps.erase(steps.begin(), steps.begin() + static_cast<long>(before));
  EXPECT_EQ(steps,
            (std::vector<std::string>{"sync-standby green names blue", "switch-traffic green",
                                      "create-slot blue on green", "fence blue", "promote green",
                                      "configure-standby blue from green", "start blue"}));
  EXPECT_EQ(SyncNames(cluster, kGreen), "\"blue\"");
  dc.spec.active_color = kBlue;
  EXPECT_EQ(fakes::Settle(cluster, &dc).reason, "Converged");
  EXPECT_EQ(SyncNames(cluster, kBlue), "\"green\"");
  EXPECT_TRUE(cluster.CheckNoAcknowledgedWriteLost().ok());
  EXPECT_TRUE(cluster.Violations().empty());
  // The second pass takes no action.
  EXPECT_TRUE(fakes::Pass(cluster, &dc).plan.done());
}

// required keeps naming the standby while it is away: the commits wait, and the status
// says they do and why.
TEST(SyncRep, RequiredKeepsCommitsWaitingWhileTheStandbyIsAway) {
  FakeCluster cluster;
  api::DeploymentColor dc = fakes::FakeResource(kBlue);
  dc.spec.database.synchronous_replication = api::SynchronousReplication::kRequired;
  ASSERT_EQ(fakes::Settle(cluster, &dc).reason, "Converged");
  cluster.SetDisconnected(kGreen, true);
  const Plan p = fakes::Settle(cluster, &dc);
  EXPECT_EQ(p.reason, "StandbyConnecting");
  EXPECT_TRUE(Contains(p.message, "commits on blue wait")) << p.message;
  EXPECT_EQ(SyncNames(cluster, kBlue), "\"green\"");
}

// preferred: empty on the standby before the switch (the old primary does not stream from
// the new one at first), the other color named once it streams, cleared when it stops.
TEST(SyncRep, PreferredNamesTheStandbyOnlyWhileItStreams) {
  FakeCluster cluster;
  cluster.SetSyncStandbyNames(kGreen, "green");
  api::DeploymentColor dc = fakes::FakeResource(kBlue);
  dc.spec.database.synchronous_replication = api::SynchronousReplication::kPreferred;
  ASSERT_EQ(fakes::Settle(cluster, &dc).reason, "Converged");
  EXPECT_EQ(SyncNames(cluster, kBlue), "\"green\"");
  dc.spec.active_color = kGreen;
  const fakes::DrivenPass first = fakes::Pass(cluster, &dc);
  ASSERT_TRUE(first.plan.step.has_value());
  EXPECT_EQ(model::Describe(*first.plan.step), "sync-standby green names none");
  EXPECT_EQ(SyncNames(cluster, kGreen), "");
  const Plan p = fakes::Settle(cluster, &dc);
  EXPECT_EQ(p.reason, "Converged") << p.message;
  EXPECT_EQ(SyncNames(cluster, kGreen), "\"blue\"");
  EXPECT_EQ(StepsTaken(cluster).back(), "sync-standby green names blue");
  cluster.SetDisconnected(kBlue, true);
  const fakes::DrivenPass clear = fakes::Pass(cluster, &dc);
  ASSERT_TRUE(clear.plan.step.has_value()) << clear.plan.message;
  EXPECT_EQ(model::Describe(*clear.plan.step), "sync-standby green names none");
  EXPECT_EQ(SyncNames(cluster, kGreen), "");
  EXPECT_EQ(fakes::Settle(cluster, &dc).reason, "StandbyConnecting");
  cluster.SetDisconnected(kBlue, false);
  EXPECT_EQ(fakes::Settle(cluster, &dc).reason, "Converged");
  EXPECT_EQ(SyncNames(cluster, kGreen), "\"blue\"");
}

}  // namespace
}  // namespace sy::plan
