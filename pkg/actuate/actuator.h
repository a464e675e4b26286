// Executes one planned step against the real world.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "pkg/api/types.h"
#include "pkg/model/step.h"

namespace sy::actuate {

// What a step reports back beyond success.
struct StepOutcome {
  std::string detail;  // human-readable, e.g. "rejoined with pg_rewind" or "nginx -t failed: ..."
  // The write-unavailability window's ends, when the step is one of them: the fence asked
  // the old primary to shut down (its CHECKPOINT before, which blocks no write, excluded);
  // the promotion saw the new primary writable (its CHECKPOINT after excluded).
  std::optional<std::chrono::steady_clock::time_point> writes_stopped_at;
  std::optional<std::chrono::steady_clock::time_point> writes_resumed_at;
};

// Asked right before each irreversible act of a step; a non-OK answer stops the step there,
// before the act, and is returned. switchyard-agent answers with its epoch (a higher one
// accepted since the operation began refuses), so that a controller that was replaced
// mid-step cannot act on the machine any more (pkg/agent/README.md "Epochs"). The acts are
// named by the constants below, short and stable: the audit log records them. Thread-safe.
class CommitGate {
 public:
  virtual ~CommitGate() = default;
  virtual absl::Status Allow(std::string_view act) = 0;
};

// The acts a CommitGate is asked about.
namespace acts {
inline constexpr std::string_view kSigint = "sigint";           // fast shutdown signal
inline constexpr std::string_view kPgCtlStop = "pg_ctl-stop";   // ... through pg_ctl
inline constexpr std::string_view kPgPromote = "pg_promote";    // the promotion request
inline constexpr std::string_view kSpawn = "spawn";             // starting a postmaster
inline constexpr std::string_view kFenceFiles = "fence-files";  // writing the fence
inline constexpr std::string_view kLiftFenceFiles = "lift-fence-files";
inline constexpr std::string_view kStandbyFiles = "standby-files";        // configure-standby
inline constexpr std::string_view kPromotionRecord = "promotion-record";  // in the fence
inline constexpr std::string_view kRemovePromoteRequest = "remove-promote-request";
inline constexpr std::string_view kCreateSlot = "create-slot";
inline constexpr std::string_view kDropSlot = "drop-slot";
inline constexpr std::string_view kAlterSystem = "alter-system";
inline constexpr std::string_view kPgRewind = "pg_rewind";
inline constexpr std::string_view kPgBasebackup = "pg_basebackup";
inline constexpr std::string_view kSwapInCopy = "swap-in-copy";
inline constexpr std::string_view kUpstreamFile = "upstream-file";  // writing or removing it
inline constexpr std::string_view kNginxReload = "nginx-reload";
}  // namespace acts

// OK without a gate (the single-host controller, which fences by its server lock instead).
inline absl::Status AskGate(CommitGate* gate, std::string_view act) {
  return gate == nullptr ? absl::OkStatus() : gate->Allow(act);
}

// Runs steps. Each Run() is idempotent, blocks until the step's effect is observable or its
// timeout passes, and never runs a shell. Thread-compatible.
// Status codes: kUnavailable (a server or command was unreachable / timed out: retry with
// backoff), kFailedPrecondition (the world is not as the step requires: re-observe after a
// backoff), kAborted (this way cannot work: pg_rewind failed, and the planner re-clones
// instead, plan::RecordStepFailure; or an interrupted copy was undone), kInvalidArgument
// (misconfiguration: terminal for this generation), kInternal.
class Actuator {
 public:
  virtual ~Actuator() = default;
  // `dc` is the resource whose spec the step serves (its key names owned artefacts).
  virtual absl::Status Run(const api::DeploymentColor& dc, const model::Step& step,
                           StepOutcome* outcome) = 0;
};

}  // namespace sy::actuate
