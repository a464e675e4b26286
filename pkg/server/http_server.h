// The HTTP transport (cpp-httplib) of the daemon: routes every request to a handler function,
// over plain HTTP or TLS, and streams the responses that ask for it (watches).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "pkg/server/api_handler.h"

namespace sy::server {

using Handler = std::function<HttpResponse(const HttpRequest&)>;

struct HttpServerOptions {
  // Both set: serve HTTPS with this PEM certificate (chain) and key. Both empty: plain HTTP.
  std::string tls_cert_file;
  std::string tls_key_file;
  // Request bodies larger than this get 413 from the transport itself; keep it at least the
  // handler's own limit (ApiOptions::max_body_bytes) so the handler answers first.
  size_t max_body_bytes = (1 << 20) + 1;
  // Worker threads: each request, and each open watch, holds one.
  int threads = 48;
};

// Listens on "host:port" and serves `handler` from a thread pool. Start() returns once the
// server accepts connections (kUnavailable naming the address when it cannot bind,
// kInvalidArgument for a bad address or TLS files); Stop() ends open streams (within about a
// second), waits for requests in flight and is idempotent.
class HttpServer {
 public:
  explicit HttpServer(Handler handler, HttpServerOptions options = {});
  ~HttpServer();
  absl::Status Start(const std::string& listen);
  void Stop();
  int port() const { return port_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  Handler handler_;
  HttpServerOptions options_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  int port_ = 0;
};

}  // namespace sy::server
