// Pure parsers of what PostgreSQL leaves on disk about its WAL: the output of
// `pg_controldata` and the timeline history files in pg_wal. No I/O: the callers read.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "pkg/observe/world.h"

namespace sy::observe {

// Parses `pg_controldata` output run with LC_ALL=C ("Key:   value" lines). Reads "Database
// cluster state", "Database system identifier", "Latest checkpoint location", "Latest
// checkpoint's TimeLineID" and "Minimum recovery ending location". Returns kInvalidArgument
// naming the field when one is missing or malformed.
absl::StatusOr<ControlData> ParseControlData(std::string_view output);

// Parses a timeline history file (`<TLI>.history`): one `parentTLI<TAB>switchpoint<TAB>reason`
// line per ancestor, oldest first; blank lines and `#` comments skipped (as PostgreSQL does).
// Returns kInvalidArgument with the line number when a line is malformed.
absl::StatusOr<std::vector<TimelineFork>> ParseTimelineHistory(std::string_view content);

// "00000002.history": the history file of timeline `tli` inside pg_wal.
std::string TimelineHistoryFileName(uint32_t tli);

}  // namespace sy::observe
