// What the agent does on its machine, behind one interface: observe a database or nginx, and
// run one step with a commit gate. LocalExecutor (local_executor.h) is the real one; the
// service's tests use a fake.
#pragma once

#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "pkg/actuate/actuator.h"
#include "pkg/api/types.h"
#include "pkg/model/step.h"
#include "pkg/model/world.h"

namespace sy::agent {

// Thread-safe for calls on different managed objects (the service never makes two calls on
// one object at once). Codes as model::PostgresObserver's, model::NginxObserver's and
// actuate::Actuator's.
class Executor {
 public:
  virtual ~Executor() = default;
  virtual absl::StatusOr<model::ServerState> ObserveDatabase(const api::DeploymentColor& dc,
                                                             api::Color color) = 0;
  virtual absl::StatusOr<model::NginxState> ObserveNginx(const api::DeploymentColor& dc) = 0;
  // Runs `step` on this machine. `peer` is the other database as the controller observed it
  // right before the request (protocol.h NeedsPeer); `gate` is asked right before each
  // irreversible act, and its refusal is returned as is.
  virtual absl::Status Run(const api::DeploymentColor& dc, const model::Step& step,
                           const std::optional<model::ServerState>& peer, actuate::CommitGate& gate,
                           actuate::StepOutcome* outcome) = 0;
};

}  // namespace sy::agent
