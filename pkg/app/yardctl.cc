#include "pkg/app/yardctl.h"

#include <httplib.h>

#include <algorithm>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "pkg/app/wiring.h"
#include "pkg/codec/codec.h"
#include "pkg/plan/planner.h"
#include "pkg/util/clock.h"

namespace sy::app {
namespace {

std::string Age(const std::string& created, std::chrono::system_clock::time_point now) {
  std::chrono::system_clock::time_point t;
  if (!util::ParseRfc3339(created, &t)) return "<unknown>";
  const auto s = std::chrono::duration_cast<std::chrono::seconds>(now - t).count();
  if (s < 120) return absl::StrCat(std::max<int64_t>(s, 0), "s");
  if (s < 7200) return absl::StrCat(s / 60, "m");
  if (s < 172800) return absl::StrCat(s / 3600, "h");
  return absl::StrCat(s / 86400, "d");
}

std::string OrNone(const std::string& s) { return s.empty() ? "<none>" : s; }

}  // namespace

std::string FormatTable(const std::vector<api::DeploymentColor>& items,
                        std::chrono::system_clock::time_point now) {
  std::vector<std::vector<std::string>> rows = {
      {"NAME", "DESIRED", "SERVING", "PRIMARY", "PHASE", "AGE"}};
  for (const auto& dc : items) {
    rows.push_back({dc.metadata.name, std::string(api::ColorName(dc.spec.active_color)),
                    OrNone(dc.status.serving_color), OrNone(dc.status.primary_color),
                    OrNone(dc.status.phase), Age(dc.metadata.creation_timestamp, now)});
  }
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  std::ostringstream out;
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) {
      out << r[i];
      if (i + 1 < r.size()) out << std::string(width[i] - r[i].size() + 3, ' ');
    }
    out << "\n";
  }
  return out.str();
}

int CtlGet(const CtlOptions& o, std::ostream& out, std::ostream& err) {
  httplib::Client cli(o.server);
  cli.set_connection_timeout(3);
  cli.set_read_timeout(10);
  std::string path = "/apis/switchyard.dev/v1alpha1/";
  if (o.all_namespaces && o.name.empty()) {
    path += "deploymentcolors";
  } else {
    path += "namespaces/" + o.namespace_ + "/deploymentcolors";
    if (!o.name.empty()) path += "/" + o.name;
  }
  auto res = cli.Get(path.c_str());
  if (!res) {
    err << "error: cannot reach switchyard at " << o.server << " ("
        << httplib::to_string(res.error()) << "): is the daemon running? (--server)\n";
    return 1;
  }
  nlohmann::json body = nlohmann::json::parse(res->body, nullptr, false);
  if (res->status != 200) {
    err << "Error from server (" << (body.is_object() ? body.value("reason", "") : "")
        << "): " << (body.is_object() ? body.value("message", res->body) : res->body) << "\n";
    return 1;
  }
  std::vector<api::DeploymentColor> items;
  auto decode = [&](const nlohmann::json& j) -> bool {
    auto dc = codec::DecodeJson(j.dump(), o.server);
    if (!dc.ok()) {
      err << "error: the server sent an object yardctl cannot read: " << dc.status().message()
          << "\n";
      return false;
    }
    items.push_back(*std::move(dc));
    return true;
  };
  if (o.name.empty()) {
    if (!body.is_object() || !body.contains("items")) {
      err << "error: unexpected answer from " << o.server << "\n";
      return 1;
    }
    for (const auto& j : body["items"]) {
      if (!decode(j)) return 1;
    }
  } else if (!decode(body)) {
    return 1;
  }
  if (o.output == "json") {
    if (o.name.empty()) {
      out << body.dump(2) << "\n";
    } else {
      out << codec::EncodeJson(items[0], 2) << "\n";
    }
  } else if (o.output == "yaml") {
    for (size_t i = 0; i < items.size(); ++i) {
      if (i > 0) out << "---\n";
      out << codec::EncodeYaml(items[i]);
    }
  } else {
    if (items.empty()) {
      err << "No resources found in " << (o.all_namespaces ? "any" : o.namespace_)
          << " namespace.\n";
      return 0;
    }
    out << FormatTable(items, util::RealClock::Get().Now());
  }
  return 0;
}

int CtlValidate(const CtlOptions& o, std::ostream& out, std::ostream& err) {
  auto objs = codec::ReadManifestFile(o.file);
  if (!objs.ok()) {
    err << objs.status().message() << "\n";
    return 1;
  }
  for (const auto& dc : *objs) out << dc.Key() << ": valid\n";
  return 0;
}

int CtlPlan(const CtlOptions& o, std::ostream& out, std::ostream& err) {
  auto objs = codec::ReadManifestFile(o.file);
  if (!objs.ok()) {
    err << objs.status().message() << "\n";
    return 1;
  }
  Wiring wiring;
  for (const auto& dc : *objs) {
    auto world = wiring.world_observer().Observe(dc.spec);
    if (!world.ok()) {
      err << dc.Key() << ": cannot observe: " << world.status().message() << "\n";
      return 1;
    }
    const plan::Plan p = plan::Next(dc, *world, util::RealClock::Get().Now());
    out << dc.Key() << ": " << api::PhaseName(p.phase) << " (" << p.reason << ")\n";
    out << "  next step: " << (p.step ? plan::Describe(*p.step) : "none") << "\n";
    out << "  why:       " << p.message << "\n";
  }
  return 0;
}

}  // namespace sy::app
