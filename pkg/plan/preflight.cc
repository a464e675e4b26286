#include "pkg/plan/preflight.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "pkg/model/lsn.h"
#include "pkg/model/sync_rep.h"
#include "pkg/model/topology.h"

namespace sy::plan {
namespace {

using api::Color;
using model::Prerequisites;
using model::ServerState;
using model::Step;
using model::StepKind;

std::string Name(Color c) { return std::string(api::ColorName(c)); }

std::string Mib(uint64_t bytes) {
  return absl::StrFormat("%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
}

std::string Seconds(int64_t ms) {
  return absl::StrFormat("%.1f s", static_cast<double>(ms) / 1000.0);
}

// The first PostgreSQL version the observation query runs on.
constexpr int kOldestVersionNum = 140000;

// What the user Switchyard connects as needs on every server, beyond a superuser: each
// privilege, what needs it, and the statement that grants it. ALTER SYSTEM and
// pg_reload_conf() only when Switchyard manages synchronous_standby_names.
struct Needed {
  std::string_view privilege;
  std::string_view what;
  std::string_view grant;  // %s: the user
};
constexpr Needed kNeeded[] = {
    {"pg_promote", "EXECUTE on pg_promote() (the promote step)",
     "GRANT EXECUTE ON FUNCTION pg_promote(boolean, integer) TO %s"},
    {"pg_checkpoint", "pg_checkpoint (the CHECKPOINT of the fence and the promotion)",
     "GRANT pg_checkpoint TO %s"},
    {"replication", "the REPLICATION attribute (creating and dropping slots)",
     "ALTER ROLE %s REPLICATION"},
    {"pg_monitor", "pg_monitor (replication state, settings, pg_wal)", "GRANT pg_monitor TO %s"},
};
constexpr Needed kNeededForSync[] = {
    {"pg_reload_conf", "EXECUTE on pg_reload_conf()",
     "GRANT EXECUTE ON FUNCTION pg_reload_conf() TO %s"},
    {"alter_system", "ALTER SYSTEM on synchronous_standby_names",
     "GRANT ALTER SYSTEM ON PARAMETER synchronous_standby_names TO %s"},
};

// What the user lacks on `s`: "" when nothing (a superuser, or every privilege held), and
// when the privileges were not read.
std::string Missing(const api::DeploymentColorSpec& spec, const ServerState& s) {
  const Prerequisites& p = s.prerequisites;
  if (!p.known || p.Has("superuser")) return "";
  const std::string& user = spec.database.user;
  std::vector<std::string> lacks;
  std::vector<std::string> grants;
  auto need = [&](const Needed& n) {
    if (p.Has(n.privilege)) return;
    lacks.emplace_back(n.what);
    grants.push_back(
        absl::StrReplaceAll(absl::string_view(n.grant.data(), n.grant.size()), {{"%s", user}}));
  };
  for (const Needed& n : kNeeded) need(n);
  if (spec.database.synchronous_replication != api::SynchronousReplication::kUnmanaged) {
    for (const Needed& n : kNeededForSync) need(n);
  }
  if (lacks.empty()) return "";
  std::string out =
      absl::StrCat("on ", Name(s.color), " the user ", user, " is not a superuser and lacks ",
                   absl::StrJoin(lacks, ", "), " (", absl::StrJoin(grants, "; "), ")");
  if (!p.Has("pg_checkpoint") && p.version_num > 0 && p.version_num < 150000) {
    absl::StrAppend(&out, "; before PostgreSQL 15 only a superuser may CHECKPOINT");
  }
  return out;
}

std::string Version(const ServerState& s) {
  return s.prerequisites.known ? s.prerequisites.version : "not read";
}

Check Make(std::string name, bool ok, std::string observed, std::string limit, std::string reason,
           std::string message) {
  Check c;
  c.name = std::move(name);
  c.ok = ok;
  c.observed = std::move(observed);
  c.limit = std::move(limit);
  c.reason = std::move(reason);
  c.message = std::move(message);
  return c;
}

Check Warning(Check c) {
  c.blocking = false;
  return c;
}

}  // namespace

std::vector<Check> Preflight(const api::DeploymentColor& dc, const model::World& w, Color d) {
  const api::DeploymentColorSpec& spec = dc.spec;
  const api::DatabaseSpec& db = spec.database;
  const Color o = api::Other(d);
  const ServerState& ds = w.server(d);
  const ServerState& os = w.server(o);
  std::vector<Check> checks;

  // Rule (abandoned switches): a switch given up after its fence (status.abandonedSwitch) is
  // not begun again for the same generation of the spec: it would fence the primary again
  // and fail again, taking writes away each time.
  const std::optional<api::AbandonedSwitch>& gave_up = dc.status.abandoned_switch;
  const bool abandoned =
      gave_up && gave_up->color == Name(d) && gave_up->generation == dc.metadata.generation;
  Check a = Make(
      "not-abandoned", !abandoned,
      abandoned ? absl::StrCat("abandoned at ", gave_up->abandoned_at, " (", gave_up->reason, ")")
                : "no",
      "a switch abandoned for this generation is not tried again", "SwitchAbandoned",
      abandoned ? absl::StrCat("the switch to ", Name(d), " was abandoned at ",
                               gave_up->abandoned_at, ": ", gave_up->message, ". ", Name(o),
                               " is the primary again and lost nothing. Fix the cause, then "
                               "change the spec (any change is a new generation) to try again, "
                               "or set activeColor back to ",
                               Name(o))
                : "");
  a.phase = api::Phase::kFailed;
  checks.push_back(std::move(a));

  // Rule (unknown hosts, pkg/plan/README.md §20): a switch begins only while every machine it
  // acts on answers: a database whose host is unknown may be anything, and what nginx serves
  // must be seen before the fence.
  std::vector<std::string> unknown;
  for (const ServerState* s : {&ds, &os}) {
    if (!s->HostKnown()) unknown.push_back(absl::StrCat(Name(s->color), ": ", s->host_unknown));
  }
  if (!w.nginx.HostKnown()) unknown.push_back("nginx: " + w.nginx.host_unknown);
  checks.push_back(Make(
      "hosts-known", unknown.empty(), unknown.empty() ? "all answer" : absl::StrJoin(unknown, "; "),
      "both databases' and nginx's machines answer", "AgentUnreachable",
      absl::StrCat("a machine the switch acts on cannot be observed (",
                   absl::StrJoin(unknown, "; "), "); ", Name(o),
                   " stays the primary and traffic stays where it is until it answers")));

  checks.push_back(Make("same-cluster", ds.system_identifier == os.system_identifier,
                        absl::StrCat(ds.system_identifier, " / ", os.system_identifier),
                        "one system identifier", "SystemIdentifierMismatch",
                        absl::StrCat(Name(d), " and ", Name(o), " are different clusters")));

  const bool old_version = (ds.prerequisites.known && ds.prerequisites.version_num > 0 &&
                            ds.prerequisites.version_num < kOldestVersionNum) ||
                           (os.prerequisites.known && os.prerequisites.version_num > 0 &&
                            os.prerequisites.version_num < kOldestVersionNum);
  checks.push_back(Make("server-version", !old_version,
                        absl::StrCat(Version(ds), " / ", Version(os)),
                        "PostgreSQL 14 or later (tested with 15)", "UnsupportedVersion",
                        absl::StrCat("PostgreSQL ", Version(ds), " on ", Name(d), ", ", Version(os),
                                     " on ", Name(o), ": Switchyard needs 14 or later")));

  // Rule (prerequisites): after the switch the old primary is a standby that Switchyard must
  // see replay; with hot_standby = off a standby accepts no connections at all.
  checks.push_back(Make(
      "hot-standby", !os.prerequisites.known || os.prerequisites.hot_standby,
      os.prerequisites.known ? (os.prerequisites.hot_standby ? "on" : "off") : "not read",
      absl::StrCat("on, on ", Name(o), " (the standby after the switch)"), "HotStandbyOff",
      absl::StrCat(Name(o), " has hot_standby = off: once it rejoins as ", Name(d),
                   "'s standby it would accept no connections, and Switchyard could not see it "
                   "replay. Set hot_standby = on on ",
                   Name(o))));

  std::vector<std::string> missing;
  for (const ServerState* s : {&ds, &os}) {
    if (std::string m = Missing(spec, *s); !m.empty()) missing.push_back(std::move(m));
  }
  checks.push_back(Make(
      "privileges", missing.empty(),
      missing.empty() ? absl::StrCat(db.user, ": everything needed") : absl::StrJoin(missing, "; "),
      "superuser, or pg_promote, pg_checkpoint, REPLICATION and pg_monitor (and ALTER SYSTEM "
      "with pg_reload_conf when synchronousReplication is managed)",
      "InsufficientPrivileges",
      absl::StrCat("the switch would fail half-way: ", absl::StrJoin(missing, "; "))));

  checks.push_back(Make("replay-not-paused", !ds.replay_paused,
                        ds.replay_paused ? "paused" : "replaying", "replaying", "ReplayPaused",
                        absl::StrCat("WAL replay is paused on ", Name(d),
                                     ": resume it (pg_wal_replay_resume()) to switch")));

  // Rule (catch-up): after the fence nothing writes until the standby has replayed all of
  // the old primary's WAL. A standby told to replay each commit late would keep both servers
  // read-only for that long: it is no switchover target.
  const int64_t delay = ds.prerequisites.known ? ds.prerequisites.apply_delay_ms : 0;
  checks.push_back(Make(
      "apply-delay", delay == 0, absl::StrCat(delay, " ms"), "0 (recovery_min_apply_delay)",
      "ApplyDelay",
      absl::StrCat(Name(d), " has recovery_min_apply_delay = ", delay,
                   " ms: it replays each commit that late, so after the fence nothing could be "
                   "promoted for that long and nothing would take writes. Set it to 0 on ",
                   Name(d),
                   " (ALTER SYSTEM SET recovery_min_apply_delay = 0; SELECT "
                   "pg_reload_conf()) to switch")));

  const uint64_t lag = model::LagBytes(ds, os);
  checks.push_back(Make("lag-bytes", lag <= static_cast<uint64_t>(db.max_lag_bytes),
                        absl::StrCat(Mib(lag), " behind"),
                        absl::StrCat("at most ", Mib(db.max_lag_bytes), " (maxLagBytes)"),
                        "StandbyLagging",
                        absl::StrCat(Name(d), " is more than maxLagBytes (", db.max_lag_bytes,
                                     ") behind ", Name(o))));

  int64_t replay_lag_ms = -1;
  for (const model::ReplicationPeer& peer : os.replication) {
    if (peer.application_name == Name(d)) replay_lag_ms = peer.replay_lag_ms;
  }
  const int64_t max_replay_ms = int64_t{db.max_replay_lag_seconds} * 1000;
  checks.push_back(Make(
      "replay-lag", replay_lag_ms <= max_replay_ms,
      replay_lag_ms < 0 ? "none reported" : Seconds(replay_lag_ms),
      absl::StrCat("at most ", db.max_replay_lag_seconds, " s (maxReplayLagSeconds)"),
      "ReplayLagging",
      absl::StrCat(Name(d), "'s replay is ", Seconds(replay_lag_ms), " behind ", Name(o),
                   " (pg_stat_replication.replay_lag; maxReplayLagSeconds ",
                   db.max_replay_lag_seconds,
                   "): a replay that stands still (a query conflict, an apply delay) would keep "
                   "both servers read-only after the fence. ",
                   Name(o), " stays the primary")));

  // A query on the standby may hold replay this long (max_standby_streaming_delay); longer
  // than the catch-up timeout, it can make a switch that has fenced give up.
  const int64_t hold = ds.prerequisites.known ? ds.prerequisites.streaming_delay_ms : 0;
  const int64_t catch_up_ms = int64_t{db.catch_up_timeout_seconds} * 1000;
  checks.push_back(Warning(
      Make("conflict-delay", hold >= 0 && hold <= catch_up_ms,
           hold < 0 ? "-1 (for ever)" : absl::StrCat(hold, " ms"),
           absl::StrCat("at most catchUpTimeoutSeconds (", db.catch_up_timeout_seconds, " s)"),
           "ConflictDelay",
           absl::StrCat(Name(d), "'s max_standby_streaming_delay lets a query hold its replay ",
                        hold < 0 ? "for ever" : absl::StrCat("for ", hold, " ms"),
                        ": such a query during the switch makes it give up after "
                        "catchUpTimeoutSeconds and bring ",
                        Name(o), " back"))));

  // Rule (synchronous replication, pkg/plan/README.md §17): unmanaged, a setting on D that O
  // cannot satisfy would make every commit on D wait for ever once D is promoted.
  const bool unmanaged = db.synchronous_replication == api::SynchronousReplication::kUnmanaged;
  const std::string sync_why = unmanaged ? model::WhySyncStandbyUnsatisfiable(ds, Name(o)) : "";
  checks.push_back(Make(
      "sync-standby", sync_why.empty(),
      unmanaged
          ? model::DescribeSyncStandbyNames(ds)
          : absl::StrCat("managed (",
                         std::string(api::SynchronousReplicationName(db.synchronous_replication)),
                         ")"),
      absl::StrCat("satisfiable by ", Name(o), " streaming from ", Name(d)),
      "SynchronousStandbyUnsatisfiable",
      absl::StrCat("after the switch every commit on ", Name(d), " would wait for ever: its ",
                   sync_why, ". Set it on ", Name(d), " to name ", Name(o),
                   " (or '*'), or empty it, e.g. ALTER SYSTEM SET synchronous_standby_names = '",
                   Name(o),
                   "'; SELECT pg_reload_conf(), or have Switchyard manage it "
                   "(spec.database.synchronousReplication required or preferred); ",
                   Name(o), " stays the primary and traffic stays where it is")));

  // Rule: health gates come before the fence. Once the old primary is fenced nothing waits
  // for HTTP: an app that needs a writable database would otherwise wait for a promotion
  // that waits for the app.
  int healthy = 0;
  int upstreams = 0;
  if (auto it = w.upstreams.find(d); it != w.upstreams.end()) {
    for (const model::UpstreamState& u : it->second) {
      ++upstreams;
      if (u.healthy) ++healthy;
    }
  }
  checks.push_back(Make("upstreams-healthy", w.UpstreamsHealthy(d),
                        absl::StrCat(healthy, " of ", upstreams, " answer"), "at least one answers",
                        "UpstreamsUnhealthy",
                        absl::StrCat("no upstream of ", Name(d), " answers; ", Name(o),
                                     " stays the primary and traffic stays where it is")));

  // Rule (logical slots): PostgreSQL 15 keeps a logical slot on the server that made it; a
  // switch leaves the new primary without it and its consumers (CDC) stranded. Only the
  // operator may accept that.
  const std::vector<std::string> logical = model::LogicalSlots(os);
  const bool allowed = model::LogicalSlotLossAllowed(dc);
  checks.push_back(Make(
      "logical-slots", logical.empty() || allowed,
      logical.empty()
          ? "none"
          : absl::StrCat(absl::StrJoin(logical, ", "), allowed ? " (loss accepted)" : ""),
      absl::StrCat("none, or ", std::string(api::kAllowLosingLogicalSlotsAnnotation), "=true"),
      "LogicalSlots",
      absl::StrCat(Name(o), " holds logical replication slots (", absl::StrJoin(logical, ", "),
                   "), which PostgreSQL 15 cannot carry to ", Name(d),
                   ": a switch loses them and strands their consumers. Drop them, or annotate ",
                   std::string(api::kAllowLosingLogicalSlotsAnnotation),
                   "=true to switch anyway")));

  const bool traffic_there = w.nginx.TrafficOn(d);
  checks.push_back(Make("nginx-running", traffic_there || w.nginx.running,
                        w.nginx.running ? "running" : "not running", "running (to switch traffic)",
                        "NginxNotRunning",
                        absl::StrCat("nginx is not running (", spec.nginx.config_file,
                                     "): start it; traffic cannot be switched to ", Name(d))));

  // Should O diverge (a crash during the fence, a split brain), pg_rewind needs
  // wal_log_hints or data checksums on it; without both the rejoin falls back to a copy.
  const Prerequisites& op = os.prerequisites;
  const bool rewindable = !op.known || op.wal_log_hints || op.data_checksums;
  checks.push_back(Warning(
      Make("rewind-possible", db.rejoin_method != api::RejoinMethod::kAuto || rewindable,
           op.known ? absl::StrCat("wal_log_hints ", op.wal_log_hints ? "on" : "off",
                                   ", data checksums ", op.data_checksums ? "on" : "off")
                    : "not read",
           absl::StrCat("wal_log_hints or data checksums on ", Name(o)), "RewindImpossible",
           absl::StrCat(Name(o),
                        " has neither wal_log_hints nor data checksums: should it diverge "
                        "from ",
                        Name(d),
                        ", pg_rewind cannot rejoin it and it would be re-cloned (a full copy)"))));
  return checks;
}

const Check* FirstFailure(const std::vector<Check>& checks) {
  for (const Check& c : checks) {
    if (c.blocking && !c.ok) return &c;
  }
  return nullptr;
}

std::vector<SwitchStep> SwitchSteps(const api::DeploymentColor& dc, const model::World& w,
                                    Color d) {
  const api::DatabaseSpec& db = dc.spec.database;
  const Color o = api::Other(d);
  const ServerState& ds = w.server(d);
  std::vector<SwitchStep> steps;
  auto add = [&](StepKind kind, Color target, std::optional<Color> source, std::string what) {
    steps.push_back(SwitchStep{Step{kind, target, source}, std::move(what)});
  };
  const std::optional<std::string> before =
      model::ManagedSyncStandbyNames(db.synchronous_replication, o, false);
  if (before && (!ds.sync.known || ds.sync.standby_names != *before)) {
    add(StepKind::kSyncStandby, d, before->empty() ? std::nullopt : std::optional<Color>(o),
        absl::StrCat("synchronous_standby_names = '", *before, "' on ", Name(d),
                     " while it is a standby (no effect until it is promoted)"));
  }
  if (!w.nginx.TrafficOn(d)) {
    add(StepKind::kSwitchTraffic, d, std::nullopt,
        absl::StrCat("nginx upstream file to ", Name(d), ", nginx -t, graceful reload"));
  }
  if (!model::HasSlotFor(ds, o)) {
    add(StepKind::kCreateSlot, o, d,
        absl::StrCat(model::SlotName(o), " on ", Name(d),
                     ", holding the WAL from before the fork that ", Name(o), " needs to rejoin"));
  }
  add(StepKind::kFence, o, std::nullopt,
      absl::StrCat("fence marker and standby.signal in ", Name(o),
                   "'s data directory, CHECKPOINT, fast shutdown: writes stop here"));
  add(StepKind::kPromote, d, std::nullopt,
      absl::StrCat("once ", Name(d), " has replayed past ", Name(o),
                   "'s shutdown checkpoint (waiting at most catchUpTimeoutSeconds, ",
                   db.catch_up_timeout_seconds, " s, else ", Name(o),
                   " becomes the primary again): pg_promote(), CHECKPOINT; writes resume"));
  const std::optional<std::string> after =
      model::ManagedSyncStandbyNames(db.synchronous_replication, o, true);
  const std::optional<std::string> while_away =
      model::ManagedSyncStandbyNames(db.synchronous_replication, o, false);
  if (while_away && *while_away != (before ? *before : "")) {
    add(StepKind::kSyncStandby, d, while_away->empty() ? std::nullopt : std::optional<Color>(o),
        absl::StrCat("synchronous_standby_names = '", *while_away, "' on ", Name(d), " while ",
                     Name(o), " does not stream"));
  }
  if (db.rejoin_method == api::RejoinMethod::kBasebackup) {
    add(StepKind::kBasebackup, o, d,
        absl::StrCat("re-clone ", Name(o), " from ", Name(d), " (rejoinMethod basebackup)"));
  } else {
    add(StepKind::kConfigureStandby, o, d,
        absl::StrCat("primary_conninfo to ", Name(d), ", primary_slot_name ", model::SlotName(o),
                     ", fence marker removed (", Name(o), " stays stopped)"));
  }
  add(StepKind::kStart, o, std::nullopt,
      absl::StrCat(Name(o), " starts as ", Name(d), "'s streaming standby"));
  if (after && *after != (while_away ? *while_away : "")) {
    add(StepKind::kSyncStandby, d, after->empty() ? std::nullopt : std::optional<Color>(o),
        absl::StrCat("synchronous_standby_names = '", *after, "' on ", Name(d), " once ", Name(o),
                     " streams"));
  }
  return steps;
}

}  // namespace sy::plan
