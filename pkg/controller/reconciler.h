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
#include "pkg/model/pass_report.h"
#include "pkg/observe/observer.h"
#include "pkg/plan/planner.h"
#include "pkg/source/store.h"
#include "pkg/util/clock.h"

namespace sy::controller {

// What a pass did, and when to look again (the pass's model::PassReport says it in full).
struct PassResult {
  enum class Next { kNow, kAfter, kBackoff, kForget };
  Next next = Next::kAfter;
  std::chrono::nanoseconds after{0};  // for kAfter
  api::Phase phase = api::Phase::kConverged;
  std::optional<model::Step> step;  // the step taken, if any
  absl::Status error;               // the observation or step error, if any
  bool terminal = false;            // the error cannot clear by retrying (misconfiguration)
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
  // All references must outlive this object; `listener` (may be null) receives the report of
  // every pass. A pass holds
  // `server_lock` (when not null) from before it observes until after its step; when another
  // holds it, the pass takes no step, says so in a Ready=False condition (reason
  // ServersLocked, naming the holder) and backs off.
  Reconciler(observe::WorldObserver& observer, actuate::Actuator& actuator, source::Store& store,
             const util::Clock& clock, ReconcilerOptions options,
             model::PassListener* listener = nullptr, ServerLock* server_lock = nullptr);

  // Idempotent; safe at any time, including after a crash mid-switch. A step that failed
  // terminally (kInvalidArgument: a misconfiguration) is not taken again for the same
  // resource generation: the pass observes and reports, and says the step waits for a new
  // generation (a change of the spec or of a switchyard.dev/ annotation, such as the consent
  // to discard diverged writes or a `switchyard.dev/retry` set after a fix on the host).
  PassResult Reconcile(const std::string& key);

 private:
  PassResult Pass(const api::DeploymentColor& dc);
  // A pass that cannot go on: the Ready condition says why (`reason`, `error`), logged as
  // `event`.
  void ReportStopped(const api::DeploymentColor& dc, std::string_view event,
                     const std::string& reason, const absl::Status& error);
  // Starts or finishes st->last_switchover for this pass, saying so in `report`.
  void TrackSwitchover(const api::DeploymentColor& dc, api::DeploymentColorStatus* st,
                       model::PassReport* report);
  // The terminal failure of `step` that blocks it for dc's generation, if any.
  std::optional<absl::Status> Blocked(const api::DeploymentColor& dc, const model::Step& step);

  observe::WorldObserver& observer_;
  actuate::Actuator& actuator_;
  source::Store& store_;
  const util::Clock& clock_;
  const ReconcilerOptions options_;
  model::PassListener* const listener_;
  ServerLock* const server_lock_;
  std::mutex mu_;
  int steps_done_ = 0;
  // When the fence of a switch stopped writes, per key: the write-unavailability window runs
  // from there to the moment the promoted standby is writable (kept in memory: when the
  // daemon restarts between the two, the window of that switch is not recorded).
  std::map<std::string, std::chrono::steady_clock::time_point> fence_started_;
  // A step that failed terminally, per key, with the resource (uid, generation) it failed
  // for (kept in memory: a restarted daemon tries it once more).
  struct TerminalFailure {
    std::string uid;
    int64_t generation = 0;
    model::Step step;
    absl::Status error;
  };
  std::map<std::string, TerminalFailure> terminal_;
};

}  // namespace sy::controller
