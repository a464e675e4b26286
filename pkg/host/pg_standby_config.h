// Turning a stopped PostgreSQL data directory into a standby of a given primary: the
// `primary_conninfo` Switchyard renders (a pure function of the spec), and the file changes
// (postgresql.auto.conf, standby.signal, stale slots) made atomically and owned like the
// directory. Used by the configure-standby, rewind and basebackup steps.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "pkg/api/types.h"

namespace sy::host {

// `host=<source host> port=<source port> user=<replicationUser> application_name=<target>`
// [+ ` passfile=<passwordFile>`], values quoted for libpq where needed.
std::string StandbyConninfo(const api::DeploymentColorSpec& spec, api::Color target,
                            api::Color source);

// The same without application_name: how pg_basebackup connects to `source`.
std::string ReplicationConninfo(const api::DeploymentColorSpec& spec, api::Color source);

// Makes the (stopped) cluster in `data_directory` start as a standby following
// `primary_conninfo` through slot `slot_name`: deletes every slot directory in pg_replslot
// (slots are not copied: any found there belong to the directory's primary past and would
// pin WAL for good, pkg/observe/README.md #4), crash-safely and first; rewrites
// postgresql.auto.conf atomically with exactly one primary_conninfo and one primary_slot_name
// line (every other line kept, the file's mode kept); creates standby.signal. Files end up
// owned by the directory's owner (we may run as root). Idempotent: a directory already so
// configured is left unchanged; one interrupted anywhere still starts. A fence marker is
// removed last: the directory then follows a primary, it is no longer a fenced one.
// Thread-compatible per directory. Returns kFailedPrecondition when the directory holds no
// cluster, else the I/O error (kPermissionDenied, kInternal, ...) naming the path.
absl::Status ConfigureStandbyDirectory(const std::string& data_directory,
                                       const std::string& primary_conninfo,
                                       const std::string& slot_name);

// Rule (durable fence): makes the cluster in `data_directory` unable to start as a primary,
// whether it runs or not (PostgreSQL reads these files only when it starts): clears
// primary_conninfo and primary_slot_name in postgresql.auto.conf (a restart streams from
// nobody), writes the fence marker (host::kFenceMarkerFile) with `note` in it, then
// creates standby.signal; each durable (fsync) before the next. A directory counts as fenced
// only with both files, so after a crash in between it is a primary's still (a running one
// is fenced again or lifted; a stopped one is fenced again before any promotion), never a
// standby.signal nobody accounts for. Someone who starts the server (pg_ctl, systemd) gets a
// read-only standby. Idempotent. Errors as ConfigureStandbyDirectory.
absl::Status FenceDirectory(const std::string& data_directory, const std::string& note);

// Adds `line` (with host::kFencePromotionLine in it) to the fence marker of fenced
// `data_directory`, durably (written anew and renamed): the other server is about to be
// asked to promote over it. kFailedPrecondition when there is no marker. Idempotent.
absl::Status RecordPromotionRequest(const std::string& data_directory, const std::string& line);

// Undoes FenceDirectory for a server that is to start (or runs) as a primary: removes
// standby.signal, then the marker, each durably; a crash in between leaves a directory that
// starts as a primary with a stale marker, which the next lift removes. Idempotent.
absl::Status LiftFenceDirectory(const std::string& data_directory);

// Removes the `promote` signal file, durably; OK when there is none. A postmaster that has
// not yet acted on a pg_promote() request then never does.
absl::Status RemovePromoteRequest(const std::string& data_directory);

// fsync()s a directory, so that renames and creations in it survive a crash.
absl::Status SyncDirectory(const std::string& directory);

}  // namespace sy::host
