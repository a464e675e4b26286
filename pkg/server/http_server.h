// The HTTP transport (cpp-httplib) of the daemon: routes every request to a handler function.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "pkg/server/api_handler.h"

namespace sy::server {

using Handler = std::function<HttpResponse(const HttpRequest&)>;

// Listens on "host:port" and serves `handler` from a thread pool. Start() returns once the
// socket is bound (kUnavailable naming the address when it cannot be); Stop() is idempotent.
class HttpServer {
 public:
  explicit HttpServer(Handler handler);
  ~HttpServer();
  absl::Status Start(const std::string& listen);
  void Stop();
  int port() const { return port_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  Handler handler_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace sy::server
