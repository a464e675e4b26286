#include "pkg/model/step.h"

namespace sy::model {

std::string_view StepKindName(StepKind k) {
  switch (k) {
    case StepKind::kSwitchTraffic:
      return "switch-traffic";
    case StepKind::kFence:
      return "fence";
    case StepKind::kPromote:
      return "promote";
    case StepKind::kCheckpoint:
      return "checkpoint";
    case StepKind::kLiftFence:
      return "lift-fence";
    case StepKind::kStart:
      return "start";
    case StepKind::kStop:
      return "stop";
    case StepKind::kCreateSlot:
      return "create-slot";
    case StepKind::kDropSlot:
      return "drop-slot";
    case StepKind::kConfigureStandby:
      return "configure-standby";
    case StepKind::kRewind:
      return "rewind";
    case StepKind::kBasebackup:
      return "basebackup";
    case StepKind::kSyncStandby:
      return "sync-standby";
    case StepKind::kRecordPromotion:
      return "record-promotion";
  }
  return "unknown";
}

std::optional<StepKind> ParseStepKind(std::string_view name) {
  for (int k = 0; k <= static_cast<int>(StepKind::kRecordPromotion); ++k) {
    if (StepKindName(static_cast<StepKind>(k)) == name) return static_cast<StepKind>(k);
  }
  return std::nullopt;
}

std::string Describe(const Step& s) {
  std::string out(StepKindName(s.kind));
  out += ' ';
  out += api::ColorName(s.target);
  if (s.kind == StepKind::kSyncStandby) {
    out += " names ";
    out += s.source ? api::ColorName(*s.source) : "none";
    return out;
  }
  if (s.source) {
    out += s.kind == StepKind::kCreateSlot || s.kind == StepKind::kDropSlot ? " on "
           : s.kind == StepKind::kRecordPromotion                           ? " of "
                                                                            : " from ";
    out += api::ColorName(*s.source);
  }
  return out;
}

std::string SlotName(api::Color standby) {
  return std::string(kSlotPrefix) + std::string(api::ColorName(standby));
}

bool IsSwitchyardSlot(std::string_view slot_name) {
  return slot_name.substr(0, kSlotPrefix.size()) == kSlotPrefix;
}

}  // namespace sy::model
