#include "pkg/observe/world.h"

#include <algorithm>

#include "pkg/observe/observer.h"
#include "pkg/util/status_macros.h"

namespace sy::observe {

bool World::UpstreamsHealthy(api::Color c) const {
  auto it = upstreams.find(c);
  if (it == upstreams.end() || it->second.empty()) return false;
  return std::any_of(it->second.begin(), it->second.end(),
                     [](const UpstreamState& u) { return u.healthy; });
}

absl::StatusOr<World> WorldObserver::Observe(const api::DeploymentColorSpec& spec) {
  World w;
  SY_ASSIGN_OR_RETURN(w.blue, postgres_.Observe(spec, api::Color::kBlue));
  SY_ASSIGN_OR_RETURN(w.green, postgres_.Observe(spec, api::Color::kGreen));
  SY_ASSIGN_OR_RETURN(w.nginx, nginx_.Observe(spec));
  const auto timeout = std::chrono::milliseconds(spec.nginx.probe.timeout_seconds * 1000);
  for (api::Color c : api::kColors) {
    for (const auto& addr : spec.color(c).upstreams) {
      w.upstreams[c].push_back(upstreams_.Probe(addr, timeout));
    }
  }
  return w;
}

}  // namespace sy::observe
