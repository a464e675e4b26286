// The preflight of a switch: every check a switch from the running primary to the other
// color must pass before anything moves (traffic, slot, fence), each named and shown with what
// was observed and its limit. The planner holds on the first blocking check that fails (the
// Ready condition then names it); `yardctl check` prints them all. One list, so the two never
// disagree (pkg/plan/README.md §19).
#pragma once

#include <string>
#include <vector>

#include "pkg/api/types.h"
#include "pkg/model/step.h"
#include "pkg/model/world.h"

namespace sy::plan {

struct Check {
  std::string name;  // stable, kebab-case: "lag-bytes"
  bool ok = true;
  // false: a warning. It is shown, and the switch goes ahead.
  bool blocking = true;
  std::string observed;  // "1.2 MiB behind", "on", "15.4 / 15.4"
  std::string limit;     // "at most 16 MiB (spec.database.maxLagBytes)"
  // When it fails: the hold's phase, reason (CamelCase, stable: metrics key on it) and
  // message (what was seen and what to do).
  api::Phase phase = api::Phase::kDegraded;
  std::string reason;
  std::string message;
};

// The checks of a switch to `to` from the other color, which runs as the primary, in the order
// the planner applies them. They judge a standby that streams from that primary: the planner
// makes `to` one first (RepairStandby), and `yardctl check` says so when it does not.
std::vector<Check> Preflight(const api::DeploymentColor& dc, const model::World& w, api::Color to);

// The first blocking check that failed, or nullptr.
const Check* FirstFailure(const std::vector<Check>& checks);

// One step of a switch, as the planner will take it.
struct SwitchStep {
  model::Step step;
  std::string what;  // what it does, for a person
};

// The steps a switch to `to` takes from `w`, whose primary is the other color and whose `to`
// streams from it, in order: those already done (traffic already on `to`, a slot already
// made) left out. The planner takes them one per pass, each after observing the world again;
// a step that fails or a world that changes may add others (the README's step table).
std::vector<SwitchStep> SwitchSteps(const api::DeploymentColor& dc, const model::World& w,
                                    api::Color to);

}  // namespace sy::plan
