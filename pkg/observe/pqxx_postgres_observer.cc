#include "pkg/observe/pqxx_postgres_observer.h"

#include <algorithm>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "pkg/host/pg_auto_conf.h"
#include "pkg/util/log.h"
#include "pkg/util/status_macros.h"

namespace sy::observe {
namespace {

using host::EndpointFor;
using host::PgEndpoint;
using host::PgRow;

// One round trip: a 'node' row, then one row per replication peer, WAL receiver and
// physical or logical slot, a 'wal' row: whether the user may list pg_wal (pg_ls_waldir()
// needs pg_monitor) and the segment size, and a 'sync' row: what makes commits wait for a
// synchronous standby, and the commits waiting for one now (pkg/observe/README.md #29).
// Functions that fail in recovery (or outside it), or cost more than they tell, sit behind
// CASE, which evaluates only the branch it takes. The node row also carries what
// pg_controldata would print of the running server's pg_control (pg_control_*() read the same
// file) and its data directory, so that a running server costs no process per observation.
constexpr char kObserveSql[] = R"sql(
WITH n AS (SELECT pg_is_in_recovery() AS rec)
SELECT 'node' AS kind, n.rec::text,
  (SELECT system_identifier::text FROM pg_control_system()),
  CASE WHEN n.rec THEN NULL ELSE substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8) END,
  CASE WHEN n.rec THEN coalesce(
    (SELECT received_tli::text FROM pg_stat_wal_receiver WHERE received_tli > 0),
    (SELECT timeline_id::text FROM pg_control_checkpoint())) END,
  CASE WHEN n.rec THEN NULL ELSE pg_current_wal_lsn()::text END,
  CASE WHEN n.rec THEN pg_last_wal_receive_lsn()::text END,
  CASE WHEN n.rec THEN pg_last_wal_replay_lsn()::text END,
  CASE WHEN n.rec THEN (pg_get_wal_replay_pause_state() <> 'not paused')::text END,
  (SELECT checkpoint_lsn::text FROM pg_control_checkpoint()),
  (SELECT timeline_id::text FROM pg_control_checkpoint()),
  (SELECT min_recovery_end_lsn::text FROM pg_control_recovery()),
  CASE WHEN pg_has_role('pg_read_all_settings', 'USAGE')
    THEN current_setting('data_directory') END
FROM n
UNION ALL
SELECT 'peer', application_name, state, replay_lsn::text, sync_state,
  coalesce(floor(extract(epoch FROM replay_lag) * 1000), -1)::bigint::text, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL
FROM pg_stat_replication
UNION ALL
SELECT 'receiver', status, sender_host, sender_port::text, slot_name, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL
FROM pg_stat_wal_receiver
UNION ALL
SELECT 'slot', slot_name::text, slot_type, active::text, wal_status, restart_lsn::text, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL
FROM pg_replication_slots
UNION ALL
SELECT 'wal', has_function_privilege('pg_ls_waldir()', 'EXECUTE')::text,
  pg_size_bytes(current_setting('wal_segment_size'))::text, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL
UNION ALL
SELECT 'sync', current_setting('synchronous_standby_names'),
  CASE WHEN current_setting('synchronous_standby_names') <> '' THEN
    (SELECT sourcefile FROM pg_settings WHERE name = 'synchronous_standby_names') END,
  current_setting('synchronous_commit'), count(*)::text,
  coalesce(floor(extract(epoch FROM now() - min(state_change)) * 1000), 0)::bigint::text,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM pg_stat_activity WHERE wait_event_type = 'IPC' AND wait_event = 'SyncRep'
UNION ALL
SELECT 'prereq', current_setting('server_version_num'), current_setting('server_version'),
  current_setting('hot_standby'),
  (SELECT setting FROM pg_settings WHERE name = 'recovery_min_apply_delay'),
  (SELECT setting FROM pg_settings WHERE name = 'max_standby_streaming_delay'),
  current_setting('wal_log_hints'), current_setting('data_checksums'),
  concat_ws(',', CASE WHEN r.rolsuper THEN 'superuser' END,
    CASE WHEN r.rolreplication THEN 'replication' END,
    CASE WHEN has_function_privilege('pg_promote(boolean, integer)', 'EXECUTE')
      THEN 'pg_promote' END,
    CASE WHEN has_function_privilege('pg_reload_conf()', 'EXECUTE') THEN 'pg_reload_conf' END,
    CASE WHEN pg_has_role('pg_monitor', 'MEMBER') THEN 'pg_monitor' END,
    CASE WHEN (SELECT pg_has_role(oid, 'MEMBER') FROM pg_roles WHERE rolname = 'pg_checkpoint')
      THEN 'pg_checkpoint' END),
  CASE WHEN pg_is_in_recovery() AND pg_has_role('pg_read_all_settings', 'USAGE')
    THEN current_setting('primary_conninfo') END,
  NULL, NULL, NULL
FROM pg_roles r WHERE r.rolname = current_user
)sql";

// ALTER SYSTEM on one setting may be granted to a non-superuser from PostgreSQL 15 on; the
// function that tells does not exist before, so it is asked only then (and only when it
// matters: a non-superuser, Switchyard managing synchronous_standby_names).
constexpr char kAlterSystemSql[] =
    "SELECT has_parameter_privilege('synchronous_standby_names', 'ALTER SYSTEM')::text";

// Asked when the observation query fails with an SQL error: a server older than the functions
// it uses answers this still, and the error can then say so.
constexpr char kVersionSql[] =
    "SELECT current_setting('server_version_num'), current_setting('server_version')";

// The oldest major version the observation query runs on (pg_get_wal_replay_pause_state()
// is new in 14); the tests run on 15.
constexpr int kOldestVersionNum = 140000;

// The oldest WAL segment in pg_wal ("log" and "seg" of its name), asked of a primary only
// when the 'wal' row says the user may: the privilege is checked when a statement starts,
// even for a call a CASE would skip.
constexpr char kOldestWalSql[] =
    "SELECT min(substr(name, 9, 16)) FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{24}$'";

// Where the segment named by the last 16 hex digits of a WAL file name begins ("log" then
// "seg"; a log holds 4 GiB of segments), or 0 when `name` or `segment_bytes` is not one.
model::Lsn SegmentStart(const std::string& name, const std::string& segment_bytes) {
  uint32_t log = 0;
  uint32_t seg = 0;
  uint64_t size = 0;
  if (name.size() != 16 || !absl::SimpleHexAtoi(absl::string_view(name.data(), 8), &log) ||
      !absl::SimpleHexAtoi(absl::string_view(name.data() + 8, 8), &seg) ||
      !absl::SimpleAtoi(segment_bytes, &size) || size == 0) {
    return 0;
  }
  return (uint64_t{log} << 32) + uint64_t{seg} * size;
}

std::string Text(const PgRow& row, size_t i) {
  return i < row.size() && row[i].has_value() ? *row[i] : std::string();
}

model::Lsn LsnAt(const PgRow& row, size_t i) { return model::ParseLsn(Text(row, i)).value_or(0); }

// What the node row says of the server's pg_control, and the data directory it runs on ("" when
// the user may not read it).
struct ServerControl {
  std::optional<model::ControlData> control;
  std::string data_directory;
  bool may_list_wal = false;  // pg_ls_waldir() is allowed
  std::string segment_bytes;  // wal_segment_size
};

absl::Status FillFromServer(const std::vector<PgRow>& rows, model::ServerState* s,
                            ServerControl* sc) {
  bool node = false;
  for (const PgRow& row : rows) {
    const std::string kind = Text(row, 0);
    if (kind == "node") {
      node = true;
      s->in_recovery = Text(row, 1) == "true";
      if (!absl::SimpleAtoi(Text(row, 2), &s->system_identifier)) {
        return absl::InternalError("unexpected system_identifier '" + Text(row, 2) + "'");
      }
      model::ControlData c;
      // What pg_controldata prints of a running server's cluster state.
      c.cluster_state = s->in_recovery ? "in archive recovery" : "in production";
      c.system_identifier = s->system_identifier;
      const std::optional<model::Lsn> checkpoint = model::ParseLsn(Text(row, 9));
      const std::optional<model::Lsn> min_recovery = model::ParseLsn(Text(row, 11));
      if (checkpoint && min_recovery && absl::SimpleAtoi(Text(row, 10), &c.checkpoint_timeline)) {
        c.checkpoint_lsn = *checkpoint;
        c.min_recovery_end = *min_recovery;
        sc->control = c;
      }
      sc->data_directory = Text(row, 12);
      const bool ok = s->in_recovery ? absl::SimpleAtoi(Text(row, 4), &s->timeline)
                                     : absl::SimpleHexAtoi(Text(row, 3), &s->timeline);
      if (!ok) return absl::InternalError("unexpected timeline in the observation query");
      s->current_lsn = LsnAt(row, 5);
      s->receive_lsn = LsnAt(row, 6);
      s->replay_lsn = LsnAt(row, 7);
      s->replay_paused = Text(row, 8) == "true";
    } else if (kind == "peer") {
      s->replication.push_back(
          model::ReplicationPeer{Text(row, 1), Text(row, 2), LsnAt(row, 3), Text(row, 4)});
      (void)absl::SimpleAtoi(Text(row, 5), &s->replication.back().replay_lag_ms);
    } else if (kind == "receiver") {
      model::WalReceiver r{Text(row, 1), Text(row, 2), 0, Text(row, 4)};
      (void)absl::SimpleAtoi(Text(row, 3), &r.sender_port);
      s->receiver = r;
    } else if (kind == "slot") {
      model::ReplicationSlot slot{Text(row, 1), Text(row, 2), Text(row, 3) == "true", Text(row, 4),
                                  LsnAt(row, 5)};
      if (slot.type == "physical") s->slots.push_back(slot.name);
      s->slot_details.push_back(std::move(slot));
    } else if (kind == "wal") {
      sc->may_list_wal = Text(row, 1) == "true";
      sc->segment_bytes = Text(row, 2);
    } else if (kind == "sync") {
      model::SyncReplication& sync = s->sync;
      sync.known = true;
      sync.standby_names = Text(row, 1);
      sync.source_file = Text(row, 2);
      sync.synchronous_commit = Text(row, 3);
      (void)absl::SimpleAtoi(Text(row, 4), &sync.waiting_commits);
      (void)absl::SimpleAtoi(Text(row, 5), &sync.longest_wait_ms);
    } else if (kind == "prereq") {
      model::Prerequisites& p = s->prerequisites;
      p.known = true;
      (void)absl::SimpleAtoi(Text(row, 1), &p.version_num);
      p.version = Text(row, 2);
      p.hot_standby = Text(row, 3) == "on";
      (void)absl::SimpleAtoi(Text(row, 4), &p.apply_delay_ms);
      (void)absl::SimpleAtoi(Text(row, 5), &p.streaming_delay_ms);
      p.wal_log_hints = Text(row, 6) == "on";
      p.data_checksums = Text(row, 7) == "on";
      p.privileges = absl::StrSplit(Text(row, 8), ',', absl::SkipEmpty());
      // Only the host and port are kept: the setting may hold a password.
      if (row.size() > 9 && row[9].has_value()) {
        s->running_primary_host = host::ConninfoHost(*row[9]);
        s->running_primary_port = host::ConninfoPort(*row[9]);
      }
    }
  }
  if (!node) return absl::InternalError("the observation query returned no node row");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<model::ServerState> PqxxPostgresObserver::Observe(
    const api::DeploymentColorSpec& spec, api::Color color) {
  const std::string& dir = spec.color(color).database.data_directory;
  const PgEndpoint ep = EndpointFor(spec, color);
  const std::string context =
      "observing " + std::string(api::ColorName(color)) + " (" + ep.Address() + ")";
  model::ServerState s;
  s.color = color;
  absl::StatusOr<host::DirectoryContent> content = host_.InspectDataDirectory(dir);
  if (!content.ok()) {
    s.directory_error = std::string(content.status().message());
  } else if (*content == host::DirectoryContent::kOther) {
    s.directory_error = dir +
                        " holds files but no PostgreSQL cluster (no PG_VERSION or "
                        "global/pg_control); Switchyard copies nothing over it: move it away to "
                        "have it cloned";
  }
  s.data_directory_exists = content.ok() && *content == host::DirectoryContent::kCluster;
  s.postmaster_pid = host_.PostmasterPidExists(dir);
  s.postmaster_alive = s.postmaster_pid && host_.PostmasterAlive(dir);
  ServerControl server;
  absl::StatusOr<std::vector<PgRow>> rows = pg_.Query(ep, kObserveSql);
  if (rows.ok()) {
    s.reachable = true;
    SY_RETURN_IF_ERROR(util::Annotate(FillFromServer(*rows, &s, &server), context));
    if (!s.in_recovery && server.may_list_wal) {
      // Best effort: without it a standby whose WAL is gone from here is not recognised.
      if (absl::StatusOr<std::vector<PgRow>> oldest = pg_.Query(ep, kOldestWalSql);
          oldest.ok() && !oldest->empty()) {
        s.oldest_wal_lsn = SegmentStart(Text(oldest->front(), 0), server.segment_bytes);
      } else if (!oldest.ok()) {
        log::Warn("listing pg_wal failed", {{"color", std::string(api::ColorName(color))},
                                            {"error", std::string(oldest.status().message())}});
      }
    }
    if (const model::Prerequisites& p = s.prerequisites;
        p.known && !p.Has("superuser") && p.version_num >= 150000 &&
        spec.database.synchronous_replication != api::SynchronousReplication::kUnmanaged) {
      if (absl::StatusOr<std::vector<PgRow>> alter = pg_.Query(ep, kAlterSystemSql);
          alter.ok() && !alter->empty() && Text(alter->front(), 0) == "true") {
        s.prerequisites.privileges.emplace_back("alter_system");
      }
    }
  } else if (absl::IsUnavailable(rows.status())) {
    s.error = std::string(rows.status().message());
  } else {
    // Rule (versions): a server too old for the observation query is named as such, not
    // reported as whatever function it lacks.
    if (absl::StatusOr<std::vector<PgRow>> v = pg_.Query(ep, kVersionSql); v.ok() && !v->empty()) {
      int num = 0;
      if (absl::SimpleAtoi(Text(v->front(), 0), &num) && num > 0 && num < kOldestVersionNum) {
        return absl::FailedPreconditionError(
            absl::StrCat(context, ": it runs PostgreSQL ", Text(v->front(), 1),
                         "; Switchyard needs PostgreSQL 14 or later (tested with 15)"));
      }
    }
    return util::Annotate(rows.status(), context);
  }

  if (s.data_directory_exists) {
    // Rule: what cannot be read is unknown. Any failure below leaves `control` empty and says
    // why in directory_error; the planner then holds instead of taking the server for one
    // that has no data (which would have it re-cloned over data nobody else holds).
    auto unreadable = [&](const absl::Status& why) {
      if (s.directory_error.empty()) s.directory_error = std::string(why.message());
    };
    if (server.control && host_.SameDirectory(dir, server.data_directory)) {
      // The server answering on the port runs on this directory: its pg_control, as read
      // by the server, is the directory's. (A wrong binDirectory is still an error now, not
      // only once a server is down and pg_controldata is needed.)
      SY_RETURN_IF_ERROR(
          util::Annotate(host_.CheckControlDataProgram(spec.database.bin_directory), context));
      s.control = server.control;
    } else {
      absl::StatusOr<model::ControlData> control =
          host_.ReadControlData(spec.database.bin_directory, dir);
      if (absl::IsFailedPrecondition(control.status())) {
        return util::Annotate(control.status(), context);
      }
      if (control.ok()) {
        s.control = *control;
      } else {
        // E.g. EIO, a timeout, a torn read of pg_control while a server writes it, or output
        // the tool itself calls untrustworthy: unknown, not "no cluster".
        unreadable(control.status());
        log::Warn("pg_controldata failed", {{"color", std::string(api::ColorName(color))},
                                            {"error", std::string(control.status().message())}});
      }
    }
    absl::StatusOr<model::StartupConfig> startup = host_.ReadStartupConfig(dir);
    if (startup.ok()) {
      s.startup = *startup;
    } else {
      unreadable(startup.status());
    }
    s.local_slots = host_.ReadLocalSlots(dir);
    absl::StatusOr<int> ready = host_.CountArchiveReady(dir);
    if (ready.ok()) {
      s.archive_ready = *ready;
    } else {
      unreadable(ready.status());
    }
    absl::StatusOr<host::WalTimelines> wal = host_.ReadWalTimelines(dir);
    if (wal.ok()) {
      s.wal_timeline = wal->any;
      s.segment_timeline = wal->segments;
    } else {
      unreadable(wal.status());
    }
    if (!s.directory_error.empty()) s.control.reset();
  }
  if (s.reachable && s.in_recovery && !s.receiver) {
    // Without a WAL receiver PostgreSQL 15 reports the last restartpoint's timeline; what it
    // received since is in pg_wal's segments. Not its history files: a standby fetches the
    // primary's history when it connects, also one it then cannot follow (it diverged), and
    // taking that timeline would hide the divergence.
    s.timeline = std::max(s.timeline, s.segment_timeline);
  }

  // The timeline whose history matters: the running one, else the newest it holds WAL of
  // (pg_control lags a promotion until its first checkpoint).
  const uint32_t tli =
      s.reachable ? s.timeline
                  : std::max(s.control ? s.control->checkpoint_timeline : 0, s.segment_timeline);
  if (s.data_directory_exists && tli > 1) {
    absl::StatusOr<std::vector<model::TimelineFork>> history = host_.ReadTimelineHistory(dir, tli);
    if (history.ok()) {
      s.history = std::move(*history);
    } else {
      log::Warn("unreadable timeline history",
                {{"color", std::string(api::ColorName(color))},
                 {"error", std::string(history.status().message())}});
    }
  }
  return s;
}

}  // namespace sy::observe
