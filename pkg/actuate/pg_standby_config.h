// Turning a stopped PostgreSQL data directory into a standby of a given primary: the
// `primary_conninfo` Switchyard renders (a pure function of the spec), and the file changes
// (postgresql.auto.conf, standby.signal, stale slots) made atomically and owned like the
// directory. Used by the configure-standby, rewind and basebackup steps.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "pkg/api/types.h"

namespace sy::actuate {

// `host=<source host> port=<source port> user=<replicationUser> application_name=<target>`
// [+ ` passfile=<passwordFile>`], values quoted for libpq where needed.
std::string StandbyConninfo(const api::DeploymentColorSpec& spec, api::Color target,
                            api::Color source);

// The same without application_name: how pg_basebackup connects to `source`.
std::string ReplicationConninfo(const api::DeploymentColorSpec& spec, api::Color source);

// Makes the (stopped) cluster in `data_directory` start as a standby following
// `primary_conninfo` through slot `slot_name`: deletes every slot directory in pg_replslot
// (slots are not replicated: any found there belong to the directory's primary past and
// would pin WAL for good, FIELD-NOTES #4), crash-safely and first; rewrites
// postgresql.auto.conf atomically with exactly one primary_conninfo and one primary_slot_name
// line (every other line kept, the file's mode kept); creates standby.signal. Files end up
// owned by the directory's owner (we may run as root). Idempotent: a directory already so
// configured is left unchanged; one interrupted anywhere still starts.
// Thread-compatible per directory. Returns kFailedPrecondition when the directory holds no
// cluster, else the I/O error (kPermissionDenied, kInternal, ...) naming the path.
absl::Status ConfigureStandbyDirectory(const std::string& data_directory,
                                       const std::string& primary_conninfo,
                                       const std::string& slot_name);

// fsync()s a directory, so that renames and creations in it survive a crash.
absl::Status SyncDirectory(const std::string& directory);

}  // namespace sy::actuate
