// The operations on nginx's machine behind one interface: the owned upstream file, the
// master and its workers, and nginx's program (`nginx -t`, `nginx -s reload`). The nginx
// observer and actuator take it; pkg/app builds the local one (local_nginx_host.h); an agent
// on nginx's machine would implement it there. Rendering the file and probing the served
// color are not here: the first is pure (nginx_upstream_file.h), the second goes over the
// network.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "pkg/api/types.h"
#include "pkg/util/command_runner.h"

namespace sy::host {

// A file as it stands: its bytes and its permission bits.
struct HostFile {
  std::string content;
  unsigned mode = 0644;
};

// Each method is one call on nginx's machine. Thread-safe. Errors name the path or program.
class NginxHost {
 public:
  virtual ~NginxHost() = default;

  // --- the owned upstream file (spec.nginx.upstreamFile) ---
  // nullopt when there is no such file; kPermissionDenied / kInternal when it cannot be read.
  virtual absl::StatusOr<std::optional<HostFile>> ReadFile(const std::string& path) = 0;
  // Replaces `path` atomically and durably with `content` and `mode`, creating its missing
  // directories (0755). On error `path` holds what it held before.
  virtual absl::Status WriteFile(const std::string& path, const std::string& content,
                                 unsigned mode) = 0;
  // Removes `path`; a missing file is not an error.
  virtual absl::Status RemoveFile(const std::string& path) = 0;

  // --- the master and its workers ---
  // The running master's pid, found the way `nginx -s reload` finds it (nginx_master.h):
  // kUnavailable saying why when nginx does not run; kFailedPrecondition when configFile
  // cannot be read or names a relative pid file.
  virtual absl::StatusOr<int> FindMaster(const api::NginxSpec& nginx) = 0;
  // The master's live children (its workers, of every generation), ascending.
  virtual std::vector<int> Workers(int master) = 0;
  // A worker can no longer take a new connection: it has exited, or it has begun its
  // graceful exit (nginx retitles it "... is shutting down" and closes its listening
  // sockets before it next polls for events, then lingers only for the requests it serves).
  virtual bool WorkerRetired(int pid) = 0;

  // --- nginx's program (spec.nginx.binary, with -c spec.nginx.configFile) ---
  // `nginx -t` and `nginx -s reload`, each bounded by `timeout`: the exit code and output.
  // Codes as util::CommandRunner::Run: kNotFound / kPermissionDenied when the binary cannot
  // be run, kDeadlineExceeded when it outlives `timeout`.
  virtual absl::StatusOr<util::CommandResult> TestConfig(const api::NginxSpec& nginx,
                                                         std::chrono::milliseconds timeout) = 0;
  virtual absl::StatusOr<util::CommandResult> Reload(const api::NginxSpec& nginx,
                                                     std::chrono::milliseconds timeout) = 0;
};

}  // namespace sy::host
