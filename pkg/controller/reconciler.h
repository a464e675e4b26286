// One level-based pass over one resource: observe, plan, write status, take at most one step.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "pkg/actuate/actuator.h"
#include "pkg/controller/server_lock.h"
#include "pkg/observe/observer.h"
#include "pkg/plan/planner.h"
#include "pkg/source/store.h"
#include "pkg/util/clock.h"

namespace sy::controller {

// What a pass did, and when to look again.
struct PassResult {
  enum class Next { kNow, kAfter, kBackoff, kForget };
  Next next = Next::kAfter;
  std::chrono::nanoseconds after{0};  // for kAfter
  api::Phase phase = api::Phase::kConverged;
  std::optional<model::Step> step;  // the step taken, if any
  absl::Status error;               // the observation or step error, if any
  bool terminal = false;            // the error cannot clear by retrying (misconfiguration)
};

// Receives what happened, for metrics. Every method is called from the pass's thread.
class PassListener {
 public:
  virtual ~PassListener() = default;
  virtual void OnPass(const api::DeploymentColor& dc, const model::World* world,
                      const plan::Plan* plan, const PassResult& result,
                      std::chrono::nanoseconds duration) = 0;
  virtual void OnStep(const api::DeploymentColor& dc, const model::Step& step,
                      const absl::Status& result, std::chrono::nanoseconds duration) = 0;
};

struct ReconcilerOptions {
  std::chrono::nanoseconds resync = std::chrono::seconds(10);
  std::chrono::nanoseconds poll = std::chrono::milliseconds(10);
  // Fault injection for crash tests: after this many completed steps, the process kills
  // itself with SIGKILL (0 = never).
  int kill_after_steps = 0;
};

// Thread-safe for distinct keys (the work queue never hands one key to two workers).
class Reconciler {
 public:
  // All references must outlive this object; `listener` may be null. A pass holds
  // `server_lock` (when not null) from before it observes until after its step; when another
  // holds it, the pass takes no step, says so in a Ready=False condition (reason
  // ServersLocked, naming the holder) and backs off.
  Reconciler(observe::WorldObserver& observer, actuate::Actuator& actuator, source::Store& store,
             const util::Clock& clock, ReconcilerOptions options, PassListener* listener = nullptr,
             ServerLock* server_lock = nullptr);

  // Idempotent; safe at any time, including after a crash mid-switch.
  PassResult Reconcile(const std::string& key);

 private:
  PassResult Pass(const api::DeploymentColor& dc);
  // A pass that cannot go on: the Ready condition says why (`reason`, `error`), logged as
  // `event`.
  void ReportStopped(const api::DeploymentColor& dc, std::string_view event,
                     const std::string& reason, const absl::Status& error);
  void TrackSwitchover(const api::DeploymentColor& dc, const plan::Plan& plan,
                       api::DeploymentColorStatus* st);

  observe::WorldObserver& observer_;
  actuate::Actuator& actuator_;
  source::Store& store_;
  const util::Clock& clock_;
  const ReconcilerOptions options_;
  PassListener* const listener_;
  ServerLock* const server_lock_;
  std::mutex mu_;
  int steps_done_ = 0;
  // When the fence of a switch stopped writes, per key: the write-unavailability window runs
  // from there to the moment the promoted standby is writable (kept in memory: when the
  // daemon restarts between the two, the window of that switch is not recorded).
  std::map<std::string, std::chrono::steady_clock::time_point> fence_started_;
};

}  // namespace sy::controller
