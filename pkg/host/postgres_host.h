// The operations on the machine of a PostgreSQL server that need no connection to it, behind
// one interface: reading its data directory and pg_control, the postmaster's process, the
// start-up configuration the steps write, and the copy lock and directory swap of a
// re-clone. The observer and the database steps take it; pkg/app builds the local one
// (local_postgres_host.h); an agent on another machine would implement it there. Server
// programs (postgres, pg_ctl, pg_rewind, pg_basebackup) run through util::CommandRunner.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "pkg/host/pg_datadir.h"
#include "pkg/model/world.h"

namespace sy::host {

// Held while a copy writes into a data directory. Movable only through its owner.
class CopyGuard {
 public:
  virtual ~CopyGuard() = default;
  // The descriptors a copy tool must inherit (util::Command::inherit_fds) so that the
  // guard lives as long as the copy's processes do.
  virtual std::vector<int> InheritedDescriptors() const = 0;
};

// How an interrupted swap of a re-cloned directory was resolved.
enum class SwapRecovery {
  kNone,        // no swap was interrupted
  kCompleted,   // the complete copy is in place, the old directory removed
  kRolledBack,  // the copy was incomplete: the old directory is back
};

// Each method is one call on the server's machine; paths are absolute data directories.
// Thread-safe. Errors name the path; codes as the functions of pg_datadir.h and
// pg_standby_config.h they stand for.
class PostgresHost {
 public:
  virtual ~PostgresHost() = default;

  // --- reading the data directory (pg_datadir.h) ---
  virtual absl::StatusOr<DirectoryContent> InspectDataDirectory(const std::string& dir) = 0;
  virtual bool HoldsCluster(const std::string& dir) = 0;
  // postmaster.pid is there (alive or not).
  virtual bool PostmasterPidExists(const std::string& dir) = 0;
  virtual std::optional<int> ReadPostmasterPid(const std::string& dir) = 0;
  virtual bool PostmasterAlive(const std::string& dir) = 0;
  virtual absl::StatusOr<model::StartupConfig> ReadStartupConfig(const std::string& dir) = 0;
  virtual std::vector<std::string> ReadLocalSlots(const std::string& dir) = 0;
  virtual absl::StatusOr<WalTimelines> ReadWalTimelines(const std::string& dir) = 0;
  virtual absl::StatusOr<int> CountArchiveReady(const std::string& dir) = 0;
  virtual absl::StatusOr<std::vector<model::TimelineFork>> ReadTimelineHistory(
      const std::string& dir, uint32_t tli) = 0;
  virtual absl::Status CheckControlDataProgram(const std::string& bin_directory) = 0;
  // RunControlData: pg_controldata of `dir`, parsed.
  virtual absl::StatusOr<model::ControlData> ReadControlData(const std::string& bin_directory,
                                                             const std::string& dir) = 0;
  // `a` and `b` name the same existing directory; false when either is "" or unreadable.
  virtual bool SameDirectory(const std::string& a, const std::string& b) = 0;
  // The end of the server's log (<dir>.log), prefixed with its path, for error messages.
  virtual std::string ServerLogTail(const std::string& dir) = 0;

  // --- processes ---
  // `pid` has not exited (a zombie has).
  virtual bool ProcessAlive(int pid) = 0;
  // Sends `signal` (0: only checks) to `pid`: kNotFound when there is no such process,
  // kPermissionDenied when we may not signal it.
  virtual absl::Status SignalProcess(int pid, int signal) = 0;

  // --- writing the start-up configuration (pg_standby_config.h) ---
  virtual absl::Status FenceDirectory(const std::string& dir, const std::string& note) = 0;
  virtual absl::Status RecordPromotionRequest(const std::string& dir, const std::string& line) = 0;
  virtual absl::Status LiftFenceDirectory(const std::string& dir) = 0;
  virtual absl::Status RemovePromoteRequest(const std::string& dir) = 0;
  virtual absl::Status ConfigureStandbyDirectory(const std::string& dir,
                                                 const std::string& primary_conninfo,
                                                 const std::string& slot_name) = 0;

  // --- copies (pg_rewind into `dir`, pg_basebackup into CopyDirectory(dir)) ---
  // Takes `dir`'s copy lock (CopyLock::Acquire): kUnavailable while a live copy holds it.
  virtual absl::StatusOr<std::unique_ptr<CopyGuard>> LockForCopy(const std::string& dir) = 0;
  // After a crash between the two renames of SwapInCopy (`dir` gone, <dir>.old there): puts
  // a complete copy in place (kCompleted) or the old directory back (kRolledBack).
  virtual absl::StatusOr<SwapRecovery> RecoverInterruptedSwap(const std::string& dir) = 0;
  // Removes <dir>.old and <dir>.new, whatever a previous copy left.
  virtual absl::Status ClearCopyLeftovers(const std::string& dir) = 0;
  // Puts the copy <dir>.new in the place of `dir` (which may be absent), durably, and
  // removes the old directory.
  virtual absl::Status SwapInCopy(const std::string& dir) = 0;
};

// Where pg_basebackup writes the copy that SwapInCopy puts in place: "<dir>.new".
std::string CopyDirectory(const std::string& dir);

}  // namespace sy::host
