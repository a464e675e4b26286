// A client of the daemon's API, for yardctl: plain HTTP or HTTPS with a trusted certificate,
// bearer token, and streamed GETs for watches. cpp-httplib stays behind this interface.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace sy::server {

struct ClientConfig {
  std::string server = "http://127.0.0.1:9753";  // scheme://host:port
  std::string token;                             // bearer token; "" sends none
  std::string ca_pem;                 // https: the certificates to trust; "" the system's
  bool insecure_skip_verify = false;  // https: trust any certificate
  std::chrono::seconds timeout{30};   // per read; a watch's heartbeats keep it alive
};

struct ClientResponse {
  int status = 0;
  std::string body;
};

// Thread-compatible.
class ApiClient {
 public:
  explicit ApiClient(ClientConfig config);
  ~ApiClient();
  ApiClient(const ApiClient&) = delete;
  ApiClient& operator=(const ApiClient&) = delete;

  // One request; any HTTP answer is a response. kUnavailable naming the server when it
  // cannot be reached (or TLS fails), kInvalidArgument for a server URL that is none.
  absl::StatusOr<ClientResponse> Send(const std::string& method, const std::string& path,
                                      const std::string& body = "",
                                      const std::string& content_type = "",
                                      const std::string& accept = "application/json");

  // GET `path` as a stream: calls `on_line` with each non-empty line as it arrives, until it
  // returns false or the server ends the stream. Returns the HTTP status; for an answer other
  // than 200, `on_line` is not called and `error_body` (when set) gets the body.
  absl::StatusOr<int> Stream(const std::string& path, const std::string& accept,
                             const std::function<bool(std::string_view line)>& on_line,
                             std::string* error_body = nullptr);

  const std::string& server() const { return config_.server; }

 private:
  struct Impl;
  ClientConfig config_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sy::server
