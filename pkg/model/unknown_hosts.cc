#include "pkg/model/unknown_hosts.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "pkg/model/topology.h"

namespace sy::model {

StepHosts HostsOf(const Step& step, const World& w) {
  StepHosts h;
  auto add = [&](api::Color c) {
    if (std::find(h.databases.begin(), h.databases.end(), c) == h.databases.end()) {
      h.databases.push_back(c);
    }
  };
  const api::Color other = api::Other(step.target);
  switch (step.kind) {
    case StepKind::kSwitchTraffic:
      h.nginx = true;
      break;
    case StepKind::kFence:
      // Its re-check before the shutdown is that the other streams from the target.
      add(step.target);
      add(other);
      h.nginx = true;
      break;
    case StepKind::kPromote:
      add(step.target);
      add(other);
      break;
    case StepKind::kStart:
      add(step.target);
      if (!ConfiguredAsStandby(w.server(step.target))) add(other);
      break;
    case StepKind::kLiftFence:
      add(step.target);
      // Lifting the fence of a running primary only keeps it one after a restart.
      if (!w.server(step.target).RunningPrimary()) add(other);
      break;
    case StepKind::kCreateSlot:
    case StepKind::kDropSlot:
      if (step.source) add(*step.source);
      break;
    case StepKind::kConfigureStandby:
    case StepKind::kRewind:
    case StepKind::kBasebackup:
      add(step.target);
      if (step.source) add(*step.source);
      break;
    case StepKind::kStop:
    case StepKind::kCheckpoint:
    case StepKind::kSyncStandby:
      add(step.target);
      break;
    case StepKind::kRecordPromotion:
      // Part of the promotion of the other: it depends on both, as the promotion does.
      add(step.target);
      add(other);
      break;
  }
  return h;
}

std::string WhyNotWithUnknownHosts(const Step& step, const World& w) {
  const StepHosts h = HostsOf(step, w);
  for (api::Color c : h.databases) {
    const ServerState& s = w.server(c);
    if (s.HostKnown()) continue;
    const std::string name(api::ColorName(c));
    return absl::StrCat(Describe(step),
                        c == step.target || (step.source && c == *step.source)
                            ? absl::StrCat(" acts on ", name)
                            : absl::StrCat(" rests on what ", name, " is"),
                        ", whose host cannot be observed (", s.host_unknown, ")");
  }
  if (h.nginx && !w.nginx.HostKnown()) {
    return absl::StrCat(Describe(step), " needs nginx seen, whose host cannot be observed (",
                        w.nginx.host_unknown, ")");
  }
  return "";
}

}  // namespace sy::model
