// The real Actuator: routes each step to the nginx or PostgreSQL actuator. It decides
// nothing: a pg_rewind that fails answers Aborted, and the planner re-clones instead on the
// next pass (status.rewindFailure).
#pragma once

#include "pkg/actuate/actuator.h"
#include "pkg/actuate/nginx_actuator.h"
#include "pkg/actuate/postgres_actuator.h"

namespace sy::actuate {

// Thread-compatible.
class DispatchActuator final : public Actuator {
 public:
  // Both must outlive this object.
  DispatchActuator(NginxActuator& nginx, PostgresActuator& postgres)
      : nginx_(nginx), postgres_(postgres) {}

  absl::Status Run(const api::DeploymentColor& dc, const model::Step& step,
                   StepOutcome* outcome) override;

 private:
  NginxActuator& nginx_;
  PostgresActuator& postgres_;
};

}  // namespace sy::actuate
