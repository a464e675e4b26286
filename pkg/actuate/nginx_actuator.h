// Switching web traffic to a color (pkg/plan/README.md §3, step 1): render the owned upstream file,
// `nginx -t`, `nginx -s reload`, then wait until no new connection can reach the old color.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "pkg/actuate/actuator.h"
#include "pkg/api/types.h"
#include "pkg/host/nginx_host.h"
#include "pkg/model/observers.h"
#include "pkg/util/clock.h"

namespace sy::actuate {

struct NginxActuatorOptions {
  // How long after the reload the new color must be served and the old workers retired.
  std::chrono::milliseconds reload_timeout{10000};
  // How often to look while waiting (nginx answers the new color ≈ 16 ms after a reload and
  // retires the old workers after ≈ 100 ms: pkg/observe/README.md #23).
  std::chrono::milliseconds poll_interval{5};
  // Bound on each of `nginx -t` and `nginx -s reload`.
  std::chrono::milliseconds command_timeout{30000};
};

// Thread-compatible: one switch at a time per nginx.
class NginxActuator {
 public:
  // All three must outlive this object. `host` acts on nginx's machine (the file, the
  // program, the workers); `observer` supplies the probe (served color). `gate` (may be null:
  // every act allowed; else it must outlive this object) is asked right before the upstream
  // file is written and right before the reload; its refusal is returned as is. Putting the
  // previous file back after `nginx -t` rejected the new one is not asked: it undoes this
  // step's own write, and refusing it would leave a file nginx rejects for the next reload.
  NginxActuator(host::NginxHost& host, const util::Clock& clock, model::NginxObserver& observer,
                NginxActuatorOptions options = {}, CommitGate* gate = nullptr)
      : host_(host), clock_(clock), observer_(observer), options_(options), gate_(gate) {}

  // Makes nginx send every new connection to `color`'s upstreams. `key` ("namespace/name")
  // names the owner in the file's comment. Idempotent: when the file already holds the
  // rendering for `color` and the probe answers `color`, it changes nothing. Otherwise it
  // replaces spec.nginx.upstreamFile atomically (0644, creating its directory), runs
  // `<binary> -t -c <configFile>`, and `<binary> -s reload -c <configFile>`; it returns once
  // the probe answers `color` on a fresh connection and every worker of the previous
  // generation has exited or closed its listening sockets (is "shutting down"), so that no
  // new connection can reach the old color any more. `out->detail` says what was done and
  // how long it took.
  //
  // kUnavailable: nginx is not running (nothing is written); the reload could not be sent;
  // or the switch was not observed within the reload timeout (retry: the file is in place).
  // kInvalidArgument: `nginx -t` failed (the previous file is put back byte for byte, or the
  // new one removed when there was none; traffic is unchanged) or the binary is missing.
  // kFailedPrecondition: configFile unreadable (from the observer). kInternal and
  // kPermissionDenied: the file could not be written or restored.
  absl::Status SwitchTraffic(const api::DeploymentColorSpec& spec, const std::string& key,
                             api::Color color, StepOutcome* out);

 private:
  // `nginx -t`: kInvalidArgument with nginx's complaint when it rejects the configuration
  // or when the binary cannot be run; kUnavailable when it times out.
  absl::Status TestConfig(const api::DeploymentColorSpec& spec);
  // Waits until the probe answers `color` and none of `old_workers` can take a connection.
  absl::Status AwaitSwitch(const api::DeploymentColorSpec& spec, api::Color color, int master,
                           const std::vector<int>& old_workers,
                           std::chrono::steady_clock::time_point reloaded, std::string* detail);

  host::NginxHost& host_;
  const util::Clock& clock_;
  model::NginxObserver& observer_;
  const NginxActuatorOptions options_;
  CommitGate* const gate_;
};

}  // namespace sy::actuate
