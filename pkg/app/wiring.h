// Builds the real observers and actuators once, in dependency order. Used by the daemon and
// by `yardctl plan`. Not copyable; every member lives as long as the Wiring.
//
// The local observers and actuators are wrapped in the agent adapters (pkg/agent): a resource
// whose spec names no agent is observed and changed on this machine as before; one that names
// agents is observed and changed through them, and refused (kInvalidArgument,
// agent::kNoAgentTransport) when the daemon was given no way to reach agents.
#pragma once

#include <string>

#include "pkg/actuate/dispatch_actuator.h"
#include "pkg/actuate/nginx_actuator.h"
#include "pkg/actuate/postgres_actuator.h"
#include "pkg/agent/agent_actuator.h"
#include "pkg/agent/agent_client.h"
#include "pkg/agent/agent_observer.h"
#include "pkg/host/local_nginx_host.h"
#include "pkg/host/local_postgres_host.h"
#include "pkg/host/pqxx_pg_client.h"
#include "pkg/host/process.h"
#include "pkg/observe/http_upstream_prober.h"
#include "pkg/observe/nginx_observer.h"
#include "pkg/observe/observer.h"
#include "pkg/observe/pqxx_postgres_observer.h"
#include "pkg/util/clock.h"
#include "pkg/util/command_runner.h"

namespace sy::app {

// How the daemon reaches agents, and as whom.
struct AgentWiring {
  // Neither TLS files nor insecure_http: specs naming agents are refused.
  agent::AgentTransport transport;
  agent::Epoch epoch;  // this start's (TakeNextEpoch)
  std::string leader;  // names this daemon in the agents' audit logs
};

class Wiring {
 public:
  explicit Wiring(actuate::PostgresTimeouts timeouts = {}, AgentWiring agents = {})
      : timeouts_(timeouts),
        agents_(std::move(agents.transport), std::move(agents.epoch), std::move(agents.leader),
                clock_) {}
  Wiring(const Wiring&) = delete;
  Wiring& operator=(const Wiring&) = delete;

  observe::WorldObserver& world_observer() { return world_; }
  actuate::Actuator& actuator() { return actuator_; }
  agent::AgentClients& Agents() { return agents_; }

 private:
  const actuate::PostgresTimeouts timeouts_;
  const util::Clock& clock_ = util::RealClock::Get();
  util::ExecCommandRunner runner_;
  host::ProcProcessTable processes_;
  host::PqxxPgClient pg_;
  host::LocalPostgresHost postgres_host_{runner_, clock_};
  host::LocalNginxHost nginx_host_{runner_, processes_};
  observe::PqxxPostgresObserver postgres_observer_{pg_, postgres_host_};
  observe::HttpNginxObserver nginx_observer_{nginx_host_};
  observe::HttpUpstreamProber upstream_prober_;
  agent::AgentClients agents_;
  agent::AgentObserver agent_observer_{&agents_, postgres_observer_, nginx_observer_};
  observe::WorldObserver world_{agent_observer_, agent_observer_, upstream_prober_,
                                /*through_agents=*/true};
  actuate::NginxActuator nginx_actuator_{nginx_host_, clock_, nginx_observer_};
  actuate::PostgresActuator postgres_actuator_{pg_,     postgres_host_, postgres_observer_,
                                               runner_, clock_,         timeouts_};
  actuate::DispatchActuator local_actuator_{nginx_actuator_, postgres_actuator_};
  agent::AgentActuator actuator_{&agents_, agent_observer_, local_actuator_, clock_,
                                 agent::AgentActuatorOptions{.timeouts = timeouts_}};
};

}  // namespace sy::app
