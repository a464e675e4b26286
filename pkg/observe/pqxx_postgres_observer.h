// The real PostgresObserver: reads a server's data directory (no connection needed) and, when
// it accepts connections, its role and WAL positions in one SELECT over a kept connection.
#pragma once

#include "absl/status/statusor.h"
#include "pkg/api/types.h"
#include "pkg/host/pg_client.h"
#include "pkg/host/postgres_host.h"
#include "pkg/model/world.h"
#include "pkg/observe/observer.h"

namespace sy::observe {

// Fills every field of ServerState:
//  - from the data directory: data_directory_exists, postmaster_pid / postmaster_alive,
//    control (pg_controldata, through the host), startup (standby.signal,
//    postgresql.auto.conf), local_slots (pg_replslot), history (pg_wal/<TLI>.history of the
//    running server's timeline, else of pg_control's checkpoint timeline);
//  - from the server, when reachable: in_recovery, system_identifier, timeline, LSNs,
//    replay_paused, replication (pg_stat_replication), receiver (pg_stat_wal_receiver),
//    slots (physical slots of pg_replication_slots), sync (synchronous_standby_names, where
//    it is set, synchronous_commit, the commits waiting in SyncRep).
// `timeline` is, on a primary, the timeline it writes (pg_walfile_name of the current LSN):
// right after a promotion, before any checkpoint, that already is the new timeline while
// pg_control still shows the old one (which is why the promote step checkpoints). On a
// standby it is the timeline its WAL receiver receives, else its last restartpoint's.
// Thread-compatible. An unreachable server is data (reachable=false, error set). Returns
// kFailedPrecondition when pg_controldata is missing (misconfigured binDirectory), and the
// status of a failed query that is not about reachability (e.g. kPermissionDenied when the
// role lacks privileges), each prefixed with the color and server.
class PqxxPostgresObserver final : public model::PostgresObserver {
 public:
  // `pg` and `host` must outlive this object.
  PqxxPostgresObserver(host::PgClient& pg, host::PostgresHost& host) : pg_(pg), host_(host) {}

  absl::StatusOr<model::ServerState> Observe(const api::DeploymentColorSpec& spec,
                                             api::Color color) override;

 private:
  host::PgClient& pg_;
  host::PostgresHost& host_;
};

}  // namespace sy::observe
