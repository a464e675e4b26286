#include "pkg/host/local_postgres_host.h"

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "pkg/host/copy_lock.h"
#include "pkg/host/pg_standby_config.h"
#include "pkg/host/process.h"
#include "pkg/util/files.h"
#include "pkg/util/status_macros.h"

namespace sy::host {
namespace {

// Removes a directory tree; OK when it does not exist.
absl::Status RemoveTree(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  return ec ? util::ErrnoStatus(ec.value(), "removing " + path) : absl::OkStatus();
}

absl::Status Rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return util::ErrnoStatus(errno, "renaming " + from + " to " + to);
  }
  return absl::OkStatus();
}

absl::Status SyncParent(const std::string& path) {
  return SyncDirectory(std::filesystem::path(path).parent_path().string());
}

class LocalCopyGuard final : public CopyGuard {
 public:
  explicit LocalCopyGuard(CopyLock lock) : lock_(std::move(lock)) {}
  std::vector<int> InheritedDescriptors() const override { return {lock_.Descriptor()}; }

 private:
  CopyLock lock_;
};

}  // namespace

std::string CopyDirectory(const std::string& dir) { return dir + ".new"; }

absl::StatusOr<DirectoryContent> LocalPostgresHost::InspectDataDirectory(const std::string& dir) {
  return host::InspectDataDirectory(dir);
}
bool LocalPostgresHost::HoldsCluster(const std::string& dir) { return host::HoldsCluster(dir); }
bool LocalPostgresHost::PostmasterPidExists(const std::string& dir) {
  return util::PathExists(dir + "/postmaster.pid");
}
std::optional<int> LocalPostgresHost::ReadPostmasterPid(const std::string& dir) {
  return host::ReadPostmasterPid(dir);
}
bool LocalPostgresHost::PostmasterAlive(const std::string& dir) {
  return host::PostmasterAlive(dir);
}
absl::StatusOr<model::StartupConfig> LocalPostgresHost::ReadStartupConfig(const std::string& dir) {
  return host::ReadStartupConfig(dir);
}
std::vector<std::string> LocalPostgresHost::ReadLocalSlots(const std::string& dir) {
  return host::ReadLocalSlots(dir);
}
absl::StatusOr<WalTimelines> LocalPostgresHost::ReadWalTimelines(const std::string& dir) {
  return host::ReadWalTimelines(dir);
}
absl::StatusOr<int> LocalPostgresHost::CountArchiveReady(const std::string& dir) {
  return host::CountArchiveReady(dir);
}
absl::StatusOr<std::vector<model::TimelineFork>> LocalPostgresHost::ReadTimelineHistory(
    const std::string& dir, uint32_t tli) {
  return host::ReadTimelineHistory(dir, tli);
}
absl::Status LocalPostgresHost::CheckControlDataProgram(const std::string& bin_directory) {
  return host::CheckControlDataProgram(bin_directory);
}
absl::StatusOr<model::ControlData> LocalPostgresHost::ReadControlData(
    const std::string& bin_directory, const std::string& dir) {
  return RunControlData(runner_, bin_directory, dir);
}

bool LocalPostgresHost::SameDirectory(const std::string& a, const std::string& b) {
  if (a.empty() || b.empty()) return false;
  std::error_code ec;
  return std::filesystem::equivalent(a, b, ec) && !ec;
}

std::string LocalPostgresHost::ServerLogTail(const std::string& dir) {
  const std::string path = dir + ".log";
  absl::StatusOr<std::string> content = util::ReadFile(path);
  if (!content.ok()) return "(no log at " + path + ")";
  std::string tail = content->size() > 1500 ? content->substr(content->size() - 1500) : *content;
  if (content->size() > 1500) tail = tail.substr(std::min(tail.size(), tail.find('\n') + 1));
  return path + ":\n" + tail;
}

bool LocalPostgresHost::ProcessAlive(int pid) { return host::ProcessAlive(pid); }

absl::Status LocalPostgresHost::SignalProcess(int pid, int signal) {
  if (::kill(pid, signal) == 0) return absl::OkStatus();
  const std::string what = absl::StrCat("signalling pid ", pid);
  if (errno == ESRCH) return absl::NotFoundError(what + ": no such process");
  return util::ErrnoStatus(errno, what);
}

absl::Status LocalPostgresHost::FenceDirectory(const std::string& dir, const std::string& note) {
  return host::FenceDirectory(dir, note);
}
absl::Status LocalPostgresHost::RecordPromotionRequest(const std::string& dir,
                                                       const std::string& line) {
  return host::RecordPromotionRequest(dir, line);
}
absl::Status LocalPostgresHost::LiftFenceDirectory(const std::string& dir) {
  return host::LiftFenceDirectory(dir);
}
absl::Status LocalPostgresHost::RemovePromoteRequest(const std::string& dir) {
  return host::RemovePromoteRequest(dir);
}
absl::Status LocalPostgresHost::ConfigureStandbyDirectory(const std::string& dir,
                                                          const std::string& primary_conninfo,
                                                          const std::string& slot_name) {
  return host::ConfigureStandbyDirectory(dir, primary_conninfo, slot_name);
}

absl::StatusOr<std::unique_ptr<CopyGuard>> LocalPostgresHost::LockForCopy(const std::string& dir) {
  SY_ASSIGN_OR_RETURN(CopyLock lock, CopyLock::Acquire(dir, clock_));
  return std::make_unique<LocalCopyGuard>(std::move(lock));
}

absl::StatusOr<SwapRecovery> LocalPostgresHost::RecoverInterruptedSwap(const std::string& dir) {
  const std::string fresh = CopyDirectory(dir);
  const std::string old = dir + ".old";
  if (util::PathExists(dir) || !util::PathExists(old)) return SwapRecovery::kNone;
  const bool complete = host::HoldsCluster(fresh);
  SY_RETURN_IF_ERROR(Rename(complete ? fresh : old, dir));
  SY_RETURN_IF_ERROR(SyncParent(dir));
  if (!complete) return SwapRecovery::kRolledBack;
  SY_RETURN_IF_ERROR(RemoveTree(old));
  return SwapRecovery::kCompleted;
}

absl::Status LocalPostgresHost::ClearCopyLeftovers(const std::string& dir) {
  SY_RETURN_IF_ERROR(RemoveTree(dir + ".old"));  // swapped out already
  return RemoveTree(CopyDirectory(dir));         // never swapped in
}

absl::Status LocalPostgresHost::SwapInCopy(const std::string& dir) {
  const std::string old = dir + ".old";
  const bool replace = util::PathExists(dir);
  if (replace) SY_RETURN_IF_ERROR(Rename(dir, old));
  SY_RETURN_IF_ERROR(Rename(CopyDirectory(dir), dir));
  SY_RETURN_IF_ERROR(SyncParent(dir));
  if (replace) SY_RETURN_IF_ERROR(RemoveTree(old));
  return absl::OkStatus();
}

}  // namespace sy::host
