#include "pkg/server/api_handler.h"

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "pkg/codec/codec.h"

namespace sy::server {
namespace {

constexpr std::string_view kPrefix = "/apis/switchyard.dev/v1alpha1/";

std::vector<std::string> Split(std::string_view path) {
  std::vector<std::string> out;
  for (absl::string_view p :
       absl::StrSplit(absl::string_view(path.data(), path.size()), '/', absl::SkipEmpty())) {
    out.emplace_back(p);
  }
  return out;
}

}  // namespace

HttpResponse StatusResponse(int code, const std::string& reason, const std::string& message) {
  nlohmann::json j = {
      {"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", nlohmann::json::object()},
      {"status", "Failure"}, {"message", message}, {"reason", reason},
      {"code", code}};
  return HttpResponse{code, "application/json", j.dump() + "\n"};
}

ApiHandler::ApiHandler(source::Store& store, std::function<bool()> ready)
    : store_(store), ready_(std::move(ready)) {}

HttpResponse ApiHandler::Handle(const HttpRequest& req) const {
  if (req.path == "/healthz") return HttpResponse{200, "text/plain", "ok\n"};
  if (req.path == "/readyz") {
    return ready_() ? HttpResponse{200, "text/plain", "ok\n"}
                    : HttpResponse{503, "text/plain", "controller not started\n"};
  }
  if (absl::StartsWith(req.path, absl::string_view(kPrefix.data(), kPrefix.size())) ||
      req.path + "/" == kPrefix) {
    return Resources(req);
  }
  return StatusResponse(404, "NotFound", "no such path: " + req.path);
}

HttpResponse ApiHandler::Resources(const HttpRequest& req) const {
  if (req.method != "GET") {
    return StatusResponse(405, "MethodNotAllowed",
                          "this endpoint is read-only; change the manifests instead");
  }
  // Segments after /apis/switchyard.dev/v1alpha1/.
  const std::vector<std::string> seg = Split(req.path.substr(kPrefix.size() - 1));
  std::string ns;
  std::string name;
  if (seg.size() == 1 && seg[0] == "deploymentcolors") {
    // all namespaces
  } else if (seg.size() >= 3 && seg.size() <= 4 && seg[0] == "namespaces" &&
             seg[2] == "deploymentcolors") {
    ns = seg[1];
    if (seg.size() == 4) name = seg[3];
  } else {
    return StatusResponse(404, "NotFound", "no such resource path: " + req.path);
  }
  if (!name.empty()) {
    auto dc = store_.Get(ns + "/" + name);
    if (!dc) {
      return StatusResponse(404, "NotFound",
                            "deploymentcolors.switchyard.dev \"" + name + "\" not found");
    }
    return HttpResponse{200, "application/json", codec::EncodeJson(*dc, 2) + "\n"};
  }
  nlohmann::json items = nlohmann::json::array();
  for (const auto& dc : store_.List()) {
    if (!ns.empty() && dc.metadata.namespace_ != ns) continue;
    items.push_back(nlohmann::json::parse(codec::EncodeJson(*&dc)));
  }
  nlohmann::json list = {{"apiVersion", "switchyard.dev/v1alpha1"},
                         {"kind", "DeploymentColorList"},
                         {"metadata", nlohmann::json::object()},
                         {"items", items}};
  return HttpResponse{200, "application/json", list.dump(2) + "\n"};
}

}  // namespace sy::server
