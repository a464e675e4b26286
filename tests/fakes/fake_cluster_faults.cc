// FakeCluster's fault injection (what happens behind the controller's back) and its
// ground-truth accessors and invariant checks.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/fakes/fake_cluster.h"

namespace sy::fakes {

using api::Color;

// --- faults ---

void FakeCluster::FailNext(model::StepKind kind, absl::Status status) {
  std::lock_guard<std::mutex> l(mu_);
  fail_next_[kind].push_back(std::move(status));
}

void FakeCluster::FailNextObserve(absl::Status status) {
  std::lock_guard<std::mutex> l(mu_);
  fail_next_observe_.push_back(std::move(status));
}

void FakeCluster::SetUnreachable(Color color, bool unreachable) {
  std::lock_guard<std::mutex> l(mu_);
  Pg(color).unreachable = unreachable;
}

void FakeCluster::SetHostUnknown(Color color, const std::string& reason) {
  std::lock_guard<std::mutex> l(mu_);
  Pg(color).host_unknown = reason;
  Pg(color).host_facts = false;
}

void FakeCluster::SetOperationInDoubt(Color color, const std::string& reason) {
  std::lock_guard<std::mutex> l(mu_);
  Pg(color).host_unknown = reason;
  Pg(color).host_facts = true;
}

void FakeCluster::SetNginxUnknown(const std::string& reason) {
  std::lock_guard<std::mutex> l(mu_);
  nginx_.host_unknown = reason;
}

void FakeCluster::StopServer(Color color) {
  std::lock_guard<std::mutex> l(mu_);
  action_ = "pg_ctl stop " + std::string(api::ColorName(color));
  FakePostgres& s = Pg(color);
  if (s.frozen && s.Running()) {
    s.stop_pending = true;  // pg_ctl gives up; the request waits for SIGCONT
    return;
  }
  ShutdownLocked(s);
}

void FakeCluster::CrashServer(Color color) {
  std::lock_guard<std::mutex> l(mu_);
  action_ = "kill -9 " + std::string(api::ColorName(color));
  CrashLocked(Pg(color));
}

void FakeCluster::StartServer(Color color) {
  std::lock_guard<std::mutex> l(mu_);
  action_ = "pg_ctl start " + std::string(api::ColorName(color)) + " (a second actor)";
  (void)StartLocked(Pg(color));
}

void FakeCluster::SetFrozen(Color color, bool frozen) {
  std::lock_guard<std::mutex> l(mu_);
  FakePostgres& s = Pg(color);
  action_ = absl::StrCat(frozen ? "SIGSTOP " : "SIGCONT ", std::string(api::ColorName(color)));
  if (!s.Running()) {
    return;
  }
  if (frozen) {
    s.frozen = true;
    return;
  }
  if (s.frozen) {
    ThawLocked(s);
  }
}

void FakeCluster::ThawLocked(FakePostgres& s) {
  s.frozen = false;
  s.connection_dropped = false;
  if (s.stop_pending) {
    s.stop_pending = false;
    s.promote_requested = false;
    ShutdownLocked(s);
  } else if (s.promote_requested && s.mode == Mode::kStandby) {
    PromoteLocked(s);
  }
  SyncLocked();
}

void FakeCluster::StopDuringCrashRecovery(Color color) {
  std::lock_guard<std::mutex> l(mu_);
  FakePostgres& s = Pg(color);
  action_ = "pg_ctl start + stop of " + std::string(api::ColorName(color)) + " in crash recovery";
  if (s.Running() || !s.has_data || !s.standby_signal || s.stopped_state == "shut down" ||
      s.stopped_state == "shut down in recovery") {
    return;
  }
  s.stopped_state = "shut down in recovery";
  s.min_recovery_end = 0;
  s.stale_pid = false;
}

void FakeCluster::KillAfterShutdownCheckpoint(Color color) {
  std::lock_guard<std::mutex> l(mu_);
  FakePostgres& s = Pg(color);
  if (!s.Running()) return;
  action_ = "SIGKILL of " + std::string(api::ColorName(color)) + " after its shutdown checkpoint";
  ShutdownLocked(s);
  s.stale_pid = true;
}

void FakeCluster::SetControlDataFault(Color color, ControlFault fault) {
  std::lock_guard<std::mutex> l(mu_);
  Pg(color).control_fault = fault;
}

void FakeCluster::BeforeNextStep(std::function<void(FakeCluster&)> action) {
  std::lock_guard<std::mutex> l(mu_);
  before_next_step_.push_back(std::move(action));
}

void FakeCluster::SetDisconnected(Color color, bool disconnected) {
  std::lock_guard<std::mutex> l(mu_);
  Pg(color).disconnected = disconnected;
  SyncLocked();
}

void FakeCluster::SetLagging(Color color, bool lagging) {
  std::lock_guard<std::mutex> l(mu_);
  Pg(color).lagging = lagging;
  SyncLocked();
}

void FakeCluster::SetSyncStandbyNames(Color color, const std::string& names) {
  std::lock_guard<std::mutex> l(mu_);
  Pg(color).synchronous_standby_names = names;
}

void FakeCluster::RemoveOldWal(Color color) {
  std::lock_guard<std::mutex> l(mu_);
  action_ = absl::StrCat("remove old WAL on ", std::string(api::ColorName(color)));
  Pg(color).oldest_wal = Pg(color).End();
  SyncLocked();
}

void FakeCluster::AddLogicalSlot(Color color, const std::string& name) {
  std::lock_guard<std::mutex> l(mu_);
  Pg(color).logical_slots.insert(name);
}

void FakeCluster::AddForeignSlot(Color color, const std::string& name) {
  std::lock_guard<std::mutex> l(mu_);
  Pg(color).slots.insert(name);
}

void FakeCluster::SetReplayPaused(Color color, bool paused) {
  std::lock_guard<std::mutex> l(mu_);
  FakePostgres& s = Pg(color);
  s.replay_paused = paused && s.mode == Mode::kStandby;
  SyncLocked();
}

void FakeCluster::SetReplayLag(Color color, int64_t ms) {
  std::lock_guard<std::mutex> l(mu_);
  Pg(color).replay_lag_ms = ms;
}

void FakeCluster::EditPrerequisites(Color color,
                                    const std::function<void(model::Prerequisites&)>& edit) {
  std::lock_guard<std::mutex> l(mu_);
  edit(Pg(color).prerequisites);
}

void FakeCluster::PromoteBehindBack(Color color) {
  std::lock_guard<std::mutex> l(mu_);
  FakePostgres& s = Pg(color);
  action_ = "pg_promote " + std::string(api::ColorName(color)) + " behind Switchyard's back";
  if (s.mode != Mode::kStandby || s.frozen) {
    return;
  }
  // An external failover is unsafe when the other server can still run as a primary: it
  // does, or it would when started (stopped, primary-configured). What the other holds and
  // this one lacks is then the failover's loss, not Switchyard's; so is a split brain.
  const FakePostgres& other = Pg(api::Other(color));
  const bool unsafe =
      other.RunningPrimary() || (!other.Running() && other.has_data && !other.standby_signal);
  // Whatever the failover, what the other holds and this one lacks is its loss.
  const std::set<uint64_t> has = s.Writes();
  for (uint64_t w : other.Writes()) {
    if (has.count(w) == 0) {
      excused_writes_.insert(w);
    }
  }
  s.external_promotion = unsafe;  // before the promotion's own check sees two primaries
  PromoteLocked(s);
}

void FakeCluster::StartWithoutStandbySignal(Color color) {
  std::lock_guard<std::mutex> l(mu_);
  FakePostgres& s = Pg(color);
  action_ = "restart " + std::string(api::ColorName(color)) + " without standby.signal";
  if (s.frozen || s.mode == Mode::kPrimary) {
    return;
  }
  ShutdownLocked(s);
  s.standby_signal = false;
  s.external_promotion = true;  // the two primaries are this fault's, not Switchyard's
  (void)StartLocked(s);
}

void FakeCluster::WipeDataDirectory(Color color) {
  std::lock_guard<std::mutex> l(mu_);
  FakePostgres& s = Pg(color);
  CrashLocked(s);
  const std::set<uint64_t> kept = Pg(api::Other(color)).Writes();
  for (AckedWrite& w : writes_) {
    w.wiped = w.wiped || kept.count(w.id) == 0;
  }
  FakePostgres empty;  // the same server on the same machine, with nothing in its directory
  empty.color = s.color;
  empty.host = s.host;
  empty.port = s.port;
  empty.host_unknown = s.host_unknown;
  empty.host_facts = s.host_facts;
  s = empty;
  SyncLocked();
}

void FakeCluster::SetNginxRunning(bool running) {
  std::lock_guard<std::mutex> l(mu_);
  if (running && !nginx_.running) {
    nginx_.loaded_color = nginx_.file_color;  // a fresh master reads the file
  }
  nginx_.running = running;
}

void FakeCluster::SetNginxTestFails(bool fails) {
  std::lock_guard<std::mutex> l(mu_);
  nginx_.test_fails = fails;
}

void FakeCluster::SetUpstreamsHealthy(Color color, bool healthy) {
  std::lock_guard<std::mutex> l(mu_);
  upstreams_healthy_[color] = healthy;
}

void FakeCluster::ClearFaults() {
  std::lock_guard<std::mutex> l(mu_);
  action_ = "faults cleared";
  for (Color c : api::kColors) {
    FakePostgres& s = Pg(c);
    s.unreachable = s.disconnected = s.lagging = s.replay_paused = false;
    s.control_fault = ControlFault::kNone;
    s.host_unknown.clear();
    if (s.frozen) {
      ThawLocked(s);
    }
    upstreams_healthy_[c] = true;
  }
  if (!nginx_.running) {
    nginx_.running = true;
    nginx_.loaded_color = nginx_.file_color;
  }
  nginx_.test_fails = false;
  nginx_.host_unknown.clear();
  fail_next_.clear();
  fail_next_observe_.clear();
  before_next_step_.clear();
  SyncLocked();
}

// --- ground truth ---

FakePostgres FakeCluster::server(Color color) {
  std::lock_guard<std::mutex> l(mu_);
  return Pg(color);
}

bool FakeCluster::RunningPrimary(Color color) {
  std::lock_guard<std::mutex> l(mu_);
  return Pg(color).RunningPrimary();
}

int FakeCluster::RunningPrimaries() {
  std::lock_guard<std::mutex> l(mu_);
  return static_cast<int>(blue_.RunningPrimary()) + static_cast<int>(green_.RunningPrimary());
}

std::set<uint64_t> FakeCluster::WritesOn(Color color) {
  std::lock_guard<std::mutex> l(mu_);
  return Pg(color).Writes();
}

bool FakeCluster::WalIsPrefixOf(Color a, Color b) {
  std::lock_guard<std::mutex> l(mu_);
  return Pg(a).IsPrefixOf(Pg(b));
}

std::vector<AckedWrite> FakeCluster::AckedWrites() {
  std::lock_guard<std::mutex> l(mu_);
  return writes_;
}

std::vector<StepRecord> FakeCluster::Steps() {
  std::lock_guard<std::mutex> l(mu_);
  return steps_;
}

std::vector<std::string> FakeCluster::Violations() {
  std::lock_guard<std::mutex> l(mu_);
  return violations_;
}

std::set<uint64_t> FakeCluster::ExcusedWrites() {
  std::lock_guard<std::mutex> l(mu_);
  std::set<uint64_t> out = excused_writes_;
  for (const AckedWrite& w : writes_) {
    if (w.split_brain) {
      out.insert(w.id);
    }
  }
  return out;
}

absl::Status FakeCluster::CheckNoAcknowledgedWriteLost() {
  const std::set<uint64_t> excused = ExcusedWrites();
  std::lock_guard<std::mutex> l(mu_);
  if (blue_.RunningPrimary() == green_.RunningPrimary()) {
    return absl::FailedPreconditionError(blue_.RunningPrimary() ? "two running primaries"
                                                                : "no running primary");
  }
  const FakePostgres& p = blue_.RunningPrimary() ? blue_ : green_;
  const std::set<uint64_t> has = p.Writes();
  std::vector<std::string> missing;
  for (const AckedWrite& w : writes_) {
    if (!w.wiped && has.count(w.id) == 0 && excused.count(w.id) == 0) {
      missing.push_back(absl::StrCat(w.id, " (on ", std::string(api::ColorName(w.on)), ")"));
    }
  }
  if (!missing.empty()) {
    return absl::DataLossError(absl::StrCat("the primary ", std::string(api::ColorName(p.color)),
                                            " lacks acknowledged writes ",
                                            absl::StrJoin(missing, ", ")));
  }
  return absl::OkStatus();
}

}  // namespace sy::fakes
