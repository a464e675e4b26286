// The daemon's wiring with agents: resources without agents keep the local observers, ones
// that name agents are observed through them (blue, green and nginx at once), and refused
// when the daemon has no way to reach agents.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include "pkg/app/wiring.h"
#include "tests/unit/agent/fake_agent.h"

namespace sy::app {
namespace {

using agent::testing::FakeAgent;
using agent::testing::Resource;
using agent::testing::TheAgent;

// App servers that refuse at once, and database hosts this machine's (the world observer
// refuses others without looking at agents; what matters here is how the machines are read).
api::DeploymentColor OnThisMachine(api::DeploymentColor dc) {
  for (api::Color c : api::kColors) {
    dc.spec.color(c).upstreams = {c == api::Color::kBlue ? "127.0.0.1:1" : "127.0.0.1:2"};
    dc.spec.color(c).database.host = "127.0.0.1";
  }
  return dc;
}

TEST(AgentWiringTest, ASpecNamingAgentsIsRefusedWithoutTheAgentFlags) {
  Wiring wiring;
  const api::DeploymentColor dc =
      OnThisMachine(Resource("127.0.0.1:9754", "127.0.0.1:9755", "127.0.0.1:9756"));
  absl::StatusOr<model::World> w = wiring.world_observer().Observe(dc);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), absl::StatusCode::kInvalidArgument);  // terminal until fixed
  EXPECT_EQ(w.status().message(), agent::kNoAgentTransport);
  absl::Status s = wiring.actuator().Run(dc, {model::StepKind::kStart, api::Color::kBlue}, nullptr);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), agent::kNoAgentTransport);
}

// Every observation waits until all three machines are being observed: observed one after
// the other, the first would wait for ever (here: 2 s, then the test fails).
TEST(AgentWiringTest, TheMachinesOfAResourceAreObservedAtOnce) {
  FakeAgent agent;
  std::mutex mu;
  std::condition_variable cv;
  int in_flight = 0;
  bool all_at_once = true;
  agent.on_observe = [&](const agent::ObserveRequest& r) {
    {
      std::unique_lock<std::mutex> l(mu);
      ++in_flight;
      cv.notify_all();
      if (!cv.wait_for(l, std::chrono::milliseconds(2000), [&] { return in_flight >= 3; })) {
        all_at_once = false;
      }
    }
    agent::ObserveReply reply;
    reply.agent = TheAgent();
    if (r.machine.nginx) {
      reply.nginx = model::NginxState{.running = true, .served_color = api::Color::kBlue};
    } else {
      model::ServerState s;
      s.color = r.machine.color;
      s.reachable = true;
      s.in_recovery = r.machine.color == api::Color::kGreen;
      reply.server = s;
    }
    return agent::testing::Json(200, agent::EncodeObserveReply(reply));
  };
  agent::AgentTransport transport;
  transport.insecure_http = true;
  Wiring wiring({}, AgentWiring{.transport = transport, .epoch = {"era-1", 3}, .leader = "t"});
  const api::DeploymentColor dc =
      OnThisMachine(Resource(agent.address(), agent.address(), agent.address()));
  absl::StatusOr<model::World> w = wiring.world_observer().Observe(dc);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_TRUE(all_at_once);
  EXPECT_TRUE(w->blue.RunningPrimary()) << w->blue.host_unknown;
  EXPECT_TRUE(w->green.RunningStandby());
  EXPECT_EQ(w->nginx.served_color, api::Color::kBlue);
  EXPECT_EQ(agent.observed().size(), 3u);
  EXPECT_EQ(wiring.Agents().CurrentEpoch(), (agent::Epoch{"era-1", 3}));
}

}  // namespace
}  // namespace sy::app
