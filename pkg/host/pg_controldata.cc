#include "pkg/host/pg_controldata.h"

#include <map>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "pkg/model/lsn.h"

namespace sy::host {
namespace {

constexpr absl::string_view kState = "Database cluster state";
constexpr absl::string_view kSystemId = "Database system identifier";
constexpr absl::string_view kCheckpoint = "Latest checkpoint location";
constexpr absl::string_view kTimeline = "Latest checkpoint's TimeLineID";
constexpr absl::string_view kMinRecovery = "Minimum recovery ending location";

constexpr absl::string_view kControlVersion = "pg_control version number";

absl::Status Malformed(absl::string_view key, absl::string_view value) {
  return absl::InvalidArgumentError(
      absl::StrCat("pg_controldata output: malformed \"", key, "\": \"", value, "\""));
}

// The warnings of `output`: from a line starting "WARNING:" (pg_controldata's own, on stdout)
// or "pg_controldata: warning:" (its log, on stderr) to the next blank line. "" when none.
std::string Warnings(absl::string_view output) {
  std::vector<std::string> lines;
  bool in_warning = false;
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    const absl::string_view text = absl::StripAsciiWhitespace(line);
    if (absl::StartsWith(text, "WARNING:") ||
        absl::StartsWithIgnoreCase(text, "pg_controldata: warning:")) {
      in_warning = true;
    } else if (text.empty()) {
      in_warning = false;
    }
    if (in_warning) lines.emplace_back(text);
  }
  return absl::StrJoin(lines, " ");
}

}  // namespace

absl::StatusOr<model::ControlData> ParseControlData(std::string_view output) {
  // Safety rule: values printed after a warning are untrustworthy (e.g. a pg_control of
  // another layout, or corrupt): they must never feed the promotion proof.
  if (const std::string warning = Warnings(absl::string_view(output.data(), output.size()));
      !warning.empty()) {
    return absl::DataLossError(
        absl::StrCat("pg_controldata warned, so none of its values are used: ", warning));
  }
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
  model::ControlData c;
  absl::StatusOr<std::string> v = get(kState);
  if (!v.ok()) return v.status();
  c.cluster_state = *v;
  v = get(kSystemId);
  if (!v.ok()) return v.status();
  if (!absl::SimpleAtoi(*v, &c.system_identifier)) return Malformed(kSystemId, *v);
  v = get(kCheckpoint);
  if (!v.ok()) return v.status();
  std::optional<model::Lsn> lsn = model::ParseLsn(*v);
  if (!lsn) return Malformed(kCheckpoint, *v);
  c.checkpoint_lsn = *lsn;
  v = get(kTimeline);
  if (!v.ok()) return v.status();
  if (!absl::SimpleAtoi(*v, &c.checkpoint_timeline)) return Malformed(kTimeline, *v);
  v = get(kMinRecovery);
  if (!v.ok()) return v.status();
  lsn = model::ParseLsn(*v);
  if (!lsn) return Malformed(kMinRecovery, *v);
  c.min_recovery_end = *lsn;
  return c;
}

absl::StatusOr<uint32_t> ParseControlVersion(std::string_view output) {
  for (absl::string_view line : absl::StrSplit(absl::string_view(output.data(), output.size()),
                                               '\n', absl::SkipWhitespace())) {
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos ||
        absl::StripAsciiWhitespace(line.substr(0, colon)) != kControlVersion) {
      continue;
    }
    const absl::string_view value = absl::StripAsciiWhitespace(line.substr(colon + 1));
    uint32_t version = 0;
    if (!absl::SimpleAtoi(value, &version)) return Malformed(kControlVersion, value);
    return version;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("pg_controldata output: no \"", kControlVersion, "\" line"));
}

absl::StatusOr<std::string> ParseBinariesMajor(std::string_view version_output) {
  const absl::string_view out(version_output.data(), version_output.size());
  constexpr absl::string_view kMark = "(PostgreSQL) ";
  const size_t at = out.find(kMark);
  std::vector<int> parts;
  if (at != absl::string_view::npos) {
    for (absl::string_view p : absl::StrSplit(out.substr(at + kMark.size()), '.')) {
      size_t digits = 0;
      while (digits < p.size() && absl::ascii_isdigit(p[digits])) ++digits;
      int n = 0;
      if (digits == 0 || !absl::SimpleAtoi(p.substr(0, digits), &n)) break;
      parts.push_back(n);
      if (digits < p.size()) break;  // "17devel", "15.18 (Debian ...)"
    }
  }
  if (parts.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("no PostgreSQL version in the output of pg_controldata --version: \"",
                     absl::StripAsciiWhitespace(out.substr(0, 200)), "\""));
  }
  // Before 10 the major version has two parts (9.6), as PG_VERSION says.
  if (parts[0] < 10 && parts.size() > 1) return absl::StrCat(parts[0], ".", parts[1]);
  return absl::StrCat(parts[0]);
}

uint32_t ControlVersionOfMajor(std::string_view major) {
  int m = 0;
  if (!absl::SimpleAtoi(absl::string_view(major.data(), major.size()), &m)) return 0;
  if (m == 12) return 1201;
  if (m >= 13 && m <= 16) return 1300;
  if (m == 17) return 1700;
  return 0;
}

absl::StatusOr<std::vector<model::TimelineFork>> ParseTimelineHistory(std::string_view content) {
  std::vector<model::TimelineFork> out;
  int line_no = 0;
  for (absl::string_view line :
       absl::StrSplit(absl::string_view(content.data(), content.size()), '\n')) {
    ++line_no;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    // Like PostgreSQL's readTimeLineHistory: "%u\t%X/%X", the reason is free text.
    std::vector<absl::string_view> parts =
        absl::StrSplit(line, absl::MaxSplits(absl::ByAnyChar(" \t"), 2), absl::SkipEmpty());
    model::TimelineFork f;
    std::optional<model::Lsn> lsn;
    if (parts.size() < 2 || !absl::SimpleAtoi(parts[0], &f.timeline) ||
        !(lsn = model::ParseLsn(std::string_view(parts[1].data(), parts[1].size())))) {
      return absl::InvalidArgumentError(
          absl::StrCat("timeline history line ", line_no, ": malformed \"", line, "\""));
    }
    f.switchpoint = *lsn;
    out.push_back(f);
  }
  return out;
}

std::string TimelineHistoryFileName(uint32_t tli) { return absl::StrFormat("%08X.history", tli); }

}  // namespace sy::host
