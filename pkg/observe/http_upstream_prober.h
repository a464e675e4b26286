// The real UpstreamProber: GET / on an app server directly, healthy on a 2xx reply.
#pragma once

#include <chrono>
#include <string>

#include "pkg/observe/observer.h"

namespace sy::observe {

// Thread-safe (no state). A fresh connection per probe.
class HttpUpstreamProber final : public model::UpstreamProber {
 public:
  model::UpstreamState Probe(const std::string& address,
                             std::chrono::milliseconds timeout) override;
};

}  // namespace sy::observe
