#include "pkg/agent/agent_observer.h"

#include <gtest/gtest.h>

#include "pkg/util/clock.h"
#include "tests/unit/agent/fake_agent.h"

namespace sy::agent {
namespace {

using testing::ClosedAddress;
using testing::FakeAgent;
using testing::Observed;
using testing::Refuse;
using testing::Resource;
using testing::TestTransport;
using testing::TheAgent;

// The controller's own machine: a running primary, so that a state from it is never confused
// with one made up for an unknown machine.
class LocalMachine final : public model::PostgresObserver, public model::NginxObserver {
 public:
  absl::StatusOr<model::ServerState> Observe(const api::DeploymentColorSpec&,
                                             api::Color color) override {
    ++calls;
    model::ServerState s;
    s.color = color;
    s.reachable = true;
    s.data_directory_exists = true;
    return s;
  }
  absl::StatusOr<model::NginxState> Observe(const api::DeploymentColorSpec&) override {
    ++calls;
    return model::NginxState{.running = true, .file_color = api::Color::kBlue};
  }
  std::atomic<int> calls{0};
};

model::ServerState RunningStandby(api::Color color) {
  model::ServerState s;
  s.color = color;
  s.data_directory_exists = true;
  s.postmaster_pid = true;
  s.postmaster_alive = true;
  s.reachable = true;
  s.in_recovery = true;
  s.timeline = 2;
  s.replay_lsn = 0x3000028;
  return s;
}

// The only thing an unknown machine's state may say is that it is unknown: nothing that a
// planner could read as stopped, missing, primary or standby.
void ExpectUnknownOnly(const model::ServerState& s, api::Color color) {
  EXPECT_FALSE(s.host_unknown.empty());
  model::ServerState only = s;
  only.host_unknown.clear();
  model::ServerState blank;
  blank.color = color;
  EXPECT_EQ(only, blank);
}

class AgentObserverTest : public ::testing::Test {
 protected:
  AgentClients clients_{TestTransport(), Epoch{"era-1", 5}, "ctl/test", util::RealClock::Get()};
  LocalMachine local_;
  AgentObserver observer_{&clients_, local_, local_};
  FakeAgent agent_;
};

TEST_F(AgentObserverTest, ObservesThroughTheAgentWithTheEpochAndTheResource) {
  agent_.on_observe = [](const ObserveRequest& r) {
    ObserveReply reply;
    reply.agent = TheAgent();
    reply.server = RunningStandby(r.machine.color);
    return Observed(reply);
  };
  const api::DeploymentColor dc = Resource(agent_.address(), agent_.address());
  absl::StatusOr<model::ServerState> s = observer_.ObserveResource(dc, api::Color::kGreen);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(*s, RunningStandby(api::Color::kGreen)) << s->host_unknown;
  ASSERT_EQ(agent_.observed().size(), 1u);
  const ObserveRequest sent = agent_.observed()[0];
  EXPECT_EQ(sent.epoch, (Epoch{"era-1", 5}));
  EXPECT_EQ(sent.leader, "ctl/test");
  EXPECT_FALSE(sent.readonly);  // the controller's observation raises the agent's epoch
  EXPECT_EQ(sent.object.Key(), "default/shop");
  EXPECT_EQ(sent.object.metadata.uid, "u-1");
  EXPECT_EQ(sent.machine, (Machine{.nginx = false, .color = api::Color::kGreen}));
  EXPECT_EQ(local_.calls, 0);
  const model::AgentReport stats = clients_.Stats().Of(agent_.address());
  EXPECT_TRUE(stats.reachable);
  EXPECT_EQ(stats.requests.at({"observe", "OK"}), 1);
}

TEST_F(AgentObserverTest, WithoutAnAgentTheLocalMachineIsObserved) {
  const api::DeploymentColor dc = Resource("", "");
  absl::StatusOr<model::ServerState> s = observer_.ObserveResource(dc, api::Color::kBlue);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->reachable);
  absl::StatusOr<model::NginxState> n = observer_.ObserveResource(dc);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_TRUE(n->running);
  EXPECT_EQ(local_.calls, 2);
  EXPECT_TRUE(agent_.calls().empty());
}

TEST_F(AgentObserverTest, AnUnreachableAgentMakesTheMachineUnknownNeverStopped) {
  const std::string closed = ClosedAddress();
  const api::DeploymentColor dc = Resource(closed, closed, closed);
  absl::StatusOr<model::ServerState> s = observer_.ObserveResource(dc, api::Color::kBlue);
  ASSERT_TRUE(s.ok()) << s.status();  // data, not an error: the pass goes on and holds
  ExpectUnknownOnly(*s, api::Color::kBlue);
  EXPECT_NE(s->host_unknown.find("agent " + closed + " unreachable"), std::string::npos)
      << s->host_unknown;
  absl::StatusOr<model::NginxState> n = observer_.ObserveResource(dc);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_NE(n->host_unknown.find("agent " + closed + " unreachable"), std::string::npos);
  EXPECT_EQ(*n, model::NginxState{.host_unknown = n->host_unknown});
  const model::AgentReport stats = clients_.Stats().Of(closed);
  EXPECT_FALSE(stats.reachable);
  EXPECT_EQ(stats.requests.at({"observe", "UNREACHABLE"}), 2);
  EXPECT_EQ(local_.calls, 0);
}

TEST_F(AgentObserverTest, AnAgentThatDoesNotAnswerInTimeMakesTheMachineUnknown) {
  agent_.on_observe = [](const ObserveRequest& r) {
    std::this_thread::sleep_for(std::chrono::milliseconds(700));  // read timeout: 400 ms
    ObserveReply reply;
    reply.server = RunningStandby(r.machine.color);
    return Observed(reply);
  };
  absl::StatusOr<model::ServerState> s =
      observer_.ObserveResource(Resource(agent_.address(), agent_.address()), api::Color::kBlue);
  ASSERT_TRUE(s.ok()) << s.status();
  ExpectUnknownOnly(*s, api::Color::kBlue);
}

TEST_F(AgentObserverTest, AnOperationRunningOrInDoubtMakesTheMachineUnknown) {
  const api::DeploymentColor dc = Resource(agent_.address(), agent_.address());
  agent_.on_observe = [](const ObserveRequest& r) {
    ObserveReply reply;
    reply.agent = TheAgent();
    reply.server = RunningStandby(r.machine.color);  // facts that may change any moment
    reply.running_op = "era-1.5.u-1.7.3.promote.green";
    return Observed(reply);
  };
  absl::StatusOr<model::ServerState> s = observer_.ObserveResource(dc, api::Color::kGreen);
  ASSERT_TRUE(s.ok()) << s.status();
  ExpectUnknownOnly(*s, api::Color::kGreen);
  EXPECT_EQ(s->host_unknown,
            "operation era-1.5.u-1.7.3.promote.green running on agent " + agent_.address());

  agent_.on_observe = [](const ObserveRequest& r) {
    ObserveReply reply;
    reply.agent = TheAgent();
    reply.server = RunningStandby(r.machine.color);
    reply.in_doubt_ops = {"era-1.4.u-1.7.9.start.green"};
    return Observed(reply);
  };
  s = observer_.ObserveResource(dc, api::Color::kGreen);
  ASSERT_TRUE(s.ok()) << s.status();
  ExpectUnknownOnly(*s, api::Color::kGreen);
  EXPECT_NE(s->host_unknown.find("operation era-1.4.u-1.7.9.start.green in doubt on agent " +
                                 agent_.address()),
            std::string::npos)
      << s->host_unknown;
}

TEST_F(AgentObserverTest, ARefusalOrAnAnswerOutsideTheProtocolMakesTheMachineUnknown) {
  const api::DeploymentColor dc = Resource(agent_.address(), agent_.address(), agent_.address());
  agent_.on_observe = [](const ObserveRequest&) {
    return Refuse(Code::kNoEpoch, "never pinned: run switchyard-agent pin-epoch");
  };
  absl::StatusOr<model::ServerState> s = observer_.ObserveResource(dc, api::Color::kBlue);
  ASSERT_TRUE(s.ok()) << s.status();
  ExpectUnknownOnly(*s, api::Color::kBlue);
  EXPECT_NE(s->host_unknown.find("NO_EPOCH: never pinned"), std::string::npos) << s->host_unknown;

  agent_.on_observe = nullptr;  // HTTP 500 "not scripted"
  s = observer_.ObserveResource(dc, api::Color::kBlue);
  ASSERT_TRUE(s.ok()) << s.status();
  ExpectUnknownOnly(*s, api::Color::kBlue);
  EXPECT_EQ(clients_.Stats().Of(agent_.address()).requests.at({"observe", "BAD_REPLY"}), 1);

  // A reply without the machine's facts is no observation of it either.
  agent_.on_observe = [](const ObserveRequest&) {
    ObserveReply reply;
    reply.agent = TheAgent();
    return Observed(reply);
  };
  absl::StatusOr<model::NginxState> n = observer_.ObserveResource(dc);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_NE(n->host_unknown.find("without nginx's facts"), std::string::npos) << n->host_unknown;
  EXPECT_FALSE(n->running);
}

TEST_F(AgentObserverTest, AStaleEpochStopsThePassAndIsCounted) {
  agent_.on_observe = [](const ObserveRequest&) {
    return Refuse(Code::kStaleEpoch, "epoch 5 is lower than 6");
  };
  const api::DeploymentColor dc = Resource(agent_.address(), agent_.address());
  absl::StatusOr<model::ServerState> s = observer_.ObserveResource(dc, api::Color::kBlue);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(s.status().message().find("STALE_EPOCH"), std::string::npos) << s.status();
  EXPECT_NE(s.status().message().find("superseded"), std::string::npos) << s.status();
  EXPECT_EQ(clients_.Stats().Of(agent_.address()).stale_epoch, 1);
}

TEST(AgentObserverNoTransportTest, ASpecNamingAgentsNeedsTheDaemonsAgentFlags) {
  AgentClients clients(AgentTransport{}, Epoch{"era-1", 1}, "ctl", util::RealClock::Get());
  LocalMachine local;
  for (AgentClients* c : {&clients, static_cast<AgentClients*>(nullptr)}) {
    AgentObserver observer(c, local, local);
    absl::StatusOr<model::ServerState> s = observer.ObserveResource(
        Resource("10.200.0.21:9754", "10.200.0.22:9754"), api::Color::kBlue);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(s.status().message(), kNoAgentTransport);
  }
  EXPECT_EQ(local.calls, 0);
}

}  // namespace
}  // namespace sy::agent
