#include "pkg/metrics/metrics.h"

#include <algorithm>

#include "pkg/metrics/agent_families.h"
#include "pkg/metrics/process_stats.h"
#include "prometheus/text_serializer.h"

namespace sy::metrics {
namespace {

using prometheus::Labels;

#ifndef SY_VERSION
#define SY_VERSION "unknown"
#endif

prometheus::Family<prometheus::Counter>& CounterFamily(prometheus::Registry& r,
                                                       const std::string& name,
                                                       const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r);
}

prometheus::Family<prometheus::Gauge>& GaugeFamily(prometheus::Registry& r, const std::string& name,
                                                   const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r);
}

prometheus::Family<prometheus::Histogram>& HistogramFamily(prometheus::Registry& r,
                                                           const std::string& name,
                                                           const std::string& help) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(r);
}

}  // namespace

const std::vector<double>& ReconcileBuckets() {
  static const std::vector<double> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                               0.5,   1,      2.5,   5,    10,    30,   60};
  return kBuckets;
}

const std::vector<double>& StepBuckets() {
  static const std::vector<double> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                               0.1,   0.25,   0.5,   1,    2.5,   5,
                                               10,    30,     60,    120,  300,   600};
  return kBuckets;
}

const std::vector<double>& SwitchoverBuckets() {
  static const std::vector<double> kBuckets = {0.05, 0.1, 0.25, 0.5, 1,   2.5,  5,   10,
                                               30,   60,  120,  300, 600, 1800, 3600};
  return kBuckets;
}

Metrics::Metrics(const util::Clock& clock, MetricsOptions options)
    : clock_(clock),
      options_(std::move(options)),
      registry_(
          std::make_shared<prometheus::Registry>(prometheus::Registry::InsertBehavior::Throw)),
      reconcile_total_(CounterFamily(
          *registry_, "switchyard_reconcile_total",
          "Reconcile passes per resource. result=ok: the pass observed the world, wrote the "
          "status and its step, if it took one, succeeded; result=error: it did not (see "
          "switchyard_reconcile_errors_total).")),
      reconcile_errors_(CounterFamily(
          *registry_, "switchyard_reconcile_errors_total",
          "Failed reconcile passes per resource, by where they failed: ObserveFailed (nginx "
          "or PostgreSQL could not be observed), StepFailed (the step taken failed, see "
          "switchyard_step_total), StatusWriteFailed (the status could not be persisted).")),
      reconcile_duration_(
          HistogramFamily(*registry_, "switchyard_reconcile_duration_seconds",
                          "Duration of one reconcile pass: observing nginx and PostgreSQL, "
                          "planning, writing the status and the step taken, if any.")
              .Add({}, ReconcileBuckets())),
      drift_(GaugeFamily(
          *registry_, "switchyard_drift",
          "1 while the world differs from the resource's declaration in this component, else "
          "0. traffic: nginx serves, or its upstream file names, the other color; primary: "
          "the declared color's database is not the only writable primary; standby: the other "
          "color's database does not stream from it.")),
      drift_since_(GaugeFamily(*registry_, "switchyard_drift_since_timestamp_seconds",
                               "Unix time at which the component started to differ from the "
                               "declaration (the lastTransitionTime of its status condition); "
                               "0 while it matches.")),
      desired_color_(GaugeFamily(*registry_, "switchyard_desired_color",
                                 "1 for the color spec.activeColor declares live, 0 for the "
                                 "other.")),
      serving_color_(GaugeFamily(*registry_, "switchyard_serving_color",
                                 "1 for the color nginx serves on a new connection (as the "
                                 "probe saw it), 0 for the other; both 0 when the probe saw "
                                 "neither.")),
      primary_color_(GaugeFamily(*registry_, "switchyard_primary_color",
                                 "1 for each color whose database runs as a writable primary: "
                                 "both 1 is a split brain, both 0 means writes fail.")),
      phase_(GaugeFamily(*registry_, "switchyard_resource_phase",
                         "1 for the resource's phase (Converged, Progressing, Paused, "
                         "Degraded, Failed, Invalid), 0 for the other five.")),
      reason_(GaugeFamily(
          *registry_, "switchyard_resource_reason",
          "1 for the planner's reason for the resource's state in the last pass that observed "
          "the world: what it does or waits for (Converged, SwitchingTraffic, Fencing, "
          "CatchingUp, Promoting, SplitBrain, StandbyLagging, ...; other: a reason this "
          "version does not know). One series per resource.")),
      switchover_total_(CounterFamily(
          *registry_, "switchyard_switchover_total",
          "Switchovers per resource and direction. result=ok: the resource converged on the "
          "new color; result=error: the switchover ended in phase Failed.")),
      switchover_duration_(
          HistogramFamily(*registry_, "switchyard_switchover_duration_seconds",
                          "Duration of completed switchovers: from the first switch step "
                          "(traffic, fence or promote) to convergence, the old primary "
                          "streaming as the new standby included.")
              .Add({}, SwitchoverBuckets())),
      write_unavailable_(GaugeFamily(
          *registry_, "switchyard_write_unavailable_seconds",
          "Write unavailability of the resource's last switchover: from the fence of the old "
          "primary to the moment the new one accepted writes (0 when it did not move the "
          "primary).")),
      step_duration_(HistogramFamily(
          *registry_, "switchyard_step_duration_seconds",
          "Duration of one step, successful or not, by kind: switch-traffic, fence, promote, "
          "create-slot, drop-slot, configure-standby, rewind, basebackup, start, stop.")),
      step_total_(CounterFamily(*registry_, "switchyard_step_total",
                                "Steps taken per resource, by kind and result (ok or error).")),
      lag_(GaugeFamily(*registry_, "switchyard_replication_lag_bytes",
                       "Bytes of WAL the standby of this color has yet to replay of what the "
                       "primary wrote; present while one color runs as the primary and the "
                       "other as a standby.")),
      max_lag_(GaugeFamily(*registry_, "switchyard_replication_max_lag_bytes",
                           "spec.database.maxLagBytes: a switchover starts only while the "
                           "standby's replication lag is within it.")),
      last_success_(GaugeFamily(*registry_, "switchyard_last_success_timestamp_seconds",
                                "Unix time at which the resource's last reconcile pass that "
                                "ended without error ended.")),
      queue_depth_(GaugeFamily(*registry_, "switchyard_workqueue_depth",
                               "Resources waiting in the work queue, due now or scheduled "
                               "later.")
                       .Add({})),
      queue_retries_(CounterFamily(*registry_, "switchyard_workqueue_retries_total",
                                   "Times a resource was put back in the work queue with "
                                   "backoff after a failed or blocked pass.")
                         .Add({})),
      quarantined_(CounterFamily(*registry_, "switchyard_state_files_quarantined_total",
                                 "State files moved to <state-dir>/quarantine at start instead "
                                 "of being loaded (undecodable, or not named for the object "
                                 "they hold).")
                       .Add({})) {
  const std::string version = options_.version.empty() ? SY_VERSION : options_.version;
  GaugeFamily(*registry_, "switchyard_build_info",
              "Always 1; the label version is the version of the running Switchyard.")
      .Add({{"version", version}})
      .Set(1);
  if (options_.proc_dir.empty()) return;
  cpu_ = &CounterFamily(*registry_, "process_cpu_seconds_total",
                        "Total user and system CPU time spent by the process, in seconds.")
              .Add({});
  rss_ = &GaugeFamily(*registry_, "process_resident_memory_bytes",
                      "Resident memory size of the process, in bytes.")
              .Add({});
  vsize_ = &GaugeFamily(*registry_, "process_virtual_memory_bytes",
                        "Virtual memory size of the process, in bytes.")
                .Add({});
  open_fds_ =
      &GaugeFamily(*registry_, "process_open_fds", "Number of open file descriptors.").Add({});
  max_fds_ = &GaugeFamily(*registry_, "process_max_fds",
                          "Maximum number of open file descriptors (the soft limit; 0 when "
                          "unlimited).")
                  .Add({});
  start_time_ = &GaugeFamily(*registry_, "process_start_time_seconds",
                             "Start time of the process since the Unix epoch, in seconds.")
                     .Add({});
  UpdateProcess();
}

void Metrics::CountQuarantined(int64_t files) {
  std::lock_guard<std::mutex> l(mu_);
  quarantined_.Increment(static_cast<double>(std::max<int64_t>(files, 0)));
}

prometheus::Gauge& Metrics::GaugeOf(Gauges& family, const std::string& resource, Labels labels) {
  labels["resource"] = resource;
  gauges_of_[resource].emplace(&family, labels);
  return family.Add(labels);
}

prometheus::Counter& Metrics::CounterOf(Counters& family, const std::string& resource,
                                        Labels labels) {
  labels["resource"] = resource;
  counters_of_[resource].emplace(&family, labels);
  return family.Add(labels);
}

void Metrics::DropGauge(Gauges& family, const std::string& resource, Labels labels) {
  labels["resource"] = resource;
  if (gauges_of_[resource].erase({&family, labels}) > 0) family.Remove(&family.Add(labels));
}

void Metrics::DropResource(const std::string& resource) {
  for (const auto& [family, labels] : gauges_of_[resource]) family->Remove(&family->Add(labels));
  for (const auto& [family, labels] : counters_of_[resource]) {
    family->Remove(&family->Add(labels));
  }
  gauges_of_.erase(resource);
  counters_of_.erase(resource);
  reason_of_.erase(resource);
}

void Metrics::UpdateProcess() {
  if (cpu_ == nullptr) return;
  absl::StatusOr<ProcessStats> s = ReadProcessStats(options_.proc_dir);
  if (!s.ok()) return;  // keep the last values: a scrape must not fail for this
  cpu_->Increment(std::max(0.0, s->cpu_seconds - cpu_->Value()));
  rss_->Set(s->resident_memory_bytes);
  vsize_->Set(s->virtual_memory_bytes);
  open_fds_->Set(s->open_fds);
  max_fds_->Set(s->max_fds);
  start_time_->Set(s->start_time_seconds);
}

std::string Metrics::Scrape(const ScrapeInputs& inputs) {
  std::lock_guard<std::mutex> l(mu_);
  if (inputs.resources) {
    std::vector<std::string> gone;
    for (const auto& [resource, series] : counters_of_) {
      if (std::find(inputs.resources->begin(), inputs.resources->end(), resource) ==
          inputs.resources->end()) {
        gone.push_back(resource);
      }
    }
    for (const auto& resource : gone) DropResource(resource);
  }
  queue_depth_.Set(static_cast<double>(inputs.queue_depth));
  queue_retries_.Increment(
      std::max(0.0, static_cast<double>(inputs.queue_retries_total) - queue_retries_.Value()));
  UpdateProcess();
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  for (prometheus::MetricFamily& f : AgentFamilies(inputs.agents)) {
    families.push_back(std::move(f));
  }
  return prometheus::TextSerializer().Serialize(families);
}

std::vector<prometheus::MetricFamily> Metrics::Collect() const {
  std::lock_guard<std::mutex> l(mu_);
  return registry_->Collect();
}

}  // namespace sy::metrics
