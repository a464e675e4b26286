// Finding nginx's master process the way `nginx -s reload` does: through the pid file its
// configuration names. Shared by the observer (is it running?) and the actuator (whose old
// workers must be gone?).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "pkg/api/types.h"
#include "pkg/host/process.h"

namespace sy::host {

// The pid file named by the top-level `pid` directive of `config_file`, or nginx's default
// /run/nginx.pid. kFailedPrecondition when the file cannot be read or parsed, or the path is
// relative (Switchyard runs `nginx -t` and `-s reload` without -p, so it must be absolute).
absl::StatusOr<std::string> NginxPidFile(const std::string& config_file);

// The pid of nginx's running master: the pid file names a live process whose command line
// is "nginx: master process ...". kUnavailable when it does not run ("nginx is not running
// (pid file /run/nginx.pid is missing)"); NginxPidFile's errors otherwise.
absl::StatusOr<int> FindNginxMaster(const api::NginxSpec& nginx, ProcessTable& processes);

}  // namespace sy::host
