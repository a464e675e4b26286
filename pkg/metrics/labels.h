// The bounded vocabularies of Switchyard's metric labels. Every label value a series carries
// is a resource key ("namespace/name") or comes from one of these fixed lists, so the number
// of series stays bounded whatever happens (no LSNs, no error text, no free-form reasons).
#pragma once

#include <string_view>
#include <vector>

namespace sy::metrics {

// The label value of anything outside a fixed list.
inline constexpr std::string_view kOther = "other";

// switchyard_drift{component}: what differs from the declaration (model::Component).
inline constexpr std::string_view kTraffic = "traffic";
inline constexpr std::string_view kPrimary = "primary";
inline constexpr std::string_view kStandby = "standby";

// switchyard_reconcile_errors_total{reason}: where a pass failed. The first two are also the
// reasons the Ready condition then gives.
inline constexpr std::string_view kObserveFailed = "ObserveFailed";
inline constexpr std::string_view kStepFailed = "StepFailed";
inline constexpr std::string_view kStatusWriteFailed = "StatusWriteFailed";

// The reasons the planner (pkg/plan) and the reconciler give for a resource's state.
const std::vector<std::string_view>& KnownReasons();

// `reason` when it is a known reason, else kOther.
std::string_view ReasonLabel(std::string_view reason);

// "blue" or "green" for those two, else kOther (colors read back from a stored status).
std::string_view ColorLabel(std::string_view color);

}  // namespace sy::metrics
