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

}  // namespace

Reconciler::Reconciler(observe::WorldObserver& observer, actuate::Actuator& actuator,
                       source::Store& store, const util::Clock& clock, ReconcilerOptions options,
                       PassListener* listener, ServerLock* server_lock)
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
    PassResult gone;
    gone.next = PassResult::Next::kForget;
    return gone;
  }
  return Pass(*dc);
}

void Reconciler::TrackSwitchover(const api::DeploymentColor& dc, const plan::Plan& plan,
                                 api::DeploymentColorStatus* st) {
  const std::string to(api::ColorName(dc.spec.active_color));
  auto& ls = st->last_switchover;
  const bool in_progress = ls && ls->to == to && ls->finished_at.empty();
  if (plan.step && IsSwitchStep(plan.step->kind) && !in_progress) {
    ls = api::Switchover{std::string(api::ColorName(api::Other(dc.spec.active_color))), to,
                         util::FormatRfc3339Millis(clock_.Now()), "", 0};
  }
  if (plan.phase == api::Phase::kConverged && in_progress) {
    ls->finished_at = util::FormatRfc3339Millis(clock_.Now());
  }
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
  PassResult result;
  auto finish = [&](const model::World* w, const plan::Plan* p) {
    if (listener_) listener_->OnPass(dc, w, p, result, clock_.MonotonicNow() - t0);
    return result;
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
      result.next = PassResult::Next::kBackoff;
      result.phase = api::Phase::kDegraded;
      result.error = locked.status();
      return finish(nullptr, nullptr);
    }
    servers = *std::move(locked);
  }
  const std::optional<std::string> invalid = store_.InvalidReason(key);

  absl::StatusOr<model::World> world = observer_.Observe(dc.spec);
  const auto observed = clock_.MonotonicNow() - t0;
  if (!world.ok()) {
    ReportStopped(dc, "observe", "ObserveFailed", world.status());
    // A misconfiguration (e.g. a database on another host) cannot clear by retrying: the
    // condition says why, and the next look is a resync away, not a hot loop.
    result.terminal = absl::IsInvalidArgument(world.status());
    result.next = result.terminal ? PassResult::Next::kAfter : PassResult::Next::kBackoff;
    result.after = options_.resync;
    result.phase = api::Phase::kDegraded;
    result.error = world.status();
    return finish(nullptr, nullptr);
  }

  const plan::Plan plan = plan::Next(dc, *world, clock_.Now());
  api::DeploymentColorStatus st = plan::StatusFor(dc, *world, plan, clock_.Now());
  TrackSwitchover(dc, plan, &st);
  if (invalid) {
    st.phase = std::string(api::PhaseName(api::Phase::kInvalid));
    plan::SetCondition(&st, {std::string(api::kConditionReady), "False", "InvalidManifest",
                             *invalid + " (the last valid spec stays in force)",
                             util::FormatRfc3339(clock_.Now()), dc.metadata.generation});
  }
  if (absl::Status s = store_.WriteStatus(key, st, dc.metadata.uid); !s.ok()) {
    log::Error("status", {{"resource", key}, {"error", std::string(s.message())}});
    result.next = PassResult::Next::kBackoff;
    result.error = s;
    result.phase = api::Phase::kDegraded;
    return finish(&*world, &plan);
  }
  result.phase = invalid ? api::Phase::kInvalid : plan.phase;

  if (plan.done()) {
    switch (plan.wait) {
      case plan::Wait::kResync:
        result.next = PassResult::Next::kAfter;
        result.after = options_.resync;
        break;
      case plan::Wait::kPoll:
        result.next = PassResult::Next::kAfter;
        result.after = options_.poll;
        break;
      case plan::Wait::kRetry:
        result.next = PassResult::Next::kBackoff;
        break;
    }
    return finish(&*world, &plan);
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
  if (listener_) listener_->OnStep(dc, step, s, took);
  result.step = step;
  if (s.ok()) {
    log::Info("step", {{"resource", key},
                       {"step", what},
                       {"outcome", "ok"},
                       {"ms", Ms(took)},
                       {"detail", outcome.detail}});
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
        (void)store_.WriteStatus(key, after, dc.metadata.uid);
        log::Info("write-window", {{"resource", key}, {"ms", std::to_string(window.count())}});
      }
    }
    result.next = PassResult::Next::kNow;
    bool kill = false;
    {
      std::lock_guard<std::mutex> l(mu_);
      kill = options_.kill_after_steps > 0 && ++steps_done_ >= options_.kill_after_steps;
    }
    if (kill) {
      log::Warn("fault-injection", {{"action", "SIGKILL after step"}, {"step", what}});
      std::raise(SIGKILL);
    }
    return finish(&*world, &plan);
  }

  const std::string msg = absl::StrCat(what, " failed: ", s.message());
  log::Error("step", {{"resource", key},
                      {"step", what},
                      {"outcome", "error"},
                      {"ms", Ms(took)},
                      {"error", std::string(s.message())}});
  result.error = s;
  result.terminal = absl::IsInvalidArgument(s);
  result.phase = result.terminal ? api::Phase::kFailed : api::Phase::kDegraded;
  st.phase = std::string(api::PhaseName(result.phase));
  plan::SetCondition(&st, {std::string(api::kConditionReady), "False", "StepFailed", msg,
                           util::FormatRfc3339(clock_.Now()), dc.metadata.generation});
  const bool way_forward = plan::RecordStepFailure(step, s, clock_.Now(), &st);
  (void)store_.WriteStatus(key, st, dc.metadata.uid);
  result.next = result.terminal ? PassResult::Next::kAfter
                : way_forward   ? PassResult::Next::kNow
                                : PassResult::Next::kBackoff;
  result.after = options_.resync;
  return finish(&*world, &plan);
}

}  // namespace sy::controller
