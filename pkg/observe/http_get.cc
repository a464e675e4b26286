#include "pkg/observe/http_get.h"

#include <httplib.h>

#include "absl/strings/match.h"

namespace sy::observe {

std::optional<std::string> HttpReply::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() && absl::EqualsIgnoreCase(key, {name.data(), name.size()})) {
      return value;
    }
  }
  return std::nullopt;
}

absl::StatusOr<HttpReply> HttpGet(const std::string& url, std::chrono::milliseconds timeout) {
  const size_t scheme_end = url.find("://");
  const std::string scheme = scheme_end == std::string::npos ? "" : url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") {
    return absl::InvalidArgumentError("URL '" + url + "' must start with http:// or https://");
  }
  const size_t path_start = url.find('/', scheme_end + 3);
  const std::string authority =
      url.substr(scheme_end + 3,
                 path_start == std::string::npos ? std::string::npos : path_start - scheme_end - 3);
  if (authority.empty()) return absl::InvalidArgumentError("URL '" + url + "' has no host");
  const std::string path = path_start == std::string::npos ? "/" : url.substr(path_start);

  httplib::Client client(scheme + "://" + authority);
  client.set_keep_alive(false);
  client.set_connection_timeout(timeout);
  client.set_read_timeout(timeout);
  client.set_write_timeout(timeout);
  // A cache between us and the app (or nginx's proxy_cache) must not answer: a cached `/`
  // would show the color served before the switch, or after it too early.
  const httplib::Result res = client.Get(
      path, {{"Connection", "close"}, {"Cache-Control", "no-cache"}, {"Pragma", "no-cache"}});
  if (!res) {
    const std::string ms = std::to_string(timeout.count()) + " ms";
    switch (res.error()) {
      case httplib::Error::Connection:
        return absl::UnavailableError("cannot connect to " + authority +
                                      " (connection refused or unreachable)");
      case httplib::Error::ConnectionTimeout:
        return absl::UnavailableError("connecting to " + authority + " timed out after " + ms);
      case httplib::Error::Read:
        return absl::UnavailableError("no reply from " + authority + " within " + ms +
                                      " (or the connection was closed)");
      default:
        return absl::UnavailableError("GET " + url + " failed: " + httplib::to_string(res.error()));
    }
  }
  HttpReply reply;
  reply.status = res->status;
  reply.headers.assign(res->headers.begin(), res->headers.end());
  return reply;
}

}  // namespace sy::observe
