// The PostgresHost of this machine: the data directory read and written through the
// functions of pg_datadir.h and pg_standby_config.h, processes through /proc and kill(2),
// pg_controldata through a util::CommandRunner, copies under a CopyLock.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pkg/host/postgres_host.h"
#include "pkg/util/clock.h"
#include "pkg/util/command_runner.h"

namespace sy::host {

// Thread-safe.
class LocalPostgresHost final : public PostgresHost {
 public:
  // `runner` and `clock` must outlive this object. `runner` runs pg_controldata; `clock`
  // times the wait for a copy lock's leftovers.
  LocalPostgresHost(util::CommandRunner& runner, const util::Clock& clock)
      : runner_(runner), clock_(clock) {}

  absl::StatusOr<DirectoryContent> InspectDataDirectory(const std::string& dir) override;
  bool HoldsCluster(const std::string& dir) override;
  bool PostmasterPidExists(const std::string& dir) override;
  std::optional<int> ReadPostmasterPid(const std::string& dir) override;
  bool PostmasterAlive(const std::string& dir) override;
  absl::StatusOr<model::StartupConfig> ReadStartupConfig(const std::string& dir) override;
  std::vector<std::string> ReadLocalSlots(const std::string& dir) override;
  absl::StatusOr<WalTimelines> ReadWalTimelines(const std::string& dir) override;
  absl::StatusOr<int> CountArchiveReady(const std::string& dir) override;
  absl::StatusOr<std::vector<model::TimelineFork>> ReadTimelineHistory(const std::string& dir,
                                                                       uint32_t tli) override;
  absl::Status CheckControlDataProgram(const std::string& bin_directory) override;
  absl::StatusOr<model::ControlData> ReadControlData(const std::string& bin_directory,
                                                     const std::string& dir) override;
  bool SameDirectory(const std::string& a, const std::string& b) override;
  std::string ServerLogTail(const std::string& dir) override;

  bool ProcessAlive(int pid) override;
  absl::Status SignalProcess(int pid, int signal) override;

  absl::Status FenceDirectory(const std::string& dir, const std::string& note) override;
  absl::Status RecordPromotionRequest(const std::string& dir, const std::string& line) override;
  absl::Status LiftFenceDirectory(const std::string& dir) override;
  absl::Status RemovePromoteRequest(const std::string& dir) override;
  absl::Status ConfigureStandbyDirectory(const std::string& dir,
                                         const std::string& primary_conninfo,
                                         const std::string& slot_name) override;

  absl::StatusOr<std::unique_ptr<CopyGuard>> LockForCopy(const std::string& dir) override;
  absl::StatusOr<SwapRecovery> RecoverInterruptedSwap(const std::string& dir) override;
  absl::Status ClearCopyLeftovers(const std::string& dir) override;
  absl::Status SwapInCopy(const std::string& dir) override;

 private:
  util::CommandRunner& runner_;
  const util::Clock& clock_;
};

}  // namespace sy::host
