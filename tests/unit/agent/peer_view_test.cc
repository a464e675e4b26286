// A database step on an agent sees the other database, on another machine, through the
// controller's observation of it (the request's peer): the PostgreSQL actuator's re-checks
// read it, nothing is written to the other's directory, and without it the step is refused.
// Over the actuator fakes, as green's machine: green's server and directory are here, blue's
// are not.
#include "pkg/agent/peer_view.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include "pkg/actuate/postgres_actuator.h"
#include "pkg/agent/local_executor.h"
#include "tests/fakes/fake_commit_gate.h"
#include "tests/unit/actuate/pg_step_fixture.h"

namespace sy::agent {
namespace {

using api::Color;
using ::testing::HasSubstr;

constexpr model::Lsn kBlueCheckpoint = 0x3000100;
constexpr int kGreenPid = 200;

class PeerViewTest : public ::testing::Test {
 protected:
  PeerViewTest() {
    dc_.metadata.name = "shop";
    dc_.spec = fakes::FakeSpec();
    // Green, a running standby that replayed past blue's shutdown checkpoint.
    fakes::FakeDataDirectory& d = host_.Directory(GreenDir());
    d.control = {"in archive recovery", 7, kBlueCheckpoint, 1, 0};
    d.startup.standby_signal = true;
    host_.RunPostmaster(GreenDir(), kGreenPid);
    Green().data_directory = GreenDir();
    Green().in_recovery = true;
    Green().replay_lsn = kBlueCheckpoint + 120;
    // Blue, as its own agent reported it: fenced and cleanly stopped.
    blue_.color = Color::kBlue;
    blue_.data_directory_exists = true;
    blue_.control = model::ControlData{"shut down", 7, kBlueCheckpoint, 1, 0};
    blue_.startup.fenced = blue_.startup.standby_signal = true;
  }

  const std::string& GreenDir() const { return dc_.spec.green.database.data_directory; }
  fakes::FakePgServer& Green() {
    return pg_.Server(host::EndpointFor(dc_.spec, Color::kGreen).Address());
  }

  // Runs `kind` on green's machine, as LocalExecutor does.
  absl::Status RunOnGreen(model::StepKind kind, const std::optional<model::ServerState>& peer) {
    actuate::FakesObserver local(pg_, host_);
    PeerObserver observer(local, Color::kGreen, peer);
    PeerHost host(host_, Color::kBlue, peer);
    actuate::PostgresActuator actuator(pg_, host, observer, runner_, clock_, {}, &gate_);
    actuate::StepOutcome out;
    return actuator.Run(WithPeerDirectory(dc_, Color::kGreen),
                        model::Step{kind, Color::kGreen, std::nullopt}, &out);
  }

  api::DeploymentColor dc_;
  model::ServerState blue_;
  fakes::FakePgClient pg_;
  fakes::FakePostgresHost host_;
  fakes::FakeCommandRunner runner_;
  fakes::FakeClock clock_;
  fakes::FakeCommitGate gate_;
};

TEST_F(PeerViewTest, PromotesWhenThePeerShowsTheOldPrimaryStoppedAndFenced) {
  const absl::Status s = RunOnGreen(model::StepKind::kPromote, blue_);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_FALSE(Green().in_recovery);
  EXPECT_THAT(gate_.Asked(), ::testing::Contains("pg_promote"));
  // Nothing of blue's was looked for or made on this machine.
  EXPECT_FALSE(host_.Exists(dc_.spec.blue.database.data_directory));
  EXPECT_FALSE(host_.Exists(PeerDirectory(dc_.spec.blue.database.data_directory)));
}

TEST_F(PeerViewTest, PromotionRefusedWhenThePeerShowsItsPostmasterAlive) {
  blue_.postmaster_alive = blue_.postmaster_pid = true;
  const absl::Status s = RunOnGreen(model::StepKind::kPromote, blue_);
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("blue is not stopped"));
  EXPECT_TRUE(Green().in_recovery);
}

TEST_F(PeerViewTest, PromotionRefusedWhenThePeerIsNotFenced) {
  blue_.startup.fenced = false;
  const absl::Status s = RunOnGreen(model::StepKind::kPromote, blue_);
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_TRUE(Green().in_recovery);
}

TEST_F(PeerViewTest, WithoutAPeerTheReCheckIsRefused) {
  const absl::Status s = RunOnGreen(model::StepKind::kPromote, std::nullopt);
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_TRUE(Green().in_recovery);
  EXPECT_EQ(NeedsPeerObservation(Color::kBlue).message(),
            "needs a fresh observation of blue from the controller (the request's peer)");
}

// Two machines, one path: the other's directory is told apart by its name in the spec.
TEST_F(PeerViewTest, BothDatabasesMayHaveTheSamePathOnTheirMachines) {
  dc_.spec.blue.database.data_directory = GreenDir();
  const absl::Status s = RunOnGreen(model::StepKind::kPromote, blue_);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_FALSE(Green().in_recovery);
  blue_.postmaster_alive = true;  // and the re-check still reads blue, not green's directory
  Green().in_recovery = true;
  EXPECT_TRUE(absl::IsFailedPrecondition(RunOnGreen(model::StepKind::kPromote, blue_)));
}

// A stop of a running primary is allowed only beside another primary (a split brain), which
// the peer shows.
TEST_F(PeerViewTest, StopOfASecondPrimaryReadsTheOthersRoleFromThePeer) {
  host_.Directory(GreenDir()).control.cluster_state = "in production";
  Green().in_recovery = false;
  blue_.postmaster_alive = blue_.reachable = true;
  blue_.control->cluster_state = "shut down";
  EXPECT_TRUE(absl::IsFailedPrecondition(RunOnGreen(model::StepKind::kStop, blue_)));
  EXPECT_TRUE(host_.PostmasterAlive(GreenDir()));
  blue_.control->cluster_state = "in production";
  const absl::Status s = RunOnGreen(model::StepKind::kStop, blue_);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_FALSE(host_.PostmasterAlive(GreenDir()));
  EXPECT_TRUE(host_.Directory(GreenDir()).startup.fenced);
}

TEST_F(PeerViewTest, TheOthersDirectoryIsNeverWritten) {
  PeerHost host(host_, Color::kBlue, blue_);
  const std::string other = PeerDirectory("/srv/pg/blue");
  EXPECT_TRUE(absl::IsFailedPrecondition(host.FenceDirectory(other, "x")));
  EXPECT_TRUE(absl::IsFailedPrecondition(host.LiftFenceDirectory(other)));
  EXPECT_TRUE(absl::IsFailedPrecondition(host.ConfigureStandbyDirectory(other, "c", "s")));
  EXPECT_TRUE(absl::IsFailedPrecondition(host.RemovePromoteRequest(other)));
  EXPECT_TRUE(absl::IsFailedPrecondition(host.SwapInCopy(other)));
  EXPECT_TRUE(absl::IsFailedPrecondition(host.LockForCopy(other).status()));
  EXPECT_FALSE(host.ReadPostmasterPid(other).has_value());
  EXPECT_FALSE(host_.Exists("/srv/pg/blue"));
  // Without a peer, what is safest to believe: it may run.
  PeerHost unknown(host_, Color::kBlue, std::nullopt);
  EXPECT_TRUE(unknown.PostmasterAlive(other));
  EXPECT_TRUE(absl::IsFailedPrecondition(unknown.ReadStartupConfig(other).status()));
}

// The real executor refuses a step that re-checks the other database without its
// observation, before anything is asked or done.
TEST(LocalExecutorTest, AStepThatNeedsThePeerIsRefusedWithoutIt) {
  LocalExecutor executor;
  fakes::FakeCommitGate gate;
  api::DeploymentColor dc;
  dc.spec = fakes::FakeSpec();
  actuate::StepOutcome out;
  for (model::StepKind kind : {model::StepKind::kPromote, model::StepKind::kStart,
                               model::StepKind::kStop, model::StepKind::kRewind}) {
    const absl::Status s =
        executor.Run(dc, model::Step{kind, Color::kGreen, std::nullopt}, std::nullopt, gate, &out);
    EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
    EXPECT_THAT(s.message(), HasSubstr("needs a fresh observation of blue"));
  }
  EXPECT_TRUE(gate.Asked().empty());
}

}  // namespace
}  // namespace sy::agent
