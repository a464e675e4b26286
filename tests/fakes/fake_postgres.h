// One simulated PostgreSQL 15 server, the building block of FakeCluster: its WAL as a list of
// records, its data directory's pg_control and startup configuration, and what its running
// postmaster would report. Plain state; FakeCluster moves WAL between servers.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "pkg/api/types.h"
#include "pkg/model/lsn.h"
#include "pkg/model/world.h"

namespace sy::fakes {

enum class RecordKind { kCheckpoint, kShutdownCheckpoint, kEndOfRecovery, kWrite };

// Record sizes in bytes. A checkpoint record is 120 bytes (pkg/observe/README.md #5): after
// a clean fence the standby's replay position is the old primary's checkpoint location + 120.
inline constexpr model::Lsn kCheckpointBytes = 120;
inline constexpr model::Lsn kEndOfRecoveryBytes = 40;
inline constexpr model::Lsn kWriteBytes = 200;
// Where the WAL of a fresh initdb begins.
inline constexpr model::Lsn kFirstLsn = 0x3000028;

// One WAL record. `id` is unique in the simulation and a copy (streamed, cloned, rewound) keeps
// it, so two servers hold the same history up to a point exactly when their ids agree.
struct WalRecord {
  model::Lsn start = 0;
  model::Lsn end = 0;
  uint32_t timeline = 1;
  uint64_t id = 0;
  RecordKind kind = RecordKind::kWrite;
  uint64_t write = 0;  // the acknowledged write this record commits (kWrite only)
};

enum class Mode { kStopped, kPrimary, kStandby };

// What pg_controldata does on a stopped server's directory (a wrapper in binDirectory, an I/O
// error, a corrupt control file): the real observer then reports the directory unreadable.
enum class ControlFault { kNone, kFails, kUntrustworthy };

struct FakePostgres {
  api::Color color = api::Color::kBlue;
  std::string host;  // how the other server reaches it (its spec's host)
  int port = 0;
  // --- the data directory ---
  bool has_data = false;
  uint64_t system_id = 0;
  std::vector<WalRecord> wal;  // pg_wal: what it wrote or received
  size_t replayed = 0;         // records applied; all of them on a primary
  std::string stopped_state;   // pg_control's state while stopped ("shut down", ...)
  model::Lsn min_recovery_end = 0;
  bool standby_signal = false;  // startup configuration (postgresql.auto.conf, standby.signal)
  std::string primary_host;     // primary_conninfo's host and port ("" and 0: none)
  int primary_port = 0;
  std::string primary_slot;
  bool fenced = false;                     // the fence marker is in the directory
  bool fence_promotion_requested = false;  // ... and records a promotion of the other
  // The directory became a primary's through a promotion behind Switchyard's back while the
  // other server could still run as a primary (an unsafe external failover); cleared when
  // Switchyard reconfigures it. What it writes, and two primaries with it, are the test's.
  bool external_promotion = false;
  bool promote_requested = false;       // the `promote` signal file waits in the directory
  std::set<std::string> slots;          // pg_replslot: physical slots (Switchyard's and others')
  std::set<std::string> logical_slots;  // pg_replslot: logical slots (a CDC consumer's)
  // Where the oldest segment in pg_wal begins: a primary removed the WAL before it (its slot
  // for the standby lost, or none held it). 0: it holds all of its WAL.
  model::Lsn oldest_wal = 0;
  // synchronous_standby_names in its configuration files, which pg_basebackup and pg_rewind
  // copy from their source (synchronous_commit is on).
  std::string synchronous_standby_names;
  // The newest timeline whose history file pg_wal holds: its own, a primary's it connected
  // to, or a clone source's. Promotion picks the one after it (findNewestTimeLine() + 1).
  uint32_t newest_timeline = 0;
  // --- the postmaster ---
  Mode mode = Mode::kStopped;
  bool stale_pid = false;  // a crash left postmaster.pid behind
  bool streaming = false;  // a standby receiving from its primary (computed by FakeCluster)
  // pg_last_wal_receive_lsn(): the end of what this run of a standby received by streaming
  // (0 until its walreceiver first streams; kept when it stops).
  model::Lsn received_upto = 0;
  // A running standby's pg_control checkpoint: the one it started from. Restartpoints are rare
  // (checkpoint_timeout), so PostgreSQL 15 reports it -- and its timeline, as the standby's
  // own once the walreceiver is gone -- long after replay moved on to a newer timeline.
  model::Lsn restart_lsn = 0;
  uint32_t restart_timeline = 0;
  // The primary_conninfo a running standby started with (read only at start-up).
  std::string running_primary_host;
  int running_primary_port = 0;
  // --- faults ---
  // SIGSTOP of the postmaster: backends on existing connections still answer (the
  // controller's kept connection observes it) until that connection is dropped; nobody can
  // connect anew; signals (a promotion, a shutdown request) wait until SIGCONT.
  bool frozen = false;
  bool stop_pending = false;        // a fast shutdown request waits for the frozen postmaster
  bool connection_dropped = false;  // the controller dropped its kept connection meanwhile
  ControlFault control_fault = ControlFault::kNone;
  bool unreachable = false;    // runs, but the controller's connections fail
  bool disconnected = false;   // the standby's walreceiver cannot reach its primary
  bool lagging = false;        // connected, but receives nothing new (a slow link)
  bool replay_paused = false;  // pg_wal_replay_pause(); not kept across a restart
  // The controller cannot tell what this host is: its agent does not answer (the observation
  // then carries nothing else), or reports an operation in doubt (`host_facts`: it carries
  // what the server shows, marked unknown). Steps acting on it fail. The server goes on.
  std::string host_unknown;
  bool host_facts = false;
  // --- configuration and privileges ---
  // What the observation reads of version, settings and the user's privileges (a superuser
  // on PostgreSQL 15 by default). A standby with hot_standby off accepts no connections.
  model::Prerequisites prerequisites = DefaultPrerequisites();
  // pg_stat_replication.replay_lag its primary reports for it, in ms (-1: none).
  int64_t replay_lag_ms = -1;

  static model::Prerequisites DefaultPrerequisites();

  bool Running() const { return mode != Mode::kStopped; }
  bool RunningPrimary() const { return mode == Mode::kPrimary; }
  // The timeline of the last applied record.
  uint32_t Timeline() const;
  model::Lsn End() const;        // end of the WAL it holds
  model::Lsn ReplayEnd() const;  // end of the WAL it applied
  // The last checkpoint it applied (pg_control's "Latest checkpoint"); nullptr before initdb.
  const WalRecord* LastCheckpoint() const;
  // Forks of the timelines before the current one, from the applied WAL.
  std::vector<model::TimelineFork> History() const;
  // ... before `timeline` (the history file <timeline>.history).
  std::vector<model::TimelineFork> HistoryOf(uint32_t timeline) const;
  // What the observer reports as its timeline: a primary's, a streaming standby's received
  // timeline, else pg_control's checkpoint timeline (see restart_timeline).
  uint32_t ReportedTimeline() const;
  // Its WAL is the beginning of `other`'s (same records).
  bool IsPrefixOf(const FakePostgres& other) const;
  // The acknowledged writes its WAL holds.
  std::set<uint64_t> Writes() const;
  // Appends a record on `timeline` at the end of its WAL and applies it.
  void Append(RecordKind kind, uint32_t timeline, uint64_t id, uint64_t write = 0);
  // Becomes a copy of `source`'s applied WAL, stopped, its control file saying recovery is
  // needed up to the copy's end (what pg_basebackup and pg_rewind leave behind).
  void CopyFrom(const FakePostgres& source);
  // Writes a standby's startup configuration (primary_conninfo to `upstream_host`:
  // `upstream_port`), drops its local Switchyard slots (others stay), removes a fence.
  void ConfigureStandbyOf(const std::string& upstream_host, int upstream_port);
  // The fence step's directory changes: standby.signal, no upstream, the marker.
  void Fence();
  // Its postmaster comes up in recovery (standby.signal), from its last checkpoint.
  void StartAsStandby();

  model::ServerState Observe() const;
};

}  // namespace sy::fakes
