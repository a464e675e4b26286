#include "pkg/api/types.h"

#include <algorithm>
#include <charconv>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace sy::api {

std::string_view ColorName(Color c) { return c == Color::kBlue ? "blue" : "green"; }

std::optional<Color> ParseColor(std::string_view s) {
  if (s == "blue") return Color::kBlue;
  if (s == "green") return Color::kGreen;
  return std::nullopt;
}

bool SameMachine(std::string_view agent, std::string_view other_agent) {
  return absl::AsciiStrToLower(std::string(agent)) ==
         absl::AsciiStrToLower(std::string(other_agent));
}

bool DatabasesShareMachine(const DeploymentColorSpec& spec) {
  return SameMachine(spec.blue.database.agent, spec.green.database.agent);
}

std::string FormatDiscardConsent(const DiscardConsent& c) {
  return absl::StrCat(std::string(ColorName(c.color)), "@tli=", c.timeline, ",lsn=", c.lsn);
}

namespace {

// 1 to 8 upper-case hex digits without a leading zero ("0" itself is one): half of an LSN as
// PostgreSQL prints it, so that one position has one spelling.
bool IsLsnHalf(std::string_view s) {
  return !s.empty() && s.size() <= 8 && (s.size() == 1 || s.front() != '0') &&
         std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); });
}

}  // namespace

std::optional<DiscardConsent> ParseDiscardConsent(std::string_view s) {
  const size_t at = s.find('@');
  if (at == std::string_view::npos) return std::nullopt;
  const std::optional<Color> color = ParseColor(s.substr(0, at));
  std::string_view rest = s.substr(at + 1);
  constexpr std::string_view kTli = "tli=";
  constexpr std::string_view kLsn = ",lsn=";
  if (!color || rest.substr(0, kTli.size()) != kTli) return std::nullopt;
  rest.remove_prefix(kTli.size());
  const size_t comma = rest.find(',');
  if (comma == std::string_view::npos) return std::nullopt;
  const std::string_view tli = rest.substr(0, comma);
  uint32_t timeline = 0;
  const auto [end, ec] = std::from_chars(tli.data(), tli.data() + tli.size(), timeline);
  if (tli.empty() || tli.front() == '0' || ec != std::errc() || end != tli.data() + tli.size()) {
    return std::nullopt;
  }
  rest.remove_prefix(comma);
  if (rest.substr(0, kLsn.size()) != kLsn) return std::nullopt;
  rest.remove_prefix(kLsn.size());
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos || !IsLsnHalf(rest.substr(0, slash)) ||
      !IsLsnHalf(rest.substr(slash + 1))) {
    return std::nullopt;
  }
  return DiscardConsent{*color, timeline, std::string(rest)};
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
