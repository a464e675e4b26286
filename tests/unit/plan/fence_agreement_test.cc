// The status and the planner decide "the old primary is cleanly fenced behind a running
// standby" (model::CleanlyFencedBehind) together: the status dates the fence record exactly
// when the planner promotes, waits for the standby or gives up on it, and the catch-up
// timeout the planner applies runs from that record. Each scenario drives FakeCluster pass by
// pass and checks both callers on every pass.
#include <gtest/gtest.h>

#include <functional>
#include <iostream>
#include <ostream>
#include <set>
#include <string>

#include "pkg/model/lsn.h"
#include "pkg/model/topology.h"
#include "pkg/plan/planner.h"
#include "pkg/plan/status.h"
#include "tests/fakes/fake_cluster.h"
#include "tests/fakes/plan_driver.h"

namespace sy::plan {
namespace {

using api::Color;
using fakes::FakeCluster;

// The planner's reasons while it stands on a cleanly fenced old primary.
const std::set<std::string> kWaitingOnFence = {"Promoting", "CatchingUp", "AbandoningSwitch"};

// The record names the stopped old primary's shutdown checkpoint.
bool RecordsFenceOf(const api::DeploymentColorStatus& st, const model::ServerState& old) {
  return st.fence && old.control && st.fence->color == api::ColorName(old.color) &&
         st.fence->checkpoint_lsn == model::FormatLsn(old.control->checkpoint_lsn);
}

struct Scenario {
  std::string name;
  // Acts on the cluster before pass `pass` (a fault, a flip).
  std::function<void(FakeCluster&, api::DeploymentColor&, int pass)> before;
  friend void PrintTo(const Scenario& s, std::ostream* os) { *os << s.name; }
};

const Scenario kScenarios[] = {
    {"CleanFlip",
     [](FakeCluster&, api::DeploymentColor& dc, int) { dc.spec.active_color = Color::kGreen; }},
    {"LaggingStandbyCatchesUp",
     [](FakeCluster& c, api::DeploymentColor& dc, int pass) {
       if (pass == 0) {
         c.SetLagging(Color::kGreen, true);
         (void)c.Write();
         dc.spec.active_color = Color::kGreen;
       }
       if (pass == 6) c.SetLagging(Color::kGreen, false);
     }},
    {"StandbyNeverCatchesUp",
     [](FakeCluster& c, api::DeploymentColor& dc, int pass) {
       if (pass == 0) {
         c.SetLagging(Color::kGreen, true);
         (void)c.Write();
         dc.spec.active_color = Color::kGreen;
       }
       c.clock().Advance(std::chrono::seconds(5));
     }},
    {"OldPrimaryStoppedWithoutFence",
     [](FakeCluster& c, api::DeploymentColor& dc, int pass) {
       if (pass == 0) {
         c.StopServer(Color::kBlue);
         dc.spec.active_color = Color::kGreen;
       }
     }},
    {"FencedOldPrimaryCrashedAfterRestart",
     [](FakeCluster& c, api::DeploymentColor& dc, int pass) {
       dc.spec.active_color = Color::kGreen;
       // Once fenced and stopped, someone starts blue (as a standby) and kills it.
       const fakes::FakePostgres blue = c.server(Color::kBlue);
       if (pass > 0 && blue.fenced && !blue.Running() && blue.stopped_state == "shut down") {
         c.StartServer(Color::kBlue);
         c.CrashServer(Color::kBlue);
       }
     }},
    {"FencedOldPrimaryRestartedAndStoppedInRecovery",
     [](FakeCluster& c, api::DeploymentColor& dc, int pass) {
       dc.spec.active_color = Color::kGreen;
       const fakes::FakePostgres blue = c.server(Color::kBlue);
       if (pass > 0 && blue.fenced && !blue.Running() && blue.stopped_state == "shut down") {
         c.SetLagging(Color::kGreen, true);
         c.StartServer(Color::kBlue);
         c.StopServer(Color::kBlue);
       }
       if (pass == 12) c.SetLagging(Color::kGreen, false);
     }},
    {"StandbyStopsDuringTheSwitch",
     [](FakeCluster& c, api::DeploymentColor& dc, int pass) {
       dc.spec.active_color = Color::kGreen;
       const fakes::FakePostgres blue = c.server(Color::kBlue);
       if (pass > 0 && blue.fenced && !blue.Running() && c.server(Color::kGreen).Running() &&
           !c.RunningPrimary(Color::kGreen)) {
         c.StopServer(Color::kGreen);
       }
     }},
};

class FenceAgreementTest : public ::testing::TestWithParam<Scenario> {};

TEST_P(FenceAgreementTest, StatusDatesTheFenceExactlyWhenThePlannerWaitsOnIt) {
  FakeCluster cluster(fakes::FakeSpec(Color::kBlue), Color::kBlue);
  api::DeploymentColor dc = fakes::FakeResource(Color::kBlue);
  int waited = 0;
  for (int pass = 0; pass < 40; ++pass) {
    GetParam().before(cluster, dc, pass);
    const model::World w = cluster.ObserveWorld();
    const auto now = cluster.clock().Now();
    const Plan p = Next(dc, w, now);
    const api::DeploymentColorStatus before = dc.status;
    dc.status = StatusFor(dc, w, PlannedReport(dc, w, p, now), now);
    const Color d = dc.spec.active_color;
    const model::ServerState& old = w.server(api::Other(d));
    const bool waits = kWaitingOnFence.count(p.reason) > 0;
    const bool dated = RecordsFenceOf(dc.status, old) && !RecordsFenceOf(before, old);
    const std::string where = "pass " + std::to_string(pass) + ": " + p.reason + ": " + p.message;
    // The planner stands on the fence only with the status's record of it; the status dates a
    // record only where the planner stands on it.
    if (waits) {
      EXPECT_TRUE(RecordsFenceOf(dc.status, old)) << where;
    }
    if (dated) {
      EXPECT_TRUE(waits) << where;
    }
    // And both say what the named predicate says.
    EXPECT_EQ(waits, model::CleanlyFencedBehind(old, w.server(d)).has_value()) << where;
    waited += waits ? 1 : 0;
    if (p.step) {
      (void)cluster.Run(dc, *p.step, nullptr);
    } else if (p.phase == api::Phase::kConverged || p.phase == api::Phase::kFailed) {
      break;
    }
    cluster.clock().Advance(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(cluster.Violations().empty());
  std::cout << "  " << waited << " passes waited on the fence\n";
}

INSTANTIATE_TEST_SUITE_P(Scenarios, FenceAgreementTest, ::testing::ValuesIn(kScenarios),
                         [](const auto& p) { return p.param.name; });

}  // namespace
}  // namespace sy::plan
