#include "pkg/agent/agent_actuator.h"

#include <gtest/gtest.h>

#include <atomic>

#include "pkg/util/clock.h"
#include "tests/fakes/fake_clock.h"
#include "tests/unit/agent/fake_agent.h"

namespace sy::agent {
namespace {

using model::Step;
using model::StepKind;
using testing::Call;
using testing::ClosedAddress;
using testing::FakeAgent;
using testing::Observed;
using testing::Op;
using testing::Refuse;
using testing::Resource;
using testing::TestTransport;
using testing::TheAgent;

// The controller's own machine: it must not be asked about anything an agent does.
class LocalMachine final : public model::PostgresObserver,
                           public model::NginxObserver,
                           public actuate::Actuator {
 public:
  absl::StatusOr<model::ServerState> Observe(const api::DeploymentColorSpec&,
                                             api::Color color) override {
    ++observed;
    model::ServerState s;
    s.color = color;
    return s;
  }
  absl::StatusOr<model::NginxState> Observe(const api::DeploymentColorSpec&) override {
    ++observed;
    return model::NginxState{};
  }
  absl::Status Run(const api::DeploymentColor&, const Step& step,
                   actuate::StepOutcome* outcome) override {
    ran.push_back(step);
    outcome->detail = "ran here";
    return absl::OkStatus();
  }
  std::atomic<int> observed{0};
  std::vector<Step> ran;
};

// Blue stopped behind its fence at a shutdown checkpoint: what a promotion of green needs.
model::ServerState FencedBlue() {
  model::ServerState s;
  s.color = api::Color::kBlue;
  s.data_directory_exists = true;
  s.control = model::ControlData{"shut down", 7, 0x3000028, 1, 0};
  s.startup.fenced = true;
  s.startup.standby_signal = true;
  return s;
}

std::vector<std::string> Whats(const std::vector<Call>& calls) {
  std::vector<std::string> out;
  for (const Call& c : calls) out.push_back(c.op_id.empty() ? c.what : c.what + " " + c.op_id);
  return out;
}

const Step kConfigureBlue{StepKind::kConfigureStandby, api::Color::kBlue, api::Color::kGreen};
const Step kStartBlue{StepKind::kStart, api::Color::kBlue};
const Step kPromoteGreen{StepKind::kPromote, api::Color::kGreen, std::nullopt, 0x3000028};

class AgentActuatorTest : public ::testing::Test {
 protected:
  explicit AgentActuatorTest(const util::Clock& clock = util::RealClock::Get())
      : clients_(TestTransport(), Epoch{"era-1", 5}, "ctl/test", clock),
        observer_(&clients_, local_, local_),
        actuator_(&clients_, observer_, local_, clock, Options()) {}

  static AgentActuatorOptions Options() {
    AgentActuatorOptions o;
    o.timeouts.stop = o.timeouts.start = o.timeouts.promote = std::chrono::milliseconds(500);
    o.margin = std::chrono::milliseconds(0);
    return o;
  }

  // Every observation of blue answers FencedBlue(), of green a running standby.
  void AnswerObservations() {
    agent_.on_observe = [](const ObserveRequest& r) {
      ObserveReply reply;
      reply.agent = TheAgent();
      reply.server = FencedBlue();
      if (r.machine.color == api::Color::kGreen) {
        reply.server->color = api::Color::kGreen;
        reply.server->reachable = true;
        reply.server->in_recovery = true;
      }
      return Observed(reply);
    };
  }

  FakeAgent agent_;
  LocalMachine local_;
  AgentClients clients_;
  AgentObserver observer_;
  AgentActuator actuator_;
  const api::DeploymentColor dc_ = Resource(agent_.address(), agent_.address());
};

TEST_F(AgentActuatorTest, AStepOnAMachineWithoutAnAgentRunsLocally) {
  const api::DeploymentColor local = Resource("", "", "");
  actuate::StepOutcome outcome;
  ASSERT_TRUE(actuator_.Run(local, kStartBlue, &outcome).ok());
  EXPECT_EQ(outcome.detail, "ran here");
  ASSERT_EQ(local_.ran.size(), 1u);
  EXPECT_TRUE(agent_.calls().empty());
  // nginx without an agent while the databases have one: switch-traffic stays here too.
  ASSERT_TRUE(actuator_.Run(dc_, {StepKind::kSwitchTraffic, api::Color::kGreen}, &outcome).ok());
  EXPECT_EQ(local_.ran.size(), 2u);
  EXPECT_TRUE(agent_.calls().empty());
}

TEST_F(AgentActuatorTest, AnOperationStillRunningIsPolledUntilItEnds) {
  std::atomic<int> polls{0};
  std::atomic<int64_t> wait_ms{-1};
  agent_.on_submit = [](const OpRequest& r) { return Op(202, r.op_id, OpState::kRunning); };
  agent_.on_poll = [&](const std::string& id, int64_t wait) {
    wait_ms = wait;
    if (++polls < 3) return Op(202, id, OpState::kRunning);
    OpReply done{TheAgent(), id, OpState::kDone, Code::kOk, "", "configured as a standby"};
    return testing::Json(200, EncodeOpReply(done));
  };
  actuate::StepOutcome outcome;
  absl::Status s = actuator_.Run(dc_, kConfigureBlue, &outcome);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(outcome.detail, "configured as a standby");
  const std::string id = "era-1.5.u-1.7.1.configure-standby.blue";
  EXPECT_EQ(Whats(agent_.calls()),
            (std::vector<std::string>{"submit " + id, "poll " + id, "poll " + id, "poll " + id}));
  // The agent may hold a poll for a slice that its answer still fits in the read timeout.
  EXPECT_GT(wait_ms, 0);
  EXPECT_LE(wait_ms, 300);
  ASSERT_EQ(agent_.submitted().size(), 1u);
  EXPECT_EQ(agent_.submitted()[0].step, kConfigureBlue);
  EXPECT_EQ(agent_.submitted()[0].epoch, (Epoch{"era-1", 5}));
  EXPECT_EQ(agent_.submitted()[0].object.metadata.uid, "u-1");
  EXPECT_FALSE(agent_.submitted()[0].peer.has_value());  // configure-standby re-checks none
  EXPECT_FALSE(actuator_.PendingOp(dc_, MachineOf(kConfigureBlue)));
  // The next operation on the resource has the next sequence number.
  agent_.on_submit = [](const OpRequest& r) { return Op(200, r.op_id, OpState::kDone); };
  ASSERT_TRUE(actuator_.Run(dc_, kConfigureBlue, &outcome).ok());
  EXPECT_EQ(agent_.submitted().back().op_id, "era-1.5.u-1.7.2.configure-standby.blue");
}

TEST_F(AgentActuatorTest, AFailedOperationReportsItsCode) {
  agent_.on_submit = [](const OpRequest& r) {
    return Op(200, r.op_id, OpState::kFailed, Code::kFailedPrecondition,
              "configuring blue (10.200.0.21:5432): it runs");
  };
  absl::Status s = actuator_.Run(dc_, kConfigureBlue, nullptr);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("configuring blue (10.200.0.21:5432): it runs"), std::string::npos)
      << s;
  EXPECT_FALSE(actuator_.PendingOp(dc_, MachineOf(kConfigureBlue)));  // its outcome is known
}

TEST_F(AgentActuatorTest, AnUnknownOutcomeHoldsTheMachineUntilThatOperationIsResolved) {
  agent_.on_submit = [](const OpRequest& r) { return Op(202, r.op_id, OpState::kRunning); };
  agent_.on_poll = [](const std::string& id, int64_t) {
    std::this_thread::sleep_for(std::chrono::milliseconds(700));  // read timeout: 400 ms
    return Op(202, id, OpState::kRunning);
  };
  absl::Status s = actuator_.Run(dc_, kConfigureBlue, nullptr);
  const std::string id = "era-1.5.u-1.7.1.configure-standby.blue";
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(
      s.message().find("operation " + id + " on agent " + agent_.address() + ": outcome unknown"),
      std::string::npos)
      << s;
  EXPECT_EQ(actuator_.PendingOp(dc_, MachineOf(kConfigureBlue)), id);

  // Still running: a step planned meanwhile for that machine is not sent, nor is its peer
  // observed; only the pending operation is asked about.
  const size_t before = agent_.calls().size();
  agent_.on_poll = [](const std::string& op, int64_t) { return Op(202, op, OpState::kRunning); };
  s = actuator_.Run(dc_, kStartBlue, nullptr);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("outcome unknown"), std::string::npos) << s;
  std::vector<std::string> since = Whats(agent_.calls());
  since.erase(since.begin(), since.begin() + static_cast<std::ptrdiff_t>(before));
  ASSERT_FALSE(since.empty());
  for (const std::string& c : since) EXPECT_EQ(c, "poll " + id);

  // It ended: the step asked for now was planned without its effect, so it is not sent
  // either, and the machine is free for the next pass.
  agent_.on_poll = [](const std::string& op, int64_t) { return Op(200, op, OpState::kDone); };
  const size_t before_end = agent_.calls().size();
  s = actuator_.Run(dc_, kStartBlue, nullptr);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("ended (done)"), std::string::npos) << s;
  since = Whats(agent_.calls());
  since.erase(since.begin(), since.begin() + static_cast<std::ptrdiff_t>(before_end));
  EXPECT_EQ(since, (std::vector<std::string>{"poll " + id}));
  EXPECT_FALSE(actuator_.PendingOp(dc_, MachineOf(kConfigureBlue)));

  AnswerObservations();
  agent_.on_submit = [](const OpRequest& r) { return Op(200, r.op_id, OpState::kDone); };
  s = actuator_.Run(dc_, kStartBlue, nullptr);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(agent_.submitted().back().op_id, "era-1.5.u-1.7.2.start.blue");
}

TEST_F(AgentActuatorTest, AnOperationTheAgentNeverSawIsSentAgainUnderTheSameId) {
  std::atomic<bool> lose{true};
  agent_.on_submit = [&](const OpRequest& r) {
    if (lose) std::this_thread::sleep_for(std::chrono::milliseconds(700));  // the reply is lost
    return Op(200, r.op_id, OpState::kDone);
  };
  absl::Status s = actuator_.Run(dc_, kConfigureBlue, nullptr);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  const std::string id = "era-1.5.u-1.7.1.configure-standby.blue";
  EXPECT_EQ(actuator_.PendingOp(dc_, MachineOf(kConfigureBlue)), id);

  lose = false;
  agent_.on_poll = [](const std::string&, int64_t) {
    return Refuse(Code::kUnknownOp, "no operation with that id");
  };
  const size_t before = agent_.calls().size();
  s = actuator_.Run(dc_, kConfigureBlue, nullptr);
  ASSERT_TRUE(s.ok()) << s;  // the very step asked for: its outcome is this Run's
  std::vector<std::string> since = Whats(agent_.calls());
  since.erase(since.begin(), since.begin() + static_cast<std::ptrdiff_t>(before));
  EXPECT_EQ(since, (std::vector<std::string>{"poll " + id, "submit " + id}));
  const std::vector<OpRequest> sent = agent_.submitted();
  ASSERT_GE(sent.size(), 2u);
  EXPECT_EQ(sent.back().op_id, sent.front().op_id);
  EXPECT_EQ(sent.back().step, sent.front().step);
  EXPECT_FALSE(actuator_.PendingOp(dc_, MachineOf(kConfigureBlue)));
}

TEST_F(AgentActuatorTest, APromotionCarriesTheOtherDatabaseObservedRightBefore) {
  AnswerObservations();
  agent_.on_submit = [](const OpRequest& r) { return Op(200, r.op_id, OpState::kDone); };
  absl::Status s = actuator_.Run(dc_, kPromoteGreen, nullptr);
  ASSERT_TRUE(s.ok()) << s;
  const std::string id = "era-1.5.u-1.7.1.promote.green";
  // Blue's agent records the promotion in blue's fence before green is asked to promote.
  EXPECT_EQ(
      Whats(agent_.calls()),
      (std::vector<std::string>{"observe blue's database",
                                "submit era-1.5.u-1.7.2.record-promotion.blue", "submit " + id}));
  ASSERT_EQ(agent_.submitted().size(), 2u);
  EXPECT_EQ(agent_.submitted()[0].step.kind, model::StepKind::kRecordPromotion);
  EXPECT_EQ(agent_.submitted()[1].peer, FencedBlue());
}

TEST_F(AgentActuatorTest, APromotionThatCannotBeRecordedInTheFenceIsNotSent) {
  AnswerObservations();
  agent_.on_submit = [](const OpRequest& r) {
    if (r.step.kind == model::StepKind::kRecordPromotion) {
      return Op(200, r.op_id, OpState::kFailed, Code::kFailedPrecondition, "not fenced");
    }
    return Op(200, r.op_id, OpState::kDone);
  };
  absl::Status s = actuator_.Run(dc_, kPromoteGreen, nullptr);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_NE(s.message().find("not promoting green: "), std::string::npos) << s;
  ASSERT_EQ(agent_.submitted().size(), 1u);  // the record only
}

TEST_F(AgentActuatorTest, APeerThatCannotBeObservedSendsNothing) {
  const api::DeploymentColor dc = Resource(ClosedAddress(), agent_.address());
  absl::Status s = actuator_.Run(dc, kPromoteGreen, nullptr);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("cannot re-check blue's database before promote green: agent "),
            std::string::npos)
      << s;
  EXPECT_TRUE(agent_.calls().empty());
  EXPECT_FALSE(actuator_.PendingOp(dc, MachineOf(kPromoteGreen)));
}

TEST_F(AgentActuatorTest, AStaleEpochIsRefusedCountedAndLeavesNothingPending) {
  agent_.on_submit = [](const OpRequest&) {
    return Refuse(Code::kStaleEpoch, "epoch 5 is lower than 6");
  };
  absl::Status s = actuator_.Run(dc_, kConfigureBlue, nullptr);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("STALE_EPOCH: epoch 5 is lower than 6"), std::string::npos) << s;
  EXPECT_NE(s.message().find("a newer controller took over"), std::string::npos) << s;
  EXPECT_EQ(clients_.Stats().Of(agent_.address()).stale_epoch, 1);
  EXPECT_FALSE(actuator_.PendingOp(dc_, MachineOf(kConfigureBlue)));
}

TEST(AgentActuatorNoTransportTest, ASpecNamingAgentsNeedsTheDaemonsAgentFlags) {
  LocalMachine local;
  AgentObserver observer(nullptr, local, local);
  AgentActuator actuator(nullptr, observer, local, util::RealClock::Get());
  absl::Status s =
      actuator.Run(Resource("10.200.0.21:9754", "10.200.0.22:9754"), kStartBlue, nullptr);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), kNoAgentTransport);
  EXPECT_TRUE(local.ran.empty());
}

// The write window's ends are placed on the controller's clock at the reply's arrival.
class AgentActuatorClockTest : public AgentActuatorTest {
 protected:
  AgentActuatorClockTest() : AgentActuatorTest(clock_) {}
  static fakes::FakeClock clock_;
};
fakes::FakeClock AgentActuatorClockTest::clock_;

TEST_F(AgentActuatorClockTest, TheWriteWindowIsAnchoredWhenTheReplyArrives) {
  AnswerObservations();
  agent_.on_submit = [](const OpRequest& r) {
    OpReply done{TheAgent(), r.op_id, OpState::kDone, Code::kOk, "", "fenced", 1500};
    return testing::Json(200, EncodeOpReply(done));
  };
  actuate::StepOutcome outcome;
  ASSERT_TRUE(actuator_.Run(dc_, {StepKind::kFence, api::Color::kBlue}, &outcome).ok());
  ASSERT_TRUE(outcome.writes_stopped_at.has_value());
  EXPECT_EQ(*outcome.writes_stopped_at, clock_.MonotonicNow() - std::chrono::microseconds(1500));
  EXPECT_FALSE(outcome.writes_resumed_at.has_value());

  agent_.on_submit = [](const OpRequest& r) {
    OpReply done{TheAgent(), r.op_id, OpState::kDone, Code::kOk, "", "promoted", std::nullopt, 250};
    return testing::Json(200, EncodeOpReply(done));
  };
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(actuator_.Run(dc_, kPromoteGreen, &outcome).ok());
  EXPECT_EQ(outcome.writes_resumed_at, clock_.MonotonicNow() - std::chrono::microseconds(250));
}

}  // namespace
}  // namespace sy::agent
