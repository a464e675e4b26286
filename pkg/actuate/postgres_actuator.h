// The database steps of the switchover protocol (design note §3) against real PostgreSQL
// servers: fence, promote, start, stop, create-slot, configure-standby, rewind, basebackup.
#pragma once

#include <chrono>

#include "absl/status/status.h"
#include "pkg/actuate/actuator.h"
#include "pkg/api/types.h"
#include "pkg/observe/pg_connections.h"
#include "pkg/plan/step.h"
#include "pkg/util/clock.h"
#include "pkg/util/command_runner.h"

namespace sy::actuate {

// How long each step may take before it gives up (kUnavailable, or kAborted for pg_rewind),
// and how often it looks. Polling is ours, at 5 ms: pg_ctl -w and pg_promote(wait => true)
// poll in 100 ms steps, which would dominate the write-unavailability window.
struct PostgresTimeouts {
  std::chrono::milliseconds stop{60'000};
  std::chrono::milliseconds start{60'000};
  std::chrono::milliseconds promote{60'000};
  std::chrono::milliseconds copy{3'600'000};  // pg_rewind, pg_basebackup
  std::chrono::milliseconds poll{5};
};

// Every method is idempotent (a step already done returns OK at once) and blocks until its
// effect is observable or its timeout passes. Server programs (postgres, pg_ctl, pg_rewind,
// pg_basebackup) run as spec.database.osUser from spec.database.binDirectory; never a shell.
// Error messages name the step, the color and its server, e.g.
// "promoting green (127.0.0.1:15434): ...". Status codes, as Actuator's:
//   kUnavailable: a server is unreachable, or a wait timed out: retry with backoff;
//   kFailedPrecondition: the world is not as the step requires (e.g. fencing a standby,
//     configuring a running server): re-observe;
//   kAborted: pg_rewind failed (its output attached): fall back to a basebackup;
//   kInvalidArgument: misconfiguration (e.g. a server program missing);
//   kInternal and file-system codes for local I/O failures.
// Thread-compatible: at most one step at a time per resource.
class PostgresActuator final : public Actuator {
 public:
  // All three must outlive this object.
  PostgresActuator(observe::PgConnections& connections, util::CommandRunner& runner,
                   const util::Clock& clock, PostgresTimeouts timeouts = {})
      : connections_(connections), runner_(runner), clock_(clock), timeouts_(timeouts) {}

  // Runs a database step (every StepKind but kSwitchTraffic, which is kInvalidArgument here).
  absl::Status Run(const api::DeploymentColor& dc, const plan::Step& step,
                   StepOutcome* outcome) override;

  // CHECKPOINT on the running primary `color` (so the shutdown checkpoint is short), then a
  // fast shutdown; returns once postmaster.pid is gone. Stopped already: OK. A standby:
  // kFailedPrecondition. Running but not accepting connections: kUnavailable.
  absl::Status Fence(const api::DeploymentColorSpec& spec, api::Color color);
  // pg_promote(wait => false) on standby `color`, then polls until it is writable, then
  // CHECKPOINT so pg_control shows the new timeline. A primary already: only the checkpoint,
  // when pg_control still shows an older timeline. Unreachable: kFailedPrecondition.
  absl::Status Promote(const api::DeploymentColorSpec& spec, api::Color color);
  // Starts `color`'s postmaster (detached, log appended to <dataDirectory>.log) with port and
  // listen_addresses on the command line, and polls until it accepts queries (a standby:
  // once consistent). Running already: waits for it to accept queries. No cluster in the
  // directory: kFailedPrecondition. Another server answering on the port: kFailedPrecondition.
  absl::Status Start(const api::DeploymentColorSpec& spec, api::Color color);
  // Fast shutdown of `color`, whatever its role; returns once postmaster.pid is gone.
  absl::Status Stop(const api::DeploymentColorSpec& spec, api::Color color);
  // Creates physical slot SlotName(target) (reserving WAL now) on the running primary
  // `source` unless it exists. `source` a standby: kFailedPrecondition.
  absl::Status CreateSlot(const api::DeploymentColorSpec& spec, api::Color target,
                          api::Color source);
  // No-copy rejoin: configures stopped `target`'s data directory as a standby of `source`
  // (ConfigureStandbyDirectory). `target` running: kFailedPrecondition.
  absl::Status ConfigureStandby(const api::DeploymentColorSpec& spec, api::Color target,
                                api::Color source);
  // CHECKPOINT on `source`, pg_rewind stopped `target` from it, then ConfigureStandby.
  // pg_rewind failing or timing out: kAborted with its output.
  absl::Status Rewind(const api::DeploymentColorSpec& spec, api::Color target, api::Color source);
  // pg_basebackup `source` into <dir>.new, configure it as a standby of `source`, then swap it
  // in for stopped `target`'s directory (<dir> -> <dir>.old -> removed). Resumes or cleans up
  // after a crash mid-way. The parent directory must be writable by osUser and on the same
  // file system (renames). pg_basebackup failing: kUnavailable with its output.
  absl::Status Basebackup(const api::DeploymentColorSpec& spec, api::Color target,
                          api::Color source);

 private:
  absl::Status Shutdown(const api::DeploymentColorSpec& spec, api::Color color,
                        const std::string& context);
  // Runs a server program as osUser with the copy timeout.
  absl::StatusOr<util::CommandResult> RunTool(const api::DeploymentColorSpec& spec,
                                              std::vector<std::string> argv,
                                              const std::string& context);

  observe::PgConnections& connections_;
  util::CommandRunner& runner_;
  const util::Clock& clock_;
  const PostgresTimeouts timeouts_;
  std::string detail_;  // what the last step did, for StepOutcome
  std::optional<std::chrono::steady_clock::time_point> writes_stopped_at_;
  std::optional<std::chrono::steady_clock::time_point> writes_resumed_at_;
};

}  // namespace sy::actuate
