// Every metric family is registered once, with the specified name, type, labels, bounded label
// values and a HELP line; the exposition is the text format and passes `promtool check metrics`.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>

#include "pkg/metrics/labels.h"
#include "pkg/model/step.h"
#include "tests/unit/metrics/fixture.h"

namespace sy::metrics {
namespace {

using api::Color;
using prometheus::MetricType;

struct Spec {
  MetricType type;
  std::set<std::string> labels;
};

const std::map<std::string, Spec>& Specified() {
  static const auto* kSpecs = new std::map<std::string, Spec>{
      {"switchyard_reconcile_total", {MetricType::Counter, {"resource", "result"}}},
      {"switchyard_reconcile_errors_total", {MetricType::Counter, {"resource", "reason"}}},
      {"switchyard_reconcile_duration_seconds", {MetricType::Histogram, {}}},
      {"switchyard_drift", {MetricType::Gauge, {"resource", "component"}}},
      {"switchyard_drift_since_timestamp_seconds", {MetricType::Gauge, {"resource", "component"}}},
      {"switchyard_desired_color", {MetricType::Gauge, {"resource", "color"}}},
      {"switchyard_serving_color", {MetricType::Gauge, {"resource", "color"}}},
      {"switchyard_primary_color", {MetricType::Gauge, {"resource", "color"}}},
      {"switchyard_resource_phase", {MetricType::Gauge, {"resource", "phase"}}},
      {"switchyard_resource_reason", {MetricType::Gauge, {"resource", "reason"}}},
      {"switchyard_switchover_total", {MetricType::Counter, {"resource", "from", "to", "result"}}},
      {"switchyard_switchover_duration_seconds", {MetricType::Histogram, {}}},
      {"switchyard_write_unavailable_seconds", {MetricType::Gauge, {"resource"}}},
      {"switchyard_step_duration_seconds", {MetricType::Histogram, {"step"}}},
      {"switchyard_step_total", {MetricType::Counter, {"resource", "step", "result"}}},
      {"switchyard_replication_lag_bytes", {MetricType::Gauge, {"resource", "color"}}},
      {"switchyard_replication_max_lag_bytes", {MetricType::Gauge, {"resource"}}},
      {"switchyard_last_success_timestamp_seconds", {MetricType::Gauge, {"resource"}}},
      {"switchyard_workqueue_depth", {MetricType::Gauge, {}}},
      {"switchyard_workqueue_retries_total", {MetricType::Counter, {}}},
      {"switchyard_state_files_quarantined_total", {MetricType::Counter, {}}},
      {"switchyard_build_info", {MetricType::Gauge, {"version"}}},
      {"process_cpu_seconds_total", {MetricType::Counter, {}}},
      {"process_resident_memory_bytes", {MetricType::Gauge, {}}},
      {"process_virtual_memory_bytes", {MetricType::Gauge, {}}},
      {"process_open_fds", {MetricType::Gauge, {}}},
      {"process_max_fds", {MetricType::Gauge, {}}},
      {"process_start_time_seconds", {MetricType::Gauge, {}}},
  };
  return *kSpecs;
}

// The values each bounded label may take.
std::set<std::string> Allowed(const std::string& label) {
  std::set<std::string> v;
  if (label == "color") v = {"blue", "green"};
  if (label == "from" || label == "to") v = {"blue", "green", "other"};
  if (label == "component") v = {"traffic", "primary", "standby"};
  if (label == "result") v = {"ok", "error"};
  if (label == "phase") {
    v = {"Converged", "Progressing", "Paused", "Degraded", "Failed", "Invalid"};
  }
  if (label == "reason") {
    for (std::string_view r : KnownReasons()) v.emplace(r);
    v.insert({std::string(kOther), std::string(kStatusWriteFailed)});
  }
  if (label == "step") {
    for (auto k :
         {model::StepKind::kSwitchTraffic, model::StepKind::kFence, model::StepKind::kPromote,
          model::StepKind::kStart, model::StepKind::kStop, model::StepKind::kCreateSlot,
          model::StepKind::kDropSlot, model::StepKind::kConfigureStandby, model::StepKind::kRewind,
          model::StepKind::kBasebackup}) {
      v.emplace(model::StepKindName(k));
    }
  }
  return v;
}

// A flip with one failing step: every family then has series.
class FamiliesTest : public MetricsTest {
 protected:
  void SetUp() override {
    MetricsTest::SetUp();
    Converge();
    Desire(Color::kGreen);
    cluster_->FailNext(model::StepKind::kFence, absl::UnavailableError("timeout"));
    Converge();
    cluster_->clock().Advance(std::chrono::seconds(2));
    Converge();
    ASSERT_EQ(R("switchyard_resource_phase", {{"phase", "Converged"}}), 1);
  }
};

TEST_F(FamiliesTest, EveryFamilyOnceWithItsTypeLabelsAndHelp) {
  const auto families = metrics_->Collect();
  std::map<std::string, int> seen;
  for (const auto& f : families) {
    SCOPED_TRACE(f.name);
    ++seen[f.name];
    auto spec = Specified().find(f.name);
    ASSERT_NE(spec, Specified().end()) << "unspecified family " << f.name;
    EXPECT_EQ(f.type, spec->second.type);
    EXPECT_GE(f.help.size(), 30U) << "HELP too short to tell anyone anything: " << f.help;
    EXPECT_FALSE(f.metric.empty()) << "no series";
    for (const auto& m : f.metric) {
      std::set<std::string> names;
      for (const auto& l : m.label) {
        names.insert(l.name);
        if (l.name == "resource") {
          EXPECT_EQ(l.value, kResource);
        } else if (l.name != "version") {
          EXPECT_EQ(Allowed(l.name).count(l.value), 1U) << l.name << "=" << l.value;
        }
      }
      EXPECT_EQ(names, spec->second.labels);
    }
  }
  for (const auto& [name, spec] : Specified()) EXPECT_EQ(seen[name], 1) << name;
}

TEST_F(FamiliesTest, BucketsFitWhatTheyMeasure) {
  EXPECT_EQ(ReconcileBuckets().front(), 0.001);
  EXPECT_EQ(ReconcileBuckets().back(), 60);
  EXPECT_EQ(StepBuckets().front(), 0.001);
  EXPECT_EQ(StepBuckets().back(), 600);
  EXPECT_TRUE(std::is_sorted(SwitchoverBuckets().begin(), SwitchoverBuckets().end()));
  const std::vector<prometheus::MetricFamily> collected = metrics_->Collect();  // step points in
  const auto* step =
      FindSeries(collected, "switchyard_step_duration_seconds", {{"step", "promote"}});
  ASSERT_NE(step, nullptr);
  ASSERT_EQ(step->histogram.bucket.size(), StepBuckets().size() + 1);  // and +Inf
  EXPECT_EQ(step->histogram.bucket.back().upper_bound, std::numeric_limits<double>::infinity());
}

TEST_F(FamiliesTest, ScrapeIsTheTextFormat) {
  EXPECT_EQ(kContentType, "text/plain; version=0.0.4; charset=utf-8");
  const std::string text = metrics_->Scrape({});
  EXPECT_NE(text.find("# HELP switchyard_drift 1 while the world differs"), std::string::npos);
  EXPECT_NE(text.find("# TYPE switchyard_drift gauge\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE switchyard_step_duration_seconds histogram\n"), std::string::npos);
  EXPECT_NE(text.find("switchyard_step_duration_seconds_bucket{step=\"promote\",le=\"600\"}"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\nswitchyard_build_info{version=\"1.2.3\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("\nprocess_start_time_seconds "), std::string::npos);
}

TEST_F(FamiliesTest, PromtoolCheckMetricsPassesOnTheScrape) {
  const char* promtool = "/usr/bin/promtool";
  if (::access(promtool, X_OK) != 0) GTEST_SKIP() << promtool << " not installed";
  char path[] = "/tmp/metrics_test.XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  std::ofstream(path) << metrics_->Scrape({});
  const std::string out = std::string(path) + ".out";
  const int rc = std::system(
      (std::string(promtool) + " check metrics <" + path + " >" + out + " 2>&1").c_str());
  std::ifstream in(out);
  const std::string report((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::remove(path);
  std::remove(out.c_str());
  EXPECT_EQ(rc, 0) << report;
  EXPECT_EQ(report, "") << "promtool lint findings";
}

TEST(MetricsConstruction, TwoInstancesHaveTheirOwnRegistries) {
  fakes::FakeClock clock;
  Metrics a(clock, {"1", ""});
  Metrics b(clock, {"2", ""});  // registering the same names again in one registry throws
  EXPECT_EQ(Value(a.Collect(), "switchyard_build_info", {{"version", "1"}}), 1);
  EXPECT_EQ(Value(b.Collect(), "switchyard_build_info", {{"version", "1"}}), std::nullopt);
  const std::vector<prometheus::MetricFamily> collected = a.Collect();
  EXPECT_EQ(FindFamily(collected, "process_cpu_seconds_total"), nullptr);  // proc_dir ""
}

}  // namespace
}  // namespace sy::metrics
