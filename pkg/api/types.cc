#include "pkg/api/types.h"

namespace sy::api {

std::string_view ColorName(Color c) { return c == Color::kBlue ? "blue" : "green"; }

std::optional<Color> ParseColor(std::string_view s) {
  if (s == "blue") return Color::kBlue;
  if (s == "green") return Color::kGreen;
  return std::nullopt;
}

std::string_view RejoinMethodName(RejoinMethod m) {
  return m == RejoinMethod::kAuto ? "auto" : "basebackup";
}

std::optional<RejoinMethod> ParseRejoinMethod(std::string_view s) {
  if (s == "auto") return RejoinMethod::kAuto;
  if (s == "basebackup") return RejoinMethod::kBasebackup;
  return std::nullopt;
}

std::string_view SynchronousReplicationName(SynchronousReplication m) {
  switch (m) {
    case SynchronousReplication::kUnmanaged:
      return "unmanaged";
    case SynchronousReplication::kPreferred:
      return "preferred";
    case SynchronousReplication::kRequired:
      return "required";
  }
  return "unmanaged";
}

std::optional<SynchronousReplication> ParseSynchronousReplication(std::string_view s) {
  if (s == "unmanaged") return SynchronousReplication::kUnmanaged;
  if (s == "preferred") return SynchronousReplication::kPreferred;
  if (s == "required") return SynchronousReplication::kRequired;
  return std::nullopt;
}

std::string_view PhaseName(Phase p) {
  switch (p) {
    case Phase::kConverged:
      return "Converged";
    case Phase::kProgressing:
      return "Progressing";
    case Phase::kPaused:
      return "Paused";
    case Phase::kDegraded:
      return "Degraded";
    case Phase::kFailed:
      return "Failed";
    case Phase::kInvalid:
      return "Invalid";
  }
  return "Unknown";
}

std::optional<Phase> ParsePhase(std::string_view s) {
  for (Phase p : {Phase::kConverged, Phase::kProgressing, Phase::kPaused, Phase::kDegraded,
                  Phase::kFailed, Phase::kInvalid}) {
    if (PhaseName(p) == s) return p;
  }
  return std::nullopt;
}

const Condition* FindCondition(const DeploymentColorStatus& s, std::string_view type) {
  for (const auto& c : s.conditions) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

}  // namespace sy::api
