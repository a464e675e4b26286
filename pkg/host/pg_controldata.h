// Pure parsers of what PostgreSQL leaves on disk about its WAL: the output of
// `pg_controldata` and the timeline history files in pg_wal. No I/O: the callers read.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "pkg/model/world.h"

namespace sy::host {

// Parses `pg_controldata` output run with LC_ALL=C ("Key:   value" lines). Reads "Database
// cluster state", "Database system identifier", "Latest checkpoint location", "Latest
// checkpoint's TimeLineID" and "Minimum recovery ending location". Returns kInvalidArgument
// naming the field when one is missing or malformed, and kDataLoss with the warning's text
// when the output holds a warning ("WARNING: Calculated CRC checksum does not match ... The
// results below are untrustworthy": pg_controldata still exits 0 and prints values,
// pkg/observe/README.md #18).
absl::StatusOr<model::ControlData> ParseControlData(std::string_view output);

// "pg_control version number" of `pg_controldata` output (1300 for PostgreSQL 13 to 16).
// kInvalidArgument when missing or malformed.
absl::StatusOr<uint32_t> ParseControlVersion(std::string_view output);

// The major version of the binaries from `pg_controldata --version`
// ("pg_controldata (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)" -> "15"; "... 9.6.24" ->
// "9.6"), as PG_VERSION spells it. kInvalidArgument when there is none.
absl::StatusOr<std::string> ParseBinariesMajor(std::string_view version_output);

// The pg_control version number the binaries of `major` read and write (12: 1201; 13 to 16:
// 1300; 17: 1700); 0 for majors not in this table (then nothing is checked against it).
uint32_t ControlVersionOfMajor(std::string_view major);

// Parses a timeline history file (`<TLI>.history`): one `parentTLI<TAB>switchpoint<TAB>reason`
// line per ancestor, oldest first; blank lines and `#` comments skipped (as PostgreSQL does).
// Returns kInvalidArgument with the line number when a line is malformed.
absl::StatusOr<std::vector<model::TimelineFork>> ParseTimelineHistory(std::string_view content);

// "00000002.history": the history file of timeline `tli` inside pg_wal.
std::string TimelineHistoryFileName(uint32_t tli);

}  // namespace sy::host
