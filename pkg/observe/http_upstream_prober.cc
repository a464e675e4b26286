#include "pkg/observe/http_upstream_prober.h"

#include "pkg/observe/http_get.h"

namespace sy::observe {

model::UpstreamState HttpUpstreamProber::Probe(const std::string& address,
                                               std::chrono::milliseconds timeout) {
  model::UpstreamState state;
  state.address = address;
  auto reply = HttpGet("http://" + address + "/", timeout);
  if (!reply.ok()) {
    state.error = std::string(reply.status().message());
  } else if (reply->status < 200 || reply->status > 299) {
    state.error = "HTTP " + std::to_string(reply->status) + " from http://" + address + "/";
  } else {
    state.healthy = true;
  }
  return state;
}

}  // namespace sy::observe
