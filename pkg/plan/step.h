// The steps the planner can ask for. Each is idempotent and its effect is observable, so
// the next pass sees it done (design note §3).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "pkg/api/types.h"

namespace sy::plan {

enum class StepKind {
  // Render the upstream file for `target`, `nginx -t`, `nginx -s reload`; wait until the
  // probe answers `target` on new connections.
  kSwitchTraffic,
  // CHECKPOINT on `target` (a running primary), then fast shutdown; wait until its
  // postmaster.pid is gone.
  kFence,
  // pg_promote() on `target` (a standby), wait until it is writable, then CHECKPOINT.
  kPromote,
  // Start `target` as its data directory is configured (primary or standby); wait until it
  // accepts connections.
  kStart,
  // Fast shutdown of `target` (a standby that must be reconfigured, or a split-brain
  // impostor); wait until its postmaster.pid is gone.
  kStop,
  // Create the physical replication slot of `target` on `source` (a running primary).
  kCreateSlot,
  // No-copy rejoin of stopped `target` as a standby of `source`: rewrite primary_conninfo and
  // primary_slot_name, create standby.signal, drop stale local slots.
  kConfigureStandby,
  // pg_rewind stopped `target` from running `source`, then configure it as its standby.
  kRewind,
  // pg_basebackup `source` into a fresh directory, swap it in for `target`'s data directory
  // only when complete, configure it as a standby of `source`.
  kBasebackup,
};

std::string_view StepKindName(StepKind k);  // "switch-traffic", "fence", ...

struct Step {
  StepKind kind = StepKind::kSwitchTraffic;
  api::Color target = api::Color::kBlue;
  std::optional<api::Color> source;  // the primary to follow / clone from, where it applies
  bool operator==(const Step&) const = default;
};

// "promote green", "basebackup blue from green".
std::string Describe(const Step& s);

// Replication naming shared by the planner, the actuators and the local stack.
std::string SlotName(api::Color standby);  // "switchyard_blue"

}  // namespace sy::plan
