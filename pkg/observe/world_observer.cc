#include "absl/strings/str_cat.h"
#include "pkg/observe/local_host.h"
#include "pkg/observe/observer.h"
#include "pkg/util/status_macros.h"

namespace sy::observe {

absl::StatusOr<model::World> WorldObserver::Observe(const api::DeploymentColorSpec& spec) {
  // Safety rule: every step acts on data directories here. A server elsewhere would look
  // "stopped" to them (a fence would report it gone while it runs): refuse it instead.
  for (api::Color c : api::kColors) {
    if (absl::Status s = CheckLocalHost(spec.color(c).database.host); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat("spec.colors.", std::string(api::ColorName(c)),
                                                 ".database.host ", s.message()));
    }
  }
  model::World w;
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
