#include "pkg/agent/local_executor.h"

#include "pkg/agent/peer_view.h"
#include "pkg/agent/protocol.h"

namespace sy::agent {

std::chrono::milliseconds StepBudget(model::StepKind kind, const actuate::PostgresTimeouts& pg,
                                     const actuate::NginxActuatorOptions& nginx) {
  switch (kind) {
    case model::StepKind::kSwitchTraffic:
      return 2 * nginx.command_timeout + nginx.reload_timeout;  // nginx -t, reload, the wait
    case model::StepKind::kPromote:
      return pg.promote + pg.stop;  // the promotion, then its checkpoint
    case model::StepKind::kStart:
      return pg.start;
    case model::StepKind::kRewind:
    case model::StepKind::kBasebackup:
      return pg.copy;
    default:
      return pg.stop;  // a fence's checkpoint and shutdown; a stop; statements
  }
}

LocalExecutor::LocalExecutor(actuate::PostgresTimeouts pg_timeouts,
                             actuate::NginxActuatorOptions nginx_options)
    : pg_timeouts_(pg_timeouts), nginx_options_(nginx_options) {}

// The observers are made per call: they keep no state, and one per call keeps calls on
// different objects apart (they are thread-compatible, the client and hosts thread-safe).
absl::StatusOr<model::ServerState> LocalExecutor::ObserveDatabase(const api::DeploymentColor& dc,
                                                                  api::Color color) {
  observe::PqxxPostgresObserver observer(pg_, postgres_host_);
  return observer.Observe(dc.spec, color);
}

absl::StatusOr<model::NginxState> LocalExecutor::ObserveNginx(const api::DeploymentColor& dc) {
  observe::HttpNginxObserver observer(nginx_host_);
  return observer.Observe(dc.spec);
}

absl::Status LocalExecutor::Run(const api::DeploymentColor& dc, const model::Step& step,
                                const std::optional<model::ServerState>& peer,
                                actuate::CommitGate& gate, actuate::StepOutcome* outcome) {
  if (step.kind == model::StepKind::kSwitchTraffic) {
    observe::HttpNginxObserver observer(nginx_host_);
    actuate::NginxActuator nginx(nginx_host_, clock_, observer, nginx_options_, &gate);
    return nginx.SwitchTraffic(dc.spec, dc.Key(), step.target, outcome);
  }
  const api::Color local = MachineOf(step).color;
  const api::Color other = api::Other(local);
  if (NeedsPeer(step.kind) && !peer) return NeedsPeerObservation(other);
  const api::DeploymentColor seen = WithPeerDirectory(dc, local);
  observe::PqxxPostgresObserver local_observer(pg_, postgres_host_);
  PeerObserver observer(local_observer, local, peer);
  PeerHost host(postgres_host_, other, peer);
  actuate::PostgresActuator postgres(pg_, host, observer, runner_, clock_, pg_timeouts_, &gate);
  return postgres.Run(seen, step, outcome);
}

}  // namespace sy::agent
