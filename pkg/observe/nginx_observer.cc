#include "pkg/observe/nginx_observer.h"

#include <chrono>

#include "absl/strings/ascii.h"
#include "pkg/host/nginx_upstream_file.h"
#include "pkg/observe/http_get.h"
#include "pkg/util/files.h"
#include "pkg/util/status_macros.h"

namespace sy::observe {

absl::StatusOr<api::Color> ProbeServedColor(const api::ProbeSpec& probe) {
  SY_ASSIGN_OR_RETURN(const HttpReply reply,
                      HttpGet(probe.url, std::chrono::seconds(probe.timeout_seconds)));
  if (reply.status >= 400) {
    return absl::UnavailableError("HTTP " + std::to_string(reply.status) + " from " + probe.url);
  }
  const auto value = reply.Header(probe.header);
  if (!value) {
    return absl::UnavailableError("header " + probe.header + " missing in the reply from " +
                                  probe.url);
  }
  const auto color = api::ParseColor(std::string(absl::StripAsciiWhitespace(*value)));
  if (!color) {
    return absl::UnavailableError("header " + probe.header + " is \"" + *value +
                                  "\", not blue or green");
  }
  return *color;
}

absl::StatusOr<model::NginxState> HttpNginxObserver::Observe(const api::DeploymentColorSpec& spec) {
  model::NginxState state;
  auto file = host_.ReadFile(spec.nginx.upstream_file);
  if (!file.ok()) return util::Annotate(file.status(), "nginx upstreamFile");
  if (*file) {
    state.file_exists = true;
    state.file_color = host::ParseUpstreamColor(spec, (*file)->content);
  }
  auto master = host_.FindMaster(spec.nginx);
  if (master.ok()) {
    state.running = true;
  } else if (!absl::IsUnavailable(master.status())) {
    return master.status();
  }
  auto served = ProbeServedColor(spec.nginx.probe);
  if (served.ok()) {
    state.served_color = *served;
  } else {
    state.probe_error = std::string(served.status().message());
  }
  return state;
}

}  // namespace sy::observe
