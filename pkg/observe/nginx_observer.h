// The real NginxObserver: reads the owned upstream file and finds nginx's master through a
// host::NginxHost, and probes the color nginx serves on a fresh connection.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "pkg/api/types.h"
#include "pkg/host/nginx_host.h"
#include "pkg/observe/observer.h"

namespace sy::observe {

// Reads the world as nginx shows it. Thread-compatible. Observe() returns an error only for
// misconfiguration: kFailedPrecondition when spec.nginx.configFile cannot be read or parsed
// or names a relative pid file, kPermissionDenied / kInternal when the upstream file exists
// but cannot be read. nginx not running, a missing upstream file and a failing probe are data.
class HttpNginxObserver final : public model::NginxObserver {
 public:
  // `host` must outlive this object.
  explicit HttpNginxObserver(host::NginxHost& host) : host_(host) {}
  absl::StatusOr<model::NginxState> Observe(const api::DeploymentColorSpec& spec) override;

 private:
  host::NginxHost& host_;
};

// The color nginx serves now: GET probe.url on a fresh connection, read probe.header.
// kUnavailable saying why there is none: no reply, an HTTP status of 400 or more, the header
// missing, or a value that is not a color.
absl::StatusOr<api::Color> ProbeServedColor(const api::ProbeSpec& probe);

}  // namespace sy::observe
