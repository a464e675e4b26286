// Pure predicates over observed servers: roles, replication, divergence. The vocabulary the
// planner decides with.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "pkg/api/types.h"
#include "pkg/model/world.h"

namespace sy::model {

enum class Role {
  kPrimary,     // running, writable
  kStandby,     // running, in recovery
  kStopped,     // no live postmaster, data directory holds a cluster whose pg_control was read
  kMissing,     // the data directory provably holds nothing: absent or empty
  kUnknown,     // a postmaster lives but does not accept connections (starting, stopping, down)
  kUnreadable,  // no live postmaster, and the directory or its pg_control could not be read
};
Role RoleOf(const model::ServerState& s);
std::string_view RoleName(Role r);

// pg_controldata states.
inline constexpr std::string_view kShutDown = "shut down";
inline constexpr std::string_view kShutDownInRecovery = "shut down in recovery";
// What pg_control says of a primary that stopped without a shutdown checkpoint (it crashed,
// was killed, or lost its machine).
inline constexpr std::string_view kInProduction = "in production";

// A stopped server would come up in recovery, not as a primary: standby.signal, or a leftover
// recovery.signal (which counts like it: the server would not start as the primary it was,
// pkg/observe/README.md #31). A fenced one does too.
bool ConfiguredAsStandby(const model::ServerState& s);

// The server's data directory is fenced: the fence step's marker and standby.signal are both
// there (the fence writes standby.signal last and the lift removes it first, so a marker
// alone is an interrupted fence or lift: the directory starts as a primary).
bool Fenced(const model::ServerState& s);
// Rule (server identity): `host`:`port`, as a primary_conninfo or a WAL receiver names a
// server, is color `c`'s database. Across machines both colors usually listen on 5432, so a
// server is named by host and port; hosts are compared as written (ignoring case, never
// resolved), so the spec's host must be how the standby reaches the primary, which is what
// configure-standby writes. On one machine (no agents, or one for both) the port alone
// decides, as it always has there: a primary_conninfo written by someone else (pg_basebackup
// -R) may name this machine otherwise (localhost, a socket directory).
bool NamesServer(const api::DeploymentColorSpec& spec, api::Color c, std::string_view host,
                 int port);

// ... and follows `primary` (NamesServer) with its own slot.
bool ConfiguredToFollow(const model::ServerState& s, const api::DeploymentColorSpec& spec,
                        api::Color primary);

// `standby` is running and streams from running primary `primary` (seen on either side; on
// the standby's, its WAL receiver's sender names `primary` (NamesServer), by port alone when
// it shows no host).
bool StreamsFrom(const model::ServerState& standby, const model::ServerState& primary,
                 const api::DeploymentColorSpec& spec);

// Bytes `standby` has still to replay of what `primary` wrote.
uint64_t LagBytes(const model::ServerState& standby, const model::ServerState& primary);

// Timeline of a server: the running one's, else the newer of its last checkpoint's and the
// newest it holds WAL segments of (a server promoted and stopped or crashed before its first
// checkpoint shows the old timeline in pg_control, but its WAL is on the new one).
uint32_t TimelineOf(const model::ServerState& s);

// The newest timeline a server may have written on: TimelineOf, or a newer one its pg_wal
// holds a history file of (a promotion writes that file before its first record on the new
// timeline). Conservative: a history file fetched from a primary counts too.
uint32_t NewestTimeline(const model::ServerState& s);

// Rule (promotion proof): a standby may be promoted over stopped old primary `old` only once
// it has replayed at least the position returned here. nullopt when `old` proves nothing:
// it runs, is not fenced (anyone could start it as a primary again), its data directory is
// unreadable, its host is unknown, or it did not shut down cleanly. A clean shutdown writes the
// shutdown checkpoint as the last record ("shut down"): past its start means all of it. A fenced
// server restarted by someone else came up as a standby with no upstream and wrote nothing;
// stopped again ("shut down in recovery"), it must also be replayed up to its minimum
// recovery point -- which PostgreSQL sets to the end of its WAL once crash recovery is over,
// and leaves at 0 when the server was stopped before: then nothing is proven (a fenced
// primary that crashed may hold commits past its last checkpoint).
std::optional<model::Lsn> PromotionThreshold(const model::ServerState& old);

// The old primary cleanly fenced: stopped `old` proves how far its WAL goes
// (PromotionThreshold) and `successor` runs as a standby. This is when a switch waits for the
// successor to replay past the returned threshold and then promotes it; the status dates the
// fence record then (the catch-up timeout runs from it), the planner waits, promotes or gives
// up (the switch is abandoned) then. nullopt otherwise.
std::optional<model::Lsn> CleanlyFencedBehind(const model::ServerState& old,
                                              const model::ServerState& successor);

// Rule (lifting a fence): fenced, stopped `s` may be made primary-configured again only
// while `other` cannot be, or become, a primary holding writes `s` lacks: `other` holds no
// cluster; or it is stopped, and its pg_control and pg_wal show it never left recovery past
// `s`'s timeline (a promotion writes the new timeline's history file before any record on
// it; a stopped postmaster acts on no promotion request, and removes it when it starts); or
// it runs as a standby that was never asked to promote over this fence (the fence marker
// would say so) and has no promotion request pending. Returns "" when allowed, else why not,
// for a person.
std::string WhyNotLiftFence(const model::ServerState& s, const model::ServerState& other);

// Rule (starting a primary): stopped `s`, configured to start as a primary (no standby.signal,
// no fence), may be started while `other` does not run as a primary, has no promotion
// pending, can be read, and holds no newer data: a newer timeline, or more WAL on the same
// one unless it is configured as a standby (then it followed `s`). "" when allowed.
std::string WhyNotStartAsPrimary(const model::ServerState& s, const model::ServerState& other);

// A running standby received by streaming, in its current run, all it replayed
// (pg_last_wal_receive_lsn() >= pg_last_wal_replay_lsn(); the former is NULL until a walreceiver
// is started and resets with the postmaster). Switchyard runs two servers, so that WAL came
// from the other one.
bool StreamedAll(const model::ServerState& s);

enum class Lineage {
  kFollows,   // its WAL is a prefix of the primary's history: it can stream, nothing to copy
  kDiverged,  // it holds WAL the primary does not have: rejoining discards it
  kForeign,   // another cluster altogether (another system identifier): never replaced
  kUnknown,   // cannot tell (crashed without a clean shutdown): only a start as standby is safe
};
// Compares stopped or running `s` with running primary `primary` via the primary's timeline
// history: after a clean switch the old primary's WAL ends at its shutdown checkpoint,
// exactly where the new timeline forks (pkg/observe/README.md #6).
Lineage LineageOf(const model::ServerState& s, const model::ServerState& primary);
std::string_view LineageName(Lineage l);

// The slot `standby` uses exists on running primary `primary`.
bool HasSlotFor(const model::ServerState& primary, api::Color standby);

// How far `s`'s WAL provably reaches: a running server's position (a standby's received or
// replayed end), a cleanly stopped one's shutdown checkpoint or minimum recovery point; 0
// when that is not known (it crashed).
model::Lsn KnownWalEnd(const ServerState& s);

// Rule (WAL gone): running primary `primary` no longer holds the WAL `s` must stream next:
// the oldest segment of its pg_wal begins past where `s`'s WAL ends (a running standby's
// received or replayed end; a cleanly stopped server's shutdown checkpoint or minimum
// recovery point). Streaming resumes at the start of that segment, so `s` can never stream
// from it again ("requested WAL segment ... has already been removed"): only a copy helps.
// False when either is not known (a crashed server's end, the primary's oldest segment).
bool WalRemovedFor(const ServerState& s, const ServerState& primary);

// The replication slot of `standby` on `server`, when it exists.
const ReplicationSlot* SlotFor(const ServerState& server, api::Color standby);

// Names of the logical slots on `s` (PostgreSQL 15 cannot carry them to another server).
std::vector<std::string> LogicalSlots(const ServerState& s);

// The operator's annotation accepts that a switch loses the old primary's logical slots.
bool LogicalSlotLossAllowed(const api::DeploymentColor& dc);

// The incident `s` is in, as the consent annotation names it: its color, its timeline
// (TimelineOf) and how far its WAL reaches as observed: the exact end when known (a running
// server's position, a clean shutdown's checkpoint, a stopped standby's minimum recovery
// point), else its last checkpoint. It changes whenever `s` runs again as a primary, takes
// writes or diverges anew, so a consent given for it covers nothing else.
api::DiscardConsent IncidentOf(const ServerState& s);

enum class Consent {
  kNone,   // no annotation, a malformed one, or one naming the other color
  kStale,  // it names another incident of this color: an earlier one, or `s` changed since
  kGiven,  // it names IncidentOf(s)
};
Consent ConsentFor(const api::DeploymentColor& dc, const ServerState& s);

// Rule (consent per incident): the operator's annotation names IncidentOf(s) as observed now:
// `s`'s diverged writes may be discarded. Never for any other incident.
bool DiscardAllowed(const api::DeploymentColor& dc, const ServerState& s);

// Rule (replacing a data directory): `target`'s data directory may be replaced by a copy of
// running primary `source` (pg_rewind or pg_basebackup) only when it holds nothing, when its
// WAL is a prefix of the source's and spec.database.rejoinMethod is basebackup (redundant),
// or when the operator's annotation names its current incident (DiscardAllowed), or when
// its WAL is a prefix of the source's but the WAL it needs to stream is gone from the source
// (WalRemovedFor: redundant, and no copy-free way back). Never while it runs or cannot be
// read, nor while either host is unknown. Returns "" when allowed, else why not. The planner plans
// copies only where this holds; the actuator checks it again on a fresh observation right
// before copying.
std::string WhyNotReplace(const api::DeploymentColor& dc, const ServerState& target,
                          const ServerState& source);

}  // namespace sy::model
