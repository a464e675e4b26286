#include "pkg/actuate/postgres_actuator.h"

#include <signal.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "pkg/actuate/pg_step_util.h"
#include "pkg/host/pg_datadir.h"
#include "pkg/host/pg_standby_config.h"
#include "pkg/model/lsn.h"
#include "pkg/model/topology.h"
#include "pkg/util/files.h"
#include "pkg/util/log.h"
#include "pkg/util/status_macros.h"

namespace sy::actuate {

using pg_internal::Annotated;
using pg_internal::Context;
using pg_internal::DataDir;
using pg_internal::MillisSince;
using pg_internal::Name;
using pg_internal::PollUntil;

namespace {

using host::PgEndpoint;
using host::PgRow;

// The single text value of a one-row, one-column result ("" when NULL or absent).
std::string Scalar(const std::vector<PgRow>& rows) {
  if (rows.empty() || rows[0].empty() || !rows[0][0].has_value()) return "";
  return *rows[0][0];
}

// Where a step's report goes when the caller wants none.
StepOutcome* Sink(StepOutcome* out, StepOutcome* local) { return out != nullptr ? out : local; }

}  // namespace

absl::Status PostgresActuator::Run(const api::DeploymentColor& dc, const model::Step& step,
                                   StepOutcome* outcome) {
  const api::DeploymentColorSpec& spec = dc.spec;
  const auto start = clock_.MonotonicNow();
  StepOutcome local;
  StepOutcome* out = Sink(outcome, &local);
  *out = StepOutcome{};
  const api::Color source = step.source.value_or(api::Other(step.target));
  absl::Status s;
  switch (step.kind) {
    case model::StepKind::kFence:
      s = Fence(spec, dc.Key(), step.target, out);
      break;
    case model::StepKind::kPromote:
      s = Promote(spec, step.target, step.replayed_at_least, out);
      break;
    case model::StepKind::kCheckpoint:
      s = Checkpoint(spec, step.target, out);
      break;
    case model::StepKind::kLiftFence:
      s = LiftFence(spec, step.target, out);
      break;
    case model::StepKind::kStart:
      s = Start(spec, step.target, out);
      break;
    case model::StepKind::kStop:
      s = Stop(spec, step.target, out);
      break;
    case model::StepKind::kCreateSlot:
      s = CreateSlot(spec, step.target, source, out);
      break;
    case model::StepKind::kDropSlot:
      s = DropSlot(spec, step.target, source, out);
      break;
    case model::StepKind::kConfigureStandby:
      s = ConfigureStandby(spec, step.target, source, out);
      break;
    case model::StepKind::kRewind:
      s = Rewind(dc, step.target, source, out);
      break;
    case model::StepKind::kBasebackup:
      s = Basebackup(dc, step.target, source, out);
      break;
    case model::StepKind::kRecordPromotion:
      s = RecordPromotion(spec, step.target, source, out);
      break;
    case model::StepKind::kSyncStandby:
      s = SyncStandby(spec, step.target, step.source, out);
      break;
    case model::StepKind::kSwitchTraffic:
      return absl::InvalidArgumentError("the PostgreSQL actuator cannot " + model::Describe(step));
  }
  const int64_t ms = MillisSince(clock_, start);
  out->detail = out->detail.empty() ? absl::StrCat(model::Describe(step), " in ", ms, " ms")
                                    : absl::StrCat(out->detail, " in ", ms, " ms");
  return s;
}

absl::Status PostgresActuator::CheckStreaming(const api::DeploymentColorSpec& spec,
                                              api::Color standby, api::Color primary,
                                              const std::string& context) {
  absl::StatusOr<std::vector<PgRow>> rows =
      pg_.Query(host::EndpointFor(spec, primary),
                "SELECT state FROM pg_stat_replication WHERE application_name = $1 AND state = "
                "'streaming'",
                {Name(standby)});
  SY_RETURN_IF_ERROR(Annotated(rows.status(), context, ""));
  if (rows->empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        context, ": ", Name(standby), " no longer streams from it; not fencing (re-observe)"));
  }
  return absl::OkStatus();
}

absl::Status PostgresActuator::Fence(const api::DeploymentColorSpec& spec, const std::string& key,
                                     api::Color color, StepOutcome* out) {
  StepOutcome local;
  out = Sink(out, &local);
  const std::string context = Context("fencing", spec, color);
  const std::string& dir = DataDir(spec, color);
  const PgEndpoint ep = host::EndpointFor(spec, color);
  const std::string note = absl::StrCat(
      "Fenced by Switchyard for ", key, " at ", util::FormatRfc3339(clock_.Now()), ": ", dir,
      " was the primary (", Name(color),
      ").\nstandby.signal keeps it from starting as a primary. Switchyard removes both files "
      "when it lifts the fence or rejoins this server as a standby.\n");
  if (!host_.PostmasterAlive(dir)) {
    pg_.Drop(ep);
    SY_RETURN_IF_ERROR(AskGate(gate_, acts::kFenceFiles));
    SY_RETURN_IF_ERROR(Annotated(host_.FenceDirectory(dir, note), context, ""));
    out->detail = absl::StrCat(Name(color), " already stopped; fenced its data directory");
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<PgRow>> rows = pg_.Query(ep, "SELECT pg_is_in_recovery()");
  if (absl::IsUnavailable(rows.status())) {
    return Annotated(rows.status(), context,
                     "; its postmaster runs but takes no connections: retry once it does, or "
                     "stop it by hand");
  }
  SY_RETURN_IF_ERROR(Annotated(rows.status(), context, ""));
  if (Scalar(*rows) != "f") {
    return absl::FailedPreconditionError(
        context + ": it is a standby, not a primary; nothing to fence (re-observe)");
  }
  const api::Color standby = api::Other(color);
  // Rule: fence only an old primary whose standby streams from it: its fast shutdown then
  // ships the shutdown checkpoint, so the standby can prove it holds all.
  SY_RETURN_IF_ERROR(CheckStreaming(spec, standby, color, context));
  // Rule (durable fence): before anything stops, the directory is made unable to start as a
  // primary, so whoever restarts it meanwhile gets a read-only standby.
  SY_RETURN_IF_ERROR(AskGate(gate_, acts::kFenceFiles));
  SY_RETURN_IF_ERROR(Annotated(host_.FenceDirectory(dir, note), context, ""));
  const auto start = clock_.MonotonicNow();
  SY_RETURN_IF_ERROR(
      Annotated(pg_.Query(ep, "CHECKPOINT", {}, timeouts_.stop).status(), context, ""));
  const int64_t checkpoint_ms = MillisSince(clock_, start);
  SY_RETURN_IF_ERROR(CheckStreaming(spec, standby, color, context));
  out->writes_stopped_at = clock_.MonotonicNow();
  SY_RETURN_IF_ERROR(Shutdown(spec, color, context, out));
  out->detail =
      absl::StrCat("fenced ", Name(color), " (checkpoint ", checkpoint_ms, " ms, fast shutdown ",
                   MillisSince(clock_, start) - checkpoint_ms, " ms)");
  return absl::OkStatus();
}

absl::Status PostgresActuator::Stop(const api::DeploymentColorSpec& spec, api::Color color,
                                    StepOutcome* out) {
  StepOutcome local;
  out = Sink(out, &local);
  const std::string context = Context("stopping", spec, color);
  const std::string& dir = DataDir(spec, color);
  // A pending promotion must not complete: the request goes before the shutdown request.
  // Asked first: under a newer controller the request may be that controller's promotion.
  SY_RETURN_IF_ERROR(AskGate(gate_, acts::kRemovePromoteRequest));
  SY_RETURN_IF_ERROR(Annotated(host_.RemovePromoteRequest(dir), context, ""));
  // Rule: Switchyard stops a primary only beside another primary (a split brain), and fences
  // it first, so that nobody can start it as a primary again. Whether it runs as a primary
  // comes from its pg_control, which needs no connection (a server that takes none is told
  // apart too); one that cannot be told is not stopped.
  if (host_.PostmasterAlive(dir)) {
    auto primary = [&](const std::string& d) -> absl::StatusOr<bool> {
      SY_ASSIGN_OR_RETURN(const model::ControlData c,
                          host_.ReadControlData(spec.database.bin_directory, d));
      return c.cluster_state == "in production" || c.cluster_state == "in crash recovery";
    };
    absl::StatusOr<bool> is_primary = primary(dir);
    if (!is_primary.ok()) {
      return absl::UnavailableError(
          absl::StrCat(context, ": cannot tell whether it runs as a primary (",
                       is_primary.status().message(), "); not stopping it"));
    }
    if (*is_primary) {
      const std::string& other = DataDir(spec, api::Other(color));
      absl::StatusOr<bool> other_primary =
          host_.PostmasterAlive(other) ? primary(other) : absl::StatusOr<bool>(false);
      if (!other_primary.ok() || !*other_primary) {
        return absl::FailedPreconditionError(
            context +
            ": it runs as the only primary (a promotion completed meanwhile?); not stopping it "
            "(re-observe)");
      }
      SY_RETURN_IF_ERROR(AskGate(gate_, acts::kFenceFiles));
      SY_RETURN_IF_ERROR(Annotated(
          host_.FenceDirectory(
              dir, absl::StrCat("Fenced by Switchyard at ", util::FormatRfc3339(clock_.Now()), ": ",
                                dir, " ran as a second primary and was stopped.\n")),
          context, ""));
    }
  }
  return Shutdown(spec, color, context, out);
}

absl::Status PostgresActuator::Shutdown(const api::DeploymentColorSpec& spec, api::Color color,
                                        const std::string& context, StepOutcome* out) {
  const std::string& dir = DataDir(spec, color);
  const PgEndpoint ep = host::EndpointFor(spec, color);
  const std::optional<int> pid = host_.ReadPostmasterPid(dir);
  if (!pid || !host_.PostmasterAlive(dir)) {
    pg_.Drop(ep);
    out->detail = absl::StrCat(Name(color), " already stopped");
    return absl::OkStatus();
  }
  // SIGINT is the fast shutdown (pg_ctl stop -m fast sends just that).
  SY_RETURN_IF_ERROR(AskGate(gate_, acts::kSigint));
  if (const absl::Status sent = host_.SignalProcess(*pid, SIGINT);
      !sent.ok() && !absl::IsNotFound(sent)) {
    if (!absl::IsPermissionDenied(sent)) return Annotated(sent, context, "");
    // Not root and not its user: let osUser's pg_ctl send it (it does not wait, -W).
    SY_RETURN_IF_ERROR(AskGate(gate_, acts::kPgCtlStop));
    SY_ASSIGN_OR_RETURN(
        const util::CommandResult r,
        RunTool(spec,
                {spec.database.bin_directory + "/pg_ctl", "stop", "-m", "fast", "-W", "-D", dir},
                context));
    if (r.exit_code != 0) {
      return absl::UnavailableError(context +
                                    ": pg_ctl stop failed: " + pg_internal::OutputTail(r.output));
    }
  }
  bool crashed = false;
  const bool gone = PollUntil(clock_, timeouts_.stop, timeouts_.poll, [&] {
    if (!host_.PostmasterPidExists(dir)) return true;
    // The postmaster removes its pid file before it exits: a dead one that left it crashed.
    crashed = !host_.ProcessAlive(*pid) && host_.PostmasterPidExists(dir);
    return crashed;
  });
  pg_.Drop(ep);
  out->detail = absl::StrCat("stopped ", Name(color));
  if (crashed) {
    return absl::AbortedError(context + ": the postmaster exited without a clean shutdown; " +
                              host_.ServerLogTail(dir));
  }
  if (!gone) {
    return absl::UnavailableError(absl::StrCat(
        context, ": still running ", timeouts_.stop.count(),
        " ms after a fast shutdown request: its postmaster acts on no signal (stopped with "
        "SIGSTOP?) or a backend or the checkpointer does not finish. ",
        host_.ServerLogTail(dir)));
  }
  return absl::OkStatus();
}

absl::Status PostgresActuator::Promote(const api::DeploymentColorSpec& spec, api::Color color,
                                       uint64_t replayed_at_least, StepOutcome* out) {
  StepOutcome local;
  out = Sink(out, &local);
  const std::string context = Context("promoting", spec, color);
  const PgEndpoint ep = host::EndpointFor(spec, color);
  const char kInRecovery[] = "SELECT pg_is_in_recovery()";
  absl::StatusOr<std::vector<PgRow>> rows =
      pg_.Query(ep, "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text");
  if (absl::IsUnavailable(rows.status())) {
    return absl::FailedPreconditionError(
        absl::StrCat(context, ": not reachable (", rows.status().message(), "); start it first"));
  }
  SY_RETURN_IF_ERROR(Annotated(rows.status(), context, ""));
  if (Scalar(*rows) == "t") {
    // Rule (promotion proof), checked again right before the act: the old primary is
    // stopped and still fenced (so it wrote nothing since it was observed), and this standby
    // replayed all of it.
    const api::Color old = api::Other(color);
    const std::string& old_dir = DataDir(spec, old);
    // A live postmaster (its postmaster.pid names a process that runs in that directory),
    // not the file alone: a postmaster killed after its shutdown checkpoint leaves the file.
    if (host_.PostmasterAlive(old_dir)) {
      return absl::FailedPreconditionError(absl::StrCat(
          context, ": ", Name(old), " is not stopped (its postmaster runs); not promoting"));
    }
    absl::StatusOr<model::StartupConfig> old_startup = host_.ReadStartupConfig(old_dir);
    SY_RETURN_IF_ERROR(Annotated(old_startup.status(), context, ""));
    if (!old_startup->fenced || !old_startup->standby_signal) {
      return absl::FailedPreconditionError(
          absl::StrCat(context, ": ", Name(old), "'s data directory is not fenced; not promoting"));
    }
    if (replayed_at_least == 0) {
      absl::StatusOr<model::ServerState> o = observer_.Observe(spec, old);
      SY_RETURN_IF_ERROR(Annotated(o.status(), context, ""));
      const std::optional<model::Lsn> threshold = model::PromotionThreshold(*o);
      if (!threshold) {
        return absl::FailedPreconditionError(absl::StrCat(
            context, ": ", Name(old), "'s pg_control proves no clean stop; not promoting"));
      }
      replayed_at_least = *threshold;
    }
    const std::string replayed = rows->front().size() > 1 ? rows->front()[1].value_or("") : "";
    const std::optional<model::Lsn> replay = model::ParseLsn(replayed);
    if (!replay || *replay < replayed_at_least) {
      return absl::FailedPreconditionError(
          absl::StrCat(context, ": it has replayed ", replayed, ", not yet ",
                       model::FormatLsn(replayed_at_least), "; not promoting"));
    }
    // Recorded in the fence first: a flip back then knows this promotion may be under way.
    SY_RETURN_IF_ERROR(AskGate(gate_, acts::kPromotionRecord));
    SY_RETURN_IF_ERROR(
        Annotated(host_.RecordPromotionRequest(
                      old_dir, absl::StrCat(host::kFencePromotionLine, ": ", Name(color), " at ",
                                            util::FormatRfc3339(clock_.Now()))),
                  context, ""));
    SY_RETURN_IF_ERROR(AskGate(gate_, acts::kPgPromote));
    rows = pg_.Query(ep, "SELECT pg_promote(wait => false)");
    // 55000: promoted in between (another pass, or by hand): the poll below sees it.
    if (!rows.ok() && !absl::IsFailedPrecondition(rows.status())) {
      return Annotated(rows.status(), context, "");
    }
    if (rows.ok() && Scalar(*rows) != "t") {
      return absl::InternalError(context + ": pg_promote() could not signal the postmaster");
    }
    const auto start = clock_.MonotonicNow();
    absl::Status poll_error;
    const bool writable = PollUntil(clock_, timeouts_.promote, timeouts_.poll, [&] {
      absl::StatusOr<std::vector<PgRow>> r = pg_.Query(ep, kInRecovery);
      if (!r.ok()) poll_error = r.status();
      return !r.ok() || Scalar(*r) == "f";
    });
    SY_RETURN_IF_ERROR(Annotated(poll_error, context, "; the promotion was requested"));
    if (!writable) {
      return absl::UnavailableError(
          absl::StrCat(context, ": still in recovery ", timeouts_.promote.count(),
                       " ms after pg_promote(); the request stays pending until it is acted on or "
                       "cancelled. ",
                       host_.ServerLogTail(DataDir(spec, color))));
    }
    out->writes_resumed_at = clock_.MonotonicNow();
    out->detail = absl::StrCat("promoted ", Name(color), " (writable after ",
                               MillisSince(clock_, start), " ms)");
  } else {
    out->detail = absl::StrCat(Name(color), " already primary");
  }
  // pg_control keeps the old timeline until a checkpoint; pg_rewind and the planner read it.
  StepOutcome checkpoint;
  if (absl::Status c = Checkpoint(spec, color, &checkpoint); !c.ok()) {
    return absl::Status(c.code(), absl::StrCat(c.message(), " (after the promotion)"));
  }
  if (!checkpoint.detail.empty()) absl::StrAppend(&out->detail, ", ", checkpoint.detail);
  return absl::OkStatus();
}

absl::Status PostgresActuator::Checkpoint(const api::DeploymentColorSpec& spec, api::Color color,
                                          StepOutcome* out) {
  StepOutcome local;
  out = Sink(out, &local);
  const std::string context = Context("checkpointing", spec, color);
  const PgEndpoint ep = host::EndpointFor(spec, color);
  absl::StatusOr<std::vector<PgRow>> rows =
      pg_.Query(ep,
                "SELECT pg_is_in_recovery()::text, (SELECT timeline_id FROM "
                "pg_control_checkpoint())::text, "
                "CASE WHEN pg_is_in_recovery() THEN NULL ELSE "
                "substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8) END");
  SY_RETURN_IF_ERROR(Annotated(rows.status(), context, ""));
  if (rows->empty() || rows->front().size() != 3) {
    return absl::InternalError(context + ": unexpected timeline query result");
  }
  if (rows->front()[0].value_or("") != "false") {
    return absl::FailedPreconditionError(context + ": it is not a primary (re-observe)");
  }
  uint32_t checkpoint_tli = 0;
  uint32_t current_tli = 0;
  if (!absl::SimpleAtoi(rows->front()[1].value_or(""), &checkpoint_tli) ||
      !absl::SimpleHexAtoi(rows->front()[2].value_or(""), &current_tli)) {
    return absl::InternalError(context + ": unexpected timeline query result");
  }
  if (checkpoint_tli == current_tli) return absl::OkStatus();
  const auto start = clock_.MonotonicNow();
  SY_RETURN_IF_ERROR(
      Annotated(pg_.Query(ep, "CHECKPOINT", {}, timeouts_.stop).status(), context, ""));
  out->detail = absl::StrCat("checkpoint ", MillisSince(clock_, start), " ms");
  return absl::OkStatus();
}

absl::StatusOr<std::pair<model::ServerState, model::ServerState>> PostgresActuator::ObservePair(
    const api::DeploymentColorSpec& spec, api::Color target, const std::string& context) {
  absl::StatusOr<model::ServerState> t = observer_.Observe(spec, target);
  SY_RETURN_IF_ERROR(Annotated(t.status(), context, ""));
  absl::StatusOr<model::ServerState> o = observer_.Observe(spec, api::Other(target));
  SY_RETURN_IF_ERROR(Annotated(o.status(), context, ""));
  return std::make_pair(*std::move(t), *std::move(o));
}

absl::Status PostgresActuator::LiftFence(const api::DeploymentColorSpec& spec, api::Color color,
                                         StepOutcome* out) {
  StepOutcome local;
  out = Sink(out, &local);
  const std::string context = Context("lifting the fence of", spec, color);
  const std::string& dir = DataDir(spec, color);
  SY_ASSIGN_OR_RETURN(auto pair, ObservePair(spec, color, context));
  const auto& [target, other] = pair;
  if (target.postmaster_alive || target.reachable) {
    // A running server keeps its role until it restarts: lifting only matters for the next
    // start, and is only right for a primary.
    if (!target.RunningPrimary()) {
      return absl::FailedPreconditionError(context + ": it runs and is not a primary");
    }
    if (other.startup.promote_requested) {
      return absl::FailedPreconditionError(absl::StrCat(
          context, ": ", Name(other.color), " has a pending promotion request; cancel it first"));
    }
  } else if (const std::string why = model::WhyNotLiftFence(target, other); !why.empty()) {
    // Rule (lifting a fence), checked on what is true now, not on the plan.
    return absl::FailedPreconditionError(absl::StrCat(context, ": ", why));
  }
  SY_RETURN_IF_ERROR(AskGate(gate_, acts::kLiftFenceFiles));
  SY_RETURN_IF_ERROR(Annotated(host_.LiftFenceDirectory(dir), context, ""));
  out->detail = absl::StrCat("lifted ", Name(color), "'s fence");
  return absl::OkStatus();
}

absl::Status PostgresActuator::RecordPromotion(const api::DeploymentColorSpec& spec,
                                               api::Color target, api::Color promoted,
                                               StepOutcome* out) {
  StepOutcome local;
  out = Sink(out, &local);
  const std::string context =
      Context("recording the promotion of " + Name(promoted) + " in", spec, target);
  const std::string& dir = DataDir(spec, target);
  // Only a stopped, fenced directory takes the record: it is what the promotion relies on,
  // and a flip back that reads the record first stops the promoted server.
  if (host_.PostmasterAlive(dir)) {
    return absl::FailedPreconditionError(context + ": it runs; not recording");
  }
  absl::StatusOr<model::StartupConfig> startup = host_.ReadStartupConfig(dir);
  SY_RETURN_IF_ERROR(Annotated(startup.status(), context, ""));
  if (!startup->fenced || !startup->standby_signal) {
    return absl::FailedPreconditionError(context + ": its data directory is not fenced");
  }
  SY_RETURN_IF_ERROR(AskGate(gate_, acts::kPromotionRecord));
  SY_RETURN_IF_ERROR(
      Annotated(host_.RecordPromotionRequest(
                    dir, absl::StrCat(host::kFencePromotionLine, ": ", Name(promoted), " at ",
                                      util::FormatRfc3339(clock_.Now()))),
                context, ""));
  out->detail = absl::StrCat("recorded in ", Name(target), "'s fence that ", Name(promoted),
                             " is being promoted");
  return absl::OkStatus();
}

absl::Status PostgresActuator::Start(const api::DeploymentColorSpec& spec, api::Color color,
                                     StepOutcome* out) {
  StepOutcome local;
  out = Sink(out, &local);
  const std::string context = Context("starting", spec, color);
  const std::string& dir = DataDir(spec, color);
  const api::DatabaseRef& db = spec.color(color).database;
  const PgEndpoint ep = host::EndpointFor(spec, color);
  const std::string log_file = dir + ".log";
  if (!host_.HoldsCluster(dir)) {
    return absl::FailedPreconditionError(context + ": " + dir +
                                         " holds no PostgreSQL cluster; a basebackup creates one");
  }
  std::optional<int> spawned;
  if (!host_.PostmasterAlive(dir)) {
    absl::StatusOr<model::StartupConfig> startup = host_.ReadStartupConfig(dir);
    SY_RETURN_IF_ERROR(Annotated(startup.status(), context, ""));
    if (startup->fenced && startup->standby_signal) {
      return absl::FailedPreconditionError(
          context + ": its data directory is fenced; it starts only once the fence is lifted");
    }
    if (!startup->standby_signal) {
      // Rule (starting a primary), checked on what is true now, not on the plan.
      SY_ASSIGN_OR_RETURN(auto pair, ObservePair(spec, color, context));
      if (const std::string why = model::WhyNotStartAsPrimary(pair.first, pair.second);
          !why.empty()) {
        return absl::FailedPreconditionError(
            absl::StrCat(context, " as a primary: ", why, "; not starting"));
      }
    }
    // A postmaster killed a moment ago can linger as a zombie until it is reaped; a new one
    // refuses to start while the pid in postmaster.pid still exists.
    if (const std::optional<int> stale = host_.ReadPostmasterPid(dir)) {
      PollUntil(clock_, timeouts_.start, timeouts_.poll,
                [&] { return !host_.SignalProcess(*stale, 0).ok() || host_.ProcessAlive(*stale); });
    }
    util::Command cmd;
    cmd.argv = {spec.database.bin_directory + "/postgres",
                "-D",
                dir,
                "-c",
                absl::StrCat("port=", db.port),
                "-c",
                "listen_addresses=" + db.host};
    if (!db.config_file.empty()) {
      // A packaged cluster: its postgresql.conf lives elsewhere and names its data directory;
      // the spec's directory wins over the file's data_directory (a command-line setting
      // overrides the file), so the server started is the one observed.
      cmd.argv.insert(cmd.argv.end(),
                      {"-c", "config_file=" + db.config_file, "-c", "data_directory=" + dir});
    }
    cmd.run_as = spec.database.os_user;
    SY_RETURN_IF_ERROR(AskGate(gate_, acts::kSpawn));
    absl::StatusOr<int> pid = runner_.Spawn(cmd, log_file);
    if (absl::IsNotFound(pid.status())) {
      return absl::InvalidArgumentError(absl::StrCat(context, ": ", pid.status().message(),
                                                     "; check spec.database.binDirectory"));
    }
    SY_RETURN_IF_ERROR(Annotated(pid.status(), context, ""));
    spawned = *pid;
    out->detail = absl::StrCat("started ", Name(color), " (pid ", *pid, ")");
  } else {
    out->detail = absl::StrCat(Name(color), " already running");
  }
  absl::Status verdict;
  const bool up = PollUntil(clock_, timeouts_.start, timeouts_.poll, [&] {
    absl::StatusOr<std::vector<PgRow>> r =
        pg_.Query(ep, "SELECT current_setting('data_directory')");
    if (r.ok()) {
      const std::string served = Scalar(*r);
      if (served != dir && !host_.SameDirectory(served, dir)) {
        verdict = absl::FailedPreconditionError(absl::StrCat(
            context, ": port ", db.port, " is served by another server (data directory ", served,
            "); stop it or change the port"));
      }
      return true;
    }
    if (!absl::IsUnavailable(r.status())) {
      verdict = Annotated(r.status(), context, "");
      return true;
    }
    if (spawned && !host_.ProcessAlive(*spawned) && !host_.PostmasterAlive(dir)) {
      verdict = absl::UnavailableError(context + ": postgres exited during start-up; " +
                                       host_.ServerLogTail(dir));
      return true;
    }
    return false;
  });
  if (!verdict.ok()) return verdict;
  if (!up) {
    return absl::UnavailableError(absl::StrCat(context, ": not accepting connections ",
                                               timeouts_.start.count(), " ms after start; ",
                                               host_.ServerLogTail(dir)));
  }
  return absl::OkStatus();
}

absl::Status PostgresActuator::CreateSlot(const api::DeploymentColorSpec& spec, api::Color target,
                                          api::Color source, StepOutcome* out) {
  StepOutcome local;
  out = Sink(out, &local);
  const std::string slot = model::SlotName(target);
  const std::string context =
      absl::StrCat("creating slot ", slot, " on ", Context("", spec, source).substr(1));
  const PgEndpoint ep = host::EndpointFor(spec, source);
  // On a primary the slot reserves WAL from its redo pointer; on a standby (the one about to
  // be promoted) from its last restartpoint's, before the fork the old primary will follow.
  SY_RETURN_IF_ERROR(AskGate(gate_, acts::kCreateSlot));
  absl::StatusOr<std::vector<PgRow>> rows =
      pg_.Query(ep,
                "SELECT pg_create_physical_replication_slot($1, true) WHERE NOT EXISTS "
                "(SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)",
                {slot});
  if (absl::IsAlreadyExists(rows.status())) return absl::OkStatus();  // created in between
  SY_RETURN_IF_ERROR(Annotated(rows.status(), context, ""));
  out->detail = rows->empty() ? "slot " + slot + " exists" : "created slot " + slot;
  return absl::OkStatus();
}

absl::Status PostgresActuator::DropSlot(const api::DeploymentColorSpec& spec, api::Color target,
                                        api::Color source, StepOutcome* out) {
  StepOutcome local;
  out = Sink(out, &local);
  const std::string slot = model::SlotName(target);
  const std::string context =
      absl::StrCat("dropping slot ", slot, " on ", Context("", spec, source).substr(1));
  // Rule: a slot in use is not dropped (the standby streams through it after all), and only
  // an inactive one: the statement drops nothing else, and nothing when it is gone already.
  SY_RETURN_IF_ERROR(AskGate(gate_, acts::kDropSlot));
  absl::StatusOr<std::vector<PgRow>> rows = pg_.Query(
      host::EndpointFor(spec, source),
      "SELECT active::text, (SELECT pg_drop_replication_slot(slot_name) WHERE NOT active) IS NULL "
      "FROM pg_replication_slots WHERE slot_name = $1 AND slot_type = 'physical'",
      {slot});
  if (absl::IsNotFound(rows.status())) return absl::OkStatus();  // dropped in between
  SY_RETURN_IF_ERROR(Annotated(rows.status(), context, ""));
  if (rows->empty()) {
    out->detail = "slot " + slot + " does not exist";
    return absl::OkStatus();
  }
  if (Scalar(*rows) == "true") {
    return absl::FailedPreconditionError(context + ": it is active (re-observe)");
  }
  out->detail = "dropped slot " + slot;
  return absl::OkStatus();
}

absl::Status PostgresActuator::ConfigureStandby(const api::DeploymentColorSpec& spec,
                                                api::Color target, api::Color source,
                                                StepOutcome* out) {
  StepOutcome local;
  out = Sink(out, &local);
  const std::string context = Context("configuring", spec, target, "as a standby of", source);
  const std::string& dir = DataDir(spec, target);
  if (host_.PostmasterAlive(dir)) {
    return absl::FailedPreconditionError(context + ": it is running; stop it first");
  }
  SY_RETURN_IF_ERROR(AskGate(gate_, acts::kStandbyFiles));
  SY_RETURN_IF_ERROR(
      Annotated(host_.ConfigureStandbyDirectory(dir, host::StandbyConninfo(spec, target, source),
                                                model::SlotName(target)),
                context, ""));
  out->detail = absl::StrCat("configured ", Name(target), " as a standby of ", Name(source));
  return absl::OkStatus();
}

}  // namespace sy::actuate
