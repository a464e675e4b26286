#include <future>

#include "absl/strings/str_cat.h"
#include "pkg/observe/local_host.h"
#include "pkg/observe/observer.h"
#include "pkg/util/status_macros.h"

namespace sy::observe {

namespace {

bool NamesAgents(const api::DeploymentColorSpec& spec) {
  return !spec.blue.database.agent.empty() || !spec.green.database.agent.empty() ||
         !spec.nginx.agent.empty();
}

}  // namespace

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
  api::DeploymentColor dc;
  dc.spec = spec;
  return Observe(dc);
}

absl::StatusOr<model::World> WorldObserver::Observe(const api::DeploymentColor& dc) {
  const api::DeploymentColorSpec& spec = dc.spec;
  SY_RETURN_IF_ERROR(CheckReach(spec));
  model::World w;
  SY_RETURN_IF_ERROR(ObserveMachines(dc, &w));
  const auto timeout = std::chrono::milliseconds(spec.nginx.probe.timeout_seconds * 1000);
  for (api::Color c : api::kColors) {
    for (const auto& addr : spec.color(c).upstreams) {
      w.upstreams[c].push_back(upstreams_.Probe(addr, timeout));
    }
  }
  return w;
}

absl::Status WorldObserver::ObserveMachines(const api::DeploymentColor& dc, model::World* w) {
  auto blue = [&] { return postgres_.ObserveResource(dc, api::Color::kBlue); };
  auto green = [&] { return postgres_.ObserveResource(dc, api::Color::kGreen); };
  if (!NamesAgents(dc.spec)) {
    SY_ASSIGN_OR_RETURN(w->blue, blue());
    SY_ASSIGN_OR_RETURN(w->green, green());
    SY_ASSIGN_OR_RETURN(w->nginx, nginx_.ObserveResource(dc));
    return absl::OkStatus();
  }
  // Each machine is bounded by its agent's timeouts; asked one after the other, an
  // unreachable one would delay the others' facts, and they would be further apart in time.
  std::future<absl::StatusOr<model::ServerState>> b = std::async(std::launch::async, blue);
  std::future<absl::StatusOr<model::ServerState>> g = std::async(std::launch::async, green);
  absl::StatusOr<model::NginxState> n = nginx_.ObserveResource(dc);
  absl::StatusOr<model::ServerState> bs = b.get();
  absl::StatusOr<model::ServerState> gs = g.get();
  SY_ASSIGN_OR_RETURN(w->blue, std::move(bs));
  SY_ASSIGN_OR_RETURN(w->green, std::move(gs));
  SY_ASSIGN_OR_RETURN(w->nginx, std::move(n));
  return absl::OkStatus();
}

}  // namespace sy::observe
