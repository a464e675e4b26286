// Routing and authentication; the resource handlers live in api_read.cc, api_write.cc,
// api_watch.cc and api_discovery.cc.
#include "pkg/server/api_handler.h"

#include <arpa/inet.h>

#include <algorithm>
#include <exception>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "pkg/server/api_errors.h"
#include "pkg/server/api_internal.h"
#include "pkg/util/log.h"

namespace sy::server {
namespace {

constexpr absl::string_view kPrefix = "/apis/switchyard.dev/v1alpha1/";
constexpr size_t kMaxFieldManager = 128;  // Kubernetes' limit

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

bool IsHealth(const std::string& path) {
  return path == "/healthz" || path == "/livez" || path == "/readyz";
}

// The name of a Host header value: "[::1]:9753" -> "::1", "Example.COM.:80" -> "example.com".
std::string HostName(absl::string_view host) {
  host = absl::StripAsciiWhitespace(host);
  if (absl::ConsumePrefix(&host, "[")) {
    host = host.substr(0, host.find(']'));
  } else if (std::count(host.begin(), host.end(), ':') == 1) {
    host = host.substr(0, host.find(':'));
  }
  absl::ConsumeSuffix(&host, ".");
  return absl::AsciiStrToLower(host);
}

bool IsIpAddress(const std::string& name) {
  unsigned char buf[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, name.c_str(), buf) == 1 ||
         ::inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

// The token of an "Authorization: Bearer <token>" value, or nullopt. The scheme matches in
// any case (RFC 9110); one space, then the token, as Kubernetes reads it.
std::optional<absl::string_view> BearerToken(absl::string_view auth) {
  if (auth.size() < 8 || !absl::EqualsIgnoreCase(auth.substr(0, 7), "bearer ")) {
    return std::nullopt;
  }
  return auth.substr(7);
}

enum class Who { kAnonymous, kTokenHolder, kWrongToken };
constexpr std::string_view kWhoNames[] = {"anonymous", "token-holder", "wrong-token"};

// Who sent `req`, by its Authorization header.
Who Identify(const HttpRequest& req, const std::string& token) {
  const std::string auth = req.Header("authorization");
  if (auth.empty()) return Who::kAnonymous;
  const std::optional<absl::string_view> sent = BearerToken(auth);
  return sent && !token.empty() && SameSecret(std::string_view(sent->data(), sent->size()), token)
             ? Who::kTokenHolder
             : Who::kWrongToken;
}

}  // namespace

std::string HttpRequest::Param(std::string_view name) const { return First(query, name); }
std::string HttpRequest::Header(std::string_view name) const { return First(headers, name); }

ApiHandler::ApiHandler(source::Store& store, const util::Clock& clock, std::function<bool()> ready,
                       ApiOptions options)
    : store_(store), clock_(clock), ready_(std::move(ready)), options_(std::move(options)) {}

std::optional<HttpResponse> ApiHandler::Admit(const HttpRequest& req) const {
  if (IsHealth(req.path)) return std::nullopt;
  const std::string host = req.Header("host");
  if (!host.empty()) {
    const std::string name = HostName(host);
    const bool allowed = IsIpAddress(name) || name == "localhost" ||
                         std::any_of(options_.allowed_hosts.begin(), options_.allowed_hosts.end(),
                                     [&](const std::string& h) { return HostName(h) == name; });
    if (!allowed) {
      return StatusResponse(403, "Forbidden",
                            absl::StrCat("forbidden: host \"", name,
                                         "\" is not a name of this server (an IP address, "
                                         "localhost, or one given with --allowed-host)"));
    }
  }
  const bool write = req.method != "GET" && req.method != "HEAD";
  const Who who = Identify(req, options_.token);
  if (who == Who::kWrongToken) {
    return StatusResponse(403, "Forbidden",
                          "forbidden: the bearer token is not this server's (yardctl config "
                          "prints a kubeconfig with the right one)");
  }
  if (who == Who::kAnonymous && (write || options_.auth_reads)) {
    return StatusResponse(401, "Unauthorized",
                          "Unauthorized: this needs the bearer token from the state directory "
                          "(<state-dir>/token; yardctl config prints a kubeconfig with it)");
  }
  uint64_t declared = 0;
  if (absl::SimpleAtoi(req.Header("content-length"), &declared) &&
      declared > options_.max_body_bytes) {
    return TooLarge();
  }
  return std::nullopt;
}

HttpResponse ApiHandler::TooLarge() const {
  return StatusResponse(
      413, "RequestEntityTooLarge",
      "Request entity too large: limit is " + std::to_string(options_.max_body_bytes) + " bytes");
}

HttpResponse ApiHandler::Handle(const HttpRequest& req) const {
  HttpResponse out = Route(req);
  if (req.method != "GET" && req.method != "HEAD") {
    // Who changed (or tried to change) what; the log line's time says when.
    log::Info("audit",
              {{"verb", req.method},
               {"path", req.path},
               {"code", std::to_string(out.status)},
               {"user", std::string(kWhoNames[static_cast<int>(Identify(req, options_.token))])},
               {"remote", req.remote},
               {"agent", req.Header("user-agent")},
               {"dry_run", req.Param("dryRun").empty() ? "false" : "true"},
               {"field_manager", req.Param("fieldManager")}});
  }
  return out;
}

HttpResponse ApiHandler::Route(const HttpRequest& req) const {
  if (req.path == "/healthz" || req.path == "/livez") {
    return HttpResponse{200, "text/plain", "ok\n"};
  }
  if (req.path == "/readyz") {
    return ready_() ? HttpResponse{200, "text/plain", "ok\n"}
                    : HttpResponse{503, "text/plain", "controller not started\n"};
  }
  if (auto refused = Admit(req)) return *std::move(refused);
  const bool write = req.method != "GET" && req.method != "HEAD";
  if (req.body.size() > options_.max_body_bytes) return TooLarge();
  if (req.path == "/metrics" && !write && options_.metrics) return options_.metrics();
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
  // Kubernetes' rule for a field manager's name: at most 128 printable characters. It is kept
  // in the object's managed fields (served as JSON, which must be valid UTF-8) and logged.
  if (const std::string manager = req.Param("fieldManager");
      manager.size() > kMaxFieldManager ||
      !std::all_of(manager.begin(), manager.end(),
                   [](char ch) { return ch >= 0x20 && ch < 0x7f; })) {
    return StatusResponse(400, "BadRequest",
                          absl::StrCat("fieldManager must be at most ", kMaxFieldManager,
                                       " printable ASCII characters"));
  }
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
