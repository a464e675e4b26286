// Switchyard's Prometheus metrics: every family in one prometheus-cpp
// Registry, kept up to date from the reconciler's pass reports (model::PassListener) and
// serialized by prometheus-cpp's TextSerializer for GET /metrics. The families, their labels
// and what each value means are listed in the README ("Metrics and alerts"); the alert rules
// in manifests/prometheus-rules.yaml and the dashboard in manifests/grafana-dashboard.json
// are written against them.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pkg/model/agent_report.h"
#include "pkg/model/pass_report.h"
#include "pkg/util/clock.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/labels.h"
#include "prometheus/metric_family.h"
#include "prometheus/registry.h"

namespace sy::metrics {

// The text exposition format's content type.
inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

// Histogram bucket upper bounds, in seconds.
const std::vector<double>& ReconcileBuckets();   // one pass: 1 ms .. 60 s
const std::vector<double>& StepBuckets();        // one step: 1 ms (a slot) .. 10 min (a re-clone)
const std::vector<double>& SwitchoverBuckets();  // a switchover: 50 ms .. 1 h (with a re-clone)

// What the composition root reads at scrape time.
struct ScrapeInputs {
  int64_t queue_depth = 0;          // controller::WorkQueue::Depth()
  int64_t queue_retries_total = 0;  // controller::WorkQueue::TotalRetries()
  // The keys the store holds: the series of any other resource (removed since) are dropped.
  // nullopt: keep every series.
  std::optional<std::vector<std::string>> resources;
  // What the agent clients recorded (agent::AgentStats::Snapshot()); empty on a single host.
  std::vector<model::AgentReport> agents;
};

struct MetricsOptions {
  std::string version;             // switchyard_build_info{version}; empty: this build's
  std::string proc_dir = "/proc";  // for the process_* metrics; empty: none are exported
};

// Thread-safe: passes call OnPass from the worker threads, HTTP threads call Scrape.
class Metrics final : public model::PassListener {
 public:
  // `clock` must outlive this object: it dates drift onsets, successes and switchovers.
  explicit Metrics(const util::Clock& clock, MetricsOptions options = {});

  void OnPass(const model::PassReport& report) override;

  // Updates what is read at scrape time (work queue, process, removed resources), then
  // returns every family in the text exposition format (kContentType).
  std::string Scrape(const ScrapeInputs& inputs);

  // Counts state files the store moved aside at start (source::Store::Quarantined()).
  void CountQuarantined(int64_t files);

  // Every family as it stands, without the scrape-time updates (tests).
  std::vector<prometheus::MetricFamily> Collect() const;

 private:
  using Gauges = prometheus::Family<prometheus::Gauge>;
  using Counters = prometheus::Family<prometheus::Counter>;

  // The series of `family` for `resource` and `labels` (created at 0), remembered so it can
  // be dropped with the resource. Callers hold mu_.
  prometheus::Gauge& GaugeOf(Gauges& family, const std::string& resource,
                             prometheus::Labels labels = {});
  prometheus::Counter& CounterOf(Counters& family, const std::string& resource,
                                 prometheus::Labels labels = {});
  void DropGauge(Gauges& family, const std::string& resource, prometheus::Labels labels);
  void DropResource(const std::string& resource);
  // Creates the series that must exist from the first pass on, so that increase() and rate()
  // see their first change.
  void Touch(const std::string& resource);
  void SetPhase(const std::string& resource, api::Phase phase);
  void SetReason(const std::string& resource, std::string_view reason);
  // What a pass observed, its switchover record and its step. Callers hold mu_.
  void Observed(const std::string& resource, const model::Observation& observed);
  void Switchover(const std::string& resource, const model::SwitchoverReport& switchover);
  void Step(const std::string& resource, const model::StepReport& step);
  void UpdateProcess();

  const util::Clock& clock_;
  const MetricsOptions options_;
  mutable std::mutex mu_;
  std::shared_ptr<prometheus::Registry> registry_;

  Counters& reconcile_total_;
  Counters& reconcile_errors_;
  prometheus::Histogram& reconcile_duration_;
  Gauges& drift_;
  Gauges& drift_since_;
  Gauges& desired_color_;
  Gauges& serving_color_;
  Gauges& primary_color_;
  Gauges& phase_;
  Gauges& reason_;
  Counters& switchover_total_;
  prometheus::Histogram& switchover_duration_;
  Gauges& write_unavailable_;
  prometheus::Family<prometheus::Histogram>& step_duration_;
  Counters& step_total_;
  Gauges& lag_;
  Gauges& max_lag_;
  Gauges& last_success_;
  prometheus::Gauge& queue_depth_;
  prometheus::Counter& queue_retries_;
  prometheus::Counter& quarantined_;
  prometheus::Counter* cpu_ = nullptr;  // the process_* series, when options_.proc_dir is set
  prometheus::Gauge* rss_ = nullptr;
  prometheus::Gauge* vsize_ = nullptr;
  prometheus::Gauge* open_fds_ = nullptr;
  prometheus::Gauge* max_fds_ = nullptr;
  prometheus::Gauge* start_time_ = nullptr;

  // The series of each resource, by family, so they go when the resource goes.
  std::map<std::string, std::set<std::pair<Gauges*, prometheus::Labels>>> gauges_of_;
  std::map<std::string, std::set<std::pair<Counters*, prometheus::Labels>>> counters_of_;
  std::map<std::string, std::string> reason_of_;  // the reason label each resource has now
};

}  // namespace sy::metrics
