#include "pkg/controller/reconciler.h"

#include <csignal>

#include "absl/strings/str_cat.h"
#include "pkg/plan/status.h"
#include "pkg/util/log.h"

namespace sy::controller {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

std::string Ms(std::chrono::nanoseconds d) {
  return std::to_string(duration_cast<milliseconds>(d).count());
}

bool IsSwitchStep(model::StepKind k) {
  return k == model::StepKind::kSwitchTraffic || k == model::StepKind::kFence ||
         k == model::StepKind::kPromote;
}

// The switchover record as typed data (its stamps are RFC 3339 strings in the status).
model::SwitchoverReport SwitchoverReportOf(const api::Switchover& ls) {
  model::SwitchoverReport r;
  r.from = ls.from;
  r.to = ls.to;
  std::chrono::system_clock::time_point t;
  if (util::ParseRfc3339(ls.started_at, &t)) r.started_at = t;
  if (!ls.finished_at.empty() && util::ParseRfc3339(ls.finished_at, &t)) r.finished_at = t;
  r.write_unavailable_ms = ls.write_unavailable_ms;
  return r;
}

// The Ready message of a step that failed terminally: the same on every pass it blocks.
std::string TerminalMessage(const model::Step& step, const absl::Status& error) {
  return absl::StrCat(model::Describe(step), " failed: ", error.message(),
                      "; not tried again until the spec or a switchyard.dev/ annotation changes");
}

}  // namespace

Reconciler::Reconciler(observe::WorldObserver& observer, actuate::Actuator& actuator,
                       source::Store& store, const util::Clock& clock, ReconcilerOptions options,
                       model::PassListener* listener, ServerLock* server_lock)
    : observer_(observer),
      actuator_(actuator),
      store_(store),
      clock_(clock),
      options_(options),
      listener_(listener),
      server_lock_(server_lock) {}

PassResult Reconciler::Reconcile(const std::string& key) {
  std::optional<api::DeploymentColor> dc = store_.Get(key);
  if (!dc) {
    {
      std::lock_guard<std::mutex> l(mu_);
      terminal_.erase(key);
    }
    PassResult gone;
    gone.next = PassResult::Next::kForget;
    return gone;
  }
  return Pass(*dc);
}

void Reconciler::TrackSwitchover(const api::DeploymentColor& dc, api::DeploymentColorStatus* st,
                                 model::PassReport* report) {
  const std::string to(api::ColorName(dc.spec.active_color));
  auto& ls = st->last_switchover;
  const bool in_progress = ls && ls->to == to && ls->finished_at.empty();
  bool started = false;
  bool finished = false;
  if (report->step && IsSwitchStep(report->step->step.kind) && !in_progress) {
    ls = api::Switchover{std::string(api::ColorName(api::Other(dc.spec.active_color))), to,
                         util::FormatRfc3339Millis(clock_.Now()), "", 0};
    started = true;
  }
  if (report->phase == api::Phase::kConverged && in_progress) {
    ls->finished_at = util::FormatRfc3339Millis(clock_.Now());
    finished = true;
  }
  if (ls) {
    report->switchover = SwitchoverReportOf(*ls);
    report->switchover->started = started;
    report->switchover->finished = finished;
  }
}

std::optional<absl::Status> Reconciler::Blocked(const api::DeploymentColor& dc,
                                                const model::Step& step) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = terminal_.find(dc.Key());
  if (it == terminal_.end()) return std::nullopt;
  if (it->second.uid != dc.metadata.uid || it->second.generation != dc.metadata.generation) {
    terminal_.erase(it);  // a new input: the step may be tried again
    return std::nullopt;
  }
  if (!(it->second.step == step)) return std::nullopt;  // the world moved on meanwhile
  return it->second.error;
}

void Reconciler::ReportStopped(const api::DeploymentColor& dc, std::string_view event,
                               const std::string& reason, const absl::Status& error) {
  api::DeploymentColorStatus st = dc.status;
  st.phase = std::string(api::PhaseName(api::Phase::kDegraded));
  plan::SetCondition(
      &st, {std::string(api::kConditionReady), "False", reason, std::string(error.message()),
            util::FormatRfc3339(clock_.Now()), dc.metadata.generation});
  (void)store_.WriteStatus(dc.Key(), st, dc.metadata.uid);
  log::Warn(event, {{"resource", dc.Key()}, {"error", std::string(error.message())}});
}

PassResult Reconciler::Pass(const api::DeploymentColor& dc) {
  const auto t0 = clock_.MonotonicNow();
  const std::string key = dc.Key();
  model::PassReport report;
  report.resource = key;
  report.generation = dc.metadata.generation;
  report.desired = dc.spec.active_color;
  report.max_lag_bytes = dc.spec.database.max_lag_bytes;
  // The report is complete here: the result and the listener read it, nothing re-derives it.
  auto finish = [&](PassResult::Next next, std::chrono::nanoseconds after = {}) {
    report.duration = clock_.MonotonicNow() - t0;
    PassResult result;
    result.next = next;
    result.after = after;
    result.phase = report.phase;
    if (report.step && report.step->taken) result.step = report.step->step;
    result.error = report.error;
    result.terminal = report.terminal;
    if (listener_) listener_->OnPass(report);
    return result;
  };
  auto fail = [&](model::FailedAt where, absl::Status error, api::Phase phase) {
    report.failed_at = where;
    report.error = std::move(error);
    report.phase = phase;
  };
  // Safety rule: the pass holds the lock of its servers from before it observes until after
  // its step (the guard goes after `finish`): two resources naming the same servers, or two
  // daemons, never act on them at once.
  std::unique_ptr<ServerLock::Guard> servers;
  if (server_lock_ != nullptr) {
    absl::StatusOr<std::unique_ptr<ServerLock::Guard>> locked = server_lock_->TryLock(dc);
    if (!locked.ok()) {
      ReportStopped(dc, "server-lock",
                    absl::IsUnavailable(locked.status()) ? "ServersLocked" : "ServerLockFailed",
                    locked.status());
      fail(model::FailedAt::kServerLock, locked.status(), api::Phase::kDegraded);
      return finish(PassResult::Next::kBackoff);
    }
    servers = *std::move(locked);
  }
  const std::optional<std::string> invalid = store_.InvalidReason(key);

  absl::StatusOr<model::World> world = observer_.Observe(dc);
  const auto observed = clock_.MonotonicNow() - t0;
  if (!world.ok()) {
    ReportStopped(dc, "observe", "ObserveFailed", world.status());
    // A misconfiguration (e.g. a database on another host) cannot clear by retrying: the
    // condition says why, and the next look is a resync away, not a hot loop. Observing takes
    // no step, so it is tried again every resync (a fix on the host shows then).
    fail(model::FailedAt::kObserve, world.status(), api::Phase::kDegraded);
    report.terminal = absl::IsInvalidArgument(world.status());
    return finish(report.terminal ? PassResult::Next::kAfter : PassResult::Next::kBackoff,
                  options_.resync);
  }

  const auto now = clock_.Now();
  const plan::Plan plan = plan::Next(dc, *world, now);
  report = plan::PlannedReport(dc, *world, plan, now);
  api::DeploymentColorStatus st = plan::StatusFor(dc, *world, report, now);
  TrackSwitchover(dc, &st, &report);
  const auto& was = dc.status.last_switchover;
  const bool switching =
      was && was->to == api::ColorName(dc.spec.active_color) && was->finished_at.empty();
  // A switchover fails once: the stored phase says Failed from the next pass on.
  auto failing = [&] {
    if (report.switchover && switching && report.phase == api::Phase::kFailed &&
        dc.status.phase != api::PhaseName(api::Phase::kFailed)) {
      report.switchover->failed = true;
    }
  };
  if (invalid) {
    st.phase = std::string(api::PhaseName(api::Phase::kInvalid));
    plan::SetCondition(&st, {std::string(api::kConditionReady), "False", "InvalidManifest",
                             *invalid + " (the last valid spec stays in force)",
                             util::FormatRfc3339(now), dc.metadata.generation});
    report.phase = api::Phase::kInvalid;
  }
  // A step that failed terminally for this generation is not taken again.
  std::optional<absl::Status> blocked;
  if (plan.step) blocked = Blocked(dc, *plan.step);
  if (blocked) {
    fail(model::FailedAt::kStep, *blocked, api::Phase::kFailed);
    report.terminal = true;
    st.phase = std::string(api::PhaseName(api::Phase::kFailed));
    plan::SetCondition(&st, {std::string(api::kConditionReady), "False", "StepFailed",
                             TerminalMessage(*plan.step, *blocked), util::FormatRfc3339(now),
                             dc.metadata.generation});
  }
  if (absl::Status s = store_.WriteStatus(key, st, dc.metadata.uid); !s.ok()) {
    log::Error("status", {{"resource", key}, {"error", std::string(s.message())}});
    fail(model::FailedAt::kStatusWrite, s, api::Phase::kDegraded);
    report.terminal = false;
    // Nothing of this pass was recorded: the switchover stands as it was.
    report.switchover.reset();
    if (was) report.switchover = SwitchoverReportOf(*was);
    return finish(PassResult::Next::kBackoff);
  }
  failing();
  if (blocked) return finish(PassResult::Next::kAfter, options_.resync);

  if (plan.done()) {
    switch (plan.wait) {
      case plan::Wait::kResync:
        return finish(PassResult::Next::kAfter, options_.resync);
      case plan::Wait::kPoll:
        return finish(PassResult::Next::kAfter, options_.poll);
      case plan::Wait::kRetry:
        return finish(PassResult::Next::kBackoff);
    }
  }

  // Take the one step.
  const model::Step step = *plan.step;
  const std::string what = model::Describe(step);
  log::Info("step", {{"resource", key},
                     {"step", what},
                     {"outcome", "started"},
                     {"observe_ms", Ms(observed)},
                     {"reason", plan.message}});
  const auto s0 = clock_.MonotonicNow();
  actuate::StepOutcome outcome;
  absl::Status s = actuator_.Run(dc, step, &outcome);
  const auto took = clock_.MonotonicNow() - s0;
  report.step->taken = true;
  report.step->outcome = s;
  report.step->duration = took;
  if (s.ok()) {
    log::Info("step", {{"resource", key},
                       {"step", what},
                       {"outcome", "ok"},
                       {"ms", Ms(took)},
                       {"detail", outcome.detail}});
    {
      std::lock_guard<std::mutex> l(mu_);
      terminal_.erase(key);
    }
    if (step.kind == model::StepKind::kFence) {
      std::lock_guard<std::mutex> l(mu_);
      fence_started_[key] = outcome.writes_stopped_at.value_or(s0);
    }
    if (step.kind == model::StepKind::kPromote) {
      std::lock_guard<std::mutex> l(mu_);
      auto it = fence_started_.find(key);
      if (it != fence_started_.end()) {
        const auto resumed = outcome.writes_resumed_at.value_or(clock_.MonotonicNow());
        const auto window = duration_cast<milliseconds>(resumed - it->second);
        fence_started_.erase(it);
        api::DeploymentColorStatus after = st;
        if (after.last_switchover) after.last_switchover->write_unavailable_ms = window.count();
        if (report.switchover) report.switchover->write_unavailable_ms = window.count();
        (void)store_.WriteStatus(key, after, dc.metadata.uid);
        log::Info("write-window", {{"resource", key}, {"ms", std::to_string(window.count())}});
      }
    }
    bool kill = false;
    {
      std::lock_guard<std::mutex> l(mu_);
      kill = options_.kill_after_steps > 0 && ++steps_done_ >= options_.kill_after_steps;
    }
    if (kill) {
      log::Warn("fault-injection", {{"action", "SIGKILL after step"}, {"step", what}});
      std::raise(SIGKILL);
    }
    return finish(PassResult::Next::kNow);
  }

  log::Error("step", {{"resource", key},
                      {"step", what},
                      {"outcome", "error"},
                      {"ms", Ms(took)},
                      {"error", std::string(s.message())}});
  const bool terminal = absl::IsInvalidArgument(s);
  fail(model::FailedAt::kStep, s, terminal ? api::Phase::kFailed : api::Phase::kDegraded);
  report.terminal = terminal;
  if (terminal) {
    std::lock_guard<std::mutex> l(mu_);
    terminal_[key] = {dc.metadata.uid, dc.metadata.generation, step, s};
  }
  st.phase = std::string(api::PhaseName(report.phase));
  plan::SetCondition(
      &st, {std::string(api::kConditionReady), "False", "StepFailed",
            terminal ? TerminalMessage(step, s) : absl::StrCat(what, " failed: ", s.message()),
            util::FormatRfc3339(clock_.Now()), dc.metadata.generation});
  const bool way_forward = plan::RecordStepFailure(step, s, clock_.Now(), &st);
  (void)store_.WriteStatus(key, st, dc.metadata.uid);
  failing();
  return finish(terminal      ? PassResult::Next::kAfter
                : way_forward ? PassResult::Next::kNow
                              : PassResult::Next::kBackoff,
                options_.resync);
}

}  // namespace sy::controller
