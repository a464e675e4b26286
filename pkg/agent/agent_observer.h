// Observes a database or nginx through the switchyard-agent on its machine when the spec
// names one (spec.colors.<c>.database.agent, spec.nginx.agent), and on this machine through
// the local observers otherwise, so that a resource without agents is observed as before.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "pkg/agent/agent_client.h"
#include "pkg/api/types.h"
#include "pkg/model/observers.h"
#include "pkg/model/world.h"

namespace sy::agent {

// Safety rule: a machine whose facts cannot be had is *unknown*, never stopped or missing.
// Read as "no cluster" an unreachable machine would be re-cloned over its live database;
// read as "stopped" it would let the other database be started as the primary. So an agent
// that cannot be reached or refuses, or that reports an operation running or in doubt on the
// object (its effect is not settled), yields a state with only `host_unknown` set, naming the
// agent and why; the planner holds every step that depends on that machine.
//
// Errors (the pass stops, nothing acts): STALE_EPOCH and ERA_MISMATCH are kPermissionDenied,
// for a newer controller, or another line of controllers, directs that machine and this one
// must not act on the others either; a spec naming an agent on a daemon that cannot reach
// agents is kInvalidArgument (kNoAgentTransport). Otherwise as the local observers.
//
// Thread-safe when the local observers are (blue, green and nginx are observed at once).
class AgentObserver final : public model::PostgresObserver, public model::NginxObserver {
 public:
  // `clients` (null: the daemon has no way to reach agents) and the local observers must
  // outlive this object.
  AgentObserver(AgentClients* clients, model::PostgresObserver& local_postgres,
                model::NginxObserver& local_nginx)
      : clients_(clients), local_postgres_(local_postgres), local_nginx_(local_nginx) {}

  absl::StatusOr<model::ServerState> ObserveResource(const api::DeploymentColor& dc,
                                                     api::Color color) override;
  absl::StatusOr<model::NginxState> ObserveResource(const api::DeploymentColor& dc) override;
  // Without the resource's identity, which an agent checks against what it manages: fine for
  // the local observers; an agent would refuse it (the machine is then unknown).
  absl::StatusOr<model::ServerState> Observe(const api::DeploymentColorSpec& spec,
                                             api::Color color) override;
  absl::StatusOr<model::NginxState> Observe(const api::DeploymentColorSpec& spec) override;

 private:
  // The agent's reply about `machine`, or why it gave none as `unknown` (empty on success).
  absl::StatusOr<ObserveReply> Ask(const api::DeploymentColor& dc, const std::string& address,
                                   Machine machine, std::string* unknown);

  AgentClients* const clients_;
  model::PostgresObserver& local_postgres_;
  model::NginxObserver& local_nginx_;
};

}  // namespace sy::agent
