// The steps the planner can ask for. Each is idempotent and its effect is observable, so
// the next pass sees it done (pkg/plan/README.md §2, §3 and §4).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pkg/api/types.h"

namespace sy::model {

enum class StepKind {
  // Render the upstream file for `target`, `nginx -t`, `nginx -s reload`; wait until the
  // probe answers `target` on new connections.
  kSwitchTraffic,
  // Make `target` (the old primary) durably unable to start as a primary: write the fence
  // marker and standby.signal and clear primary_conninfo in its data directory (read only at
  // start-up, so a running primary is not affected); then, if it runs, CHECKPOINT and fast
  // shutdown, waiting until its postmaster.pid is gone.
  kFence,
  // pg_promote() on `target` (a standby), wait until it is writable, then CHECKPOINT.
  kPromote,
  // CHECKPOINT on `target`, a running primary whose pg_control still shows an older timeline
  // (a promotion whose checkpoint never ran, e.g. the daemon died in between).
  kCheckpoint,
  // Remove the fence from `target`'s data directory (standby.signal, then the marker), so that
  // it starts as a primary again: only when the other server cannot be or become a primary.
  kLiftFence,
  // Start `target` as its data directory is configured (primary or standby); wait until it
  // accepts connections.
  kStart,
  // Fast shutdown of `target` (a standby that must be reconfigured or may not promote now,
  // a fenced server someone started again, or a split-brain impostor), its pending promotion
  // request removed first and, if it runs as a primary, its data directory fenced; wait
  // until its postmaster.pid is gone.
  kStop,
  // Create the physical replication slot of `target` on `source`: a running primary, or the
  // running standby that is about to be promoted (its slot then reserves WAL from before the
  // fork, which the old primary needs to follow it).
  kCreateSlot,
  // Drop the (inactive) physical replication slot of `target` on running `source`: a color
  // that has not rejoined within spec.database.slotRetentionSeconds, or a slot left on a
  // standby by a switch that did not happen. Only Switchyard's own slots (kSlotPrefix).
  kDropSlot,
  // No-copy rejoin of stopped `target` as a standby of `source`: rewrite primary_conninfo and
  // primary_slot_name, create standby.signal, drop stale local slots.
  kConfigureStandby,
  // pg_rewind stopped `target` from running `source`, then configure it as its standby.
  kRewind,
  // pg_basebackup `source` into a fresh directory, swap it in for `target`'s data directory
  // only when complete, configure it as a standby of `source`.
  kBasebackup,
  // ALTER SYSTEM SET synchronous_standby_names on running `target` (a primary, or the standby
  // about to be promoted) to name `source` (SyncStandbyNamesValue), or to '' without a
  // source, and reload; wait until the server applies it.
  kSyncStandby,
  // Write into stopped, fenced `target`'s data directory that `source` is being promoted over
  // it: the record a flip back reads before it may lift the fence, for the promotion may still
  // be under way. The promote step writes it itself when both servers are on one machine;
  // across machines (agents) the fenced server's directory is on another one, so the
  // controller sends this to its agent right before the promotion. The planner never plans it.
  kRecordPromotion,
};

std::string_view StepKindName(StepKind k);  // "switch-traffic", "fence", ...
// The kind StepKindName names; nullopt for any other text.
std::optional<StepKind> ParseStepKind(std::string_view name);

struct Step {
  StepKind kind = StepKind::kSwitchTraffic;
  api::Color target = api::Color::kBlue;
  std::optional<api::Color> source;  // the primary to follow / clone from, where it applies
  // kPromote: how far the target must have replayed (PromotionThreshold of the fenced old
  // primary); the actuator checks it again right before pg_promote(). 0 otherwise.
  uint64_t replayed_at_least = 0;
  bool operator==(const Step&) const = default;
};

// "promote green", "basebackup blue from green".
std::string Describe(const Step& s);

// Replication naming shared by the planner, the actuators and the local stack.
std::string SlotName(api::Color standby);  // "switchyard_blue"
// Every slot Switchyard creates is named with this prefix; it creates, drops and deletes no
// other (a logical slot, a backup tool's physical slot are someone else's).
inline constexpr std::string_view kSlotPrefix = "switchyard_";
bool IsSwitchyardSlot(std::string_view slot_name);

}  // namespace sy::model
