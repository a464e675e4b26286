// Many resources on in-memory fakes: resource i ("default/shop<i>") has its own servers,
// ports, data directories and upstreams, and one FakeCluster behind the observer and actuator
// interfaces routes each call to that resource's cluster. For the soak and concurrency tests.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "pkg/actuate/actuator.h"
#include "pkg/model/observers.h"
#include "tests/fakes/fake_cluster.h"
#include "tests/fakes/plan_driver.h"

namespace sy::fakes {

inline constexpr int kFleetBasePort = 25433;  // resource i: PostgreSQL on it + 2i and + 2i + 1

// Resource i's spec: its own ports, data directories and upstreams, so one Fleet can route.
inline api::DeploymentColorSpec SpecFor(int i, api::Color active) {
  api::DeploymentColorSpec spec = fakes::FakeSpec(active);
  const std::string name = absl::StrCat("shop", i);
  for (api::Color c : api::kColors) {
    const int k = c == api::Color::kBlue ? 0 : 1;
    spec.color(c).upstreams = {absl::StrCat("127.0.0.1:", 28081 + 2 * i + k)};
    spec.color(c).database.port = kFleetBasePort + 2 * i + k;
    spec.color(c).database.data_directory =
        absl::StrCat("/var/lib/switchyard/", name, "/", std::string(api::ColorName(c)));
  }
  spec.nginx.upstream_name = name;
  return spec;
}

inline api::DeploymentColor ResourceFor(int i, api::Color active) {
  api::DeploymentColor dc = FakeResource(active);
  dc.metadata.name = absl::StrCat("shop", i);
  dc.spec = SpecFor(i, active);
  return dc;
}

// One FakeCluster per resource behind the observer and actuator interfaces, routed by the
// spec's blue port (observers, actuator) or the upstream address (prober).
class Fleet final : public model::PostgresObserver,
                    public model::NginxObserver,
                    public model::UpstreamProber,
                    public actuate::Actuator {
 public:
  explicit Fleet(int resources) {
    for (int i = 0; i < resources; ++i) {
      const api::DeploymentColorSpec spec = SpecFor(i, api::Color::kBlue);
      clusters_.push_back(std::make_unique<FakeCluster>(spec));
      for (api::Color c : api::kColors) {
        for (const auto& a : spec.color(c).upstreams) {
          by_address_[a] = clusters_.back().get();
        }
      }
    }
  }
  FakeCluster& cluster(int i) { return *clusters_[i]; }

  absl::StatusOr<model::ServerState> Observe(const api::DeploymentColorSpec& spec,
                                             api::Color color) override {
    return For(spec).Observe(spec, color);
  }
  absl::StatusOr<model::NginxState> Observe(const api::DeploymentColorSpec& spec) override {
    return For(spec).Observe(spec);
  }
  model::UpstreamState Probe(const std::string& address,
                             std::chrono::milliseconds timeout) override {
    return by_address_.at(address)->Probe(address, timeout);
  }
  absl::Status Run(const api::DeploymentColor& dc, const model::Step& step,
                   actuate::StepOutcome* outcome) override {
    return For(dc.spec).Run(dc, step, outcome);
  }

 private:
  FakeCluster& For(const api::DeploymentColorSpec& spec) {
    return *clusters_.at((spec.blue.database.port - kFleetBasePort) / 2);
  }
  std::vector<std::unique_ptr<FakeCluster>> clusters_;
  std::map<std::string, FakeCluster*> by_address_;
};

}  // namespace sy::fakes
