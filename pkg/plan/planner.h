// The pure planner: from a resource (spec, annotations, status) and one observed snapshot of
// the world, the next step to take and why (design note §3). No I/O, no clock: `now` is an
// argument.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "pkg/api/types.h"
#include "pkg/observe/world.h"
#include "pkg/plan/step.h"

namespace sy::plan {

// How soon to look again when no step is planned.
enum class Wait {
  kResync,  // nothing is expected to change by itself: the normal resync period
  kPoll,    // an event is imminent (a standby replaying, a server starting): poll (~10 ms)
  kRetry,   // blocked on a condition that may clear (lag, unreachable server): back off
};

struct Plan {
  std::optional<Step> step;  // nullopt: nothing to do now
  api::Phase phase = api::Phase::kConverged;
  std::string reason;   // CamelCase, stable: metrics and alerts key on it
  std::string message;  // one sentence for people: what and why, and what to do
  Wait wait = Wait::kResync;
  bool done() const { return !step.has_value(); }
};

// Returns the first step whose precondition holds, or none with the reason nothing can or
// need be done. Invariants (tested exhaustively): never promotes while the other server
// runs as a primary; never promotes a standby that has not replayed past the stopped old
// primary's shutdown checkpoint; never starts a server that would come up as a primary
// while the other one runs as a primary; never rewinds or replaces a data directory unless
// the other server is a running primary on a newer timeline, and never discards diverged
// writes without the operator's annotation.
Plan Next(const api::DeploymentColor& dc, const observe::World& world,
          std::chrono::system_clock::time_point now);

}  // namespace sy::plan
