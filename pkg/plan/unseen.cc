#include "pkg/plan/unseen.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "pkg/model/topology.h"
#include "pkg/model/unknown_hosts.h"

namespace sy::plan {
namespace {

using api::Color;
using api::Phase;
using model::Role;
using model::ServerState;

std::string Name(Color c) { return std::string(api::ColorName(c)); }

Plan Hold(Phase phase, std::string reason, std::string message) {
  Plan p;
  p.phase = phase;
  p.wait = Wait::kRetry;
  p.reason = std::move(reason);
  p.message = std::move(message);
  return p;
}

// What PostgreSQL (14 and later) details when it refuses a connection because it runs in
// recovery with hot_standby = off.
constexpr absl::string_view kHotStandbyDisabled = "Hot standby mode is disabled";

constexpr char kAgentUnreachable[] = "AgentUnreachable";

}  // namespace

std::string Where(const api::DeploymentColorSpec& spec, Color c) {
  const auto& db = spec.color(c).database;
  return absl::StrCat(Name(c), " (", db.host, ":", db.port, ")");
}

std::optional<Plan> Unseen(const api::DeploymentColorSpec& spec, const ServerState& s,
                           Phase phase) {
  switch (model::RoleOf(s)) {
    case Role::kUnknown:
      // Rule (unknown hosts): an unreachable machine read as "no cluster" would have a
      // re-clone planned over a live database; read as "stopped", the other server would be
      // started as a primary beside it. Its server may be anything, so nothing that rests on
      // it is done until its host answers (pkg/plan/README.md §20).
      if (!s.HostKnown()) {
        return Hold(Phase::kDegraded, kAgentUnreachable,
                    absl::StrCat(Where(spec, s.color), ": its host cannot be observed (",
                                 s.host_unknown, "); ", Name(s.color),
                                 " may be running, stopped or promoting, so nothing that rests on "
                                 "it (a promotion, a start as a primary, a lifted fence, a copy, "
                                 "a new configuration) is done until it answers"));
      }
      // Rule (prerequisites): a standby started with hot_standby = off refuses every
      // connection, for good; PostgreSQL says so in the refusal (SQLSTATE 57P03, DETAIL "Hot
      // standby mode is disabled."), which tells it from a server still starting up.
      if (absl::StrContains(s.error, kHotStandbyDisabled)) {
        return Hold(Phase::kDegraded, "HotStandbyOff",
                    absl::StrCat(Where(spec, s.color),
                                 " runs as a standby with hot_standby = off: it accepts no "
                                 "connections, and Switchyard must see a standby replay. Set "
                                 "hot_standby = on in its configuration and restart it (",
                                 s.error, ")"));
      }
      return Hold(
          phase, "ServerUnreachable",
          absl::StrCat(Where(spec, s.color), " runs but accepts no connections: ", s.error));
    case Role::kUnreadable:
      return Hold(Phase::kDegraded, "ServerUnreadable",
                  absl::StrCat(Where(spec, s.color), ": its data directory ",
                               spec.color(s.color).database.data_directory,
                               " cannot be read, so nothing is done with it: ", s.directory_error));
    default:
      return std::nullopt;
  }
}

std::optional<Plan> NginxUnseen(const model::NginxState& nginx, Color to) {
  if (nginx.HostKnown()) return std::nullopt;
  // Rule (unknown hosts): what nginx serves is not known, so traffic is neither switched nor
  // taken as switched, and nothing is fenced (the fence never precedes an nginx seen serving
  // the new color).
  return Hold(Phase::kDegraded, kAgentUnreachable,
              absl::StrCat("nginx's host cannot be observed (", nginx.host_unknown,
                           "): traffic is not switched to ", Name(to),
                           " nor taken as switched until it answers"));
}

Plan CheckHostsKnown(const model::World& w, Plan planned) {
  if (!planned.step) return planned;
  const std::string why = model::WhyNotWithUnknownHosts(*planned.step, w);
  if (why.empty()) return planned;
  return Hold(Phase::kDegraded, kAgentUnreachable,
              absl::StrCat(why, ": not done until it answers (wanted: ", planned.message, ")"));
}

}  // namespace sy::plan
