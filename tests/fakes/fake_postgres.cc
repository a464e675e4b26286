#include "tests/fakes/fake_postgres.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "pkg/model/step.h"

namespace sy::fakes {

uint32_t FakePostgres::Timeline() const { return replayed ? wal[replayed - 1].timeline : 0; }

model::Lsn FakePostgres::End() const { return wal.empty() ? 0 : wal.back().end; }

model::Lsn FakePostgres::ReplayEnd() const { return replayed ? wal[replayed - 1].end : 0; }

const WalRecord* FakePostgres::LastCheckpoint() const {
  for (size_t i = replayed; i > 0; --i) {
    const WalRecord& r = wal[i - 1];
    if (r.kind == RecordKind::kCheckpoint || r.kind == RecordKind::kShutdownCheckpoint) {
      return &r;
    }
  }
  return nullptr;
}

std::vector<model::TimelineFork> FakePostgres::History() const { return HistoryOf(Timeline()); }

std::vector<model::TimelineFork> FakePostgres::HistoryOf(uint32_t timeline) const {
  std::vector<model::TimelineFork> forks;
  for (size_t i = 1; i < wal.size(); ++i) {
    if (wal[i].timeline != wal[i - 1].timeline && wal[i - 1].timeline < timeline) {
      forks.push_back({wal[i - 1].timeline, wal[i].start});
    }
  }
  return forks;
}

uint32_t FakePostgres::ReportedTimeline() const {
  if (mode == Mode::kPrimary) {
    return Timeline();
  }
  if (mode == Mode::kStandby) {
    return streaming ? wal.back().timeline : restart_timeline;
  }
  const WalRecord* ckpt = LastCheckpoint();
  return ckpt ? ckpt->timeline : 0;
}

bool FakePostgres::IsPrefixOf(const FakePostgres& other) const {
  if (system_id != other.system_id || wal.size() > other.wal.size()) {
    return false;
  }
  return std::equal(wal.begin(), wal.end(), other.wal.begin(),
                    [](const WalRecord& a, const WalRecord& b) { return a.id == b.id; });
}

std::set<uint64_t> FakePostgres::Writes() const {
  std::set<uint64_t> out;
  for (const WalRecord& r : wal) {
    if (r.kind == RecordKind::kWrite) {
      out.insert(r.write);
    }
  }
  return out;
}

void FakePostgres::Append(RecordKind kind, uint32_t timeline, uint64_t id, uint64_t write) {
  model::Lsn size = kWriteBytes;
  if (kind == RecordKind::kCheckpoint || kind == RecordKind::kShutdownCheckpoint) {
    size = kCheckpointBytes;
  } else if (kind == RecordKind::kEndOfRecovery) {
    size = kEndOfRecoveryBytes;
  }
  const model::Lsn start = wal.empty() ? kFirstLsn : wal.back().end;
  wal.push_back({start, start + size, timeline, id, kind, write});
  replayed = wal.size();
  newest_timeline = std::max(newest_timeline, timeline);
}

void FakePostgres::CopyFrom(const FakePostgres& source) {
  has_data = true;
  system_id = source.system_id;
  synchronous_standby_names = source.synchronous_standby_names;
  wal.assign(source.wal.begin(), source.wal.begin() + static_cast<long>(source.replayed));
  replayed = wal.size();
  newest_timeline = source.newest_timeline;
  stopped_state = "in archive recovery";
  min_recovery_end = End();
  oldest_wal = 0;
  stale_pid = false;
  external_promotion = false;
}

void FakePostgres::ConfigureStandbyOf(const std::string& upstream_host, int upstream_port) {
  standby_signal = true;
  primary_host = upstream_host;
  primary_port = upstream_port;
  primary_slot = model::SlotName(color);
  // Only Switchyard's own slots go; a backup tool's or a logical slot stays.
  std::erase_if(slots, [](const std::string& n) { return model::IsSwitchyardSlot(n); });
  fenced = false;
  fence_promotion_requested = false;
  external_promotion = false;
}

void FakePostgres::Fence() {
  standby_signal = true;
  primary_host.clear();
  primary_port = 0;
  primary_slot.clear();
  fenced = true;
  fence_promotion_requested = false;
  external_promotion = false;
}

void FakePostgres::StartAsStandby() {
  const WalRecord* ckpt = LastCheckpoint();
  restart_lsn = ckpt ? ckpt->start : 0;
  restart_timeline = ckpt ? ckpt->timeline : 0;
  received_upto = 0;
  running_primary_host = primary_host;
  running_primary_port = primary_port;
  mode = Mode::kStandby;
}

model::Prerequisites FakePostgres::DefaultPrerequisites() {
  model::Prerequisites p;
  p.known = true;
  p.version_num = 150004;
  p.version = "15.4";
  p.privileges = {"superuser",      "replication", "pg_promote",
                  "pg_reload_conf", "pg_monitor",  "pg_checkpoint"};
  return p;
}

model::ServerState FakePostgres::Observe() const {
  model::ServerState s;
  s.color = color;
  s.data_directory_exists = has_data;
  s.postmaster_pid = Running() || stale_pid;
  s.postmaster_alive = Running();
  if (has_data && !Running() && control_fault != ControlFault::kNone) {
    s.directory_error = control_fault == ControlFault::kFails
                            ? "pg_controldata exited with 1: could not read global/pg_control"
                            : "pg_controldata: WARNING: Calculated CRC checksum does not match "
                              "value stored in file; the results are untrustworthy";
  }
  if (has_data && s.directory_error.empty()) {
    model::ControlData c;
    c.system_identifier = system_id;
    if (mode == Mode::kPrimary) {
      c.cluster_state = "in production";
    } else if (mode == Mode::kStandby) {
      c.cluster_state = "in archive recovery";
    } else {
      c.cluster_state = stopped_state;
    }
    if (mode == Mode::kStandby) {
      c.checkpoint_lsn = restart_lsn;
      c.checkpoint_timeline = restart_timeline;
    } else if (const WalRecord* ckpt = LastCheckpoint()) {
      c.checkpoint_lsn = ckpt->start;
      c.checkpoint_timeline = ckpt->timeline;
    }
    c.min_recovery_end = mode == Mode::kPrimary ? 0 : min_recovery_end;
    s.control = c;
    s.startup.standby_signal = standby_signal;
    if (primary_port != 0) {
      s.startup.primary_host = primary_host;
      s.startup.primary_port = primary_port;
      s.startup.primary_conninfo =
          absl::StrCat("host=", primary_host, " port=", primary_port,
                       " user=replicator application_name=", std::string(api::ColorName(color)));
    }
    s.startup.primary_slot_name = primary_slot;
    s.startup.fenced = fenced;
    s.startup.fence_promotion_requested = fenced && fence_promotion_requested;
    s.startup.promote_requested = promote_requested;
    s.local_slots.assign(slots.begin(), slots.end());
    s.local_slots.insert(s.local_slots.end(), logical_slots.begin(), logical_slots.end());
    std::sort(s.local_slots.begin(), s.local_slots.end());
    s.wal_timeline = newest_timeline;
    s.segment_timeline = wal.empty() ? 0 : wal.back().timeline;
    // As the real observer: the history of the running timeline, else of the newest one the
    // directory holds WAL of.
    s.history = HistoryOf(Running() ? ReportedTimeline()
                                    : std::max(ReportedTimeline(), s.segment_timeline));
  }
  if (!Running()) {
    s.error =
        absl::StrCat("connection to server at ", host, ":", port, " failed: Connection refused");
    return s;
  }
  if (unreachable || (frozen && connection_dropped)) {
    s.error = absl::StrCat("connection to server at ", host, ":", port, " failed: timeout expired",
                           unreachable ? " (fault injected)" : " (postmaster frozen)");
    return s;
  }
  if (mode == Mode::kStandby && !prerequisites.hot_standby) {
    s.error = absl::StrCat("connection to server at \"", host, "\", port ", port,
                           " failed: FATAL:  the database system is not accepting connections\n"
                           "DETAIL:  Hot standby mode is disabled.");
    return s;
  }
  s.reachable = true;
  s.prerequisites = prerequisites;
  s.in_recovery = mode == Mode::kStandby;
  s.system_identifier = system_id;
  s.timeline = ReportedTimeline();
  if (mode == Mode::kPrimary) {
    s.current_lsn = End();
  } else {
    s.receive_lsn = received_upto;
    s.replay_lsn = ReplayEnd();
    s.replay_paused = replay_paused;
    s.running_primary_host = running_primary_host;
    s.running_primary_port = running_primary_port;
  }
  s.slots.assign(slots.begin(), slots.end());
  s.sync.known = true;
  s.sync.standby_names = synchronous_standby_names;
  s.sync.synchronous_commit = "on";
  for (const std::string& name : slots) {
    s.slot_details.push_back({name, "physical", false, "reserved", 0});
  }
  for (const std::string& name : logical_slots) {
    s.slot_details.push_back({name, "logical", false, "reserved", 0});
  }
  s.oldest_wal_lsn = wal.empty() ? 0 : std::max(oldest_wal, wal.front().start);
  return s;
}

}  // namespace sy::fakes
