// Routing and authentication; the resource handlers live in api_read.cc, api_write.cc,
// api_watch.cc and api_discovery.cc.
#include "pkg/server/api_handler.h"

#include <exception>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "pkg/server/api_errors.h"
#include "pkg/server/api_internal.h"

namespace sy::server {
namespace {

constexpr absl::string_view kPrefix = "/apis/switchyard.dev/v1alpha1/";

// Compares in time independent of where the strings differ.
bool SameSecret(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  }
  return diff == 0;
}

std::string First(const std::multimap<std::string, std::string>& m, std::string_view name) {
  auto it = m.find(std::string(name));
  return it == m.end() ? "" : it->second;
}

}  // namespace

std::string HttpRequest::Param(std::string_view name) const { return First(query, name); }
std::string HttpRequest::Header(std::string_view name) const { return First(headers, name); }

ApiHandler::ApiHandler(source::Store& store, const util::Clock& clock, std::function<bool()> ready,
                       ApiOptions options)
    : store_(store), clock_(clock), ready_(std::move(ready)), options_(std::move(options)) {}

HttpResponse ApiHandler::Handle(const HttpRequest& req) const {
  if (req.path == "/healthz" || req.path == "/livez") {
    return HttpResponse{200, "text/plain", "ok\n"};
  }
  if (req.path == "/readyz") {
    return ready_() ? HttpResponse{200, "text/plain", "ok\n"}
                    : HttpResponse{503, "text/plain", "controller not started\n"};
  }
  const bool write = req.method != "GET";
  const std::string auth = req.Header("authorization");
  if (!auth.empty()) {
    absl::string_view token = auth;
    if (!absl::ConsumePrefix(&token, "Bearer ") || options_.token.empty() ||
        !SameSecret(std::string_view(token.data(), token.size()), options_.token)) {
      return StatusResponse(403, "Forbidden",
                            "forbidden: the bearer token is not this server's (yardctl config "
                            "prints a kubeconfig with the right one)");
    }
  } else if (write || options_.auth_reads) {
    return StatusResponse(401, "Unauthorized",
                          "Unauthorized: this needs the bearer token from the state directory "
                          "(<state-dir>/token; yardctl config prints a kubeconfig with it)");
  }
  if (req.body.size() > options_.max_body_bytes) {
    return StatusResponse(
        413, "RequestEntityTooLarge",
        "Request entity too large: limit is " + std::to_string(options_.max_body_bytes) + " bytes");
  }
  try {
    if (auto d = internal::Discovery(req, options_); d && !write) return *std::move(d);
    if (absl::StartsWith(req.path, kPrefix)) return Resources(req);
  } catch (const std::exception& e) {  // a library's exception: a bug, not the client's fault
    return StatusResponse(500, "InternalError", std::string("internal error: ") + e.what());
  }
  return StatusResponse(404, "NotFound", "the server could not find the requested resource");
}

HttpResponse ApiHandler::Resources(const HttpRequest& req) const {
  std::vector<std::string> seg =
      absl::StrSplit(req.path.substr(kPrefix.size()), '/', absl::SkipEmpty());
  internal::Call c{req, store_, clock_, options_, watches_, "", ""};
  bool status = false;
  if (seg.size() == 1 && seg[0] == "deploymentcolors") {
    // all namespaces
  } else if (seg.size() >= 3 && seg.size() <= 5 && seg[0] == "namespaces" &&
             seg[2] == "deploymentcolors" && (seg.size() < 5 || seg[4] == "status")) {
    c.ns = seg[1];
    if (seg.size() >= 4) c.name = seg[3];
    status = seg.size() == 5;
  } else {
    return StatusResponse(404, "NotFound", "the server could not find the requested resource");
  }
  const std::string& m = req.method;
  if (c.name.empty()) {
    const std::string watch = req.Param("watch");
    if (m == "GET") {
      return watch == "true" || watch == "1" ? internal::WatchObjects(c) : internal::ListObjects(c);
    }
    if (m == "POST" && !c.ns.empty()) return internal::CreateObject(c);
  } else if (status) {
    if (m == "GET") return internal::GetObject(c);
    return StatusResponse(405, "MethodNotAllowed",
                          "status is written by the controller only; change the spec instead");
  } else {
    if (m == "GET") return internal::GetObject(c);
    if (m == "PUT") return internal::ReplaceObject(c);
    if (m == "PATCH") return internal::PatchObject(c);
    if (m == "DELETE") return internal::DeleteObject(c);
  }
  return StatusResponse(405, "MethodNotAllowed", m + " is not supported on " + req.path);
}

}  // namespace sy::server
