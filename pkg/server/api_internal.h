// Internal to pkg/server: the resource handlers of ApiHandler, one file per concern
// (api_read.cc, api_write.cc, api_watch.cc, api_discovery.cc), all pure functions of the
// request and the store.
#pragma once

#include <atomic>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "pkg/server/api_handler.h"

namespace sy::server::internal {

// One request for the resource API, routed.
struct Call {
  const HttpRequest& req;
  source::Store& store;
  const util::Clock& clock;
  const ApiOptions& options;
  std::atomic<int>& watches;  // open watches, for ApiOptions::max_watches
  std::string ns;             // "": all namespaces (lists and watches only)
  std::string name;           // "": the collection
};

HttpResponse GetObject(const Call& c);
HttpResponse ListObjects(const Call& c);
HttpResponse WatchObjects(const Call& c);
HttpResponse CreateObject(const Call& c);
HttpResponse ReplaceObject(const Call& c);
HttpResponse PatchObject(const Call& c);
HttpResponse DeleteObject(const Call& c);

// The discovery documents (/version, /api, /apis, /apis/switchyard.dev[/v1alpha1],
// /openapi/v2), or nothing when `req` asks for none of them.
std::optional<HttpResponse> Discovery(const HttpRequest& req, const ApiOptions& options);

// `current` (an object's JSON; null when it does not exist yet) after field manager `manager`
// applied `applied` (api_apply.cc): a merge patch, then the fields the manager applied last
// time and no longer applies are removed, unless another manager's last apply holds them.
nlohmann::json ServerSideApply(const nlohmann::json& current, const nlohmann::json& applied,
                               const std::string& manager);

// "deploymentcolors.switchyard.dev \"name\" not found".
HttpResponse NotFound(const std::string& name);

}  // namespace sy::server::internal
