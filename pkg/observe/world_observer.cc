#include "absl/strings/str_cat.h"
#include "pkg/observe/local_host.h"
#include "pkg/observe/observer.h"
#include "pkg/util/status_macros.h"

namespace sy::observe {

absl::Status WorldObserver::CheckReach(const api::DeploymentColorSpec& spec) const {
  constexpr char kNoAgents[] =
      ": an agent is named, but these observers read this machine only (no agent transport is "
      "wired): what they would read here is not that machine's";
  for (api::Color c : api::kColors) {
    const api::DatabaseRef& db = spec.color(c).database;
    const std::string field = absl::StrCat("spec.colors.", std::string(api::ColorName(c)));
    // A database with an agent is observed and acted on through it, on its own machine: its
    // host is how other machines reach it, not this machine's.
    if (!db.agent.empty()) {
      if (!through_agents_) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, ".database.agent ", db.agent, kNoAgents));
      }
      continue;
    }
    // Safety rule: without an agent every step acts on data directories here. A server
    // elsewhere would look "stopped" to them (a fence would report it gone while it runs):
    // refuse it instead.
    if (absl::Status s = CheckLocalHost(db.host); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat(field, ".database.host ", s.message()));
    }
  }
  if (!spec.nginx.agent.empty() && !through_agents_) {
    return absl::InvalidArgumentError(
        absl::StrCat("spec.nginx.agent ", spec.nginx.agent, kNoAgents));
  }
  return absl::OkStatus();
}

absl::StatusOr<model::World> WorldObserver::Observe(const api::DeploymentColorSpec& spec) {
  SY_RETURN_IF_ERROR(CheckReach(spec));
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
