#include "pkg/observe/pg_controldata.h"

#include <map>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "pkg/observe/lsn.h"

namespace sy::observe {
namespace {

constexpr absl::string_view kState = "Database cluster state";
constexpr absl::string_view kSystemId = "Database system identifier";
constexpr absl::string_view kCheckpoint = "Latest checkpoint location";
constexpr absl::string_view kTimeline = "Latest checkpoint's TimeLineID";
constexpr absl::string_view kMinRecovery = "Minimum recovery ending location";

absl::Status Malformed(absl::string_view key, absl::string_view value) {
  return absl::InvalidArgumentError(
      absl::StrCat("pg_controldata output: malformed \"", key, "\": \"", value, "\""));
}

}  // namespace

absl::StatusOr<ControlData> ParseControlData(std::string_view output) {
  // Keys never contain ':'; some values do not follow it with a space
  // ("Latest checkpoint's oldestCommitTsXid:0").
  std::map<std::string, std::string, std::less<>> fields;
  for (absl::string_view line : absl::StrSplit(absl::string_view(output.data(), output.size()),
                                               '\n', absl::SkipWhitespace())) {
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;
    fields[std::string(absl::StripAsciiWhitespace(line.substr(0, colon)))] =
        std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
  }
  auto get = [&](absl::string_view key) -> absl::StatusOr<std::string> {
    auto it = fields.find(key);
    if (it == fields.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("pg_controldata output: no \"", key, "\" line"));
    }
    return it->second;
  };
  ControlData c;
  absl::StatusOr<std::string> v = get(kState);
  if (!v.ok()) return v.status();
  c.cluster_state = *v;
  v = get(kSystemId);
  if (!v.ok()) return v.status();
  if (!absl::SimpleAtoi(*v, &c.system_identifier)) return Malformed(kSystemId, *v);
  v = get(kCheckpoint);
  if (!v.ok()) return v.status();
  std::optional<Lsn> lsn = ParseLsn(*v);
  if (!lsn) return Malformed(kCheckpoint, *v);
  c.checkpoint_lsn = *lsn;
  v = get(kTimeline);
  if (!v.ok()) return v.status();
  if (!absl::SimpleAtoi(*v, &c.checkpoint_timeline)) return Malformed(kTimeline, *v);
  v = get(kMinRecovery);
  if (!v.ok()) return v.status();
  lsn = ParseLsn(*v);
  if (!lsn) return Malformed(kMinRecovery, *v);
  c.min_recovery_end = *lsn;
  return c;
}

absl::StatusOr<std::vector<TimelineFork>> ParseTimelineHistory(std::string_view content) {
  std::vector<TimelineFork> out;
  int line_no = 0;
  for (absl::string_view line :
       absl::StrSplit(absl::string_view(content.data(), content.size()), '\n')) {
    ++line_no;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    // Like PostgreSQL's readTimeLineHistory: "%u\t%X/%X", the reason is free text.
    std::vector<absl::string_view> parts =
        absl::StrSplit(line, absl::MaxSplits(absl::ByAnyChar(" \t"), 2), absl::SkipEmpty());
    TimelineFork f;
    std::optional<Lsn> lsn;
    if (parts.size() < 2 || !absl::SimpleAtoi(parts[0], &f.timeline) ||
        !(lsn = ParseLsn(std::string_view(parts[1].data(), parts[1].size())))) {
      return absl::InvalidArgumentError(
          absl::StrCat("timeline history line ", line_no, ": malformed \"", line, "\""));
    }
    f.switchpoint = *lsn;
    out.push_back(f);
  }
  return out;
}

std::string TimelineHistoryFileName(uint32_t tli) { return absl::StrFormat("%08X.history", tli); }

}  // namespace sy::observe
