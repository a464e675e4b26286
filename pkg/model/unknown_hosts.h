// Rule (unknown hosts): a host whose agent cannot be reached, or on which an operation is in
// doubt, may be anything (pkg/plan/README.md §20). Nothing acts on it, and nothing whose safety
// rests on what it is happens, until it answers. Here: which hosts each step rests on. The
// planner plans by it; an actuator may check it again on a fresh observation.
#pragma once

#include <string>
#include <vector>

#include "pkg/api/types.h"
#include "pkg/model/step.h"
#include "pkg/model/world.h"

namespace sy::model {

// The hosts a step needs known.
struct StepHosts {
  std::vector<api::Color> databases;  // each database host, at most once
  bool nginx = false;
};

// The hosts `step`, planned on `w`, needs known:
//  - the database host it acts on: the target, or for create-slot and drop-slot the source,
//    which holds the slot;
//  - the source a copy or a configuration of a standby follows (it must be the primary seen);
//  - the other database host when the step rests on what the other server is: promote (its
//    proof is the old primary's fence), start as a primary and lift the fence of a stopped
//    server (the other may be, or become, a primary meanwhile);
//  - nginx for switch-traffic and fence: the fence never precedes an nginx seen serving the
//    new color.
StepHosts HostsOf(const Step& step, const World& w);

// "" when every host `step` needs answered in `w`; else why not, for a person, naming the
// first unknown host and why it is unknown.
std::string WhyNotWithUnknownHosts(const Step& step, const World& w);

}  // namespace sy::model
