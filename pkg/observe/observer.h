// Interfaces of the observers: each reads one part of the world named by a spec.
// Real implementations: pqxx_postgres_observer.h, nginx_observer.h, http_upstream_prober.h.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "pkg/api/types.h"
#include "pkg/model/world.h"

namespace sy::observe {

// Reads the role, WAL positions and on-disk state of one PostgreSQL server.
// Thread-compatible (one caller at a time). An unreachable server is not an error: it is
// data (reachable=false, error set). Returns kInvalidArgument / kFailedPrecondition only for
// misconfiguration (e.g. pg_controldata missing or unreadable data directory).
class PostgresObserver {
 public:
  virtual ~PostgresObserver() = default;
  virtual absl::StatusOr<model::ServerState> Observe(const api::DeploymentColorSpec& spec,
                                                     api::Color color) = 0;
};

// Reads nginx: the owned upstream file's color, whether the master runs, and the color the
// probe sees on a fresh connection. Thread-compatible. Failures are data, as above.
class NginxObserver {
 public:
  virtual ~NginxObserver() = default;
  virtual absl::StatusOr<model::NginxState> Observe(const api::DeploymentColorSpec& spec) = 0;
};

// Sends GET / to one app server directly. Thread-safe.
class UpstreamProber {
 public:
  virtual ~UpstreamProber() = default;
  virtual model::UpstreamState Probe(const std::string& address,
                                     std::chrono::milliseconds timeout) = 0;
};

// Observes everything a resource names, composing the three observers above. Observe()
// first refuses a database host that is not this machine (CheckLocalHost: kInvalidArgument
// naming the field), then returns the first error of the observers.
class WorldObserver {
 public:
  // All three must outlive this object.
  WorldObserver(PostgresObserver& postgres, NginxObserver& nginx, UpstreamProber& upstreams)
      : postgres_(postgres), nginx_(nginx), upstreams_(upstreams) {}
  absl::StatusOr<model::World> Observe(const api::DeploymentColorSpec& spec);

 private:
  PostgresObserver& postgres_;
  NginxObserver& nginx_;
  UpstreamProber& upstreams_;
};

}  // namespace sy::observe
