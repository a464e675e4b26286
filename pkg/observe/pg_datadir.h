// What a PostgreSQL data directory says without a connection: whether it holds a cluster,
// whether its postmaster runs, how it will start (standby or not, which upstream), its slots,
// its timeline history and pg_control. Shared by the observer and the actuator.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "pkg/observe/world.h"
#include "pkg/util/command_runner.h"

namespace sy::observe {

// All functions are thread-safe and read only. Paths are absolute data directories.

// PG_VERSION and global/pg_control are present.
bool HoldsCluster(const std::string& data_directory);

// The pid on postmaster.pid's first line; nullopt when the file is absent or malformed.
std::optional<int> ReadPostmasterPid(const std::string& data_directory);

// postmaster.pid names a live (not zombie, FIELD-NOTES #9) process working in
// `data_directory` (where /proc/<pid>/cwd is unreadable: one whose command line is
// PostgreSQL's): a stale file whose pid was reused by another program does not count.
bool PostmasterAlive(const std::string& data_directory);

// standby.signal, and primary_conninfo / primary_slot_name of postgresql.auto.conf (the only
// file Switchyard writes them to; the last occurrence wins).
StartupConfig ReadStartupConfig(const std::string& data_directory);

// Names of the slot directories in pg_replslot, sorted (half-created `*.tmp` skipped).
std::vector<std::string> ReadLocalSlots(const std::string& data_directory);

// The newest timeline a server holds WAL or history of: the highest timeline among the
// segment and history files of its pg_wal (0 when none). A standby whose WAL receiver is
// gone reports only its last restartpoint's timeline, which may be older than what it
// received and replayed; it cannot have replayed a timeline it holds nothing of.
uint32_t HighestWalTimeline(const std::string& data_directory);

// pg_wal/<tli>.history parsed; empty for timeline 1 or when the file is absent.
// kInvalidArgument when the file is malformed.
absl::StatusOr<std::vector<TimelineFork>> ReadTimelineHistory(const std::string& data_directory,
                                                              uint32_t tli);

// kFailedPrecondition naming the path unless `<bin_directory>/pg_controldata` is executable.
absl::Status CheckControlDataProgram(const std::string& bin_directory);

// Runs `<bin_directory>/pg_controldata -D <dir>` under LC_ALL=C through `runner` (it works as
// root) and parses it. kFailedPrecondition naming the path when pg_controldata is missing;
// kInternal with its output when it fails; kInvalidArgument when its output is unexpected.
absl::StatusOr<ControlData> RunControlData(util::CommandRunner& runner,
                                           const std::string& bin_directory,
                                           const std::string& data_directory);

}  // namespace sy::observe
