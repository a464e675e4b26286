// What Switchyard observes of the world, as plain data: one snapshot per reconcile pass,
// never cached across passes. Observers fill it; the planner (pkg/plan) reads it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pkg/api/types.h"
#include "pkg/model/lsn.h"

namespace sy::model {

// A row of pg_stat_replication on a primary.
struct ReplicationPeer {
  std::string application_name;  // Switchyard sets it to the standby's color name
  std::string state;             // "streaming", "catchup", "startup", ...
  Lsn replay_lsn = 0;
  std::string sync_state;  // "sync", "quorum", "potential" or "async"
  // replay_lag: how long ago the primary flushed the WAL this standby has now replayed, in
  // ms; -1 when PostgreSQL shows none (caught up and idle). It keeps growing while the
  // standby's replay stands still (a conflict with a query, an apply delay), which a byte
  // count does not show when the primary writes little.
  int64_t replay_lag_ms = -1;
  bool operator==(const ReplicationPeer&) const = default;
};

// pg_stat_wal_receiver on a standby (absent when no receiver runs).
struct WalReceiver {
  std::string status;  // "streaming", "waiting", ...
  // The server it streams from, as it connected to it (the host of its primary_conninfo, a
  // socket directory, or "" when not shown).
  std::string sender_host;
  int sender_port = 0;
  std::string slot_name;
  bool operator==(const WalReceiver&) const = default;
};

// A row of pg_replication_slots.
struct ReplicationSlot {
  std::string name;
  std::string type;        // "physical" | "logical"
  bool active = false;     // a walsender (or decoding session) uses it now
  std::string wal_status;  // "reserved", "extended", "unreserved", "lost"; "" when unknown
  Lsn restart_lsn = 0;     // 0 when none (never reserved, or invalidated)
  bool operator==(const ReplicationSlot&) const = default;
};

// One entry of a timeline history file: timeline `timeline` ended at `switchpoint`.
struct TimelineFork {
  uint32_t timeline = 0;
  Lsn switchpoint = 0;
  bool operator==(const TimelineFork&) const = default;
};

// pg_controldata of a data directory.
struct ControlData {
  std::string cluster_state;  // "in production", "shut down", "shut down in recovery", ...
  uint64_t system_identifier = 0;
  Lsn checkpoint_lsn = 0;            // "Latest checkpoint location"
  uint32_t checkpoint_timeline = 0;  // "Latest checkpoint's TimeLineID"
  Lsn min_recovery_end = 0;          // "Minimum recovery ending location" (0 when none)
  bool operator==(const ControlData&) const = default;
};

// How a stopped server is configured to start (read from its data directory).
struct StartupConfig {
  bool standby_signal = false;   // standby.signal present
  std::string primary_conninfo;  // from postgresql.auto.conf ("" when unset)
  std::string primary_slot_name;
  // Parsed out of primary_conninfo: its host ("" when it names none) and port (0 when absent).
  std::string primary_host;
  int primary_port = 0;
  // Switchyard's fence marker (kFenceMarkerFile) is present: the directory belonged to a
  // primary that the fence step made unable to start as a primary again (standby.signal, no
  // primary_conninfo) until the planner lifts the fence or rejoins it as a standby.
  bool fenced = false;
  // The fence marker records that the other server was asked to promote over this fenced
  // one (the promote step writes it right before pg_promote()): a flip back must then stop
  // that server before lifting the fence, for the promotion may still be under way.
  bool fence_promotion_requested = false;
  // A promotion request (the `promote` signal file that pg_promote() and `pg_ctl promote`
  // write) waits in the directory: a running standby acts on it as soon as its postmaster
  // and startup process see it; a postmaster removes it when it starts.
  bool promote_requested = false;
  // recovery.signal is present: started, the server would run an archive recovery and then
  // promote itself onto a new timeline (or refuse to start without a restore_command), so
  // it does not start as the primary it was either (pkg/observe/README.md #31).
  bool recovery_signal = false;
  bool operator==(const StartupConfig&) const = default;
};

// What decides whether a running server's commits wait for a synchronous standby
// (pkg/observe/README.md #30).
struct SyncReplication {
  bool known = false;              // read with the observation (the server answered it)
  std::string standby_names;       // synchronous_standby_names
  std::string source_file;         // where it is set ("" when the default or not visible)
  std::string synchronous_commit;  // as Switchyard's sessions have it
  int waiting_commits = 0;         // backends whose commit waits for a standby (SyncRep)
  int64_t longest_wait_ms = 0;     // how long the oldest of them has waited (0: none)
  bool operator==(const SyncReplication&) const = default;
};

// What the protocol needs of a running server's version, settings and the privileges of the
// user Switchyard connects as (pkg/plan/preflight.h checks them before a switch).
struct Prerequisites {
  bool known = false;                   // read with the observation
  int version_num = 0;                  // server_version_num, e.g. 150004
  std::string version;                  // server_version, e.g. "15.4 (Debian 15.4-1)"
  bool hot_standby = true;              // hot_standby: a standby accepts (read-only) connections
  int64_t apply_delay_ms = 0;           // recovery_min_apply_delay
  int64_t streaming_delay_ms = 30'000;  // max_standby_streaming_delay; -1: for ever
  bool wal_log_hints = false;
  bool data_checksums = false;
  // What the user holds, among: superuser, replication (the REPLICATION attribute),
  // pg_promote and pg_reload_conf (EXECUTE), pg_monitor and pg_checkpoint (membership),
  // alter_system (ALTER SYSTEM on synchronous_standby_names; asked only of a non-superuser
  // on PostgreSQL 15+ when Switchyard manages the setting).
  std::vector<std::string> privileges;
  bool Has(std::string_view p) const;
  bool operator==(const Prerequisites&) const = default;
};

// One PostgreSQL server.
struct ServerState {
  api::Color color = api::Color::kBlue;
  // Why nothing observed of this server can be relied on ("" when its machine answered): its
  // agent cannot be reached ("agent 10.200.0.22:9754 unreachable: ..."), or an operation on
  // it is in doubt ("operation <id> (promote) in doubt on <agent>": under way, done or not,
  // nobody can tell yet). Rule (unknown hosts): such a server is never missing, stopped, a
  // primary or a standby, whatever the fields below say, and nothing whose safety rests on
  // what it is happens meanwhile (pkg/plan/README.md §20).
  std::string host_unknown;
  // --- the data directory ---
  bool data_directory_exists = false;  // holds a cluster (PG_VERSION and global/pg_control)
  bool postmaster_pid = false;         // postmaster.pid present
  bool postmaster_alive = false;       // ... and its process exists
  std::optional<ControlData> control;  // when the directory holds a cluster and it was read
  // Why the directory or its pg_control could not be read or trusted ("" when it could): an
  // I/O error, pg_controldata failing or warning that its output is untrustworthy, files that
  // are not a cluster. Such a server is unknown, never "missing": nothing is copied over it.
  std::string directory_error;
  // The newest timeline pg_wal holds a segment or history file of (0 when none or unread).
  // pg_control shows a promoted server's new timeline only after its first checkpoint; its
  // pg_wal shows it from the moment of the promotion.
  uint32_t wal_timeline = 0;
  // The newest timeline pg_wal holds a segment of (0 when none or unread): WAL it wrote or
  // received on that timeline, not only a history file fetched from a primary it could not
  // follow.
  uint32_t segment_timeline = 0;
  StartupConfig startup;
  // WAL segments pg_wal/archive_status marks `.ready`: completed, not yet archived (only
  // under archive_mode on). A stopped server archives nothing: those never reach the
  // archive until it runs again (pkg/observe/README.md #30).
  int archive_ready = 0;
  std::vector<std::string> local_slots;  // replication slots stored in its pg_replslot
  // Timeline history of the server's current timeline, oldest first (empty on timeline 1).
  std::vector<TimelineFork> history;
  // --- the running server, when it accepts connections ---
  bool reachable = false;
  std::string error;  // why it is not reachable (connection error text)
  bool in_recovery = false;
  uint64_t system_identifier = 0;
  uint32_t timeline = 0;
  Lsn current_lsn = 0;  // primary: pg_current_wal_lsn()
  Lsn receive_lsn = 0;  // standby: pg_last_wal_receive_lsn()
  Lsn replay_lsn = 0;   // standby: pg_last_wal_replay_lsn()
  bool replay_paused = false;
  std::vector<ReplicationPeer> replication;  // primary: pg_stat_replication
  std::optional<WalReceiver> receiver;       // standby: pg_stat_wal_receiver
  // standby: the host and port of the primary_conninfo it runs with, which its configuration
  // file may no longer say (rewritten while it started); "" and 0 when the setting is empty or
  // names none; nullopt when not read (a primary, or a user without pg_read_all_settings).
  std::optional<std::string> running_primary_host;
  std::optional<int> running_primary_port;
  std::vector<std::string> slots;             // pg_replication_slots names (physical)
  std::vector<ReplicationSlot> slot_details;  // every row of pg_replication_slots
  // Where the oldest WAL segment its pg_wal holds begins (pg_ls_waldir(), any timeline); 0
  // when unknown (not read: the user is neither superuser nor in pg_monitor). A standby that
  // must resume streaming before it cannot: the WAL it needs was removed.
  Lsn oldest_wal_lsn = 0;
  SyncReplication sync;
  Prerequisites prerequisites;

  // Its machine answered: what is observed holds (host_unknown is empty).
  bool HostKnown() const { return host_unknown.empty(); }
  bool RunningPrimary() const { return HostKnown() && reachable && !in_recovery; }
  bool RunningStandby() const { return HostKnown() && reachable && in_recovery; }
  // A live postmaster, accepting connections or not.
  bool Running() const { return HostKnown() && (reachable || postmaster_alive); }
  // Not running: no live postmaster (a stale postmaster.pid does not count).
  bool Stopped() const { return HostKnown() && !reachable && !postmaster_alive; }
  bool operator==(const ServerState&) const = default;
};

struct NginxState {
  // Why nothing observed of nginx can be relied on ("" when its machine answered): its agent
  // cannot be reached, or an operation there (a switch of traffic) is in doubt. Rule
  // (unknown hosts): traffic is then neither switched nor taken as switched, and nothing is
  // fenced (pkg/plan/README.md §20).
  std::string host_unknown;
  bool running = false;                  // the master process runs
  std::optional<api::Color> file_color;  // which color the owned upstream file points to
  bool file_exists = false;
  std::optional<api::Color> served_color;  // what the probe saw on a fresh connection
  std::string probe_error;                 // why the probe saw nothing
  bool HostKnown() const { return host_unknown.empty(); }
  // The color nginx is seen to serve: nullopt when none, or when its machine did not answer.
  std::optional<api::Color> Serving() const { return HostKnown() ? served_color : std::nullopt; }
  // Traffic is seen on `c`: a fresh connection gets `c` and the owned file names it.
  bool TrafficOn(api::Color c) const { return HostKnown() && served_color == c && file_color == c; }
  bool operator==(const NginxState&) const = default;
};

// An app server of a color, probed directly (not through nginx).
struct UpstreamState {
  std::string address;
  bool healthy = false;
  std::string error;
  bool operator==(const UpstreamState&) const = default;
};

struct World {
  NginxState nginx;
  ServerState blue;
  ServerState green;
  std::map<api::Color, std::vector<UpstreamState>> upstreams;

  const ServerState& server(api::Color c) const { return c == api::Color::kBlue ? blue : green; }
  ServerState& server(api::Color c) { return c == api::Color::kBlue ? blue : green; }
  bool UpstreamsHealthy(api::Color c) const;
  bool operator==(const World&) const = default;
};

}  // namespace sy::model
