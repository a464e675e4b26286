#include "pkg/metrics/labels.h"

#include <algorithm>

#include "pkg/api/types.h"

namespace sy::metrics {

const std::vector<std::string_view>& KnownReasons() {
  // pkg/plan/planner.cc, then pkg/controller/reconciler.cc. A reason missing here shows as
  // "other" on the metrics (and the Ready condition still names it).
  static const std::vector<std::string_view> kReasons = {
      "Converged",
      "Paused",
      "SwitchingTraffic",
      "Fencing",
      "CatchingUp",
      "Promoting",
      "Checkpointing",
      "CancellingPromotion",
      "StoppingFencedServer",
      "ReleasingFence",
      "LiftingFence",
      "AbandoningSwitch",
      "SwitchAbandoned",
      "RevertingSwitch",
      "CatchUpTimedOut",
      "ArchiveGap",
      "ArchivePending",
      "CreatingSlot",
      "DroppingSlot",
      "WalRemoved",
      "LogicalSlots",
      "Rejoining",
      "Bootstrapping",
      "StartingStandby",
      "StandbyConnecting",
      "StartingPrimary",
      "NoPrimary",
      "SplitBrain",
      "ServerUnreachable",
      "ServerUnreadable",
      "AgentUnreachable",
      "NginxNotRunning",
      "UpstreamsUnhealthy",
      "SystemIdentifierMismatch",
      "ReplayPaused",
      "StandbyLagging",
      "ReplayLagging",
      "ApplyDelay",
      "HotStandbyOff",
      "InsufficientPrivileges",
      "UnsupportedVersion",
      "SynchronousStandbyUnsatisfiable",
      "CommitsBlocked",
      "SettingSyncStandby",
      kObserveFailed,
      kStepFailed,
      "InvalidManifest",
  };
  return kReasons;
}

std::string_view ReasonLabel(std::string_view reason) {
  const auto& known = KnownReasons();
  const auto it = std::find(known.begin(), known.end(), reason);
  return it == known.end() ? kOther : *it;
}

std::string_view ColorLabel(std::string_view color) {
  const std::optional<api::Color> c = api::ParseColor(color);
  return c ? api::ColorName(*c) : kOther;
}

}  // namespace sy::metrics
