// The PassListener half of Metrics: what one reconcile pass, or one step, changes in the
// families (see metrics.h).
#include "pkg/metrics/labels.h"
#include "pkg/metrics/metrics.h"
#include "pkg/model/topology.h"
#include "pkg/plan/status.h"

namespace sy::metrics {
namespace {

using api::Color;
using prometheus::Labels;

double Seconds(std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); }

double UnixSeconds(std::chrono::system_clock::time_point t) {
  return Seconds(t.time_since_epoch());
}

std::string Name(Color c) { return std::string(api::ColorName(c)); }

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

void Metrics::OnPass(const api::DeploymentColor& dc, const model::World* world,
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

void Metrics::Observed(const api::DeploymentColor& dc, const model::World& w,
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
    const model::ServerState& p = w.server(primary);
    const model::ServerState& s = w.server(standby);
    if (p.RunningPrimary() && s.RunningStandby()) {
      GaugeOf(lag_, r, {{"color", Name(standby)}}).Set(static_cast<double>(model::LagBytes(s, p)));
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

void Metrics::OnStep(const api::DeploymentColor& dc, const model::Step& step,
                     const absl::Status& result, std::chrono::nanoseconds duration) {
  const std::string r = dc.Key();
  const std::string kind(model::StepKindName(step.kind));
  std::lock_guard<std::mutex> l(mu_);
  Touch(r);
  step_duration_.Add({{"step", kind}}, StepBuckets()).Observe(Seconds(duration));
  CounterOf(step_total_, r, {{"step", kind}, {"result", result.ok() ? "ok" : "error"}}).Increment();
}

}  // namespace sy::metrics
