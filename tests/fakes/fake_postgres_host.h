// FakePostgresHost: the machine of PostgreSQL servers in memory, behind host::PostgresHost:
// data directories (cluster or not, postmaster.pid, start-up configuration, pg_control) and
// postmaster processes that answer signals as PostgreSQL does (SIGINT: a fast shutdown that
// removes postmaster.pid), with faults: a frozen postmaster, one that crashes, a signal we
// may not send, pg_controldata failing, any operation failing once.
#pragma once

#include <signal.h>

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "pkg/host/pg_auto_conf.h"
#include "pkg/host/postgres_host.h"
#include "pkg/model/step.h"

namespace sy::fakes {

// One data directory.
struct FakeDataDirectory {
  bool cluster = true;     // PG_VERSION and global/pg_control (else: files but no cluster)
  std::optional<int> pid;  // postmaster.pid's pid; nullopt: no postmaster.pid
  model::StartupConfig startup;
  std::string fence_note;                               // the fence marker's text
  model::ControlData control{"shut down", 7, 0, 1, 0};  // what pg_controldata prints
  absl::Status control_error;                           // ... or how it fails
  std::vector<std::string> local_slots;
  host::WalTimelines wal{1, 1};
  int archive_ready = 0;  // .ready files in pg_wal/archive_status
  std::string log;        // <dir>.log
};

// One process. A postmaster works in `dir`.
struct FakeProcess {
  std::string dir;
  bool alive = true;
  bool frozen = false;           // SIGSTOP: acts on no signal
  bool crashes_on_stop = false;  // dies on SIGINT and leaves postmaster.pid behind
  bool signal_denied = false;    // kill(2) says EPERM (another user's, we are not root)
};

// Thread-safe. Directory() and Process() hand out references: set the world up before the
// steps run.
class FakePostgresHost final : public host::PostgresHost {
 public:
  // The directory at `path`, created (a stopped cluster) when new.
  FakeDataDirectory& Directory(const std::string& path) {
    std::lock_guard<std::mutex> lock(mu_);
    return dirs_[path];
  }
  bool Exists(const std::string& path) {
    std::lock_guard<std::mutex> lock(mu_);
    return dirs_.count(path) > 0;
  }
  void Remove(const std::string& path) {
    std::lock_guard<std::mutex> lock(mu_);
    dirs_.erase(path);
  }
  // A postmaster `pid` now runs in `dir` (postmaster.pid written).
  FakeProcess& RunPostmaster(const std::string& dir, int pid) {
    std::lock_guard<std::mutex> lock(mu_);
    dirs_[dir].pid = pid;
    procs_[pid] = FakeProcess{dir};
    return procs_[pid];
  }
  FakeProcess& Process(int pid) {
    std::lock_guard<std::mutex> lock(mu_);
    return procs_[pid];
  }
  // The next call of operation `op` (the method's name, e.g. "FenceDirectory") fails with
  // `status` and changes nothing.
  void FailNext(const std::string& op, absl::Status status) {
    std::lock_guard<std::mutex> lock(mu_);
    failures_.emplace_back(op, std::move(status));
  }
  // Every signal sent, as {pid, signal}.
  std::vector<std::pair<int, int>> Signals() {
    std::lock_guard<std::mutex> lock(mu_);
    return signals_;
  }
  // Whether a copy lock is held on `dir` now; a copy that holds it (another daemon's).
  bool CopyLocked(const std::string& dir) {
    std::lock_guard<std::mutex> lock(mu_);
    return copy_locked_.count(dir) > 0;
  }
  void HoldCopyLock(const std::string& dir) {
    std::lock_guard<std::mutex> lock(mu_);
    copy_locked_.insert(dir);
  }

  // --- host::PostgresHost ---
  absl::StatusOr<host::DirectoryContent> InspectDataDirectory(const std::string& dir) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (absl::Status f = TakeFailure("InspectDataDirectory"); !f.ok()) return f;
    auto it = dirs_.find(dir);
    if (it == dirs_.end()) return host::DirectoryContent::kAbsent;
    return it->second.cluster ? host::DirectoryContent::kCluster : host::DirectoryContent::kOther;
  }
  bool HoldsCluster(const std::string& dir) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = dirs_.find(dir);
    return it != dirs_.end() && it->second.cluster;
  }
  bool PostmasterPidExists(const std::string& dir) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = dirs_.find(dir);
    return it != dirs_.end() && it->second.pid.has_value();
  }
  std::optional<int> ReadPostmasterPid(const std::string& dir) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = dirs_.find(dir);
    return it == dirs_.end() ? std::nullopt : it->second.pid;
  }
  bool PostmasterAlive(const std::string& dir) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = dirs_.find(dir);
    if (it == dirs_.end() || !it->second.pid) return false;
    auto p = procs_.find(*it->second.pid);
    return p != procs_.end() && p->second.alive && p->second.dir == dir;
  }
  absl::StatusOr<model::StartupConfig> ReadStartupConfig(const std::string& dir) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (absl::Status f = TakeFailure("ReadStartupConfig"); !f.ok()) return f;
    return dirs_[dir].startup;
  }
  std::vector<std::string> ReadLocalSlots(const std::string& dir) override {
    std::lock_guard<std::mutex> lock(mu_);
    return dirs_[dir].local_slots;
  }
  absl::StatusOr<host::WalTimelines> ReadWalTimelines(const std::string& dir) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (absl::Status f = TakeFailure("ReadWalTimelines"); !f.ok()) return f;
    return dirs_[dir].wal;
  }
  absl::StatusOr<int> CountArchiveReady(const std::string& dir) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (absl::Status f = TakeFailure("CountArchiveReady"); !f.ok()) return f;
    return dirs_[dir].archive_ready;
  }
  absl::StatusOr<std::vector<model::TimelineFork>> ReadTimelineHistory(const std::string&,
                                                                       uint32_t) override {
    return std::vector<model::TimelineFork>{};
  }
  absl::Status CheckControlDataProgram(const std::string&) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (absl::Status f = TakeFailure("CheckControlDataProgram"); !f.ok()) return f;
    return absl::OkStatus();
  }
  absl::StatusOr<model::ControlData> ReadControlData(const std::string&,
                                                     const std::string& dir) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (absl::Status f = TakeFailure("ReadControlData"); !f.ok()) return f;
    const FakeDataDirectory& d = dirs_[dir];
    if (!d.control_error.ok()) return d.control_error;
    return d.control;
  }
  bool SameDirectory(const std::string& a, const std::string& b) override {
    return !a.empty() && a == b;
  }
  std::string ServerLogTail(const std::string& dir) override {
    std::lock_guard<std::mutex> lock(mu_);
    return dir + ".log:\n" + dirs_[dir].log;
  }

  bool ProcessAlive(int pid) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto p = procs_.find(pid);
    return p != procs_.end() && p->second.alive;
  }
  absl::Status SignalProcess(int pid, int signal) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (absl::Status f = TakeFailure("SignalProcess"); !f.ok()) return f;
    auto p = procs_.find(pid);
    if (p == procs_.end() || !p->second.alive) {
      return absl::NotFoundError("signalling pid " + std::to_string(pid) + ": no such process");
    }
    if (p->second.signal_denied) {
      return absl::PermissionDeniedError("signalling pid " + std::to_string(pid) +
                                         ": Operation not permitted");
    }
    signals_.emplace_back(pid, signal);
    if (signal != SIGINT || p->second.frozen) return absl::OkStatus();
    p->second.alive = false;
    FakeDataDirectory& d = dirs_[p->second.dir];
    if (p->second.crashes_on_stop) return absl::OkStatus();  // postmaster.pid stays
    d.pid.reset();
    // A running server's role, not its start-up files (read only at start), decides.
    d.control.cluster_state =
        d.control.cluster_state == "in production" ? "shut down" : "shut down in recovery";
    return absl::OkStatus();
  }

  absl::Status FenceDirectory(const std::string& dir, const std::string& note) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (absl::Status f = TakeFailure("FenceDirectory"); !f.ok()) return f;
    FakeDataDirectory& d = dirs_[dir];
    if (!d.cluster) return absl::FailedPreconditionError(dir + " holds no cluster");
    d.startup.primary_conninfo.clear();
    d.startup.primary_slot_name.clear();
    d.startup.primary_host.clear();
    d.startup.primary_port = 0;
    if (!d.startup.fenced) d.fence_note = note;
    d.startup.fenced = true;
    d.startup.standby_signal = true;
    return absl::OkStatus();
  }
  absl::Status RecordPromotionRequest(const std::string& dir, const std::string& line) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (absl::Status f = TakeFailure("RecordPromotionRequest"); !f.ok()) return f;
    FakeDataDirectory& d = dirs_[dir];
    if (!d.startup.fenced) return absl::FailedPreconditionError(dir + " is not fenced");
    if (!d.startup.fence_promotion_requested) d.fence_note += line + "\n";
    d.startup.fence_promotion_requested = true;
    return absl::OkStatus();
  }
  absl::Status LiftFenceDirectory(const std::string& dir) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (absl::Status f = TakeFailure("LiftFenceDirectory"); !f.ok()) return f;
    FakeDataDirectory& d = dirs_[dir];
    d.startup.recovery_signal = false;
    d.startup.standby_signal = false;
    d.startup.fenced = false;
    d.startup.fence_promotion_requested = false;
    d.fence_note.clear();
    return absl::OkStatus();
  }
  absl::Status RemovePromoteRequest(const std::string& dir) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (absl::Status f = TakeFailure("RemovePromoteRequest"); !f.ok()) return f;
    dirs_[dir].startup.promote_requested = false;
    return absl::OkStatus();
  }
  absl::Status ConfigureStandbyDirectory(const std::string& dir,
                                         const std::string& primary_conninfo,
                                         const std::string& slot_name) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (absl::Status f = TakeFailure("ConfigureStandbyDirectory"); !f.ok()) return f;
    FakeDataDirectory& d = dirs_[dir];
    if (!d.cluster) return absl::FailedPreconditionError(dir + " holds no cluster");
    std::erase_if(d.local_slots, [](const std::string& n) { return model::IsSwitchyardSlot(n); });
    d.startup.primary_conninfo = primary_conninfo;
    d.startup.primary_host = host::ConninfoHost(primary_conninfo);  // as ReadStartupConfig reads it
    d.startup.primary_port = host::ConninfoPort(primary_conninfo);
    d.startup.primary_slot_name = slot_name;
    d.startup.standby_signal = true;
    d.startup.recovery_signal = false;
    d.startup.fenced = false;
    d.startup.fence_promotion_requested = false;
    d.fence_note.clear();
    return absl::OkStatus();
  }

  absl::StatusOr<std::unique_ptr<host::CopyGuard>> LockForCopy(const std::string& dir) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (absl::Status f = TakeFailure("LockForCopy"); !f.ok()) return f;
    if (copy_locked_.count(dir) > 0) {
      return absl::UnavailableError(dir + ": a copy into it runs (pid 4242 holds the lock)");
    }
    copy_locked_.insert(dir);
    return std::unique_ptr<host::CopyGuard>(std::make_unique<Guard>(this, dir));
  }
  absl::StatusOr<host::SwapRecovery> RecoverInterruptedSwap(const std::string& dir) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (absl::Status f = TakeFailure("RecoverInterruptedSwap"); !f.ok()) return f;
    const std::string fresh = host::CopyDirectory(dir);
    const std::string old = dir + ".old";
    if (dirs_.count(dir) > 0 || dirs_.count(old) == 0) return host::SwapRecovery::kNone;
    const bool complete = dirs_.count(fresh) > 0 && dirs_[fresh].cluster;
    dirs_[dir] = dirs_[complete ? fresh : old];
    dirs_.erase(complete ? fresh : old);
    if (!complete) return host::SwapRecovery::kRolledBack;
    dirs_.erase(old);
    return host::SwapRecovery::kCompleted;
  }
  absl::Status ClearCopyLeftovers(const std::string& dir) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (absl::Status f = TakeFailure("ClearCopyLeftovers"); !f.ok()) return f;
    dirs_.erase(dir + ".old");
    dirs_.erase(host::CopyDirectory(dir));
    return absl::OkStatus();
  }
  absl::Status SwapInCopy(const std::string& dir) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (absl::Status f = TakeFailure("SwapInCopy"); !f.ok()) return f;
    const std::string fresh = host::CopyDirectory(dir);
    if (dirs_.count(fresh) == 0) return absl::NotFoundError("renaming " + fresh + ": absent");
    dirs_[dir] = dirs_[fresh];
    dirs_.erase(fresh);
    return absl::OkStatus();
  }

 private:
  class Guard final : public host::CopyGuard {
   public:
    Guard(FakePostgresHost* host, std::string dir) : host_(host), dir_(std::move(dir)) {}
    ~Guard() override {
      std::lock_guard<std::mutex> lock(host_->mu_);
      host_->copy_locked_.erase(dir_);
    }
    std::vector<int> InheritedDescriptors() const override { return {}; }

   private:
    FakePostgresHost* host_;
    std::string dir_;
  };

  // The injected failure of `op`, consumed; OK when none. Called with mu_ held.
  absl::Status TakeFailure(const std::string& op) {
    for (auto it = failures_.begin(); it != failures_.end(); ++it) {
      if (it->first == op) {
        absl::Status s = it->second;
        failures_.erase(it);
        return s;
      }
    }
    return absl::OkStatus();
  }

  std::mutex mu_;
  std::map<std::string, FakeDataDirectory> dirs_;
  std::map<int, FakeProcess> procs_;
  std::set<std::string> copy_locked_;
  std::deque<std::pair<std::string, absl::Status>> failures_;
  std::vector<std::pair<int, int>> signals_;
};

}  // namespace sy::fakes
