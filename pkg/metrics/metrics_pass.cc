// The PassListener half of Metrics: what one reconcile pass (its model::PassReport) changes in
// the families (see metrics.h).
#include "pkg/metrics/labels.h"
#include "pkg/metrics/metrics.h"

namespace sy::metrics {
namespace {

using api::Color;
using prometheus::Labels;

double Seconds(std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); }

double UnixSeconds(std::chrono::system_clock::time_point t) {
  return Seconds(t.time_since_epoch());
}

std::string Name(Color c) { return std::string(api::ColorName(c)); }

// The reconcile_errors_total reason of a pass that stopped at `where`: a pass that found its
// servers locked saw no world, which the family counts as ObserveFailed.
std::string_view ErrorReason(model::FailedAt where) {
  switch (where) {
    case model::FailedAt::kStep:
      return kStepFailed;
    case model::FailedAt::kStatusWrite:
      return kStatusWriteFailed;
    case model::FailedAt::kNone:
    case model::FailedAt::kServerLock:
    case model::FailedAt::kObserve:
      break;
  }
  return kObserveFailed;
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

void Metrics::OnPass(const model::PassReport& report) {
  const std::string& r = report.resource;
  const auto now = clock_.Now();
  std::lock_guard<std::mutex> l(mu_);
  Touch(r);
  reconcile_duration_.Observe(Seconds(report.duration));
  const bool ok = report.failed_at == model::FailedAt::kNone;
  CounterOf(reconcile_total_, r, {{"result", ok ? "ok" : "error"}}).Increment();
  if (ok) {
    GaugeOf(last_success_, r).Set(UnixSeconds(now));
  } else {
    CounterOf(reconcile_errors_, r, {{"reason", std::string(ErrorReason(report.failed_at))}})
        .Increment();
  }
  SetPhase(r, report.phase);
  for (Color c : api::kColors) {
    GaugeOf(desired_color_, r, {{"color", Name(c)}}).Set(report.desired == c ? 1 : 0);
  }
  GaugeOf(max_lag_, r).Set(static_cast<double>(report.max_lag_bytes));
  if (report.observed) Observed(r, *report.observed);
  if (!report.reason.empty()) SetReason(r, ReasonLabel(report.reason));
  if (report.switchover) Switchover(r, *report.switchover);
  if (report.step && report.step->taken) Step(r, *report.step);
}

void Metrics::Observed(const std::string& r, const model::Observation& o) {
  for (Color c : api::kColors) {
    GaugeOf(serving_color_, r, {{"color", Name(c)}}).Set(o.serving == c ? 1 : 0);
    GaugeOf(primary_color_, r, {{"color", Name(c)}}).Set(o.IsPrimary(c) ? 1 : 0);
  }
  for (model::Component c : model::kComponents) {
    const model::ComponentDrift& d = o.drift.For(c);
    const Labels labels = {{"component", std::string(model::ComponentName(c))}};
    GaugeOf(drift_, r, labels).Set(d.drifted ? 1 : 0);
    GaugeOf(drift_since_, r, labels).Set(d.drifted ? UnixSeconds(d.since) : 0);
  }
  // The standby's lag behind the primary, while there is exactly that pair.
  for (Color standby : api::kColors) {
    if (o.lag && o.lag->standby == standby) {
      GaugeOf(lag_, r, {{"color", Name(standby)}}).Set(static_cast<double>(o.lag->bytes));
    } else {
      DropGauge(lag_, r, {{"color", Name(standby)}});
    }
  }
}

void Metrics::Switchover(const std::string& r, const model::SwitchoverReport& sw) {
  const Labels direction = {{"from", std::string(ColorLabel(sw.from))},
                            {"to", std::string(ColorLabel(sw.to))}};
  auto count = [&](const char* outcome) {
    Labels labels = direction;
    labels["result"] = outcome;
    CounterOf(switchover_total_, r, labels).Increment();
  };
  if (sw.finished) {
    count("ok");
    if (sw.started_at && sw.finished_at && *sw.finished_at >= *sw.started_at) {
      switchover_duration_.Observe(Seconds(*sw.finished_at - *sw.started_at));
    }
  } else if (sw.failed) {
    count("error");
  }
  if (sw.finished_at) {
    GaugeOf(write_unavailable_, r).Set(static_cast<double>(sw.write_unavailable_ms) / 1000);
  }
}

void Metrics::Step(const std::string& r, const model::StepReport& step) {
  const std::string kind(model::StepKindName(step.step.kind));
  step_duration_.Add({{"step", kind}}, StepBuckets()).Observe(Seconds(step.duration));
  CounterOf(step_total_, r, {{"step", kind}, {"result", step.outcome.ok() ? "ok" : "error"}})
      .Increment();
}

}  // namespace sy::metrics
