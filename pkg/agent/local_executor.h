// The real Executor of switchyard-agent: the same observers and actuators the single-host
// controller builds (pkg/app/wiring.h) over this machine's PostgreSQL client, data
// directories, processes and nginx; an actuator is made per operation, with that operation's
// commit gate, and sees the other database through the request's peer (peer_view.h).
#pragma once

#include <chrono>
#include <optional>

#include "pkg/actuate/nginx_actuator.h"
#include "pkg/actuate/postgres_actuator.h"
#include "pkg/agent/executor.h"
#include "pkg/host/local_nginx_host.h"
#include "pkg/host/local_postgres_host.h"
#include "pkg/host/pqxx_pg_client.h"
#include "pkg/host/process.h"
#include "pkg/observe/nginx_observer.h"
#include "pkg/observe/pqxx_postgres_observer.h"
#include "pkg/util/clock.h"
#include "pkg/util/command_runner.h"

namespace sy::agent {

// How long a step of `kind` may take before its effect shows, as the actuators' own timeouts
// say: how long an operation a restart interrupted stays in doubt.
std::chrono::milliseconds StepBudget(model::StepKind kind, const actuate::PostgresTimeouts& pg,
                                     const actuate::NginxActuatorOptions& nginx);

// Thread-safe for calls on different managed objects. Run() of a step that re-checks the
// other database (NeedsPeer) without `peer` is kFailedPrecondition before anything is done.
class LocalExecutor final : public Executor {
 public:
  explicit LocalExecutor(actuate::PostgresTimeouts pg_timeouts = {},
                         actuate::NginxActuatorOptions nginx_options = {});
  LocalExecutor(const LocalExecutor&) = delete;
  LocalExecutor& operator=(const LocalExecutor&) = delete;

  absl::StatusOr<model::ServerState> ObserveDatabase(const api::DeploymentColor& dc,
                                                     api::Color color) override;
  absl::StatusOr<model::NginxState> ObserveNginx(const api::DeploymentColor& dc) override;
  absl::Status Run(const api::DeploymentColor& dc, const model::Step& step,
                   const std::optional<model::ServerState>& peer, actuate::CommitGate& gate,
                   actuate::StepOutcome* outcome) override;

 private:
  const actuate::PostgresTimeouts pg_timeouts_;
  const actuate::NginxActuatorOptions nginx_options_;
  const util::Clock& clock_ = util::RealClock::Get();
  util::ExecCommandRunner runner_;
  host::ProcProcessTable processes_;
  host::PqxxPgClient pg_;
  host::LocalPostgresHost postgres_host_{runner_, clock_};
  host::LocalNginxHost nginx_host_{runner_, processes_};
};

}  // namespace sy::agent
