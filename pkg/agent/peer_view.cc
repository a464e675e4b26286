#include "pkg/agent/peer_view.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace sy::agent {
namespace {

constexpr char kPeerPrefix[] = "agent-peer:";

}  // namespace

std::string PeerDirectory(const std::string& dir) { return kPeerPrefix + dir; }

api::DeploymentColor WithPeerDirectory(const api::DeploymentColor& dc, api::Color local) {
  api::DeploymentColor out = dc;
  std::string& other = out.spec.color(api::Other(local)).database.data_directory;
  other = PeerDirectory(other);
  return out;
}

absl::Status NeedsPeerObservation(api::Color other) {
  return absl::FailedPreconditionError(absl::StrCat("needs a fresh observation of ",
                                                    std::string(api::ColorName(other)),
                                                    " from the controller (the request's peer)"));
}

absl::StatusOr<model::ServerState> PeerObserver::Observe(const api::DeploymentColorSpec& spec,
                                                         api::Color color) {
  if (color == local_) return inner_.Observe(spec, color);
  if (!peer_) return NeedsPeerObservation(color);
  model::ServerState s = *peer_;
  s.color = color;
  return s;
}

bool PeerHost::IsPeer(const std::string& dir) const { return absl::StartsWith(dir, kPeerPrefix); }

absl::Status PeerHost::Elsewhere(const std::string& dir) const {
  return absl::FailedPreconditionError(
      absl::StrCat(dir.substr(sizeof(kPeerPrefix) - 1), " is ", std::string(api::ColorName(other_)),
                   "'s data directory, on its own machine: this agent changes its own only"));
}

absl::StatusOr<host::DirectoryContent> PeerHost::InspectDataDirectory(const std::string& dir) {
  if (!IsPeer(dir)) return inner_.InspectDataDirectory(dir);
  if (!peer_) return Missing();
  if (!peer_->directory_error.empty()) {
    return absl::FailedPreconditionError(peer_->directory_error);
  }
  return peer_->data_directory_exists ? host::DirectoryContent::kCluster
                                      : host::DirectoryContent::kAbsent;
}

bool PeerHost::HoldsCluster(const std::string& dir) {
  if (!IsPeer(dir)) return inner_.HoldsCluster(dir);
  return !peer_ || peer_->data_directory_exists;
}

bool PeerHost::PostmasterPidExists(const std::string& dir) {
  if (!IsPeer(dir)) return inner_.PostmasterPidExists(dir);
  return !peer_ || peer_->postmaster_pid;
}

std::optional<int> PeerHost::ReadPostmasterPid(const std::string& dir) {
  // A pid of another machine names no process here.
  if (IsPeer(dir)) return std::nullopt;
  return inner_.ReadPostmasterPid(dir);
}

bool PeerHost::PostmasterAlive(const std::string& dir) {
  if (!IsPeer(dir)) return inner_.PostmasterAlive(dir);
  return !peer_ || peer_->postmaster_alive;  // unknown: it may run
}

absl::StatusOr<model::StartupConfig> PeerHost::ReadStartupConfig(const std::string& dir) {
  if (!IsPeer(dir)) return inner_.ReadStartupConfig(dir);
  if (!peer_) return Missing();
  return peer_->startup;
}

std::vector<std::string> PeerHost::ReadLocalSlots(const std::string& dir) {
  if (!IsPeer(dir)) return inner_.ReadLocalSlots(dir);
  return peer_ ? peer_->local_slots : std::vector<std::string>{};
}

absl::StatusOr<host::WalTimelines> PeerHost::ReadWalTimelines(const std::string& dir) {
  if (!IsPeer(dir)) return inner_.ReadWalTimelines(dir);
  if (!peer_) return Missing();
  return host::WalTimelines{peer_->wal_timeline, peer_->segment_timeline};
}

absl::StatusOr<int> PeerHost::CountArchiveReady(const std::string& dir) {
  if (!IsPeer(dir)) return inner_.CountArchiveReady(dir);
  if (!peer_) return Missing();
  return peer_->archive_ready;
}

absl::StatusOr<std::vector<model::TimelineFork>> PeerHost::ReadTimelineHistory(
    const std::string& dir, uint32_t tli) {
  if (!IsPeer(dir)) return inner_.ReadTimelineHistory(dir, tli);
  if (!peer_) return Missing();
  return peer_->history;
}

absl::StatusOr<model::ControlData> PeerHost::ReadControlData(const std::string& bin_directory,
                                                             const std::string& dir) {
  if (!IsPeer(dir)) return inner_.ReadControlData(bin_directory, dir);
  if (!peer_) return Missing();
  if (!peer_->control) {
    return absl::FailedPreconditionError(
        absl::StrCat(std::string(api::ColorName(other_)), "'s pg_control was not read: ",
                     peer_->directory_error.empty() ? "no cluster" : peer_->directory_error));
  }
  return *peer_->control;
}

bool PeerHost::SameDirectory(const std::string& a, const std::string& b) {
  if (IsPeer(a) || IsPeer(b)) return a == b;
  return inner_.SameDirectory(a, b);
}

std::string PeerHost::ServerLogTail(const std::string& dir) {
  if (!IsPeer(dir)) return inner_.ServerLogTail(dir);
  return absl::StrCat(std::string(api::ColorName(other_)), "'s server log is on its own machine");
}

absl::Status PeerHost::FenceDirectory(const std::string& dir, const std::string& note) {
  return IsPeer(dir) ? Elsewhere(dir) : inner_.FenceDirectory(dir, note);
}

absl::Status PeerHost::RecordPromotionRequest(const std::string& dir, const std::string& line) {
  // The record lives in the old primary's fence, on its own machine, which this agent cannot
  // write. Under agents the same knowledge ("a promotion may be under way") is the promote
  // operation itself: the controller holds every step of a machine with an operation
  // running or in doubt (pkg/agent/README.md "Operations"). The promotion goes on.
  if (IsPeer(dir)) return absl::OkStatus();
  return inner_.RecordPromotionRequest(dir, line);
}

absl::Status PeerHost::LiftFenceDirectory(const std::string& dir) {
  return IsPeer(dir) ? Elsewhere(dir) : inner_.LiftFenceDirectory(dir);
}

absl::Status PeerHost::RemovePromoteRequest(const std::string& dir) {
  return IsPeer(dir) ? Elsewhere(dir) : inner_.RemovePromoteRequest(dir);
}

absl::Status PeerHost::ConfigureStandbyDirectory(const std::string& dir,
                                                 const std::string& primary_conninfo,
                                                 const std::string& slot_name) {
  if (IsPeer(dir)) return Elsewhere(dir);
  return inner_.ConfigureStandbyDirectory(dir, primary_conninfo, slot_name);
}

absl::StatusOr<std::unique_ptr<host::CopyGuard>> PeerHost::LockForCopy(const std::string& dir) {
  if (IsPeer(dir)) return Elsewhere(dir);
  return inner_.LockForCopy(dir);
}

absl::StatusOr<host::SwapRecovery> PeerHost::RecoverInterruptedSwap(const std::string& dir) {
  if (IsPeer(dir)) return Elsewhere(dir);
  return inner_.RecoverInterruptedSwap(dir);
}

absl::Status PeerHost::ClearCopyLeftovers(const std::string& dir) {
  return IsPeer(dir) ? Elsewhere(dir) : inner_.ClearCopyLeftovers(dir);
}

absl::Status PeerHost::SwapInCopy(const std::string& dir) {
  return IsPeer(dir) ? Elsewhere(dir) : inner_.SwapInCopy(dir);
}

}  // namespace sy::agent
