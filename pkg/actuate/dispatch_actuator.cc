#include "pkg/actuate/dispatch_actuator.h"

namespace sy::actuate {

absl::Status DispatchActuator::Run(const api::DeploymentColor& dc, const model::Step& step,
                                   StepOutcome* outcome) {
  if (step.kind == model::StepKind::kSwitchTraffic) {
    return nginx_.SwitchTraffic(dc.spec, dc.Key(), step.target, outcome);
  }
  return postgres_.Run(dc, step, outcome);
}

}  // namespace sy::actuate
