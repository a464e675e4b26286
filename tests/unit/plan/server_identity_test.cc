// Rule (server identity) in the planner, on the fake cluster across two machines where both
// colors listen on 5432 (each through its agent): a standby is taken to follow the primary
// only when its configuration and its WAL receiver name the primary's host and port.
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
using model::StepKind;

constexpr Color kBlue = Color::kBlue;
constexpr Color kGreen = Color::kGreen;

api::DeploymentColorSpec TwoMachines() {
  api::DeploymentColorSpec spec = fakes::FakeSpec();
  spec.blue.database = {"10.0.0.1", 5432, "/var/lib/postgresql/15/main", "", "10.0.0.1:9754"};
  spec.green.database = {"10.0.0.2", 5432, "/var/lib/postgresql/15/main", "", "10.0.0.2:9754"};
  return spec;
}

class ServerIdentityTest : public ::testing::Test {
 protected:
  ServerIdentityTest() { dc_.spec = TwoMachines(); }

  FakeCluster cluster_{TwoMachines(), kBlue};
  api::DeploymentColor dc_ = fakes::FakeResource(kBlue);
};

// Flips both ways: every step finds its server by host and port (the fake connects the same
// way), and each color rejoins the other without a copy.
TEST_F(ServerIdentityTest, SwitchesBothWaysOnOnePortNumber) {
  ASSERT_EQ(fakes::Settle(cluster_, &dc_).reason, "Converged");
  for (Color to : {kGreen, kBlue}) {
    ASSERT_TRUE(cluster_.Write().ok());
    dc_.spec.active_color = to;
    ++dc_.metadata.generation;
    const Plan p = fakes::Settle(cluster_, &dc_, 40);
    EXPECT_EQ(p.reason, "Converged") << p.message;
    EXPECT_TRUE(cluster_.RunningPrimary(to));
    const model::World w = cluster_.ObserveWorld();
    EXPECT_EQ(w.server(api::Other(to)).receiver->sender_host, dc_.spec.color(to).database.host);
  }
  EXPECT_TRUE(cluster_.Violations().empty());
  EXPECT_TRUE(cluster_.CheckNoAcknowledgedWriteLost().ok());
  for (const auto& s : cluster_.Steps()) {
    EXPECT_NE(s.step.kind, StepKind::kBasebackup);
    EXPECT_NE(s.step.kind, StepKind::kRewind);
  }
}

// Green runs as a standby whose primary_conninfo names its own machine on the port both use:
// by port alone it would pass for blue's standby. It is restarted to be configured as one.
TEST_F(ServerIdentityTest, AStandbyFollowingItsOwnMachineIsNotTheOthersStandby) {
  ASSERT_EQ(fakes::Settle(cluster_, &dc_).reason, "Converged");
  model::World w = cluster_.ObserveWorld();
  for (model::ServerState* s : {&w.green}) {
    s->startup.primary_host = "10.0.0.2";
    s->running_primary_host = "10.0.0.2";
    s->receiver->sender_host = "10.0.0.2";
    s->receiver->status = "waiting";  // it cannot stream from itself
  }
  w.blue.replication.clear();
  ASSERT_FALSE(model::StreamsFrom(w.green, w.blue, dc_.spec));
  const Plan p = Next(dc_, w, cluster_.clock().Now());
  ASSERT_TRUE(p.step.has_value()) << p.reason << ": " << p.message;
  EXPECT_EQ(model::Describe(*p.step), "stop green");
  EXPECT_EQ(p.reason, "Rejoining");
  EXPECT_EQ(p.message, "stopping green: it is not a standby of blue (10.0.0.1:5432)");

  // Configured for blue, but running with what its file said before: the host differs.
  w = cluster_.ObserveWorld();
  w.green.running_primary_host = "10.0.0.2";
  w.green.receiver->status = "waiting";
  w.blue.replication.clear();
  const Plan running = Next(dc_, w, cluster_.clock().Now());
  ASSERT_TRUE(running.step.has_value()) << running.reason << ": " << running.message;
  EXPECT_EQ(model::Describe(*running.step), "stop green");
  EXPECT_EQ(running.message,
            "stopping green: it runs with a primary_conninfo (host 10.0.0.2, port 5432) that its "
            "configuration no longer says (blue, 10.0.0.1:5432): it was started while being "
            "configured");

  // Stopped so, it is configured again rather than started as it is.
  cluster_.StopServer(kGreen);
  w = cluster_.ObserveWorld();
  w.green.startup.primary_host = "10.0.0.2";
  const Plan stopped = Next(dc_, w, cluster_.clock().Now());
  ASSERT_TRUE(stopped.step.has_value()) << stopped.reason << ": " << stopped.message;
  EXPECT_EQ(model::Describe(*stopped.step), "configure-standby green from blue");
}

}  // namespace
}  // namespace sy::plan
