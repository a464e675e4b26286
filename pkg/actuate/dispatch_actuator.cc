#include "pkg/actuate/dispatch_actuator.h"

#include "absl/strings/str_cat.h"
#include "pkg/util/log.h"

namespace sy::actuate {

absl::Status DispatchActuator::Run(const api::DeploymentColor& dc, const model::Step& step,
                                   StepOutcome* outcome) {
  if (step.kind == model::StepKind::kSwitchTraffic) {
    return nginx_.SwitchTraffic(dc.spec, dc.Key(), step.target, outcome);
  }
  absl::Status s = postgres_.Run(dc, step, outcome);
  if (step.kind == model::StepKind::kRewind && absl::IsAborted(s) && step.source) {
    log::Warn("rewind-failed", {{"resource", dc.Key()},
                                {"target", std::string(api::ColorName(step.target))},
                                {"fallback", "pg_basebackup"},
                                {"error", std::string(s.message())}});
    const model::Step clone{model::StepKind::kBasebackup, step.target, step.source};
    absl::Status c = postgres_.Run(dc, clone, outcome);
    if (c.ok()) outcome->detail = absl::StrCat("pg_rewind failed; re-cloned: ", outcome->detail);
    return c;
  }
  return s;
}

}  // namespace sy::actuate
