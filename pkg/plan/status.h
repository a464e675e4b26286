// Builds a resource's status from one observed world and the plan made from it. Pure.
#pragma once

#include <chrono>

#include "absl/status/status.h"
#include "pkg/api/types.h"
#include "pkg/model/step.h"
#include "pkg/model/world.h"
#include "pkg/plan/planner.h"

namespace sy::plan {

// Returns dc.status updated for this pass: observedGeneration, phase, servingColor,
// primaryColor, step, the five conditions (a condition keeps its lastTransitionTime while
// its status stays the same) and the fence record (set when the old primary is first seen
// stopped and fenced, with what its pg_control proves: PromotionThreshold). lastSwitchover is the
// controller's business and is kept as is.
api::DeploymentColorStatus StatusFor(const api::DeploymentColor& dc, const model::World& w,
                                     const Plan& plan, std::chrono::system_clock::time_point now);

// Records in `status` what a failed step teaches the planner: a pg_rewind that answered
// Aborted cannot be done, and the planner re-clones that color instead
// (status.rewindFailure, cleared by StatusFor once the color streams). Returns true when the
// next pass has a new way forward (then it need not wait for a backoff).
bool RecordStepFailure(const model::Step& step, const absl::Status& error,
                       std::chrono::system_clock::time_point now,
                       api::DeploymentColorStatus* status);

// Sets (or replaces) condition `c` in `status`, keeping lastTransitionTime when the status
// value did not change.
void SetCondition(api::DeploymentColorStatus* status, api::Condition c);

// What differs from the declaration: "traffic", "primary", "standby" (the metric's
// component label values).
struct Drift {
  bool traffic = false;
  bool primary = false;
  bool standby = false;
  bool any() const { return traffic || primary || standby; }
};
Drift DriftOf(const api::DeploymentColorSpec& spec, const model::World& w);

}  // namespace sy::plan
