// Pure predicates over observed servers: roles, replication, divergence. The vocabulary the
// planner decides with.
#pragma once

#include <optional>
#include <string>

#include "pkg/api/types.h"
#include "pkg/observe/world.h"

namespace sy::plan {

enum class Role {
  kPrimary,  // running, writable
  kStandby,  // running, in recovery
  kStopped,  // no live postmaster, data directory holds a cluster
  kMissing,  // no cluster in the data directory
  kUnknown,  // a postmaster lives but does not accept connections (starting, stopping, down)
};
Role RoleOf(const observe::ServerState& s);
std::string_view RoleName(Role r);

// pg_controldata states.
inline constexpr std::string_view kShutDown = "shut down";
inline constexpr std::string_view kShutDownInRecovery = "shut down in recovery";

// A stopped server would come up as a standby (standby.signal present).
bool ConfiguredAsStandby(const observe::ServerState& s);
// ... and follows `primary` with its own slot.
bool ConfiguredToFollow(const observe::ServerState& s, const api::DeploymentColorSpec& spec,
                        api::Color primary);

// `standby` is running and streams from running primary `primary` (seen on either side).
bool StreamsFrom(const observe::ServerState& standby, const observe::ServerState& primary,
                 const api::DeploymentColorSpec& spec);

// Bytes `standby` has still to replay of what `primary` wrote.
uint64_t LagBytes(const observe::ServerState& standby, const observe::ServerState& primary);

// Timeline of a server: the running one's, else its last checkpoint's.
uint32_t TimelineOf(const observe::ServerState& s);

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
// history (FIELD-NOTES #6): after a clean switch the old primary's WAL ends at its shutdown
// checkpoint, exactly where the new timeline forks.
Lineage LineageOf(const observe::ServerState& s, const observe::ServerState& primary);
std::string_view LineageName(Lineage l);

// The slot `standby` uses exists on running primary `primary`.
bool HasSlotFor(const observe::ServerState& primary, api::Color standby);

}  // namespace sy::plan
