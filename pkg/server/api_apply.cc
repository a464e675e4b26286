// Server-side apply: a merge patch of what the manager applies, plus the removal of what it
// applied last time and applies no more. Each manager's applied fields are remembered in the
// annotation apply.switchyard.dev/last-applied ({"<manager>": ["/spec/activeColor", ...]},
// JSON pointers); a field is removed only when no other manager's last apply holds it. Lists
// are atomic, as in a merge patch. No conflicts between managers are detected: the last apply
// wins, as with --force-conflicts.
#include <set>

#include "pkg/server/api_internal.h"

namespace sy::server::internal {
namespace {

using nlohmann::json;

// The JSON pointers of the fields `applied` sets: each label and annotation (but the
// last-applied one), and every leaf of spec (objects are walked into, anything else is one
// field).
void Fields(const json& j, const json::json_pointer& at, bool walk, std::set<std::string>* out) {
  if (walk && j.is_object()) {
    for (const auto& [k, v] : j.items()) Fields(v, at / k, walk, out);
    return;
  }
  out->insert(at.to_string());
}

std::set<std::string> AppliedFields(const json& applied) {
  std::set<std::string> out;
  if (!applied.is_object()) return out;
  if (auto spec = applied.find("spec"); spec != applied.end()) {
    Fields(*spec, json::json_pointer("/spec"), /*walk=*/true, &out);
  }
  if (auto meta = applied.find("metadata"); meta != applied.end() && meta->is_object()) {
    for (const char* map : {"labels", "annotations"}) {
      auto m = meta->find(map);
      if (m == meta->end() || !m->is_object()) continue;
      for (const auto& [k, v] : m->items()) {
        if (k == kLastAppliedAnnotation) continue;
        out.insert((json::json_pointer("/metadata") / map / k).to_string());
      }
    }
  }
  return out;
}

// The managers' field sets as the object's annotation holds them ({} when absent or edited
// into something else).
json LastApplied(const json& object) {
  const json::json_pointer at =
      json::json_pointer("/metadata/annotations") / std::string(kLastAppliedAnnotation);
  if (!object.contains(at) || !object.at(at).is_string()) return json::object();
  json j = json::parse(object.at(at).get<std::string>(), nullptr, false);
  return j.is_object() ? j : json::object();
}

}  // namespace

json ServerSideApply(const json& current, const json& applied, const std::string& manager) {
  json out = current.is_object() ? current : json::object();
  if (!applied.is_object()) {  // not an object: decoding the result says why
    out.merge_patch(applied);
    return out;
  }
  json managers = LastApplied(out);
  const std::set<std::string> now = AppliedFields(applied);
  std::set<std::string> before;
  std::set<std::string> others;
  for (const auto& [m, fields] : managers.items()) {
    if (!fields.is_array()) continue;
    for (const json& f : fields) {
      if (f.is_string()) (m == manager ? before : others).insert(f.get<std::string>());
    }
  }
  out.merge_patch(applied);
  for (const std::string& field : before) {
    if (now.count(field) > 0 || others.count(field) > 0) continue;
    const json::json_pointer at(field);
    if (!out.contains(at)) continue;
    json& parent = out.at(at.parent_pointer());
    if (parent.is_object()) parent.erase(at.back());
  }
  managers[manager] = json(now);
  json& meta = out["metadata"];
  if (meta.is_null()) meta = json::object();
  if (!meta.is_object()) return out;
  json& annotations = meta["annotations"];
  if (annotations.is_null()) annotations = json::object();
  if (annotations.is_object()) {
    annotations[std::string(kLastAppliedAnnotation)] = managers.dump();
  }
  return out;
}

}  // namespace sy::server::internal
