// Internal to pkg/plan: the holds for what the planner cannot see. A server that runs but
// takes no connections, a data directory that cannot be read (pkg/plan/README.md §11), and a
// host whose agent does not answer or on which an operation is in doubt (§20). Nothing is
// decided about what cannot be seen.
#pragma once

#include <optional>
#include <string>

#include "pkg/api/types.h"
#include "pkg/model/world.h"
#include "pkg/plan/planner.h"

namespace sy::plan {

// "green (10.0.0.2:5432)": a server as messages name it.
std::string Where(const api::DeploymentColorSpec& spec, api::Color c);

// The hold while `s` cannot be looked at: its host is unknown (AgentUnreachable), its
// postmaster runs but takes no connections (ServerUnreachable, in `phase`; HotStandbyOff), or
// its data directory cannot be read (ServerUnreadable). nullopt when it can be.
std::optional<Plan> Unseen(const api::DeploymentColorSpec& spec, const model::ServerState& s,
                           api::Phase phase);

// The hold while nginx's host is unknown, traffic being meant for `to`; nullopt when it answered.
std::optional<Plan> NginxUnseen(const model::NginxState& nginx, api::Color to);

// Rule (unknown hosts, pkg/plan/README.md §20): `planned` as it is, unless its step acts on a
// host that is unknown in `w` or rests on what such a host is (model::WhyNotWithUnknownHosts);
// then the AgentUnreachable hold instead. Applied to every plan Next() makes, so that no path
// through the planner can take such a step.
Plan CheckHostsKnown(const model::World& w, Plan planned);

}  // namespace sy::plan
