// What one reconcile pass saw, decided and did, as typed data. The reconciler builds one per
// pass; the status (pkg/plan/status.h) and the metrics (pkg/metrics) both read it, so neither
// re-derives from strings what the pass decided.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "pkg/api/types.h"
#include "pkg/model/step.h"
#include "pkg/model/world.h"

namespace sy::model {

// What can differ from the declaration.
enum class Component { kTraffic, kPrimary, kStandby };
inline constexpr Component kComponents[] = {Component::kTraffic, Component::kPrimary,
                                            Component::kStandby};
std::string_view ComponentName(Component c);  // "traffic", "primary", "standby"

struct ComponentDrift {
  bool drifted = false;
  // While drifted: when the component started to differ, to the second (the
  // lastTransitionTime of its condition). The epoch while it matches, or when not dated.
  std::chrono::system_clock::time_point since{};
};

struct Drift {
  std::array<ComponentDrift, 3> components;  // indexed by Component
  ComponentDrift& For(Component c) { return components[static_cast<size_t>(c)]; }
  const ComponentDrift& For(Component c) const { return components[static_cast<size_t>(c)]; }
  bool any() const;
};

// What differs between `w` and `spec` (undated): traffic (nginx serves, or its upstream file
// names, another color), primary (the declared color is not the only running primary),
// standby (the other does not stream from it).
Drift DriftOf(const api::DeploymentColorSpec& spec, const World& w);

// The parts of an observed world a pass reports.
struct Observation {
  std::optional<api::Color> serving;  // what nginx's probe saw
  bool blue_primary = false;          // runs as a writable primary
  bool green_primary = false;
  // The standby's replay lag behind the primary, while exactly that pair runs.
  struct Lag {
    api::Color standby = api::Color::kBlue;
    uint64_t bytes = 0;
  };
  std::optional<Lag> lag;
  Drift drift;

  bool IsPrimary(api::Color c) const {
    return c == api::Color::kBlue ? blue_primary : green_primary;
  }
};
Observation ObservationOf(const api::DeploymentColorSpec& spec, const World& w);

// The last switchover (status.lastSwitchover) as the pass leaves it, and what became of it in
// this pass.
struct SwitchoverReport {
  std::string from;  // the colors as recorded
  std::string to;
  // nullopt when the recorded time cannot be read.
  std::optional<std::chrono::system_clock::time_point> started_at;
  std::optional<std::chrono::system_clock::time_point> finished_at;  // once finished
  // The write window: from the fence stopping writes to the promoted standby being writable.
  int64_t write_unavailable_ms = 0;
  bool started = false;   // this pass began it (its first switch step)
  bool finished = false;  // this pass saw it converge
  bool failed = false;    // this pass saw it fail, the first pass to do so
};

// The step the plan asked for and, once run, how it went.
struct StepReport {
  Step step;
  bool taken = false;    // the actuator ran it
  absl::Status outcome;  // when taken
  std::chrono::nanoseconds duration{0};
};

// Where a pass stopped short.
enum class FailedAt {
  kNone,
  kServerLock,   // another pass, or daemon, holds the servers (or the lock failed)
  kObserve,      // nginx or PostgreSQL could not be observed
  kStatusWrite,  // the status could not be persisted (no step taken)
  kStep,         // the step taken failed
};

struct PassReport {
  std::string resource;  // "namespace/name"
  int64_t generation = 0;
  api::Color desired = api::Color::kBlue;
  uint64_t max_lag_bytes = 0;  // spec.database.maxLagBytes
  api::Phase phase = api::Phase::kConverged;
  // The planner's reason and message (what it is doing or waiting for); the reason is empty
  // when the pass made no plan. A failed step keeps the plan's reason here.
  std::string reason;
  std::string message;
  std::optional<Observation> observed;  // when the world was observed
  std::optional<SwitchoverReport> switchover;
  std::optional<StepReport> step;
  // The plan gives up a switch after its fence (plan::Plan::abandon): the status records it.
  std::optional<api::AbandonedSwitch> abandon;
  FailedAt failed_at = FailedAt::kNone;
  absl::Status error;     // why, when failed_at is not kNone
  bool terminal = false;  // the error cannot clear by retrying: it waits for a new input
  std::chrono::nanoseconds duration{0};
};

// Receives the report of every pass (the metrics). Called from the pass's thread, after the
// pass wrote its status; implementations must be thread-safe for distinct resources.
class PassListener {
 public:
  virtual ~PassListener() = default;
  virtual void OnPass(const PassReport& report) = 0;
};

}  // namespace sy::model
