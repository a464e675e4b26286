#include "tests/fakes/plan_driver.h"

#include "pkg/plan/status.h"

namespace sy::fakes {

api::DeploymentColor FakeResource(api::Color active) {
  api::DeploymentColor dc;
  dc.metadata.name = "shop";
  dc.metadata.generation = 1;
  dc.spec = FakeSpec(active);
  return dc;
}

namespace {

// Observes and plans, writing status as the reconciler does; takes no step.
DrivenPass Look(FakeCluster& cluster, api::DeploymentColor* dc) {
  DrivenPass p;
  p.world = cluster.ObserveWorld();
  const auto now = cluster.clock().Now();
  p.plan = plan::Next(*dc, p.world, now);
  dc->status = plan::StatusFor(*dc, p.world, plan::PlannedReport(*dc, p.world, p.plan, now), now);
  return p;
}

// Takes `step`, recording a failure in the status as the reconciler does.
absl::Status RunStep(FakeCluster& cluster, api::DeploymentColor* dc, const model::Step& step) {
  absl::Status s = cluster.Run(*dc, step, nullptr);
  if (!s.ok()) plan::RecordStepFailure(step, s, cluster.clock().Now(), &dc->status);
  return s;
}

}  // namespace

DrivenPass Pass(FakeCluster& cluster, api::DeploymentColor* dc) {
  DrivenPass p = Look(cluster, dc);
  if (p.plan.step) {
    p.step_status = RunStep(cluster, dc, *p.plan.step);
  }
  return p;
}

plan::Plan Settle(FakeCluster& cluster, api::DeploymentColor* dc, int max_steps) {
  for (int i = 0;; ++i) {
    DrivenPass p = Look(cluster, dc);
    if (p.plan.done() || i == max_steps) {
      return p.plan;
    }
    (void)RunStep(cluster, dc, *p.plan.step);
  }
}

std::optional<plan::Plan> RunUntil(FakeCluster& cluster, api::DeploymentColor* dc,
                                   model::StepKind kind, int max_steps) {
  for (int i = 0; i <= max_steps; ++i) {
    DrivenPass p = Look(cluster, dc);
    if (p.plan.done()) {
      return std::nullopt;
    }
    if (p.plan.step->kind == kind) {
      return p.plan;
    }
    (void)RunStep(cluster, dc, *p.plan.step);
  }
  return std::nullopt;
}

}  // namespace sy::fakes
