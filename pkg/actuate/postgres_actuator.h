// The database steps of the switchover protocol against real PostgreSQL servers: fence,
// promote, checkpoint, lift-fence, start, stop, create-slot, drop-slot, configure-standby,
// rewind, basebackup, sync-standby. Each irreversible act re-checks, right before it, the rule
// that makes it safe (the plan it serves may be a few milliseconds old, and others may act
// meanwhile).
#pragma once

#include <chrono>
#include <optional>

#include "absl/status/status.h"
#include "pkg/actuate/actuator.h"
#include "pkg/api/types.h"
#include "pkg/host/pg_client.h"
#include "pkg/host/postgres_host.h"
#include "pkg/model/observers.h"
#include "pkg/model/step.h"
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
//     configuring a running server, a safety re-check failing): re-observe;
//   kAborted: pg_rewind failed (its output attached): the planner may fall back to a
//     basebackup. Its refusal of the directory as another cluster is kFailedPrecondition
//     instead: nothing falls back;
//   kInvalidArgument: misconfiguration (e.g. a server program missing);
//   kInternal and file-system codes for local I/O failures.
// `out` (may be null) receives what was done. Thread-safe: the actuator keeps no per-step
// state, so workers may run steps of different resources at once; one resource's steps come
// one at a time.
class PostgresActuator final : public Actuator {
 public:
  // All five must outlive this object. `pg` sends the statements, `host` acts on the data
  // directories and postmasters, `runner` runs the server programs; `observer` is used for
  // the re-checks before starting a primary, lifting a fence and replacing a data directory.
  // `gate` (may be null: every act allowed; else it must outlive this object) is asked right
  // before each irreversible act (actuate::acts): the shutdown signal (or pg_ctl stop),
  // pg_promote(), the spawn of a postmaster, the first file change of a fence, a lift, a
  // standby configuration, a promotion record and a stop, slot creation and removal, ALTER
  // SYSTEM, pg_rewind, pg_basebackup and the swap of a copy; its refusal is returned as is.
  PostgresActuator(host::PgClient& pg, host::PostgresHost& host, model::PostgresObserver& observer,
                   util::CommandRunner& runner, const util::Clock& clock,
                   PostgresTimeouts timeouts = {}, CommitGate* gate = nullptr)
      : pg_(pg),
        host_(host),
        observer_(observer),
        runner_(runner),
        clock_(clock),
        timeouts_(timeouts),
        gate_(gate) {}

  // Runs a database step (every StepKind but kSwitchTraffic, which is kInvalidArgument here).
  absl::Status Run(const api::DeploymentColor& dc, const model::Step& step,
                   StepOutcome* outcome) override;

  // Fences `color`, the old primary, for `key`'s switch. Running: it must be a primary that
  // the other color's standby streams from (re-checked before the fence is written and again
  // right before the shutdown); the fence is written (FenceDirectory), then CHECKPOINT (so
  // the shutdown checkpoint is short), then a fast shutdown; returns once postmaster.pid is
  // gone. Stopped: writes the fence only. A standby: kFailedPrecondition. Running but not
  // accepting connections: kUnavailable.
  absl::Status Fence(const api::DeploymentColorSpec& spec, const std::string& key, api::Color color,
                     StepOutcome* out = nullptr);
  // pg_promote(wait => false) on standby `color`, then polls until it is writable, then
  // CHECKPOINT so pg_control shows the new timeline. Right before pg_promote() it re-checks
  // that the other server is stopped and fenced and that `color` has replayed at least
  // `replayed_at_least` (when 0: the other's PromotionThreshold, observed now), else
  // kFailedPrecondition. A primary already: only the checkpoint, when pg_control still shows
  // an older timeline. Unreachable: kFailedPrecondition.
  absl::Status Promote(const api::DeploymentColorSpec& spec, api::Color color,
                       uint64_t replayed_at_least = 0, StepOutcome* out = nullptr);
  // Writes into stopped, fenced `target`'s directory that `promoted` is being promoted
  // (model::StepKind::kRecordPromotion): what Promote writes there itself on one machine.
  // Running or not fenced: kFailedPrecondition.
  absl::Status RecordPromotion(const api::DeploymentColorSpec& spec, api::Color target,
                               api::Color promoted, StepOutcome* out = nullptr);
  // CHECKPOINT on running primary `color`.
  absl::Status Checkpoint(const api::DeploymentColorSpec& spec, api::Color color,
                          StepOutcome* out = nullptr);
  // Lifts `color`'s fence (LiftFenceDirectory). Running: only as the primary. Stopped: after
  // re-checking model::WhyNotLiftFence on a fresh observation of both servers.
  absl::Status LiftFence(const api::DeploymentColorSpec& spec, api::Color color,
                         StepOutcome* out = nullptr);
  // Starts `color`'s postmaster (detached, log appended to <dataDirectory>.log) with port and
  // listen_addresses on the command line, and polls until it accepts queries (a standby:
  // once consistent). A directory configured to start as a primary is started only after
  // re-checking model::WhyNotStartAsPrimary on a fresh observation of both servers; a fenced
  // one is not started (kFailedPrecondition). Running already: waits for it to accept
  // queries. No cluster in the directory: kFailedPrecondition. Another server answering on
  // the port: kFailedPrecondition.
  absl::Status Start(const api::DeploymentColorSpec& spec, api::Color color,
                     StepOutcome* out = nullptr);
  // Removes a pending promotion request of `color`, then a fast shutdown; returns once
  // postmaster.pid is gone. A primary (by its pg_control) is stopped only while the other
  // server runs as a primary too, and is fenced first; the only primary: kFailedPrecondition.
  // Its pg_control unreadable while it runs: kUnavailable.
  absl::Status Stop(const api::DeploymentColorSpec& spec, api::Color color,
                    StepOutcome* out = nullptr);
  // Creates physical slot SlotName(target) (reserving WAL now: from a primary's redo pointer,
  // from a standby's last restartpoint) on running `source` unless it exists.
  absl::Status CreateSlot(const api::DeploymentColorSpec& spec, api::Color target,
                          api::Color source, StepOutcome* out = nullptr);
  // Drops physical slot SlotName(target) on running `source` when it is inactive; OK when it
  // does not exist. Active (a walsender streams through it): kFailedPrecondition.
  absl::Status DropSlot(const api::DeploymentColorSpec& spec, api::Color target, api::Color source,
                        StepOutcome* out = nullptr);
  // No-copy rejoin: configures stopped `target`'s data directory as a standby of `source`
  // (ConfigureStandbyDirectory, which also removes a fence). `target` running:
  // kFailedPrecondition.
  absl::Status ConfigureStandby(const api::DeploymentColorSpec& spec, api::Color target,
                                api::Color source, StepOutcome* out = nullptr);
  // Re-checks model::WhyNotReplace(dc, target, source) on a fresh observation, CHECKPOINT on
  // `source`, pg_rewind stopped `target` from it, then ConfigureStandby. pg_rewind failing or
  // timing out: kAborted with its output. The re-check failing, or pg_rewind refusing the
  // directory as another cluster: kFailedPrecondition.
  absl::Status Rewind(const api::DeploymentColor& dc, api::Color target, api::Color source,
                      StepOutcome* out = nullptr);
  // Re-checks model::WhyNotReplace as Rewind does, then pg_basebackup `source` into
  // <dir>.new, configures it as a standby of `source`, swaps it in for stopped `target`'s
  // directory (<dir> -> <dir>.old -> removed). After a crash mid-swap it completes the swap
  // (a complete copy) or puts the old directory back and returns kAborted (re-observe first).
  // The parent directory must be writable by osUser and on the same file system (renames).
  // pg_basebackup failing: kUnavailable with its output.
  absl::Status Basebackup(const api::DeploymentColor& dc, api::Color target, api::Color source,
                          StepOutcome* out = nullptr);

  // synchronous_standby_names of running `target` (a primary, or a standby about to be
  // promoted) set to name `standby` (model::SyncStandbyNamesValue; '' without one) with ALTER
  // SYSTEM and a reload; returns once the server shows it. Unchanged when it shows it
  // already. Unreachable: kUnavailable; not allowed (ALTER SYSTEM needs a superuser or the
  // grant on the parameter): kPermissionDenied.
  absl::Status SyncStandby(const api::DeploymentColorSpec& spec, api::Color target,
                           std::optional<api::Color> standby, StepOutcome* out = nullptr);

 private:
  absl::Status Shutdown(const api::DeploymentColorSpec& spec, api::Color color,
                        const std::string& context, StepOutcome* out);
  // OK when `standby` streams from running primary `primary` (its pg_stat_replication).
  absl::Status CheckStreaming(const api::DeploymentColorSpec& spec, api::Color standby,
                              api::Color primary, const std::string& context);
  // Both servers observed now, for a re-check: {target, other}.
  absl::StatusOr<std::pair<model::ServerState, model::ServerState>> ObservePair(
      const api::DeploymentColorSpec& spec, api::Color target, const std::string& context);
  absl::Status CheckReplace(const api::DeploymentColor& dc, api::Color target, api::Color source,
                            const std::string& context);
  // Runs a server program as osUser with the copy timeout; it dies with us and keeps
  // `inherit_fds` (a CopyLock's) open.
  absl::StatusOr<util::CommandResult> RunTool(const api::DeploymentColorSpec& spec,
                                              std::vector<std::string> argv,
                                              const std::string& context,
                                              std::vector<int> inherit_fds = {});

  host::PgClient& pg_;
  host::PostgresHost& host_;
  model::PostgresObserver& observer_;
  util::CommandRunner& runner_;
  const util::Clock& clock_;
  const PostgresTimeouts timeouts_;
  CommitGate* const gate_;
};

}  // namespace sy::actuate
