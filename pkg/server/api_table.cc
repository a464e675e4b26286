#include "pkg/server/api_table.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "pkg/server/api_body.h"
#include "pkg/source/store.h"
#include "pkg/util/clock.h"

namespace sy::server {
namespace {

nlohmann::json Column(const char* name, const char* description, int priority = 0,
                      const char* format = "") {
  return {{"name", name},
          {"type", "string"},
          {"format", format},
          {"description", description},
          {"priority", priority}};
}

nlohmann::json OrNull(const std::string& s) {
  return s.empty() ? nlohmann::json() : nlohmann::json(s);
}

// status.source, short: the file, and the commit's first 12 digits.
nlohmann::json ShortSource(const std::string& source) {
  const std::string file = source::SourceFile(source);
  if (file.empty() || file == source) return OrNull(source);
  const size_t at = source.find("(commit ");
  return absl::StrCat(file, "@", source.substr(at + 8, 12));
}

// The Drift cell: "none" when the world matches the declaration, else what differs and for
// how long ("traffic,primary for 5m"), from the Drifted condition and the three it sums up.
nlohmann::json DriftCell(const api::DeploymentColorStatus& st,
                         std::chrono::system_clock::time_point now) {
  const api::Condition* drifted = api::FindCondition(st, api::kConditionDrifted);
  if (drifted == nullptr || drifted->status == "Unknown") return nullptr;
  if (drifted->status != "True") return "none";
  std::string parts;
  const std::pair<std::string_view, const char*> kParts[] = {
      {api::kConditionTrafficSwitched, "traffic"},
      {api::kConditionPrimaryPromoted, "primary"},
      {api::kConditionStandbyStreaming, "standby"}};
  for (const auto& [type, part] : kParts) {
    const api::Condition* c = api::FindCondition(st, type);
    if (c != nullptr && c->status == "False") {
      absl::StrAppend(&parts, parts.empty() ? "" : ",", part);
    }
  }
  if (parts.empty()) parts = "yes";
  std::chrono::system_clock::time_point since;
  if (!util::ParseRfc3339(drifted->last_transition_time, &since)) return parts;
  return absl::StrCat(parts, " for ", HumanDuration(now - since));
}

}  // namespace

std::string TableVersionWanted(const HttpRequest& req) {
  const std::string accept = req.Header("accept");
  if (!absl::StrContains(accept, "as=Table")) return "";
  if (absl::StrContains(accept, "v=v1;") || absl::EndsWith(accept, "v=v1") ||
      absl::StrContains(accept, "v=v1,")) {
    return "meta.k8s.io/v1";
  }
  return "meta.k8s.io/v1beta1";
}

absl::StatusOr<IncludeObject> ParseIncludeObject(const std::string& value) {
  if (value.empty() || value == "Metadata") return IncludeObject::kMetadata;
  if (value == "None") return IncludeObject::kNone;
  if (value == "Object") return IncludeObject::kObject;
  return absl::InvalidArgumentError("includeObject \"" + value +
                                    "\": must be None, Metadata or Object");
}

nlohmann::json MakeTable(const std::vector<api::DeploymentColor>& items,
                         std::chrono::system_clock::time_point now, IncludeObject include,
                         int64_t resource_version, const std::string& api_version) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& dc : items) {
    std::chrono::system_clock::time_point created;
    const std::string age = util::ParseRfc3339(dc.metadata.creation_timestamp, &created)
                                ? HumanDuration(now - created)
                                : "<unknown>";
    nlohmann::json row = {
        {"cells",
         {dc.metadata.name, std::string(api::ColorName(dc.spec.active_color)),
          OrNull(dc.status.serving_color), OrNull(dc.status.primary_color), OrNull(dc.status.phase),
          DriftCell(dc.status, now), age, OrNull(dc.status.step), ShortSource(dc.status.source)}}};
    if (include != IncludeObject::kNone) {
      nlohmann::json obj = internal::ObjectJson(dc);
      if (include == IncludeObject::kMetadata) {
        obj = {{"kind", "PartialObjectMetadata"},
               {"apiVersion", "meta.k8s.io/v1"},
               {"metadata", obj["metadata"]}};
      }
      row["object"] = obj;
    }
    rows.push_back(row);
  }
  return {{"kind", "Table"},
          {"apiVersion", api_version},
          {"metadata", {{"resourceVersion", std::to_string(resource_version)}}},
          {"columnDefinitions",
           {Column("Name", "the resource's name", 0, "name"),
            Column("Desired", "spec.activeColor: the color that should be live"),
            Column("Serving", "status.servingColor: the color nginx serves"),
            Column("Primary", "status.primaryColor: the color whose database is writable"),
            Column("Phase", "status.phase"),
            Column("Drift",
                   "what differs from the declaration (traffic, primary, standby) and since "
                   "when: the Drifted condition"),
            Column("Age", "since the resource was created"),
            Column("Step", "status.step: the step in progress", 1),
            Column("Source", "status.source: the manifest file (and commit) or the API", 1)}},
          {"rows", rows}};
}

std::string HumanDuration(std::chrono::nanoseconds d) {
  using std::chrono::duration_cast;
  constexpr int64_t kDay = 24;  // hours
  constexpr int64_t kYear = 365 * kDay;
  const int64_t seconds = duration_cast<std::chrono::seconds>(d).count();
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < int64_t{120}) return absl::StrCat(seconds, "s");
  const int64_t minutes = seconds / 60;
  if (minutes < 10) {
    return seconds % 60 == 0 ? absl::StrCat(minutes, "m")
                             : absl::StrCat(minutes, "m", seconds % 60, "s");
  }
  if (minutes < int64_t{180}) return absl::StrCat(minutes, "m");
  const int64_t hours = minutes / 60;
  if (hours < 8) {
    return minutes % 60 == 0 ? absl::StrCat(hours, "h")
                             : absl::StrCat(hours, "h", minutes % 60, "m");
  }
  if (hours < 48) return absl::StrCat(hours, "h");
  if (hours < 8 * kDay) {
    return hours % 24 == 0 ? absl::StrCat(hours / 24, "d")
                           : absl::StrCat(hours / 24, "d", hours % 24, "h");
  }
  if (hours < 2 * kYear) return absl::StrCat(hours / 24, "d");
  if (hours < 8 * kYear) {
    const int64_t days = (hours / 24) % 365;
    return days == 0 ? absl::StrCat(hours / 24 / 365, "y")
                     : absl::StrCat(hours / 24 / 365, "y", days, "d");
  }
  return absl::StrCat(hours / 24 / 365, "y");
}

}  // namespace sy::server
