// Executes one planned step against the real world.
#pragma once

#include <chrono>
#include <optional>
#include <string>

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
