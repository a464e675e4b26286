// Pure predicates over observed servers: roles, replication, divergence. The vocabulary the
// planner decides with.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "pkg/api/types.h"
#include "pkg/observe/world.h"

namespace sy::plan {

enum class Role {
  kPrimary,     // running, writable
  kStandby,     // running, in recovery
  kStopped,     // no live postmaster, data directory holds a cluster whose pg_control was read
  kMissing,     // the data directory provably holds nothing: absent or empty
  kUnknown,     // a postmaster lives but does not accept connections (starting, stopping, down)
  kUnreadable,  // no live postmaster, and the directory or its pg_control could not be read
};
Role RoleOf(const observe::ServerState& s);
std::string_view RoleName(Role r);

// pg_controldata states.
inline constexpr std::string_view kShutDown = "shut down";
inline constexpr std::string_view kShutDownInRecovery = "shut down in recovery";

// A stopped server would come up as a standby (standby.signal present). A fenced one does too.
bool ConfiguredAsStandby(const observe::ServerState& s);

// The server's data directory is fenced: the fence step's marker and standby.signal are both
// there (the fence writes standby.signal last and the lift removes it first, so a marker
// alone is an interrupted fence or lift: the directory starts as a primary).
bool Fenced(const observe::ServerState& s);
// ... and follows `primary` with its own slot.
bool ConfiguredToFollow(const observe::ServerState& s, const api::DeploymentColorSpec& spec,
                        api::Color primary);

// `standby` is running and streams from running primary `primary` (seen on either side).
bool StreamsFrom(const observe::ServerState& standby, const observe::ServerState& primary,
                 const api::DeploymentColorSpec& spec);

// Bytes `standby` has still to replay of what `primary` wrote.
uint64_t LagBytes(const observe::ServerState& standby, const observe::ServerState& primary);

// Timeline of a server: the running one's, else the newer of its last checkpoint's and the
// newest it holds WAL segments of (a server promoted and stopped or crashed before its first
// checkpoint shows the old timeline in pg_control, but its WAL is on the new one).
uint32_t TimelineOf(const observe::ServerState& s);

// The newest timeline a server may have written on: TimelineOf, or a newer one its pg_wal
// holds a history file of (a promotion writes that file before its first record on the new
// timeline). Conservative: a history file fetched from a primary counts too.
uint32_t NewestTimeline(const observe::ServerState& s);

// Rule (promotion proof): a standby may be promoted over stopped old primary `old` only once
// it has replayed at least the position returned here. nullopt when `old` proves nothing:
// it runs, is not fenced (anyone could start it as a primary again), its data directory is
// unreadable, or it did not shut down cleanly. A clean shutdown writes the shutdown
// checkpoint as the last record ("shut down"): past its start means all of it. A fenced
// server restarted by someone else came up as a standby with no upstream and wrote nothing;
// stopped again ("shut down in recovery"), it must also be replayed up to its minimum
// recovery point -- which PostgreSQL sets to the end of its WAL once crash recovery is over,
// and leaves at 0 when the server was stopped before: then nothing is proven (a fenced
// primary that crashed may hold commits past its last checkpoint).
std::optional<observe::Lsn> PromotionThreshold(const observe::ServerState& old);

// Rule (lifting a fence): fenced, stopped `s` may be made primary-configured again only
// while `other` cannot be, or become, a primary holding writes `s` lacks: `other` holds no
// cluster; or it is stopped, and its pg_control and pg_wal show it never left recovery past
// `s`'s timeline (a promotion writes the new timeline's history file before any record on
// it; a stopped postmaster acts on no promotion request, and removes it when it starts); or
// it runs as a standby that was never asked to promote over this fence (the fence marker
// would say so) and has no promotion request pending. Returns "" when allowed, else why not,
// for a person.
std::string WhyNotLiftFence(const observe::ServerState& s, const observe::ServerState& other);

// Rule (starting a primary): stopped `s`, configured to start as a primary (no standby.signal,
// no fence), may be started while `other` does not run as a primary, has no promotion
// pending, can be read, and holds no newer data: a newer timeline, or more WAL on the same
// one unless it is configured as a standby (then it followed `s`). "" when allowed.
std::string WhyNotStartAsPrimary(const observe::ServerState& s, const observe::ServerState& other);

// A running standby received by streaming, in its current run, all it replayed
// (pg_last_wal_receive_lsn() >= pg_last_wal_replay_lsn(); the former is NULL until a walreceiver
// is started and resets with the postmaster). Switchyard runs two servers, so that WAL came
// from the other one.
bool StreamedAll(const observe::ServerState& s);

enum class Lineage {
  kFollows,   // its WAL is a prefix of the primary's history: it can stream, nothing to copy
  kDiverged,  // it holds WAL the primary does not have: rejoining discards it
  kUnknown,   // cannot tell (crashed without a clean shutdown): only a start as standby is safe
};
// Compares stopped or running `s` with running primary `primary` via the primary's timeline
// history: after a clean switch the old primary's WAL ends at its shutdown
// checkpoint, exactly where the new timeline forks.
Lineage LineageOf(const observe::ServerState& s, const observe::ServerState& primary);
std::string_view LineageName(Lineage l);

// The slot `standby` uses exists on running primary `primary`.
bool HasSlotFor(const observe::ServerState& primary, api::Color standby);

}  // namespace sy::plan
