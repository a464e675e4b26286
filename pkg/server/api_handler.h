// The daemon's HTTP API as a pure request -> response function (the transport, in
// http_server.h, only moves bytes; a watch is a response whose body a callback streams).
// Kubernetes-shaped, so that an unmodified kubectl works against it, for the one kind
// DeploymentColor (deploymentcolors, short name dc) of switchyard.dev/v1alpha1:
//   GET  /healthz /livez /readyz /metrics /version /api /apis /apis/switchyard.dev[/v1alpha1]
//   /openapi/v2 GET  /apis/switchyard.dev/v1alpha1/deploymentcolors                  all namespaces
//   GET  .../namespaces/{ns}/deploymentcolors          list; ?watch=true streams events
//   POST .../namespaces/{ns}/deploymentcolors          create
//   GET PUT PATCH DELETE .../namespaces/{ns}/deploymentcolors/{name}
//   GET  .../namespaces/{ns}/deploymentcolors/{name}/status   (written by the controller only)
// Writes need the bearer token (401 without one, 403 with a wrong one); reads (GET /metrics
// included) need it only with ApiOptions::auth_reads; /healthz, /livez and /readyz never
// do. A Host header that names neither an IP address, localhost nor an allowed host is
// refused (403), so that a web page cannot reach a loopback API by DNS rebinding. Every
// write honours ?dryRun=All and ?fieldValidation= and is logged ("audit": who, what, the
// outcome). Objects that a manifest file gives are read-only here (403 naming the file).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pkg/source/store.h"
#include "pkg/util/clock.h"

namespace sy::server {

// The annotation where server-side apply keeps each field manager's applied fields (JSON:
// manager -> JSON pointers), so that a field it no longer applies is removed.
inline constexpr std::string_view kLastAppliedAnnotation = "apply.switchyard.dev/last-applied";

struct HttpRequest {
  std::string method;
  std::string path;  // without the query string
  std::multimap<std::string, std::string> query;
  std::multimap<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string remote;  // the client's IP address ("" when unknown)
  // The URI names (subjectAltName) of the client's TLS certificate, verified against
  // HttpServerOptions::tls_client_ca_file; empty without one.
  std::vector<std::string> peer_uris;

  // The first value of query parameter / header `name`, or "".
  std::string Param(std::string_view name) const;
  std::string Header(std::string_view name) const;
};

// Where a streamed response goes. Thread-compatible.
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  // Sends `chunk` to the client at once; false when the client is gone.
  virtual bool Write(std::string_view chunk) = 0;
  // False once the server is stopping: end the stream.
  virtual bool Open() const = 0;
};

struct HttpResponse {
  explicit HttpResponse(int status_code = 200, std::string type = "application/json",
                        std::string content = "")
      : status(status_code), content_type(std::move(type)), body(std::move(content)) {}

  int status;
  std::string content_type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers (Warning)
  // Set for a streamed (chunked) response: the transport sends status and headers, calls it
  // once, and ends the response when it returns. `body` is then unused.
  std::function<void(ResponseStream&)> stream;
};

struct ApiOptions {
  // The bearer token writes need. Empty: every write is refused (401).
  std::string token;
  // Reads need the token too (without it, anyone who reaches the address may read).
  bool auth_reads = false;
  // Host header names accepted besides IP addresses and localhost (any case, without the
  // port): the names clients use to reach the daemon, e.g. the TLS certificate's.
  std::vector<std::string> allowed_hosts;
  // Larger request bodies get 413.
  size_t max_body_bytes = 1 << 20;
  // An idle watch sends a newline this often (JSON streams skip whitespace), so that a
  // client that went away is noticed and its thread freed.
  std::chrono::milliseconds watch_heartbeat{5000};
  // The longest a watch lasts unless ?timeoutSeconds= asks for less; clients then watch again.
  std::chrono::seconds max_watch{1800};
  // Watches served at once; more get 429.
  int max_watches = 32;
  // What GET /version reports.
  std::string version = "v0.1.0";
  // GET /metrics (a reader like any other: open, or behind the token with auth_reads).
  // Empty: 404.
  std::function<HttpResponse()> metrics;
};

// Thread-safe (the store is).
class ApiHandler {
 public:
  // `store` and `clock` must outlive this object; `ready` says whether the controller
  // serves its queue.
  ApiHandler(source::Store& store, const util::Clock& clock, std::function<bool()> ready,
             ApiOptions options);
  HttpResponse Handle(const HttpRequest& req) const;

  // What Handle() checks before looking at the body: the Host header, the token, the
  // declared body size (Content-Length). A refusal, or nullopt when the request may go on.
  // The transport calls it before reading the body.
  std::optional<HttpResponse> Admit(const HttpRequest& head) const;

 private:
  HttpResponse Route(const HttpRequest& req) const;
  HttpResponse TooLarge() const;
  HttpResponse Resources(const HttpRequest& req) const;

  source::Store& store_;
  const util::Clock& clock_;
  std::function<bool()> ready_;
  const ApiOptions options_;
  mutable std::atomic<int> watches_{0};
};

}  // namespace sy::server
