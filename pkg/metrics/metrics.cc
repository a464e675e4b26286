#include "pkg/metrics/metrics.h"

#include <algorithm>

#include "pkg/metrics/labels.h"
#include "pkg/metrics/process_stats.h"
#include "pkg/plan/status.h"
#include "pkg/plan/topology.h"
#include "prometheus/text_serializer.h"

namespace sy::metrics {
namespace {

using api::Color;
using prometheus::Labels;

#ifndef SY_VERSION
#define SY_VERSION "unknown"
#endif

double Seconds(std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); }

double UnixSeconds(std::chrono::system_clock::time_point t) {
  return Seconds(t.time_since_epoch());
}

std::string Name(Color c) { return std::string(api::ColorName(c)); }

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

// Where the condition of `type` says the component started to differ (its status is False
// from then on); `now`, to the second as conditions are, when it matched until this pass.
double Onset(const api::DeploymentColorStatus& status, std::string_view type,
             std::chrono::system_clock::time_point now) {
  const api::Condition* c = api::FindCondition(status, type);
  std::chrono::system_clock::time_point since;
  if (c != nullptr && c->status == "False" && util::ParseRfc3339(c->last_transition_time, &since)) {
    return UnixSeconds(since);
  }
  return UnixSeconds(std::chrono::floor<std::chrono::seconds>(now));
}

constexpr api::Phase kPhases[] = {api::Phase::kConverged, api::Phase::kProgressing,
                                  api::Phase::kPaused,    api::Phase::kDegraded,
                                  api::Phase::kFailed,    api::Phase::kInvalid};

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
          "create-slot, configure-standby, rewind, basebackup, start, stop.")),
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

void Metrics::Touch(const std::string& r) {
  if (counters_of_.count(r) > 0) return;
  for (const char* result : {"ok", "error"}) {
    CounterOf(reconcile_total_, r, {{"result", result}});
    for (Color from : api::kColors) {
      CounterOf(switchover_total_, r,
                {{"from", Name(from)}, {"to", Name(api::Other(from))}, {"result", result}});
    }
  }
  for (std::string_view reason : {kObserveFailed, kStepFailed, kStatusWriteFailed}) {
    CounterOf(reconcile_errors_, r, {{"reason", std::string(reason)}});
  }
}

void Metrics::SetPhase(const std::string& r, api::Phase phase) {
  for (api::Phase p : kPhases) {
    GaugeOf(phase_, r, {{"phase", std::string(api::PhaseName(p))}}).Set(p == phase ? 1 : 0);
  }
}

void Metrics::SetReason(const std::string& r, std::string_view reason) {
  auto [it, added] = reason_of_.emplace(r, reason);
  if (!added && it->second != reason) {
    DropGauge(reason_, r, {{"reason", it->second}});
    it->second = reason;
  }
  GaugeOf(reason_, r, {{"reason", std::string(reason)}}).Set(1);
}

void Metrics::OnPass(const api::DeploymentColor& dc, const observe::World* world,
                     const plan::Plan* plan, const controller::PassResult& result,
                     std::chrono::nanoseconds duration) {
  const std::string r = dc.Key();
  const auto now = clock_.Now();
  std::lock_guard<std::mutex> l(mu_);
  Touch(r);
  reconcile_duration_.Observe(Seconds(duration));
  const bool ok = result.error.ok();
  CounterOf(reconcile_total_, r, {{"result", ok ? "ok" : "error"}}).Increment();
  if (ok) {
    GaugeOf(last_success_, r).Set(UnixSeconds(now));
  } else {
    // The reconciler's three ways to fail: no world, a step that failed, a status not written.
    const std::string_view where = world == nullptr ? kObserveFailed
                                   : result.step    ? kStepFailed
                                                    : kStatusWriteFailed;
    CounterOf(reconcile_errors_, r, {{"reason", std::string(where)}}).Increment();
  }
  SetPhase(r, result.phase);
  for (Color c : api::kColors) {
    GaugeOf(desired_color_, r, {{"color", Name(c)}}).Set(dc.spec.active_color == c ? 1 : 0);
  }
  GaugeOf(max_lag_, r).Set(static_cast<double>(dc.spec.database.max_lag_bytes));
  if (world != nullptr) Observed(dc, *world, now);
  if (plan != nullptr) {
    SetReason(r, ReasonLabel(plan->reason));
    Switchovers(dc, *plan, result, now);
  }
}

void Metrics::Observed(const api::DeploymentColor& dc, const observe::World& w,
                       std::chrono::system_clock::time_point now) {
  const std::string r = dc.Key();
  for (Color c : api::kColors) {
    GaugeOf(serving_color_, r, {{"color", Name(c)}}).Set(w.nginx.served_color == c ? 1 : 0);
    GaugeOf(primary_color_, r, {{"color", Name(c)}}).Set(w.server(c).RunningPrimary() ? 1 : 0);
  }
  const plan::Drift drift = plan::DriftOf(dc.spec, w);
  const struct {
    std::string_view component;
    bool drifted;
    std::string_view condition;  // False exactly while the component drifts (plan::StatusFor)
  } components[] = {{kTraffic, drift.traffic, api::kConditionTrafficSwitched},
                    {kPrimary, drift.primary, api::kConditionPrimaryPromoted},
                    {kStandby, drift.standby, api::kConditionStandbyStreaming}};
  for (const auto& c : components) {
    const Labels labels = {{"component", std::string(c.component)}};
    GaugeOf(drift_, r, labels).Set(c.drifted ? 1 : 0);
    GaugeOf(drift_since_, r, labels).Set(c.drifted ? Onset(dc.status, c.condition, now) : 0);
  }
  // The standby's lag behind the primary, while there is exactly that pair.
  for (Color primary : api::kColors) {
    const Color standby = api::Other(primary);
    const observe::ServerState& p = w.server(primary);
    const observe::ServerState& s = w.server(standby);
    if (p.RunningPrimary() && s.RunningStandby()) {
      GaugeOf(lag_, r, {{"color", Name(standby)}}).Set(static_cast<double>(plan::LagBytes(s, p)));
    } else {
      DropGauge(lag_, r, {{"color", Name(standby)}});
    }
  }
}

void Metrics::Switchovers(const api::DeploymentColor& dc, const plan::Plan& plan,
                          const controller::PassResult& result,
                          std::chrono::system_clock::time_point now) {
  const std::optional<api::Switchover>& ls = dc.status.last_switchover;
  if (!ls) return;
  const std::string r = dc.Key();
  const bool in_progress =
      ls->to == api::ColorName(dc.spec.active_color) && ls->finished_at.empty();
  const Labels direction = {{"from", std::string(ColorLabel(ls->from))},
                            {"to", std::string(ColorLabel(ls->to))}};
  auto count = [&](const char* outcome) {
    Labels labels = direction;
    labels["result"] = outcome;
    CounterOf(switchover_total_, r, labels).Increment();
  };
  // The same test as Reconciler::TrackSwitchover, which marks it finished in this pass.
  const bool finishes = in_progress && result.error.ok() && plan.phase == api::Phase::kConverged;
  if (finishes) {
    count("ok");
    std::chrono::system_clock::time_point started;
    if (util::ParseRfc3339(ls->started_at, &started) && now >= started) {
      switchover_duration_.Observe(Seconds(now - started));
    }
  } else if (in_progress && result.phase == api::Phase::kFailed &&
             dc.status.phase != api::PhaseName(api::Phase::kFailed)) {
    count("error");  // once: the stored phase says Failed from the next pass on
  }
  if (finishes || !ls->finished_at.empty()) {
    GaugeOf(write_unavailable_, r).Set(static_cast<double>(ls->write_unavailable_ms) / 1000);
  }
}

void Metrics::OnStep(const api::DeploymentColor& dc, const plan::Step& step,
                     const absl::Status& result, std::chrono::nanoseconds duration) {
  const std::string r = dc.Key();
  const std::string kind(plan::StepKindName(step.kind));
  std::lock_guard<std::mutex> l(mu_);
  Touch(r);
  step_duration_.Add({{"step", kind}}, StepBuckets()).Observe(Seconds(duration));
  CounterOf(step_total_, r, {{"step", kind}, {"result", result.ok() ? "ok" : "error"}}).Increment();
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
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

std::vector<prometheus::MetricFamily> Metrics::Collect() const {
  std::lock_guard<std::mutex> l(mu_);
  return registry_->Collect();
}

}  // namespace sy::metrics
