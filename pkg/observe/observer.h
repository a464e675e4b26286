// The world observer: composes the observers of pkg/model/observers.h into one snapshot.
// Real observers: pqxx_postgres_observer.h, nginx_observer.h, http_upstream_prober.h.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "pkg/api/types.h"
#include "pkg/model/observers.h"
#include "pkg/model/world.h"

namespace sy::observe {

// Observes everything a resource names, composing the three observers above. Observe()
// first refuses what the observers cannot reach (kInvalidArgument naming the field): a
// database without an agent whose host is not this machine (CheckLocalHost), and, unless the
// observers reach agents, a spec naming one. Then it returns the first error of the observers.
class WorldObserver {
 public:
  // All three must outlive this object. `through_agents`: the observers reach a database or
  // nginx whose spec names an agent through that agent; false (the local observers), they
  // read this machine only.
  WorldObserver(model::PostgresObserver& postgres, model::NginxObserver& nginx,
                model::UpstreamProber& upstreams, bool through_agents = false)
      : postgres_(postgres),
        nginx_(nginx),
        upstreams_(upstreams),
        through_agents_(through_agents) {}
  absl::StatusOr<model::World> Observe(const api::DeploymentColorSpec& spec);
  // The same for resource `dc`, whose identity observers that read through agents send.
  // Databases and nginx on other machines (named agents) are observed at once: a pass costs
  // the slowest machine, not the sum of them. On this machine alone, one after the other.
  // Thread-safe when the observers are.
  absl::StatusOr<model::World> Observe(const api::DeploymentColor& dc);

 private:
  // Blue's and green's databases and nginx; the first error, in that order.
  absl::Status ObserveMachines(const api::DeploymentColor& dc, model::World* w);
  // OK when every database and nginx the spec names can be observed by these observers.
  absl::Status CheckReach(const api::DeploymentColorSpec& spec) const;

  model::PostgresObserver& postgres_;
  model::NginxObserver& nginx_;
  model::UpstreamProber& upstreams_;
  const bool through_agents_;
};

}  // namespace sy::observe
