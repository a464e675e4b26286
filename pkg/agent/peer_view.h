// How a database step on an agent sees the other database, which is on another machine:
// through the observation the controller took of it right before the request (`peer`). The
// PostgreSQL steps re-check the other server right before their irreversible act, through
// their observer and by reading its data directory (is its postmaster alive, is it fenced,
// what does its pg_control say); on the agent both answer from `peer`, and anything that
// would change the other's directory is refused: this agent acts on its own machine only.
//
// The other color's data directory may have the very same path on its own machine as this
// one's, so the step is given a spec in which the other's path is replaced by a name no real
// directory has (PeerDirectory), and the host view below routes by that name.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pkg/api/types.h"
#include "pkg/host/postgres_host.h"
#include "pkg/model/observers.h"
#include "pkg/model/world.h"

namespace sy::agent {

// "agent-peer:<dir>": the name the other color's data directory has in the spec given to a
// step (never an absolute path, so no file operation could reach a real directory by it).
std::string PeerDirectory(const std::string& dir);

// The resource as the steps on `local`'s machine see it: the other color's data directory
// renamed to PeerDirectory().
api::DeploymentColor WithPeerDirectory(const api::DeploymentColor& dc, api::Color local);

// "needs a fresh observation of green from the controller"
absl::Status NeedsPeerObservation(api::Color other);

// A PostgresObserver that observes `local` through `inner` and answers the other color with
// `peer` (kFailedPrecondition without one). Thread-compatible.
class PeerObserver final : public model::PostgresObserver {
 public:
  // `inner` must outlive this object.
  PeerObserver(model::PostgresObserver& inner, api::Color local,
               std::optional<model::ServerState> peer)
      : inner_(inner), local_(local), peer_(std::move(peer)) {}
  absl::StatusOr<model::ServerState> Observe(const api::DeploymentColorSpec& spec,
                                             api::Color color) override;

 private:
  model::PostgresObserver& inner_;
  const api::Color local_;
  const std::optional<model::ServerState> peer_;
};

// A PostgresHost that passes every call to `inner` except those on PeerDirectory(...)
// paths, which read `peer` (without one: what is safest for the caller to believe, i.e. a
// postmaster that may be alive, or kFailedPrecondition) and never write. Thread-safe as
// `inner` is.
class PeerHost final : public host::PostgresHost {
 public:
  // `inner` must outlive this object.
  PeerHost(host::PostgresHost& inner, api::Color other, std::optional<model::ServerState> peer)
      : inner_(inner), other_(other), peer_(std::move(peer)) {}

  absl::StatusOr<host::DirectoryContent> InspectDataDirectory(const std::string& dir) override;
  bool HoldsCluster(const std::string& dir) override;
  bool PostmasterPidExists(const std::string& dir) override;
  std::optional<int> ReadPostmasterPid(const std::string& dir) override;
  bool PostmasterAlive(const std::string& dir) override;
  absl::StatusOr<model::StartupConfig> ReadStartupConfig(const std::string& dir) override;
  std::vector<std::string> ReadLocalSlots(const std::string& dir) override;
  absl::StatusOr<host::WalTimelines> ReadWalTimelines(const std::string& dir) override;
  absl::StatusOr<int> CountArchiveReady(const std::string& dir) override;
  absl::StatusOr<std::vector<model::TimelineFork>> ReadTimelineHistory(const std::string& dir,
                                                                       uint32_t tli) override;
  absl::Status CheckControlDataProgram(const std::string& bin_directory) override {
    return inner_.CheckControlDataProgram(bin_directory);
  }
  absl::StatusOr<model::ControlData> ReadControlData(const std::string& bin_directory,
                                                     const std::string& dir) override;
  bool SameDirectory(const std::string& a, const std::string& b) override;
  std::string ServerLogTail(const std::string& dir) override;
  bool ProcessAlive(int pid) override { return inner_.ProcessAlive(pid); }
  absl::Status SignalProcess(int pid, int signal) override {
    return inner_.SignalProcess(pid, signal);
  }
  absl::Status FenceDirectory(const std::string& dir, const std::string& note) override;
  absl::Status RecordPromotionRequest(const std::string& dir, const std::string& line) override;
  absl::Status LiftFenceDirectory(const std::string& dir) override;
  absl::Status RemovePromoteRequest(const std::string& dir) override;
  absl::Status ConfigureStandbyDirectory(const std::string& dir,
                                         const std::string& primary_conninfo,
                                         const std::string& slot_name) override;
  absl::StatusOr<std::unique_ptr<host::CopyGuard>> LockForCopy(const std::string& dir) override;
  absl::StatusOr<host::SwapRecovery> RecoverInterruptedSwap(const std::string& dir) override;
  absl::Status ClearCopyLeftovers(const std::string& dir) override;
  absl::Status SwapInCopy(const std::string& dir) override;

 private:
  // Whether `dir` names the other color's data directory (PeerDirectory).
  bool IsPeer(const std::string& dir) const;
  absl::Status Elsewhere(const std::string& dir) const;
  absl::Status Missing() const { return NeedsPeerObservation(other_); }

  host::PostgresHost& inner_;
  const api::Color other_;
  const std::optional<model::ServerState> peer_;
};

}  // namespace sy::agent
