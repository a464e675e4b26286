// FakeCluster's fault injection (what happens behind the controller's back) and its
// ground-truth accessors and invariant checks.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/fakes/fake_cluster.h"

namespace sy::fakes {

using api::Color;

// --- faults ---

void FakeCluster::FailNext(plan::StepKind kind, absl::Status status) {
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

void FakeCluster::StopServer(Color color) {
  std::lock_guard<std::mutex> l(mu_);
  ShutdownLocked(Pg(color));
}

void FakeCluster::CrashServer(Color color) {
  std::lock_guard<std::mutex> l(mu_);
  CrashLocked(Pg(color));
}

void FakeCluster::StartServer(Color color) {
  std::lock_guard<std::mutex> l(mu_);
  (void)StartLocked(Pg(color));
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

void FakeCluster::SetReplayPaused(Color color, bool paused) {
  std::lock_guard<std::mutex> l(mu_);
  FakePostgres& s = Pg(color);
  s.replay_paused = paused && s.mode == Mode::kStandby;
  SyncLocked();
}

void FakeCluster::PromoteBehindBack(Color color) {
  std::lock_guard<std::mutex> l(mu_);
  FakePostgres& s = Pg(color);
  if (s.mode != Mode::kStandby) {
    return;
  }
  PromoteLocked(s);
}

void FakeCluster::WipeDataDirectory(Color color) {
  std::lock_guard<std::mutex> l(mu_);
  FakePostgres& s = Pg(color);
  CrashLocked(s);
  const std::set<uint64_t> kept = Pg(api::Other(color)).Writes();
  for (AckedWrite& w : writes_) {
    w.wiped = w.wiped || kept.count(w.id) == 0;
  }
  FakePostgres empty;
  empty.color = s.color;
  empty.port = s.port;
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
  for (Color c : api::kColors) {
    FakePostgres& s = Pg(c);
    s.unreachable = s.disconnected = s.lagging = s.replay_paused = false;
    upstreams_healthy_[c] = true;
  }
  if (!nginx_.running) {
    nginx_.running = true;
    nginx_.loaded_color = nginx_.file_color;
  }
  nginx_.test_fails = false;
  fail_next_.clear();
  fail_next_observe_.clear();
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

absl::Status FakeCluster::CheckNoAcknowledgedWriteLost(const std::set<Color>& may_discard) {
  std::lock_guard<std::mutex> l(mu_);
  if (blue_.RunningPrimary() == green_.RunningPrimary()) {
    return absl::FailedPreconditionError(blue_.RunningPrimary() ? "two running primaries"
                                                                : "no running primary");
  }
  const FakePostgres& p = blue_.RunningPrimary() ? blue_ : green_;
  std::set<uint64_t> excused = p.Writes();
  for (const StepRecord& r : steps_) {
    if (may_discard.count(r.step.target) > 0) {
      excused.insert(r.discarded_writes.begin(), r.discarded_writes.end());
    }
  }
  std::vector<std::string> missing;
  for (const AckedWrite& w : writes_) {
    if (!w.wiped && excused.count(w.id) == 0) {
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
