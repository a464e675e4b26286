// Builds the real observers and actuators once, in dependency order. Used by the daemon and
// by `yardctl plan`. Not copyable; every member lives as long as the Wiring.
#pragma once

#include "pkg/actuate/dispatch_actuator.h"
#include "pkg/actuate/nginx_actuator.h"
#include "pkg/actuate/postgres_actuator.h"
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

class Wiring {
 public:
  explicit Wiring(actuate::PostgresTimeouts timeouts = {}) : timeouts_(timeouts) {}
  Wiring(const Wiring&) = delete;
  Wiring& operator=(const Wiring&) = delete;

  observe::WorldObserver& world_observer() { return world_; }
  actuate::Actuator& actuator() { return actuator_; }

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
  observe::WorldObserver world_{postgres_observer_, nginx_observer_, upstream_prober_};
  actuate::NginxActuator nginx_actuator_{nginx_host_, clock_, nginx_observer_};
  actuate::PostgresActuator postgres_actuator_{pg_,     postgres_host_, postgres_observer_,
                                               runner_, clock_,         timeouts_};
  actuate::DispatchActuator actuator_{nginx_actuator_, postgres_actuator_};
};

}  // namespace sy::app
