// Tests of Reconciler on FakeCluster and a memory Store: each test reconciles to convergence,
// checks the world and the status, then runs one more pass and checks it takes no step.
#include "pkg/controller/reconciler.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>

#include "pkg/source/store.h"
#include "tests/fakes/fake_cluster.h"
#include "tests/fakes/plan_driver.h"
#include "tests/fakes/temp_dir.h"

namespace sy::controller {
namespace {

using api::Color;
using fakes::FakeCluster;
using model::StepKind;
using Next = PassResult::Next;

constexpr auto kResync = std::chrono::seconds(10);
const std::string kKey = "default/shop";

// A directory under /tmp, removed with everything in it at the end of the test.
struct TempDir : fakes::TempDir {
  TempDir() : fakes::TempDir("reconciler_test") {}
};

class ReconcilerTest : public ::testing::Test {
 protected:
  // The world starts converged on `primary`, and so does the stored resource.
  void SetUpWorld(Color primary, const std::string& state_dir = "") {
    reconciler_.reset();
    store_.reset();
    observer_.reset();
    cluster_ = std::make_unique<FakeCluster>(fakes::FakeSpec(primary), primary);
    observer_ = std::make_unique<observe::WorldObserver>(*cluster_, *cluster_, *cluster_);
    store_ = std::make_unique<source::Store>(state_dir, cluster_->clock());
    ASSERT_TRUE(store_->Load().ok());
    ReconcilerOptions options;
    options.resync = kResync;
    reconciler_ =
        std::make_unique<Reconciler>(*observer_, *cluster_, *store_, cluster_->clock(), options);
    Desire(primary);
  }
  void SetUp() override { SetUpWorld(Color::kBlue); }

  void Desire(Color c, bool paused = false) {
    api::DeploymentColor dc = fakes::FakeResource(c);
    dc.spec.paused = paused;
    ASSERT_TRUE(store_->Apply(dc, "test").ok());
  }

  // Reconciles while the result asks to look again at once (or after a short poll), at most
  // `max_passes` times; returns the last result.
  PassResult Converge(int max_passes = 50) {
    PassResult r;
    for (int i = 0; i < max_passes; ++i) {
      r = reconciler_->Reconcile(kKey);
      const bool again =
          r.next == Next::kNow || (r.next == Next::kAfter && r.after < std::chrono::seconds(1));
      if (!again) return r;
    }
    ADD_FAILURE() << "not settled after " << max_passes << " passes";
    return r;
  }

  // One more pass after convergence: it must take no step.
  void ExpectSecondPassIdle() {
    const size_t steps = cluster_->Steps().size();
    const PassResult again = reconciler_->Reconcile(kKey);
    EXPECT_FALSE(again.step.has_value()) << model::Describe(*again.step);
    EXPECT_EQ(cluster_->Steps().size(), steps);
  }

  api::DeploymentColorStatus Status() { return store_->Get(kKey)->status; }

  const api::Condition& Cond(std::string_view type) {
    static const api::Condition kMissing;
    status_ = Status();
    const api::Condition* c = api::FindCondition(status_, type);
    EXPECT_NE(c, nullptr) << type;
    return c ? *c : kMissing;
  }

  // The world serves and writes to `c`; the other color streams from it.
  void ExpectWorldOn(Color c) {
    EXPECT_TRUE(cluster_->RunningPrimary(c));
    EXPECT_FALSE(cluster_->RunningPrimary(api::Other(c)));
    EXPECT_EQ(cluster_->ObserveWorld().nginx.served_color, c);
    const fakes::FakePostgres standby = cluster_->server(api::Other(c));
    EXPECT_TRUE(standby.streaming);
    EXPECT_EQ(standby.primary_port, cluster_->server(c).port);
    EXPECT_TRUE(cluster_->Violations().empty());
  }

  std::unique_ptr<FakeCluster> cluster_;
  std::unique_ptr<observe::WorldObserver> observer_;
  std::unique_ptr<source::Store> store_;
  std::unique_ptr<Reconciler> reconciler_;
  api::DeploymentColorStatus status_;
};

class FlipTest : public ReconcilerTest, public ::testing::WithParamInterface<Color> {
 protected:
  void SetUp() override { SetUpWorld(GetParam()); }
};

TEST_P(FlipTest, ConvergesOnTheOtherColorWithoutLosingAWrite) {
  const Color from = GetParam();
  const Color to = api::Other(from);
  auto write = cluster_->Write();
  ASSERT_TRUE(write.ok());

  Desire(to);
  const PassResult last = Converge();

  EXPECT_EQ(last.next, Next::kAfter);
  EXPECT_EQ(last.after, kResync);
  EXPECT_EQ(last.phase, api::Phase::kConverged);
  ExpectWorldOn(to);
  EXPECT_TRUE(cluster_->CheckNoAcknowledgedWriteLost().ok());
  EXPECT_TRUE(cluster_->WritesOn(to).count(*write));

  const api::DeploymentColorStatus st = Status();
  EXPECT_EQ(st.phase, "Converged");
  EXPECT_EQ(st.serving_color, api::ColorName(to));
  EXPECT_EQ(st.primary_color, api::ColorName(to));
  EXPECT_EQ(st.observed_generation, store_->Get(kKey)->metadata.generation);
  EXPECT_EQ(st.step, "");
  EXPECT_EQ(Cond(api::kConditionReady).status, "True");
  EXPECT_EQ(Cond(api::kConditionDrifted).status, "False");
  ASSERT_TRUE(st.last_switchover.has_value());
  EXPECT_EQ(st.last_switchover->from, api::ColorName(from));
  EXPECT_EQ(st.last_switchover->to, api::ColorName(to));
  EXPECT_NE(st.last_switchover->started_at, "");
  EXPECT_NE(st.last_switchover->finished_at, "");
  // The fake's fence and promotion take simulated time, so the window is measured.
  EXPECT_GT(st.last_switchover->write_unavailable_ms, 0);

  ExpectSecondPassIdle();
  EXPECT_EQ(Status(), st);
}

INSTANTIATE_TEST_SUITE_P(BothDirections, FlipTest, ::testing::Values(Color::kBlue, Color::kGreen),
                         [](const ::testing::TestParamInfo<Color>& p) {
                           return "From" + std::string(p.param == Color::kBlue ? "Blue" : "Green");
                         });

TEST_F(ReconcilerTest, ConvergedWorldTakesNoStep) {
  const PassResult r = Converge();
  EXPECT_EQ(r.phase, api::Phase::kConverged);
  EXPECT_TRUE(cluster_->Steps().empty());
  EXPECT_EQ(Status().phase, "Converged");
  EXPECT_FALSE(Status().last_switchover.has_value());
  ExpectSecondPassIdle();
}

TEST_F(ReconcilerTest, PausedObservesAndTakesNoStep) {
  Desire(Color::kGreen, /*paused=*/true);
  const PassResult r = Converge();
  EXPECT_EQ(r.phase, api::Phase::kPaused);
  EXPECT_EQ(Status().phase, "Paused");
  EXPECT_TRUE(cluster_->Steps().empty());
  ExpectWorldOn(Color::kBlue);
  ExpectSecondPassIdle();
}

TEST_F(ReconcilerTest, ObserveFailureBacksOffWithoutAStep) {
  Desire(Color::kGreen);
  cluster_->FailNextObserve(absl::UnavailableError("connection refused"));
  const PassResult r = reconciler_->Reconcile(kKey);
  EXPECT_EQ(r.next, Next::kBackoff);
  EXPECT_TRUE(absl::IsUnavailable(r.error));
  EXPECT_FALSE(r.step.has_value());
  EXPECT_TRUE(cluster_->Steps().empty());
  EXPECT_EQ(Cond(api::kConditionReady).status, "False");
  EXPECT_EQ(Cond(api::kConditionReady).reason, "ObserveFailed");
  EXPECT_NE(Cond(api::kConditionReady).message.find("connection refused"), std::string::npos);

  // Once the world can be seen again, the flip goes through.
  EXPECT_EQ(Converge().phase, api::Phase::kConverged);
  ExpectWorldOn(Color::kGreen);
  ExpectSecondPassIdle();
}

TEST_F(ReconcilerTest, FailingStepDegradesThenRetrySucceeds) {
  Desire(Color::kGreen);
  cluster_->FailNext(StepKind::kFence, absl::UnavailableError("server closed the connection"));
  const PassResult failed = Converge();
  EXPECT_EQ(failed.next, Next::kBackoff);
  EXPECT_EQ(failed.phase, api::Phase::kDegraded);
  EXPECT_FALSE(failed.terminal);
  ASSERT_TRUE(failed.step.has_value());
  EXPECT_EQ(failed.step->kind, StepKind::kFence);
  EXPECT_EQ(Status().phase, "Degraded");
  EXPECT_EQ(Cond(api::kConditionReady).status, "False");
  EXPECT_EQ(Cond(api::kConditionReady).reason, "StepFailed");
  EXPECT_NE(Cond(api::kConditionReady).message.find("fence blue"), std::string::npos)
      << Cond(api::kConditionReady).message;
  EXPECT_TRUE(cluster_->RunningPrimary(Color::kBlue));  // the failed fence changed nothing

  EXPECT_EQ(Converge().phase, api::Phase::kConverged);
  ExpectWorldOn(Color::kGreen);
  EXPECT_EQ(Status().phase, "Converged");
  ExpectSecondPassIdle();
}

TEST_F(ReconcilerTest, TerminalStepFailureIsFailedWithoutHotLoop) {
  Desire(Color::kGreen);
  cluster_->FailNext(StepKind::kFence, absl::InvalidArgumentError("bad data directory"));
  const PassResult r = Converge();
  EXPECT_TRUE(r.terminal);
  EXPECT_EQ(r.phase, api::Phase::kFailed);
  EXPECT_EQ(r.next, Next::kAfter);
  EXPECT_EQ(r.after, kResync);
  EXPECT_EQ(Status().phase, "Failed");
  EXPECT_EQ(Cond(api::kConditionReady).reason, "StepFailed");
  EXPECT_NE(Cond(api::kConditionReady).message.find("bad data directory"), std::string::npos);
}

// A terminal failure waits for a new input: resyncs do not try the step again (not even once
// the host is fixed); a new generation does, whether from a spec change or from a
// switchyard.dev/ annotation (the operator's consent, or a retry set after a fix on the host).
TEST_F(ReconcilerTest, TerminalStepFailureWaitsForANewGeneration) {
  auto tries = [&] {
    size_t n = 0;
    for (const auto& s : cluster_->Steps()) n += s.step.kind == StepKind::kSwitchTraffic ? 1 : 0;
    return n;
  };
  auto resyncs_take_no_step = [&] {
    const size_t before = cluster_->Steps().size();
    for (int i = 0; i < 3; ++i) {
      cluster_->clock().Advance(kResync);
      const PassResult r = reconciler_->Reconcile(kKey);
      EXPECT_TRUE(r.terminal);
      EXPECT_EQ(r.phase, api::Phase::kFailed);
      EXPECT_EQ(r.next, Next::kAfter);
      EXPECT_EQ(r.after, kResync);
      EXPECT_FALSE(r.step.has_value());
      EXPECT_NE(r.error.message().find("nginx -t failed"), std::string::npos) << r.error;
    }
    EXPECT_EQ(cluster_->Steps().size(), before);
    EXPECT_EQ(Status().phase, "Failed");
    EXPECT_EQ(Cond(api::kConditionReady).reason, "StepFailed");
    EXPECT_NE(Cond(api::kConditionReady).message.find("not tried again until the spec"),
              std::string::npos)
        << Cond(api::kConditionReady).message;
  };

  cluster_->SetNginxTestFails(true);  // nginx -t rejects the new upstream file: terminal
  Desire(Color::kGreen);
  ASSERT_TRUE(Converge().terminal);
  EXPECT_EQ(tries(), 1u);
  resyncs_take_no_step();

  // A spec change is a new generation: tried again (and, nginx still broken, blocked again).
  api::DeploymentColor dc = *store_->Get(kKey);
  const int64_t generation = dc.metadata.generation;
  dc.spec.database.max_lag_bytes += 1;
  ASSERT_TRUE(store_->Apply(dc, "test").ok());
  ASSERT_GT(store_->Get(kKey)->metadata.generation, generation);
  ASSERT_TRUE(Converge().terminal);
  EXPECT_EQ(tries(), 2u);
  resyncs_take_no_step();

  // Fixed on the host; the operator says so with an annotation: the flip goes through.
  cluster_->SetNginxTestFails(false);
  resyncs_take_no_step();
  dc = *store_->Get(kKey);
  dc.metadata.annotations["switchyard.dev/retry"] = "1";
  ASSERT_TRUE(store_->Apply(dc, "test").ok());
  EXPECT_EQ(Converge().phase, api::Phase::kConverged);
  EXPECT_EQ(tries(), 3u);
  ExpectWorldOn(Color::kGreen);
  ExpectSecondPassIdle();
}

TEST_F(ReconcilerTest, InvalidManifestKeepsActingOnTheLastValidSpec) {
  Desire(Color::kGreen);
  ASSERT_TRUE(store_
                  ->MarkInvalid(kKey, "shop.yaml",
                                "shop.yaml:7:16: spec.activeColor: must be \"blue\" or \"green\"")
                  .ok());
  const PassResult r = Converge();
  EXPECT_EQ(r.phase, api::Phase::kInvalid);
  ExpectWorldOn(Color::kGreen);
  EXPECT_EQ(Status().phase, "Invalid");
  EXPECT_EQ(Status().serving_color, "green");
  EXPECT_EQ(Cond(api::kConditionReady).reason, "InvalidManifest");
  EXPECT_NE(Cond(api::kConditionReady).message.find("shop.yaml:7:16"), std::string::npos);
  ExpectSecondPassIdle();
}

TEST_F(ReconcilerTest, FlipBackAfterTheFenceReturnsToTheOriginalColor) {
  auto write = cluster_->Write();
  ASSERT_TRUE(write.ok());
  Desire(Color::kGreen);
  bool fenced = false;
  for (int i = 0; i < 20 && !fenced; ++i) {
    const PassResult r = reconciler_->Reconcile(kKey);
    ASSERT_TRUE(r.error.ok()) << r.error;
    fenced = r.step && r.step->kind == StepKind::kFence;
  }
  ASSERT_TRUE(fenced);
  ASSERT_EQ(cluster_->RunningPrimaries(), 0);  // mid-switch: nobody takes writes

  Desire(Color::kBlue);
  EXPECT_EQ(Converge().phase, api::Phase::kConverged);
  ExpectWorldOn(Color::kBlue);
  EXPECT_TRUE(cluster_->CheckNoAcknowledgedWriteLost().ok());
  EXPECT_TRUE(cluster_->WritesOn(Color::kBlue).count(*write));
  EXPECT_EQ(Status().phase, "Converged");
  EXPECT_EQ(Status().serving_color, "blue");
  ExpectSecondPassIdle();
}

TEST_F(ReconcilerTest, GoneResourceIsForgotten) {
  ASSERT_TRUE(store_->Remove(kKey).ok());
  EXPECT_EQ(reconciler_->Reconcile(kKey).next, Next::kForget);
  EXPECT_TRUE(cluster_->Steps().empty());
}

TEST_F(ReconcilerTest, StatusIsPersistedInTheStateDirectory) {
  const TempDir tmp;
  ASSERT_FALSE(tmp.path.empty());
  const std::string dir = tmp.path;
  SetUpWorld(Color::kBlue, dir);
  Desire(Color::kGreen);
  EXPECT_EQ(Converge().phase, api::Phase::kConverged);
  ExpectSecondPassIdle();

  source::Store reloaded(dir, cluster_->clock());
  ASSERT_TRUE(reloaded.Load().ok());
  ASSERT_TRUE(reloaded.Get(kKey).has_value());
  EXPECT_EQ(reloaded.Get(kKey)->status, Status());
  EXPECT_EQ(reloaded.Get(kKey)->status.serving_color, "green");
}

}  // namespace
}  // namespace sy::controller
