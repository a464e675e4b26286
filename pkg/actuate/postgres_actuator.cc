#include "pkg/actuate/postgres_actuator.h"

#include <signal.h>

#include <cerrno>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "pkg/actuate/pg_standby_config.h"
#include "pkg/actuate/pg_step_util.h"
#include "pkg/observe/pg_datadir.h"
#include "pkg/observe/process.h"
#include "pkg/util/files.h"
#include "pkg/util/log.h"
#include "pkg/util/status_macros.h"

namespace sy::actuate {

using pg_internal::Annotated;
using pg_internal::Context;
using pg_internal::DataDir;
using pg_internal::LogTail;
using pg_internal::MillisSince;
using pg_internal::Name;
using pg_internal::OutputTail;
using pg_internal::PollUntil;

namespace {

using observe::PgEndpoint;
using observe::PgRow;

// The single text value of a one-row, one-column result ("" when NULL or absent).
std::string Scalar(const std::vector<PgRow>& rows) {
  if (rows.empty() || rows[0].empty() || !rows[0][0].has_value()) return "";
  return *rows[0][0];
}

}  // namespace

absl::Status PostgresActuator::Run(const api::DeploymentColor& dc, const plan::Step& step,
                                   StepOutcome* outcome) {
  const api::DeploymentColorSpec& spec = dc.spec;
  const auto start = clock_.MonotonicNow();
  detail_.clear();
  writes_stopped_at_.reset();
  writes_resumed_at_.reset();
  const api::Color source = step.source.value_or(api::Other(step.target));
  absl::Status s;
  switch (step.kind) {
    case plan::StepKind::kFence:
      s = Fence(spec, step.target);
      break;
    case plan::StepKind::kPromote:
      s = Promote(spec, step.target);
      break;
    case plan::StepKind::kStart:
      s = Start(spec, step.target);
      break;
    case plan::StepKind::kStop:
      s = Stop(spec, step.target);
      break;
    case plan::StepKind::kCreateSlot:
      s = CreateSlot(spec, step.target, source);
      break;
    case plan::StepKind::kConfigureStandby:
      s = ConfigureStandby(spec, step.target, source);
      break;
    case plan::StepKind::kRewind:
      s = Rewind(spec, step.target, source);
      break;
    case plan::StepKind::kBasebackup:
      s = Basebackup(spec, step.target, source);
      break;
    case plan::StepKind::kSwitchTraffic:
      return absl::InvalidArgumentError("the PostgreSQL actuator cannot " + plan::Describe(step));
  }
  const int64_t ms = MillisSince(clock_, start);
  if (outcome != nullptr) {
    outcome->writes_stopped_at = writes_stopped_at_;
    outcome->writes_resumed_at = writes_resumed_at_;
    outcome->detail = detail_.empty() ? absl::StrCat(plan::Describe(step), " in ", ms, " ms")
                                      : absl::StrCat(detail_, " in ", ms, " ms");
  }
  return s;
}

absl::Status PostgresActuator::Fence(const api::DeploymentColorSpec& spec, api::Color color) {
  const std::string context = Context("fencing", spec, color);
  const PgEndpoint ep = observe::EndpointFor(spec, color);
  if (!observe::PostmasterAlive(DataDir(spec, color))) {
    connections_.Drop(ep);
    detail_ = absl::StrCat(Name(color), " already stopped");
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<PgRow>> rows = connections_.Query(ep, "SELECT pg_is_in_recovery()");
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
  const auto start = clock_.MonotonicNow();
  SY_RETURN_IF_ERROR(
      Annotated(connections_.Query(ep, "CHECKPOINT", {}, timeouts_.stop).status(), context, ""));
  const int64_t checkpoint_ms = MillisSince(clock_, start);
  writes_stopped_at_ = clock_.MonotonicNow();
  SY_RETURN_IF_ERROR(Shutdown(spec, color, context));
  detail_ = absl::StrCat("fenced ", Name(color), " (checkpoint ", checkpoint_ms,
                         " ms, fast shutdown ", MillisSince(clock_, start) - checkpoint_ms, " ms)");
  return absl::OkStatus();
}

absl::Status PostgresActuator::Stop(const api::DeploymentColorSpec& spec, api::Color color) {
  return Shutdown(spec, color, Context("stopping", spec, color));
}

absl::Status PostgresActuator::Shutdown(const api::DeploymentColorSpec& spec, api::Color color,
                                        const std::string& context) {
  const std::string& dir = DataDir(spec, color);
  const PgEndpoint ep = observe::EndpointFor(spec, color);
  const std::string pid_file = dir + "/postmaster.pid";
  const std::optional<int> pid = observe::ReadPostmasterPid(dir);
  if (!pid || !observe::PostmasterAlive(dir)) {
    connections_.Drop(ep);
    detail_ = absl::StrCat(Name(color), " already stopped");
    return absl::OkStatus();
  }
  // SIGINT is the fast shutdown (pg_ctl stop -m fast sends just that).
  if (::kill(*pid, SIGINT) != 0 && errno != ESRCH) {
    if (errno != EPERM) {
      return util::ErrnoStatus(errno, context + ": signalling pid " + std::to_string(*pid));
    }
    // Not root and not its user: let osUser's pg_ctl send it (it does not wait, -W).
    SY_ASSIGN_OR_RETURN(
        const util::CommandResult r,
        RunTool(spec,
                {spec.database.bin_directory + "/pg_ctl", "stop", "-m", "fast", "-W", "-D", dir},
                context));
    if (r.exit_code != 0) {
      return absl::UnavailableError(context + ": pg_ctl stop failed: " + OutputTail(r.output));
    }
  }
  bool crashed = false;
  const bool gone = PollUntil(clock_, timeouts_.stop, timeouts_.poll, [&] {
    if (!util::PathExists(pid_file)) return true;
    // The postmaster removes its pid file before it exits: a dead one that left it crashed.
    crashed = !observe::ProcessAlive(*pid) && util::PathExists(pid_file);
    return crashed;
  });
  connections_.Drop(ep);
  detail_ = absl::StrCat("stopped ", Name(color));
  if (crashed) {
    return absl::AbortedError(context + ": the postmaster exited without a clean shutdown; " +
                              LogTail(dir + ".log"));
  }
  if (!gone) {
    return absl::UnavailableError(absl::StrCat(
        context, ": still running ", timeouts_.stop.count(),
        " ms after a fast shutdown request; it finishes its shutdown checkpoint first. ",
        LogTail(dir + ".log")));
  }
  return absl::OkStatus();
}

absl::Status PostgresActuator::Promote(const api::DeploymentColorSpec& spec, api::Color color) {
  const std::string context = Context("promoting", spec, color);
  const PgEndpoint ep = observe::EndpointFor(spec, color);
  const char kInRecovery[] = "SELECT pg_is_in_recovery()";
  absl::StatusOr<std::vector<PgRow>> rows = connections_.Query(ep, kInRecovery);
  if (absl::IsUnavailable(rows.status())) {
    return absl::FailedPreconditionError(
        absl::StrCat(context, ": not reachable (", rows.status().message(), "); start it first"));
  }
  SY_RETURN_IF_ERROR(Annotated(rows.status(), context, ""));
  if (Scalar(*rows) == "t") {
    rows = connections_.Query(ep, "SELECT pg_promote(wait => false)");
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
      absl::StatusOr<std::vector<PgRow>> r = connections_.Query(ep, kInRecovery);
      if (!r.ok()) poll_error = r.status();
      return !r.ok() || Scalar(*r) == "f";
    });
    SY_RETURN_IF_ERROR(Annotated(poll_error, context, "; the promotion was requested"));
    if (!writable) {
      return absl::UnavailableError(
          absl::StrCat(context, ": still in recovery ", timeouts_.promote.count(),
                       " ms after pg_promote(); ", LogTail(DataDir(spec, color) + ".log")));
    }
    writes_resumed_at_ = clock_.MonotonicNow();
    detail_ = absl::StrCat("promoted ", Name(color), " (writable after ",
                           MillisSince(clock_, start), " ms)");
  } else {
    detail_ = absl::StrCat(Name(color), " already primary");
  }
  // pg_control keeps the old timeline until a checkpoint; pg_rewind and the planner read it.
  rows = connections_.Query(ep,
                            "SELECT (SELECT timeline_id FROM pg_control_checkpoint())::text, "
                            "substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)");
  SY_RETURN_IF_ERROR(Annotated(rows.status(), context, ""));
  uint32_t checkpoint_tli = 0;
  uint32_t current_tli = 0;
  if (rows->empty() || rows->front().size() != 2 ||
      !absl::SimpleAtoi(rows->front()[0].value_or(""), &checkpoint_tli) ||
      !absl::SimpleHexAtoi(rows->front()[1].value_or(""), &current_tli)) {
    return absl::InternalError(context + ": unexpected timeline query result");
  }
  if (checkpoint_tli != current_tli) {
    const auto start = clock_.MonotonicNow();
    SY_RETURN_IF_ERROR(Annotated(connections_.Query(ep, "CHECKPOINT", {}, timeouts_.stop).status(),
                                 context, "; it is promoted, the checkpoint after it failed"));
    absl::StrAppend(&detail_, ", checkpoint ", MillisSince(clock_, start), " ms");
  }
  return absl::OkStatus();
}

absl::Status PostgresActuator::Start(const api::DeploymentColorSpec& spec, api::Color color) {
  const std::string context = Context("starting", spec, color);
  const std::string& dir = DataDir(spec, color);
  const api::DatabaseRef& db = spec.color(color).database;
  const PgEndpoint ep = observe::EndpointFor(spec, color);
  const std::string log_file = dir + ".log";
  if (!observe::HoldsCluster(dir)) {
    return absl::FailedPreconditionError(context + ": " + dir +
                                         " holds no PostgreSQL cluster; a basebackup creates one");
  }
  std::optional<int> spawned;
  if (!observe::PostmasterAlive(dir)) {
    util::Command cmd;
    cmd.argv = {spec.database.bin_directory + "/postgres",
                "-D",
                dir,
                "-c",
                absl::StrCat("port=", db.port),
                "-c",
                "listen_addresses=" + db.host};
    cmd.run_as = spec.database.os_user;
    absl::StatusOr<int> pid = runner_.Spawn(cmd, log_file);
    if (absl::IsNotFound(pid.status())) {
      return absl::InvalidArgumentError(absl::StrCat(context, ": ", pid.status().message(),
                                                     "; check spec.database.binDirectory"));
    }
    SY_RETURN_IF_ERROR(Annotated(pid.status(), context, ""));
    spawned = *pid;
    detail_ = absl::StrCat("started ", Name(color), " (pid ", *pid, ")");
  } else {
    detail_ = absl::StrCat(Name(color), " already running");
  }
  absl::Status verdict;
  const bool up = PollUntil(clock_, timeouts_.start, timeouts_.poll, [&] {
    absl::StatusOr<std::vector<PgRow>> r =
        connections_.Query(ep, "SELECT current_setting('data_directory')");
    if (r.ok()) {
      std::error_code ec;
      const std::string served = Scalar(*r);
      if (served != dir && !std::filesystem::equivalent(served, dir, ec)) {
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
    if (spawned && !observe::ProcessAlive(*spawned) && !observe::PostmasterAlive(dir)) {
      verdict = absl::UnavailableError(context + ": postgres exited during start-up; " +
                                       LogTail(log_file));
      return true;
    }
    return false;
  });
  if (!verdict.ok()) return verdict;
  if (!up) {
    return absl::UnavailableError(absl::StrCat(context, ": not accepting connections ",
                                               timeouts_.start.count(), " ms after start; ",
                                               LogTail(log_file)));
  }
  return absl::OkStatus();
}

absl::Status PostgresActuator::CreateSlot(const api::DeploymentColorSpec& spec, api::Color target,
                                          api::Color source) {
  const std::string slot = plan::SlotName(target);
  const std::string context =
      absl::StrCat("creating slot ", slot, " on ", Context("", spec, source).substr(1));
  const PgEndpoint ep = observe::EndpointFor(spec, source);
  absl::StatusOr<std::vector<PgRow>> rows = connections_.Query(ep, "SELECT pg_is_in_recovery()");
  SY_RETURN_IF_ERROR(Annotated(rows.status(), context, ""));
  if (Scalar(*rows) != "f") {
    return absl::FailedPreconditionError(context + ": it is not a primary (re-observe)");
  }
  rows = connections_.Query(ep,
                            "SELECT pg_create_physical_replication_slot($1, true) WHERE NOT EXISTS "
                            "(SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)",
                            {slot});
  if (absl::IsAlreadyExists(rows.status())) return absl::OkStatus();  // created in between
  SY_RETURN_IF_ERROR(Annotated(rows.status(), context, ""));
  detail_ = rows->empty() ? "slot " + slot + " exists" : "created slot " + slot;
  return absl::OkStatus();
}

absl::Status PostgresActuator::ConfigureStandby(const api::DeploymentColorSpec& spec,
                                                api::Color target, api::Color source) {
  const std::string context = Context("configuring", spec, target, "as a standby of", source);
  const std::string& dir = DataDir(spec, target);
  if (observe::PostmasterAlive(dir)) {
    return absl::FailedPreconditionError(context + ": it is running; stop it first");
  }
  SY_RETURN_IF_ERROR(Annotated(
      ConfigureStandbyDirectory(dir, StandbyConninfo(spec, target, source), plan::SlotName(target)),
      context, ""));
  detail_ = absl::StrCat("configured ", Name(target), " as a standby of ", Name(source));
  return absl::OkStatus();
}

}  // namespace sy::actuate
