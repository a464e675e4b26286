// yardctl apply, delete, pause and resume: writes through the API, printed as kubectl prints
// them ("deploymentcolor.switchyard.dev/shop configured").
#include "absl/strings/str_cat.h"
#include "pkg/app/yardctl.h"
#include "pkg/app/yardctl_internal.h"
#include "pkg/server/api_handler.h"

namespace sy::app {
namespace {

constexpr char kApplyType[] = "application/apply-patch+yaml";
constexpr char kMergeType[] = "application/merge-patch+json";

std::string WriteQuery(const CtlOptions& o) {
  return absl::StrCat("?fieldManager=yardctl&fieldValidation=Strict",
                      o.dry_run ? "&dryRun=All" : "");
}

const char* DryRunNote(const CtlOptions& o) { return o.dry_run ? " (server dry run)" : ""; }

// What apply will do to `dc`, given what the server has: created, configured or unchanged.
const char* Verdict(const server::ClientResponse& live, const api::DeploymentColor& dc) {
  if (live.status == 404) return "created";
  auto cur = internal::DecodeServerObject(nlohmann::json::parse(live.body, nullptr, false));
  if (cur.ok()) cur->metadata.annotations.erase(std::string(server::kLastAppliedAnnotation));
  if (cur.ok() && cur->spec == dc.spec && cur->metadata.labels == dc.metadata.labels &&
      cur->metadata.annotations == dc.metadata.annotations) {
    return "unchanged";
  }
  return "configured";
}

}  // namespace

int CtlApply(const CtlOptions& o, std::ostream& out, std::ostream& err) {
  auto objs = internal::ReadObjects(o);
  if (!objs.ok()) {
    err << objs.status().message() << "\n";
    return 1;
  }
  auto c = internal::Connect(o);
  if (!c.ok()) return internal::Fail(c.status(), err);
  server::ApiClient cli(c->client);
  int rc = 0;
  for (const api::DeploymentColor& dc : *objs) {
    const std::string path = internal::ItemPath(dc.metadata.namespace_, dc.metadata.name);
    auto live = cli.Send("GET", path);
    if (!live.ok()) return internal::Fail(live.status(), err);
    if (live->status != 200 && live->status != 404) {
      rc = internal::ServerError(*live, err);
      continue;
    }
    const char* verdict = Verdict(*live, dc);
    if (std::string(verdict) != "unchanged") {
      // Server-side apply: creates, or merges into what is there.
      auto res = cli.Send("PATCH", path + WriteQuery(o), internal::DesiredJson(dc), kApplyType);
      if (!res.ok()) return internal::Fail(res.status(), err);
      if (res->status != 200 && res->status != 201) {
        rc = internal::ServerError(*res, err);
        continue;
      }
    }
    out << internal::kResource << "/" << dc.metadata.name << " " << verdict << DryRunNote(o)
        << "\n";
  }
  return rc;
}

int CtlDelete(const CtlOptions& o, std::ostream& out, std::ostream& err) {
  auto c = internal::Connect(o);
  if (!c.ok()) return internal::Fail(c.status(), err);
  std::vector<std::pair<std::string, std::string>> targets;  // (namespace, name)
  for (const std::string& n : o.names) targets.emplace_back(c->ns, n);
  if (!o.files.empty()) {
    auto objs = internal::ReadObjects(o);
    if (!objs.ok()) {
      err << objs.status().message() << "\n";
      return 1;
    }
    for (const auto& dc : *objs) targets.emplace_back(dc.metadata.namespace_, dc.metadata.name);
  }
  if (targets.empty()) {
    err << "error: name what to delete: yardctl delete dc NAME, or -f FILE\n";
    return 2;
  }
  server::ApiClient cli(c->client);
  int rc = 0;
  for (const auto& [ns, name] : targets) {
    auto res = cli.Send("DELETE", internal::ItemPath(ns, name) + (o.dry_run ? "?dryRun=All" : ""));
    if (!res.ok()) return internal::Fail(res.status(), err);
    if (res->status == 404 && o.ignore_not_found) continue;
    if (res->status != 200) {
      rc = internal::ServerError(*res, err);
      continue;
    }
    // Deleting stops management; nothing in the world is torn down.
    out << internal::kResource << " \"" << name << "\" deleted" << DryRunNote(o) << "\n";
  }
  return rc;
}

int CtlSetPaused(const CtlOptions& o, bool paused, std::ostream& out, std::ostream& err) {
  if (o.names.empty()) {
    err << "error: name the resource: yardctl " << (paused ? "pause" : "resume") << " dc/NAME\n";
    return 2;
  }
  auto c = internal::Connect(o);
  if (!c.ok()) return internal::Fail(c.status(), err);
  server::ApiClient cli(c->client);
  const std::string patch = nlohmann::json{{"spec", {{"paused", paused}}}}.dump();
  int rc = 0;
  for (const std::string& name : o.names) {
    auto res =
        cli.Send("PATCH", internal::ItemPath(c->ns, name) + WriteQuery(o), patch, kMergeType);
    if (!res.ok()) return internal::Fail(res.status(), err);
    if (res->status != 200) {
      rc = internal::ServerError(*res, err);
      continue;
    }
    out << internal::kResource << "/" << name << (paused ? " paused" : " resumed") << DryRunNote(o)
        << "\n";
  }
  return rc;
}

}  // namespace sy::app
