// The pure planner: from a resource (spec, annotations, status) and one observed snapshot of
// the world, the next step to take and why (the protocol and its rules: pkg/plan/README.md).
// No I/O, no clock: `now` is an argument.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "pkg/api/types.h"
#include "pkg/model/step.h"
#include "pkg/model/world.h"

namespace sy::plan {

// How soon to look again when no step is planned.
enum class Wait {
  kResync,  // nothing is expected to change by itself: the normal resync period
  kPoll,    // an event is imminent (a standby replaying, a server starting): poll (~10 ms)
  kRetry,   // blocked on a condition that may clear (lag, unreachable server): back off
};

struct Plan {
  std::optional<model::Step> step;  // nullopt: nothing to do now
  api::Phase phase = api::Phase::kConverged;
  std::string reason;   // CamelCase, stable: metrics and alerts key on it
  std::string message;  // one sentence for people: what and why, and what to do
  Wait wait = Wait::kResync;
  // Set when this plan gives up a switch after the fence (the old primary is being brought
  // back): StatusFor records it as status.abandonedSwitch (abandonedAt filled in there).
  std::optional<api::AbandonedSwitch> abandon;
  bool done() const { return !step.has_value(); }
};

// Returns the first step whose precondition holds, or none with the reason nothing can or
// need be done. Rules (each stated where it is enforced, in topology.h and planner.cc, and
// tested on the fakes and on the real stack):
//  - never two primaries: a standby is promoted only over a stopped old primary that the
//    fence made durably unable to start as a primary (PromotionThreshold); nothing starts as
//    a primary while the other server runs as one, may still promote, or cannot be seen
//    (WhyNotStartAsPrimary); a fence is lifted only while the other server is stopped and
//    never left recovery (WhyNotLiftFence); a pending promotion that must not complete is
//    cancelled by stopping its server;
//  - no acknowledged write lost: the standby is promoted only once it has replayed all the
//    old primary wrote; a fenced primary that crashed mid-fence becomes the primary again;
//    the newest data (timelines read from pg_wal too, not only pg_control) is started;
//  - nothing destroyed that is not redundant or given up by the operator (WhyNotReplace); a
//    server whose data directory cannot be read is unknown, never "missing";
//  - a host whose agent does not answer, or on which an operation is in doubt, is unknown:
//    never missing, stopped, a primary or a standby; no step acts on it or rests on what it
//    is (no promotion, start as a primary, lifted fence or copy beside it; no traffic switch
//    or fence while nginx's is unknown) until it answers (pkg/plan/README.md §20);
//  - health gates (upstreams answering) come before the fence, never after it;
//  - commits complete: a switch after which the new primary's commits would wait for ever for
//    a synchronous standby is refused (unless Switchyard manages synchronous_standby_names),
//    and a primary whose commits wait is never Converged (pkg/plan/README.md §17).
Plan Next(const api::DeploymentColor& dc, const model::World& world,
          std::chrono::system_clock::time_point now);

}  // namespace sy::plan
