// Builds a pass's report from one observed world and the plan made from it, and the
// resource's status from that report. Pure.
#pragma once

#include <chrono>

#include "absl/status/status.h"
#include "pkg/api/types.h"
#include "pkg/model/pass_report.h"
#include "pkg/model/step.h"
#include "pkg/model/world.h"
#include "pkg/plan/planner.h"

namespace sy::plan {

// The report of a pass that observed `w` and made `plan` at `now`, before it acts: the
// declaration, the plan's phase, reason, message and step (not yet taken), and what was
// observed, each drifting component dated (DateDrift). The reconciler completes it with what
// the pass then does; StatusFor and the metrics read it.
model::PassReport PlannedReport(const api::DeploymentColor& dc, const model::World& w,
                                const Plan& plan, std::chrono::system_clock::time_point now);

// Dates each drifting component of `drift`: a component whose condition in `before` already
// said False keeps that condition's lastTransitionTime (the onset the status keeps across
// passes and restarts); one that starts to drift now gets `now` to the second, as StatusFor
// then writes it.
void DateDrift(const api::DeploymentColorStatus& before, std::chrono::system_clock::time_point now,
               model::Drift* drift);

// Returns dc.status updated for the pass `report` describes: observedGeneration, phase,
// servingColor, primaryColor, step, the five conditions (a condition keeps its
// lastTransitionTime while its status stays the same) and the fence record (set when the old
// primary is first seen cleanly fenced behind a running standby: model::CleanlyFencedBehind).
// `w` is the world the report observed (for the conditions' messages); lastSwitchover is the
// controller's business and is kept as is.
api::DeploymentColorStatus StatusFor(const api::DeploymentColor& dc, const model::World& w,
                                     const model::PassReport& report,
                                     std::chrono::system_clock::time_point now);

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

}  // namespace sy::plan
