// What a PostgreSQL data directory says without a connection: whether it holds a cluster,
// whether its postmaster runs, how it will start (standby or not, which upstream), its slots,
// its timeline history and pg_control. Shared by the observer and the actuator.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "pkg/model/world.h"
#include "pkg/util/command_runner.h"

namespace sy::host {

// All functions are thread-safe and read only. Paths are absolute data directories.

// The file the fence step writes into the old primary's data directory, beside the
// standby.signal it creates (PostgreSQL ignores files it does not know). Its presence is
// what "fenced" means; its text says so to a person who finds it.
inline constexpr char kFenceMarkerFile[] = "switchyard.fenced";
// The line the promote step adds to the other server's fence marker before pg_promote().
inline constexpr char kFencePromotionLine[] = "promotion of the other server requested";
// The signal file pg_promote() and `pg_ctl promote` write before signalling the postmaster.
inline constexpr char kPromoteSignalFile[] = "promote";

// PG_VERSION and global/pg_control are present.
bool HoldsCluster(const std::string& data_directory);

// What a data directory holds, read without trusting that a failed read means "nothing".
enum class DirectoryContent {
  kCluster,  // PG_VERSION and global/pg_control
  kAbsent,   // the directory does not exist, or is empty: a copy may create a cluster there
  kOther,    // it holds files but no cluster (someone else's, or a half-made one)
};
// kCluster / kAbsent / kOther as above; an error (naming the path) when any of it cannot be
// read (EACCES, EIO, EMFILE...): the caller must treat the directory as unknown.
absl::StatusOr<DirectoryContent> InspectDataDirectory(const std::string& data_directory);

// The pid on postmaster.pid's first line; nullopt when the file is absent or malformed.
std::optional<int> ReadPostmasterPid(const std::string& data_directory);

// postmaster.pid names a live (not zombie, pkg/observe/README.md #8) process working in
// `data_directory` (where /proc/<pid>/cwd is unreadable: one whose command line is
// PostgreSQL's): a stale file whose pid was reused by another program does not count.
bool PostmasterAlive(const std::string& data_directory);

// standby.signal, recovery.signal, the fence marker, a pending promotion request, and
// primary_conninfo / primary_slot_name of postgresql.auto.conf (the only file Switchyard writes
// them to; the last occurrence wins). A file whose presence cannot be told is an error naming it.
absl::StatusOr<model::StartupConfig> ReadStartupConfig(const std::string& data_directory);

// Names of the slot directories in pg_replslot, sorted (half-created `*.tmp` skipped).
std::vector<std::string> ReadLocalSlots(const std::string& data_directory);

// The newest timelines a server's pg_wal holds files of (0 when none).
struct WalTimelines {
  uint32_t any = 0;       // among segments and history files
  uint32_t segments = 0;  // among segments only: WAL written or received on it
  bool operator==(const WalTimelines&) const = default;
};
// Reads them from the names in pg_wal. A standby whose WAL receiver is gone reports only its
// last restartpoint's timeline, which may be older than what it received and replayed; it
// cannot have replayed a timeline it holds nothing of. A promoted server writes its new
// timeline's history file and first segment before its first WAL record on it, long before
// pg_control shows that timeline. A history file alone may also be one fetched from a
// primary the server then could not follow. A pg_wal that cannot be listed (or is missing)
// is an error naming it.
absl::StatusOr<WalTimelines> ReadWalTimelines(const std::string& data_directory);

// How many `<segment>.ready` files pg_wal/archive_status holds: segments completed and not
// yet archived (pkg/observe/README.md #30). 0 when the directory is absent; an error naming
// it when it cannot be listed.
absl::StatusOr<int> CountArchiveReady(const std::string& data_directory);

// pg_wal/<tli>.history parsed; empty for timeline 1 or when the file is absent.
// kInvalidArgument when the file is malformed.
absl::StatusOr<std::vector<model::TimelineFork>> ReadTimelineHistory(
    const std::string& data_directory, uint32_t tli);

// kFailedPrecondition naming the path unless `<bin_directory>/pg_controldata` is executable.
absl::Status CheckControlDataProgram(const std::string& bin_directory);

// Runs `<bin_directory>/pg_controldata -D <dir>` under LC_ALL=C through `runner` (it works as
// root) and parses it. The binaries' major version comes from `pg_controldata --version`,
// run once per program file (thread-safe cache). kFailedPrecondition naming the path when
// pg_controldata is missing, and naming both versions when the directory's PG_VERSION is
// another major than the binaries' or its pg_control version is not the one they read;
// kDataLoss when pg_controldata warned that its values are untrustworthy (none is used);
// kInternal with its output when it fails; kInvalidArgument when its output is unexpected.
absl::StatusOr<model::ControlData> RunControlData(util::CommandRunner& runner,
                                                  const std::string& bin_directory,
                                                  const std::string& data_directory);

}  // namespace sy::host
