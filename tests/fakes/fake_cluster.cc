#include "tests/fakes/fake_cluster.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "pkg/model/sync_rep.h"

namespace sy::fakes {

using api::Color;

api::DeploymentColorSpec FakeSpec(Color active) {
  api::DeploymentColorSpec spec;
  spec.active_color = active;
  spec.blue.upstreams = {"127.0.0.1:18081"};
  spec.blue.database = {"127.0.0.1", 15433, "/var/lib/switchyard/shop/blue"};
  spec.green.upstreams = {"127.0.0.1:18082"};
  spec.green.database = {"127.0.0.1", 15434, "/var/lib/switchyard/shop/green"};
  spec.nginx.upstream_name = "shop";
  return spec;
}

FakeCluster::FakeCluster(api::DeploymentColorSpec spec, Color primary) : spec_(std::move(spec)) {
  for (Color c : api::kColors) {
    Pg(c).color = c;
    Pg(c).host = spec_.color(c).database.host;
    Pg(c).port = spec_.color(c).database.port;
    upstreams_healthy_[c] = true;
  }
  // initdb + start on `primary`, pg_basebackup -R of the other, both running.
  FakePostgres& p = Pg(primary);
  FakePostgres& s = Pg(api::Other(primary));
  p.has_data = true;
  p.system_id = 7309151702475113211ULL;
  p.Append(RecordKind::kCheckpoint, 1, NextRecordId());
  p.mode = Mode::kPrimary;
  p.slots.insert(model::SlotName(s.color));
  s.CopyFrom(p);
  s.ConfigureStandbyOf(p.host, p.port);
  s.StartAsStandby();
  nginx_.file_color = primary;
  nginx_.loaded_color = primary;
  SyncLocked();
}

FakePostgres* FakeCluster::ByAddress(const std::string& host, int port) {
  for (Color c : api::kColors) {
    if (Pg(c).port == port && Pg(c).host == host) {
      return &Pg(c);
    }
  }
  return nullptr;
}

void FakeCluster::SyncLocked() {
  for (Color c : api::kColors) {
    FakePostgres& s = Pg(c);
    s.streaming = false;
    if (s.mode != Mode::kStandby) {
      continue;
    }
    // The walreceiver connects to its configured primary, needs its slot there, and can only
    // continue a history its own WAL is the beginning of (else "requested starting point is
    // ahead of the WAL flush position" and friends: it keeps retrying, not streaming), from
    // WAL the primary still holds (else "requested WAL segment ... has already been removed").
    const FakePostgres* p = ByAddress(s.primary_host, s.primary_port);
    if (p != nullptr && p != &s && p->RunningPrimary() && !s.disconnected &&
        (s.primary_slot.empty() || p->slots.count(s.primary_slot) > 0) && s.IsPrefixOf(*p) &&
        s.End() >= p->oldest_wal) {
      s.streaming = true;
      // Connecting fetches the primary's timeline history files, even when no WAL follows.
      s.newest_timeline = std::max(s.newest_timeline, p->newest_timeline);
      if (!s.lagging) {
        s.wal = p->wal;
        s.received_upto = s.End();
      }
    }
    if (!s.replay_paused) {
      s.replayed = s.wal.size();
    }
  }
  CheckPrimariesLocked();
}

void FakeCluster::CheckPrimariesLocked() {
  if (blue_.RunningPrimary() && green_.RunningPrimary() && !blue_.external_promotion &&
      !green_.external_promotion) {
    const std::string v = absl::StrCat(action_, " left two running primaries");
    if (violations_.empty() || violations_.back() != v) {
      violations_.push_back(v);
    }
  }
}

void FakeCluster::ShutdownLocked(FakePostgres& s) {
  if (!s.Running()) {
    return;
  }
  if (s.mode == Mode::kPrimary) {
    s.Append(RecordKind::kShutdownCheckpoint, s.Timeline(), NextRecordId());
    SyncLocked();  // the walsenders ship it to connected standbys before the postmaster exits
    s.stopped_state = std::string("shut down");
    s.min_recovery_end = 0;
  } else {
    s.stopped_state = "shut down in recovery";
    s.min_recovery_end = s.ReplayEnd();
  }
  s.mode = Mode::kStopped;
  s.stale_pid = false;
  s.frozen = s.stop_pending = s.connection_dropped = false;
  SyncLocked();
}

void FakeCluster::CrashLocked(FakePostgres& s) {
  if (!s.Running()) {
    return;
  }
  s.frozen = s.stop_pending = s.connection_dropped = false;
  s.stopped_state = s.mode == Mode::kPrimary ? "in production" : "in archive recovery";
  s.min_recovery_end = s.mode == Mode::kPrimary ? 0 : s.ReplayEnd();
  s.mode = Mode::kStopped;
  s.stale_pid = true;
  SyncLocked();
}

absl::Status FakeCluster::StartLocked(FakePostgres& s) {
  const std::string who(api::ColorName(s.color));
  if (!s.has_data) {
    return absl::FailedPreconditionError(
        absl::StrCat("starting ", who, ": its data directory holds no cluster"));
  }
  if (s.Running()) {
    return s.unreachable ? absl::UnavailableError(absl::StrCat(
                               "starting ", who, ": it runs but accepts no connections"))
                         : absl::OkStatus();
  }
  s.stale_pid = false;
  s.replay_paused = false;
  s.promote_requested = false;  // a starting postmaster removes promotion requests
  if (s.standby_signal) {
    s.StartAsStandby();
  } else {
    // Crash recovery (or the end of an unfinished recovery) replays what pg_wal holds and
    // ends with a checkpoint; a cleanly shut down primary just starts. Same timeline.
    const bool clean = s.stopped_state == "shut down";
    s.replayed = s.wal.size();
    s.mode = Mode::kPrimary;
    if (!clean) {
      s.Append(RecordKind::kCheckpoint, s.Timeline(), NextRecordId());
    }
  }
  SyncLocked();
  return absl::OkStatus();
}

void FakeCluster::PromoteLocked(FakePostgres& s) {
  // The startup process replays everything received (ending a pause), then forks a timeline
  // one past the newest whose history file it holds, at the end of what it replayed. Two
  // servers that never exchanged history files can both pick the same number. No checkpoint:
  // pg_control keeps the old timeline until one.
  s.replayed = s.wal.size();
  const uint32_t timeline = s.newest_timeline + 1;
  s.Append(RecordKind::kEndOfRecovery, timeline, NextRecordId());
  s.promote_requested = false;
  s.mode = Mode::kPrimary;
  s.standby_signal = false;
  s.replay_paused = false;
  SyncLocked();
}

absl::StatusOr<uint64_t> FakeCluster::WriteLocked(FakePostgres& s) {
  if (!s.RunningPrimary() || s.frozen) {
    return absl::UnavailableError(
        absl::StrCat(std::string(api::ColorName(s.color)), " is not a running primary"));
  }
  const uint64_t id = writes_.size() + 1;
  action_ = absl::StrCat("write ", id);
  s.Append(RecordKind::kWrite, s.Timeline(), NextRecordId(), id);
  // At risk by the test's doing: during a split brain, or while either directory carries an
  // unsafe external promotion (it may come back as a primary and win a split brain).
  writes_.push_back({id, s.color,
                     (blue_.RunningPrimary() && green_.RunningPrimary()) ||
                         blue_.external_promotion || green_.external_promotion,
                     false});
  SyncLocked();
  return id;
}

absl::StatusOr<uint64_t> FakeCluster::Write() {
  std::lock_guard<std::mutex> l(mu_);
  return WriteLocked(blue_.RunningPrimary() ? blue_ : green_);
}

absl::StatusOr<uint64_t> FakeCluster::WriteOn(Color color) {
  std::lock_guard<std::mutex> l(mu_);
  return WriteLocked(Pg(color));
}

// --- observers ---

model::ServerState FakeCluster::ObserveLocked(Color color) {
  FakePostgres& pg = Pg(color);
  if (!pg.host_unknown.empty() && !pg.host_facts) {
    model::ServerState unknown;  // all a controller knows of a host whose agent is silent
    unknown.color = color;
    unknown.host_unknown = pg.host_unknown;
    return unknown;
  }
  model::ServerState s = pg.Observe();
  s.host_unknown = pg.host_unknown;
  if (!s.reachable) {
    return s;
  }
  const FakePostgres& other = Pg(api::Other(color));
  if (pg.RunningPrimary() && other.streaming &&
      ByAddress(other.primary_host, other.primary_port) == &pg) {
    // The sync_state PostgreSQL gives the one standby its synchronous_standby_names can name.
    const std::string name(api::ColorName(other.color));
    const std::optional<model::SyncStandbys> sync =
        model::ParseSyncStandbys(pg.synchronous_standby_names);
    std::string sync_state = "async";
    if (sync && model::SyncStandbysMatch(*sync, name))
      sync_state = sync->quorum ? "quorum" : "sync";
    s.replication.push_back(
        {name, "streaming", other.ReplayEnd(), sync_state, other.replay_lag_ms});
  }
  if (pg.streaming) {
    s.receiver = model::WalReceiver{"streaming", pg.primary_host, pg.primary_port, pg.primary_slot};
  }
  return s;
}

model::NginxState FakeCluster::ObserveNginxLocked() {
  model::NginxState n;
  if (!nginx_.host_unknown.empty()) {
    n.host_unknown = nginx_.host_unknown;
    return n;
  }
  n.running = nginx_.running;
  n.file_exists = nginx_.file_color.has_value();
  n.file_color = nginx_.file_color;
  if (!nginx_.running) {
    n.probe_error = "connection refused";
  } else if (!nginx_.loaded_color || !upstreams_healthy_[*nginx_.loaded_color]) {
    n.probe_error = "502 Bad Gateway";
  } else {
    n.served_color = nginx_.loaded_color;
  }
  return n;
}

absl::Status FakeCluster::PopObserveFaultLocked() {
  if (fail_next_observe_.empty()) {
    return absl::OkStatus();
  }
  absl::Status s = fail_next_observe_.front();
  fail_next_observe_.pop_front();
  return s;
}

absl::StatusOr<model::ServerState> FakeCluster::Observe(const api::DeploymentColorSpec&,
                                                        Color color) {
  std::lock_guard<std::mutex> l(mu_);
  if (absl::Status s = PopObserveFaultLocked(); !s.ok()) {
    return s;
  }
  return ObserveLocked(color);
}

absl::StatusOr<model::NginxState> FakeCluster::Observe(const api::DeploymentColorSpec&) {
  std::lock_guard<std::mutex> l(mu_);
  if (absl::Status s = PopObserveFaultLocked(); !s.ok()) {
    return s;
  }
  return ObserveNginxLocked();
}

model::UpstreamState FakeCluster::Probe(const std::string& address, std::chrono::milliseconds) {
  std::lock_guard<std::mutex> l(mu_);
  model::UpstreamState u;
  u.address = address;
  for (Color c : api::kColors) {
    const auto& ups = spec_.color(c).upstreams;
    if (std::find(ups.begin(), ups.end(), address) != ups.end() && upstreams_healthy_[c]) {
      u.healthy = true;
      return u;
    }
  }
  u.error = "connection refused";
  return u;
}

model::World FakeCluster::ObserveWorld() {
  model::World w;
  {
    std::lock_guard<std::mutex> l(mu_);
    w.blue = ObserveLocked(Color::kBlue);
    w.green = ObserveLocked(Color::kGreen);
    w.nginx = ObserveNginxLocked();
  }
  for (Color c : api::kColors) {
    for (const auto& addr : spec_.color(c).upstreams) {
      w.upstreams[c].push_back(Probe(addr, std::chrono::milliseconds(0)));
    }
  }
  return w;
}

}  // namespace sy::fakes
