// The re-copying steps of PostgresActuator: pg_rewind and pg_basebackup with the swap of
// data directories.
#include "absl/strings/str_cat.h"
#include "pkg/actuate/pg_step_util.h"
#include "pkg/actuate/postgres_actuator.h"
#include "pkg/host/pg_standby_config.h"
#include "pkg/model/topology.h"
#include "pkg/util/status_macros.h"

namespace sy::actuate {

using pg_internal::Annotated;
using pg_internal::Context;
using pg_internal::DataDir;
using pg_internal::Name;
using pg_internal::OutputTail;

using host::PgEndpoint;

absl::StatusOr<util::CommandResult> PostgresActuator::RunTool(const api::DeploymentColorSpec& spec,
                                                              std::vector<std::string> argv,
                                                              const std::string& context,
                                                              std::vector<int> inherit_fds) {
  util::Command cmd;
  cmd.argv = std::move(argv);
  cmd.run_as = spec.database.os_user;
  cmd.timeout = timeouts_.copy;
  cmd.die_with_parent = true;  // a tool must not outlive a killed daemon (CopyLock)
  cmd.inherit_fds = std::move(inherit_fds);
  absl::StatusOr<util::CommandResult> r = runner_.Run(cmd);
  if (absl::IsNotFound(r.status()) || absl::IsPermissionDenied(r.status())) {
    return absl::InvalidArgumentError(absl::StrCat(
        context, ": ", r.status().message(), "; check spec.database.binDirectory and osUser"));
  }
  if (!r.ok()) return Annotated(r.status(), context, "");
  return r;
}

absl::Status PostgresActuator::CheckReplace(const api::DeploymentColor& dc, api::Color target,
                                            api::Color source, const std::string& context) {
  SY_ASSIGN_OR_RETURN(auto pair, ObservePair(dc.spec, target, context));
  if (pair.second.color != source) {
    return absl::InvalidArgumentError(context + ": the source must be the other color");
  }
  // Rule (replacing a data directory), checked on what is true now, not on the plan.
  if (const std::string why = model::WhyNotReplace(dc, pair.first, pair.second); !why.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(context, ": ", why, "; not replacing it"));
  }
  return absl::OkStatus();
}

absl::Status PostgresActuator::Rewind(const api::DeploymentColor& dc, api::Color target,
                                      api::Color source, StepOutcome* out) {
  StepOutcome local;
  out = out != nullptr ? out : &local;
  const api::DeploymentColorSpec& spec = dc.spec;
  const std::string context = Context("rewinding", spec, target, "from", source);
  const std::string& dir = DataDir(spec, target);
  absl::StatusOr<std::unique_ptr<host::CopyGuard>> copy_lock = host_.LockForCopy(dir);
  SY_RETURN_IF_ERROR(Annotated(copy_lock.status(), context, ""));
  if (host_.PostmasterAlive(dir)) {
    return absl::FailedPreconditionError(context + ": it is running; stop it first");
  }
  if (!host_.HoldsCluster(dir)) {
    return absl::FailedPreconditionError(context + ": " + dir +
                                         " holds no cluster; a basebackup creates one");
  }
  SY_RETURN_IF_ERROR(CheckReplace(dc, target, source, context));
  // pg_rewind reads the source's timeline from its pg_control, which shows a promotion only
  // after a checkpoint.
  const PgEndpoint source_ep = host::EndpointFor(spec, source);
  SY_RETURN_IF_ERROR(Annotated(pg_.Query(source_ep, "CHECKPOINT").status(), context, ""));
  std::vector<std::string> argv = {spec.database.bin_directory + "/pg_rewind",
                                   "--target-pgdata=" + dir,
                                   "--source-server=" + source_ep.Conninfo()};
  // The target's own configuration, for the single-user run pg_rewind may need to finish
  // its crash recovery first.
  if (const std::string& conf = spec.color(target).database.config_file; !conf.empty()) {
    argv.push_back("--config-file=" + conf);
  }
  SY_RETURN_IF_ERROR(AskGate(gate_, acts::kPgRewind));
  absl::StatusOr<util::CommandResult> r =
      RunTool(spec, std::move(argv), context, (*copy_lock)->InheritedDescriptors());
  if (absl::IsDeadlineExceeded(r.status())) {
    return absl::AbortedError(absl::StrCat(r.status().message(), "; re-clone it instead"));
  }
  if (!r.ok()) return r.status();
  // A refusal of the directory as another cluster is no failure to rewind: a re-clone would
  // destroy another database. It stays an error, and nothing falls back. (WhyNotReplace
  // refuses another system identifier first; this holds if the two ever disagree.)
  if (r->exit_code != 0 && r->output.find("are from different systems") != std::string::npos) {
    return absl::FailedPreconditionError(absl::StrCat(
        context, ": pg_rewind refused another cluster. Output:\n", OutputTail(r->output)));
  }
  if (r->exit_code != 0) {
    return absl::AbortedError(absl::StrCat(context, ": pg_rewind exited with ", r->exit_code,
                                           "; re-clone it with a basebackup instead. Output:\n",
                                           OutputTail(r->output)));
  }
  SY_RETURN_IF_ERROR(ConfigureStandby(spec, target, source, out));
  out->detail = absl::StrCat(
      "rewound ", Name(target), " from ", Name(source),
      r->output.find("no rewind required") != std::string::npos ? " (no rewind required)" : "");
  return absl::OkStatus();
}

absl::Status PostgresActuator::Basebackup(const api::DeploymentColor& dc, api::Color target,
                                          api::Color source, StepOutcome* out) {
  StepOutcome local;
  out = out != nullptr ? out : &local;
  const api::DeploymentColorSpec& spec = dc.spec;
  const std::string context = Context("re-cloning", spec, target, "from", source);
  const std::string& dir = DataDir(spec, target);
  absl::StatusOr<std::unique_ptr<host::CopyGuard>> copy_lock = host_.LockForCopy(dir);
  SY_RETURN_IF_ERROR(Annotated(copy_lock.status(), context, ""));
  const std::string fresh = host::CopyDirectory(dir);
  if (host_.PostmasterAlive(dir)) {
    return absl::FailedPreconditionError(context + ": it is running; stop it first");
  }
  // A crash between the two renames of the swap left <dir>.old and maybe a complete <dir>.new.
  absl::StatusOr<host::SwapRecovery> recovered = host_.RecoverInterruptedSwap(dir);
  SY_RETURN_IF_ERROR(Annotated(recovered.status(), context, ""));
  if (*recovered == host::SwapRecovery::kCompleted) {
    out->detail = absl::StrCat("finished swapping in the copy of ", Name(target));
    return absl::OkStatus();
  }
  if (*recovered == host::SwapRecovery::kRolledBack) {
    // The old directory is back: whether it may still be replaced is decided anew.
    return absl::AbortedError(context + ": an interrupted copy was undone (" + dir +
                              ".old put back); re-observing before copying");
  }
  SY_RETURN_IF_ERROR(CheckReplace(dc, target, source, context));
  SY_RETURN_IF_ERROR(Annotated(host_.ClearCopyLeftovers(dir), context, ""));

  SY_RETURN_IF_ERROR(AskGate(gate_, acts::kPgBasebackup));
  SY_ASSIGN_OR_RETURN(const util::CommandResult r,
                      RunTool(spec,
                              {spec.database.bin_directory + "/pg_basebackup", "-d",
                               host::ReplicationConninfo(spec, source), "-D", fresh, "-c", "fast",
                               "-X", "stream", "-w"},
                              context, (*copy_lock)->InheritedDescriptors()));
  if (r.exit_code != 0) {
    (void)host_.ClearCopyLeftovers(dir);
    return absl::UnavailableError(absl::StrCat(context, ": pg_basebackup exited with ", r.exit_code,
                                               "; output:\n", OutputTail(r.output)));
  }
  SY_RETURN_IF_ERROR(
      Annotated(host_.ConfigureStandbyDirectory(fresh, host::StandbyConninfo(spec, target, source),
                                                model::SlotName(target)),
                context, ""));
  // The copy waited in <dir>.new unseen; the swap is what replaces the data directory.
  SY_RETURN_IF_ERROR(AskGate(gate_, acts::kSwapInCopy));
  SY_RETURN_IF_ERROR(Annotated(host_.SwapInCopy(dir), context, ""));
  out->detail = absl::StrCat("re-cloned ", Name(target), " from ", Name(source));
  return absl::OkStatus();
}

}  // namespace sy::actuate
