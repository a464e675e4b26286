// The sync-standby step of PostgresActuator: synchronous_standby_names as
// spec.database.synchronousReplication keeps it (pkg/plan/README.md §17).
#include "absl/strings/str_cat.h"
#include "pkg/actuate/pg_step_util.h"
#include "pkg/actuate/postgres_actuator.h"
#include "pkg/model/sync_rep.h"
#include "pkg/util/status_macros.h"

namespace sy::actuate {

using pg_internal::Annotated;
using pg_internal::Context;
using pg_internal::MillisSince;
using pg_internal::Name;
using pg_internal::PollUntil;

absl::Status PostgresActuator::SyncStandby(const api::DeploymentColorSpec& spec, api::Color target,
                                           std::optional<api::Color> standby, StepOutcome* out) {
  StepOutcome local;
  out = out != nullptr ? out : &local;
  const std::string context = Context("setting synchronous_standby_names of", spec, target);
  const host::PgEndpoint ep = host::EndpointFor(spec, target);
  // Made of a color's name only: nothing in it needs quoting beyond the quotes around it.
  const std::string value = model::SyncStandbyNamesValue(standby);
  auto current = [&]() -> absl::StatusOr<std::string> {
    absl::StatusOr<std::vector<host::PgRow>> rows =
        pg_.Query(ep, "SELECT current_setting('synchronous_standby_names')");
    SY_RETURN_IF_ERROR(Annotated(rows.status(), context, ""));
    if (rows->empty() || rows->front().empty()) return std::string();
    return rows->front()[0].value_or("");
  };
  SY_ASSIGN_OR_RETURN(const std::string before, current());
  if (before == value) {
    out->detail =
        absl::StrCat(Name(target), "'s synchronous_standby_names is '", value, "' already");
    return absl::OkStatus();
  }
  const auto start = clock_.MonotonicNow();
  // ALTER SYSTEM writes postgresql.auto.conf, also on a standby (it writes no WAL), where the
  // value waits inert until the promotion; the reload applies it.
  SY_RETURN_IF_ERROR(AskGate(gate_, acts::kAlterSystem));
  SY_RETURN_IF_ERROR(Annotated(
      pg_.Query(ep, absl::StrCat("ALTER SYSTEM SET synchronous_standby_names = '", value, "'"))
          .status(),
      context, ""));
  SY_RETURN_IF_ERROR(Annotated(pg_.Query(ep, "SELECT pg_reload_conf()").status(), context, ""));
  // The postmaster rereads its files and signals the backends; this session applies the new
  // value before its next statement once signalled.
  absl::Status poll_error;
  const bool applied = PollUntil(clock_, timeouts_.start, timeouts_.poll, [&] {
    absl::StatusOr<std::string> now = current();
    if (!now.ok()) poll_error = now.status();
    return !now.ok() || *now == value;
  });
  SY_RETURN_IF_ERROR(poll_error);
  if (!applied) {
    return absl::UnavailableError(absl::StrCat(context, ": written, but the server still shows '",
                                               before, "' ", timeouts_.start.count(),
                                               " ms after the reload"));
  }
  out->detail = absl::StrCat(Name(target), "'s synchronous_standby_names '", before, "' -> '",
                             value, "' (applied after ", MillisSince(clock_, start), " ms)");
  return absl::OkStatus();
}

}  // namespace sy::actuate
