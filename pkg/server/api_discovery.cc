// Discovery: what kubectl asks before anything else, to learn that deploymentcolors (dc) of
// switchyard.dev/v1alpha1 exists and what it can do. Plain JSON (the legacy documents):
// kubectl asks for aggregated discovery first and falls back to these by their content type.
#include <nlohmann/json.hpp>

#include "pkg/server/api_body.h"
#include "pkg/server/api_internal.h"

namespace sy::server::internal {
namespace {

const nlohmann::json kGroupVersion = {{"groupVersion", "switchyard.dev/v1alpha1"},
                                      {"version", "v1alpha1"}};

nlohmann::json Group() {
  return {{"name", "switchyard.dev"},
          {"versions", nlohmann::json::array({kGroupVersion})},
          {"preferredVersion", kGroupVersion}};
}

nlohmann::json Resources() {
  nlohmann::json dc = {
      {"name", "deploymentcolors"},
      {"singularName", "deploymentcolor"},
      {"namespaced", true},
      {"kind", "DeploymentColor"},
      {"verbs", {"create", "delete", "get", "list", "patch", "update", "watch"}},
      {"shortNames", {"dc"}},
  };
  // Readable; written by the controller only.
  nlohmann::json status = {{"name", "deploymentcolors/status"},
                           {"singularName", ""},
                           {"namespaced", true},
                           {"kind", "DeploymentColor"},
                           {"verbs", {"get"}}};
  return {{"kind", "APIResourceList"},
          {"apiVersion", "v1"},
          {"groupVersion", "switchyard.dev/v1alpha1"},
          {"resources", {dc, status}}};
}

}  // namespace

std::optional<HttpResponse> Discovery(const HttpRequest& req, const ApiOptions& options) {
  const std::string& p = req.path;
  if (p == "/version" || p == "/version/") {
    // The Kubernetes shape; kubectl shows gitVersion as the "Server Version".
    return JsonResponse(200, {{"major", "0"},
                              {"minor", "1"},
                              {"gitVersion", options.version + "+switchyard"},
                              {"platform", "linux/amd64"}});
  }
  if (p == "/api" || p == "/api/") {
    // No core group: Switchyard serves only its own.
    return JsonResponse(200, {{"kind", "APIVersions"},
                              {"versions", nlohmann::json::array()},
                              {"serverAddressByClientCIDRs", nlohmann::json::array()}});
  }
  if (p == "/apis" || p == "/apis/") {
    return JsonResponse(200, {{"kind", "APIGroupList"},
                              {"apiVersion", "v1"},
                              {"groups", nlohmann::json::array({Group()})}});
  }
  if (p == "/apis/switchyard.dev" || p == "/apis/switchyard.dev/") {
    nlohmann::json g = Group();
    g["kind"] = "APIGroup";
    g["apiVersion"] = "v1";
    return JsonResponse(200, g);
  }
  if (p == "/apis/switchyard.dev/v1alpha1" || p == "/apis/switchyard.dev/v1alpha1/") {
    return JsonResponse(200, Resources());
  }
  if (p == "/openapi/v2") {
    // kubectl needs an answer to apply with its default validation; an empty document
    // leaves all validation to the server, which is the one that knows the schema.
    return HttpResponse{200, "application/com.github.proto-openapi.spec.v2.v1.0+protobuf", ""};
  }
  return std::nullopt;
}

}  // namespace sy::server::internal
