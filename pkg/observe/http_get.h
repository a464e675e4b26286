// One HTTP GET for probes: a fresh connection per request (`Connection: close`) that no cache
// may answer (`Cache-Control: no-cache`, `Pragma: no-cache`), so what it sees is what a new
// client would see right now (pkg/observe/README.md #23, #24).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace sy::observe {

struct HttpReply {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  // The first header named `name` (case-insensitive), or nullopt.
  std::optional<std::string> Header(std::string_view name) const;
};

// GETs `url` ("http://host:port/path" or https). `timeout` bounds each of connecting,
// sending and reading. Thread-safe. Any HTTP status is a reply, not an error.
// kInvalidArgument: a malformed URL. kUnavailable: no reply, with a message naming the
// address and why ("cannot connect to 127.0.0.1:18080 (connection refused or unreachable)").
absl::StatusOr<HttpReply> HttpGet(const std::string& url, std::chrono::milliseconds timeout);

}  // namespace sy::observe
