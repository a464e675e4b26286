// Interfaces of the observers: each reads one part of the world named by a spec. They live
// in the shared vocabulary because the actuators re-check through them right before an
// irreversible act; the real implementations are in pkg/observe.
#pragma once

#include <chrono>
#include <string>

#include "absl/status/statusor.h"
#include "pkg/api/types.h"
#include "pkg/model/world.h"

namespace sy::model {

// Reads the role, WAL positions and on-disk state of one PostgreSQL server.
// Thread-compatible (one caller at a time). An unreachable server is not an error: it is
// data (reachable=false, error set). Returns kInvalidArgument / kFailedPrecondition only for
// misconfiguration (e.g. pg_controldata missing or unreadable data directory).
class PostgresObserver {
 public:
  virtual ~PostgresObserver() = default;
  virtual absl::StatusOr<ServerState> Observe(const api::DeploymentColorSpec& spec,
                                              api::Color color) = 0;
  // The same for resource `dc`: an observer that reads another machine through its agent
  // names the resource (key, uid, generation) to it, which the spec alone does not. By
  // default the spec is all an observer needs.
  virtual absl::StatusOr<ServerState> ObserveResource(const api::DeploymentColor& dc,
                                                      api::Color color) {
    return Observe(dc.spec, color);
  }
};

// Reads nginx: the owned upstream file's color, whether the master runs, and the color the
// probe sees on a fresh connection. Thread-compatible. Failures are data, as above.
class NginxObserver {
 public:
  virtual ~NginxObserver() = default;
  virtual absl::StatusOr<NginxState> Observe(const api::DeploymentColorSpec& spec) = 0;
  // As PostgresObserver::ObserveResource.
  virtual absl::StatusOr<NginxState> ObserveResource(const api::DeploymentColor& dc) {
    return Observe(dc.spec);
  }
};

// Sends GET / to one app server directly. Thread-safe.
class UpstreamProber {
 public:
  virtual ~UpstreamProber() = default;
  virtual UpstreamState Probe(const std::string& address, std::chrono::milliseconds timeout) = 0;
};

}  // namespace sy::model
