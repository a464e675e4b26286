// Drives a FakeCluster with the pure planner the way the reconciler does — observe, plan,
// write status (plan::StatusFor keeps the fence record), take at most one step — without the
// store, the queue or threads. For planner and invariant tests.
#pragma once

#include <optional>

#include "absl/status/status.h"
#include "pkg/api/types.h"
#include "pkg/model/world.h"
#include "pkg/plan/planner.h"
#include "tests/fakes/fake_cluster.h"

namespace sy::fakes {

// A valid resource "default/shop" with FakeSpec(active).
api::DeploymentColor FakeResource(api::Color active = api::Color::kBlue);

struct DrivenPass {
  model::World world;  // what the planner saw
  plan::Plan plan;
  absl::Status step_status;  // of the step taken, OK when none
};

// One pass: observes `cluster`, plans for `dc` at the cluster's time, updates dc->status,
// runs the planned step if any.
DrivenPass Pass(FakeCluster& cluster, api::DeploymentColor* dc);

// Passes until the planner plans no step or `max_steps` steps were taken. Returns the last
// plan (done() unless the budget ran out).
plan::Plan Settle(FakeCluster& cluster, api::DeploymentColor* dc, int max_steps = 30);

// Passes until the planner proposes a step of `kind`, which is not taken; that plan, or
// nullopt when the planner settled or `max_steps` steps passed first.
std::optional<plan::Plan> RunUntil(FakeCluster& cluster, api::DeploymentColor* dc,
                                   model::StepKind kind, int max_steps = 30);

}  // namespace sy::fakes
