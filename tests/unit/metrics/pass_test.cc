// Passes of the real Reconciler over FakeCluster update the metrics as specified: colors,
// phase and reason, drift and its onset, switchovers, steps, errors, lag, last success.
#include <gtest/gtest.h>

#include "pkg/metrics/labels.h"
#include "pkg/util/clock.h"
#include "tests/unit/metrics/fixture.h"

namespace sy::metrics {
namespace {

using api::Color;
using model::StepKind;

double UnixSeconds(const std::string& rfc3339) {
  std::chrono::system_clock::time_point t;
  EXPECT_TRUE(util::ParseRfc3339(rfc3339, &t)) << rfc3339;
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

TEST_F(MetricsTest, ConvergedPassReportsColorsPhaseAndNoDrift) {
  Converge();
  EXPECT_EQ(R("switchyard_desired_color", {{"color", "blue"}}), 1);
  EXPECT_EQ(R("switchyard_desired_color", {{"color", "green"}}), 0);
  EXPECT_EQ(R("switchyard_serving_color", {{"color", "blue"}}), 1);
  EXPECT_EQ(R("switchyard_serving_color", {{"color", "green"}}), 0);
  EXPECT_EQ(R("switchyard_primary_color", {{"color", "blue"}}), 1);
  EXPECT_EQ(R("switchyard_primary_color", {{"color", "green"}}), 0);
  EXPECT_EQ(R("switchyard_resource_phase", {{"phase", "Converged"}}), 1);
  for (const char* p : {"Progressing", "Paused", "Degraded", "Failed", "Invalid"}) {
    EXPECT_EQ(R("switchyard_resource_phase", {{"phase", p}}), 0) << p;
  }
  EXPECT_EQ(R("switchyard_resource_reason", {{"reason", "Converged"}}), 1);
  for (const char* c : {"traffic", "primary", "standby"}) {
    EXPECT_EQ(R("switchyard_drift", {{"component", c}}), 0) << c;
    EXPECT_EQ(R("switchyard_drift_since_timestamp_seconds", {{"component", c}}), 0) << c;
  }
  EXPECT_EQ(R("switchyard_replication_lag_bytes", {{"color", "green"}}), 0);
  EXPECT_EQ(R("switchyard_replication_lag_bytes", {{"color", "blue"}}), std::nullopt);
  EXPECT_EQ(R("switchyard_replication_max_lag_bytes"), 16 * 1024 * 1024);
  EXPECT_EQ(R("switchyard_reconcile_total", {{"result", "ok"}}), 1);
  EXPECT_EQ(R("switchyard_reconcile_total", {{"result", "error"}}), 0);
  EXPECT_EQ(R("switchyard_last_success_timestamp_seconds"), Now());
  EXPECT_EQ(V("switchyard_reconcile_duration_seconds"), 1);
  // Created at 0 on the first pass, so that increase() sees the first switchover.
  EXPECT_EQ(R("switchyard_switchover_total", {{"from", "blue"}, {"to", "green"}, {"result", "ok"}}),
            0);
  EXPECT_EQ(R("switchyard_write_unavailable_seconds"), std::nullopt);  // no switch yet
}

TEST_F(MetricsTest, FlipCountsOneSwitchoverWithItsStepsAndWriteWindow) {
  Converge();
  Desire(Color::kGreen);
  const controller::PassResult last = Converge();
  ASSERT_EQ(last.phase, api::Phase::kConverged);
  const api::DeploymentColorStatus st = store_->Get(kResource)->status;
  ASSERT_TRUE(st.last_switchover.has_value());

  const prometheus::Labels ok = {{"from", "blue"}, {"to", "green"}, {"result", "ok"}};
  EXPECT_EQ(R("switchyard_switchover_total", ok), 1);
  EXPECT_EQ(V("switchyard_switchover_duration_seconds"), 1);
  const std::vector<prometheus::MetricFamily> collected = metrics_->Collect();  // d points in
  const prometheus::ClientMetric* d =
      FindSeries(collected, "switchyard_switchover_duration_seconds", {});
  ASSERT_NE(d, nullptr);
  EXPECT_NEAR(
      d->histogram.sample_sum,
      UnixSeconds(st.last_switchover->finished_at) - UnixSeconds(st.last_switchover->started_at),
      0.01);
  EXPECT_EQ(R("switchyard_write_unavailable_seconds"),
            static_cast<double>(st.last_switchover->write_unavailable_ms) / 1000);
  for (const char* step : {"switch-traffic", "fence", "promote", "start"}) {
    EXPECT_GE(R("switchyard_step_total", {{"step", step}, {"result", "ok"}}).value_or(0), 1)
        << step;
    EXPECT_GE(V("switchyard_step_duration_seconds", {{"step", step}}).value_or(0), 1) << step;
  }
  EXPECT_EQ(R("switchyard_desired_color", {{"color", "green"}}), 1);
  EXPECT_EQ(R("switchyard_serving_color", {{"color", "green"}}), 1);
  EXPECT_EQ(R("switchyard_primary_color", {{"color", "green"}}), 1);
  EXPECT_EQ(R("switchyard_primary_color", {{"color", "blue"}}), 0);
  EXPECT_EQ(R("switchyard_replication_lag_bytes", {{"color", "blue"}}), 0);
  EXPECT_EQ(R("switchyard_replication_lag_bytes", {{"color", "green"}}), std::nullopt);
  EXPECT_EQ(R("switchyard_drift", {{"component", "traffic"}}), 0);

  // Idle passes afterwards count nothing more.
  Pass();
  Pass();
  EXPECT_EQ(R("switchyard_switchover_total", ok), 1);
  EXPECT_EQ(V("switchyard_switchover_duration_seconds"), 1);
}

TEST_F(MetricsTest, DriftBehindTheBackOfAPausedResourceHasItsOnset) {
  Converge();
  Desire(Color::kBlue, /*paused=*/true);
  Pass();
  // Someone points nginx at green by hand.
  actuate::StepOutcome outcome;
  ASSERT_TRUE(cluster_
                  ->Run(fakes::FakeSpec(Color::kBlue),
                        {StepKind::kSwitchTraffic, Color::kGreen, std::nullopt}, &outcome)
                  .ok());
  cluster_->clock().Advance(std::chrono::milliseconds(1500));
  const double onset = std::floor(Now());
  Pass();
  EXPECT_EQ(R("switchyard_resource_phase", {{"phase", "Paused"}}), 1);
  EXPECT_EQ(R("switchyard_resource_reason", {{"reason", "Paused"}}), 1);
  EXPECT_EQ(R("switchyard_drift", {{"component", "traffic"}}), 1);
  EXPECT_EQ(R("switchyard_drift_since_timestamp_seconds", {{"component", "traffic"}}), onset);
  EXPECT_EQ(R("switchyard_drift", {{"component", "primary"}}), 0);
  EXPECT_EQ(R("switchyard_serving_color", {{"color", "green"}}), 1);
  // The onset is the status's: the TrafficSwitched and Drifted conditions turned then.
  ASSERT_NE(Condition(api::kConditionTrafficSwitched), nullptr);
  EXPECT_EQ(UnixSeconds(Condition(api::kConditionTrafficSwitched)->last_transition_time), onset);
  ASSERT_NE(Condition(api::kConditionDrifted), nullptr);
  EXPECT_EQ(Condition(api::kConditionDrifted)->status, "True");
  EXPECT_EQ(UnixSeconds(Condition(api::kConditionDrifted)->last_transition_time), onset);

  // Minutes later, and with a second component drifting meanwhile, the onsets stay.
  cluster_->clock().Advance(std::chrono::minutes(3));
  cluster_->StopServer(Color::kGreen);
  const double standby_onset = std::floor(Now());
  Pass();
  cluster_->clock().Advance(std::chrono::minutes(3));
  Pass();
  EXPECT_EQ(R("switchyard_drift_since_timestamp_seconds", {{"component", "traffic"}}), onset);
  EXPECT_EQ(R("switchyard_drift", {{"component", "standby"}}), 1);
  EXPECT_EQ(R("switchyard_drift_since_timestamp_seconds", {{"component", "standby"}}),
            standby_onset);
  EXPECT_EQ(UnixSeconds(Condition(api::kConditionDrifted)->last_transition_time), onset);

  // Unpaused, Switchyard converges back: no drift, no onset.
  Desire(Color::kBlue);
  Converge();
  for (const char* c : {"traffic", "primary", "standby"}) {
    EXPECT_EQ(R("switchyard_drift", {{"component", c}}), 0) << c;
    EXPECT_EQ(R("switchyard_drift_since_timestamp_seconds", {{"component", c}}), 0) << c;
  }
  EXPECT_EQ(Condition(api::kConditionDrifted)->status, "False");
  EXPECT_EQ(R("switchyard_resource_reason", {{"reason", "Paused"}}), std::nullopt);
}

TEST_F(MetricsTest, ErrorsAreCountedByWhereThePassFailed) {
  Converge();
  cluster_->FailNextObserve(absl::UnavailableError("connection refused"));
  EXPECT_FALSE(Pass().error.ok());
  EXPECT_EQ(R("switchyard_reconcile_errors_total", {{"reason", "ObserveFailed"}}), 1);
  EXPECT_EQ(R("switchyard_reconcile_total", {{"result", "error"}}), 1);
  // The observation failed: what was last seen stays.
  EXPECT_EQ(R("switchyard_serving_color", {{"color", "blue"}}), 1);

  Desire(Color::kGreen);
  cluster_->FailNext(StepKind::kSwitchTraffic, absl::UnavailableError("nginx -t failed"));
  const double before = R("switchyard_last_success_timestamp_seconds").value_or(0);
  cluster_->clock().Advance(std::chrono::seconds(2));
  const controller::PassResult r = Pass();
  EXPECT_FALSE(r.error.ok());
  EXPECT_EQ(R("switchyard_reconcile_errors_total", {{"reason", "StepFailed"}}), 1);
  EXPECT_EQ(R("switchyard_step_total", {{"step", "switch-traffic"}, {"result", "error"}}), 1);
  EXPECT_EQ(R("switchyard_resource_phase", {{"phase", "Degraded"}}), 1);
  // The planner's reason stays what it tried to do (Ready says StepFailed).
  EXPECT_EQ(R("switchyard_resource_reason", {{"reason", "SwitchingTraffic"}}), 1);
  EXPECT_EQ(R("switchyard_last_success_timestamp_seconds"), before);
  EXPECT_EQ(R("switchyard_reconcile_errors_total", {{"reason", "StatusWriteFailed"}}), 0);
}

TEST_F(MetricsTest, SplitBrainShowsAsReasonAndTwoPrimaries) {
  Converge();
  cluster_->PromoteBehindBack(Color::kGreen);
  Pass();
  EXPECT_EQ(R("switchyard_primary_color", {{"color", "blue"}}), 1);
  EXPECT_EQ(R("switchyard_primary_color", {{"color", "green"}}), 1);
  EXPECT_EQ(R("switchyard_resource_reason", {{"reason", "SplitBrain"}}), 1);
  EXPECT_EQ(R("switchyard_resource_reason", {{"reason", "Converged"}}), std::nullopt);
  EXPECT_EQ(R("switchyard_resource_phase", {{"phase", "Degraded"}}), 1);
  EXPECT_EQ(R("switchyard_drift", {{"component", "primary"}}), 1);
}

TEST_F(MetricsTest, SwitchoverThatFailsIsCountedOnce) {
  Converge();
  // Green stops receiving WAL: after the fence it never replays the shutdown checkpoint, and
  // the switch is abandoned (blue becomes the primary again; pkg/plan/README.md §19).
  cluster_->SetLagging(Color::kGreen, true);
  ASSERT_TRUE(cluster_->Write().ok());
  Desire(Color::kGreen);
  controller::PassResult r;
  for (int i = 0; i < 40 && r.phase != api::Phase::kFailed; ++i) {
    r = Pass();
    cluster_->clock().Advance(std::chrono::seconds(2));
  }
  ASSERT_EQ(r.phase, api::Phase::kFailed);
  EXPECT_EQ(R("switchyard_resource_reason", {{"reason", "SwitchAbandoned"}}), 1);
  EXPECT_EQ(R("switchyard_resource_phase", {{"phase", "Failed"}}), 1);
  Pass();
  Pass();
  EXPECT_EQ(
      R("switchyard_switchover_total", {{"from", "blue"}, {"to", "green"}, {"result", "error"}}),
      1);
  EXPECT_EQ(R("switchyard_switchover_total", {{"from", "blue"}, {"to", "green"}, {"result", "ok"}}),
            0);
  EXPECT_EQ(R("switchyard_primary_color", {{"color", "blue"}}), 1);
  EXPECT_EQ(R("switchyard_primary_color", {{"color", "green"}}), 0);
}

TEST_F(MetricsTest, ScrapeReadsTheQueueAndDropsRemovedResources) {
  Converge();
  ScrapeInputs in;
  in.queue_depth = 3;
  in.queue_retries_total = 7;
  in.resources = std::vector<std::string>{kResource};
  std::string text = metrics_->Scrape(in);
  EXPECT_NE(text.find("\nswitchyard_workqueue_depth 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nswitchyard_workqueue_retries_total 7\n"), std::string::npos) << text;
  in.queue_retries_total = 9;
  text = metrics_->Scrape(in);
  EXPECT_NE(text.find("\nswitchyard_workqueue_retries_total 9\n"), std::string::npos) << text;
  EXPECT_NE(text.find("resource=\"default/shop\""), std::string::npos);

  in.resources = std::vector<std::string>{};  // default/shop was removed from the store
  text = metrics_->Scrape(in);
  EXPECT_EQ(text.find("resource=\""), std::string::npos) << text;
  EXPECT_EQ(V("switchyard_build_info", {{"version", "1.2.3"}}), 1);

  // Seen again: its series come back, counters from 0.
  Pass();
  EXPECT_EQ(R("switchyard_reconcile_total", {{"result", "ok"}}), 1);
}

TEST(LabelsTest, ReasonsOutsideTheKnownSetAreOther) {
  EXPECT_EQ(ReasonLabel("SplitBrain"), "SplitBrain");
  EXPECT_EQ(ReasonLabel("AgentUnreachable"), "AgentUnreachable");
  EXPECT_EQ(ReasonLabel("StepFailed"), "StepFailed");
  EXPECT_EQ(ReasonLabel("connection to 127.0.0.1:15433 refused"), "other");
  EXPECT_EQ(ReasonLabel(""), "other");
  EXPECT_EQ(ColorLabel("green"), "green");
  EXPECT_EQ(ColorLabel("purple"), "other");
}

}  // namespace
}  // namespace sy::metrics
