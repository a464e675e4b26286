// Reads: one object, a list (one namespace or all), as objects or as a Table.
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "pkg/server/api_body.h"
#include "pkg/server/api_errors.h"
#include "pkg/server/api_internal.h"
#include "pkg/server/api_selector.h"
#include "pkg/server/api_table.h"

namespace sy::server::internal {

HttpResponse NotFound(const std::string& name) {
  return StatusResponse(404, "NotFound",
                        absl::StrCat("deploymentcolors.switchyard.dev \"", name, "\" not found"),
                        name);
}

namespace {

// The answer for `items` as the request wants it: a Table, or `single` / a list.
HttpResponse Render(const Call& c, const std::vector<api::DeploymentColor>& items,
                    int64_t resource_version, bool single) {
  const std::string table = TableVersionWanted(c.req);
  if (!table.empty()) {
    auto include = ParseIncludeObject(c.req.Param("includeObject"));
    if (!include.ok()) return ErrorResponse(include.status(), "");
    return JsonResponse(200, MakeTable(items, c.clock.Now(), *include, resource_version, table));
  }
  if (single) return JsonResponse(200, ObjectJson(items.front()));
  nlohmann::json list = {{"apiVersion", "switchyard.dev/v1alpha1"},
                         {"kind", "DeploymentColorList"},
                         {"metadata", {{"resourceVersion", std::to_string(resource_version)}}},
                         {"items", nlohmann::json::array()}};
  for (const auto& dc : items) list["items"].push_back(ObjectJson(dc));
  return JsonResponse(200, list);
}

}  // namespace

HttpResponse GetObject(const Call& c) {
  auto dc = c.store.Get(c.ns + "/" + c.name);
  if (!dc) return NotFound(c.name);
  int64_t rv = 0;
  (void)absl::SimpleAtoi(dc->metadata.resource_version, &rv);
  return Render(c, {*dc}, rv, /*single=*/true);
}

HttpResponse ListObjects(const Call& c) {
  auto selector = Selector::Parse(c.req.Param("labelSelector"), c.req.Param("fieldSelector"));
  if (!selector.ok()) return ErrorResponse(selector.status(), "");
  int64_t rv = 0;
  std::vector<api::DeploymentColor> items;
  for (auto& dc : c.store.ListAt(&rv)) {
    if ((c.ns.empty() || dc.metadata.namespace_ == c.ns) && selector->Matches(dc)) {
      items.push_back(std::move(dc));
    }
  }
  // ?limit= is honoured by answering everything at once (no continue token): lists are small.
  return Render(c, items, rv, /*single=*/false);
}

}  // namespace sy::server::internal
