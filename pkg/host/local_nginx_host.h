// The NginxHost of this machine: files through pkg/util/files.h, the master and its workers
// through a ProcessTable (/proc), nginx's program through a util::CommandRunner.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "pkg/host/nginx_host.h"
#include "pkg/host/process.h"
#include "pkg/util/command_runner.h"

namespace sy::host {

// Thread-safe.
class LocalNginxHost final : public NginxHost {
 public:
  // `runner` and `processes` must outlive this object.
  LocalNginxHost(util::CommandRunner& runner, ProcessTable& processes)
      : runner_(runner), processes_(processes) {}

  absl::StatusOr<std::optional<HostFile>> ReadFile(const std::string& path) override;
  absl::Status WriteFile(const std::string& path, const std::string& content,
                         unsigned mode) override;
  absl::Status RemoveFile(const std::string& path) override;

  absl::StatusOr<int> FindMaster(const api::NginxSpec& nginx) override;
  std::vector<int> Workers(int master) override;
  bool WorkerRetired(int pid) override;

  absl::StatusOr<util::CommandResult> TestConfig(const api::NginxSpec& nginx,
                                                 std::chrono::milliseconds timeout) override;
  absl::StatusOr<util::CommandResult> Reload(const api::NginxSpec& nginx,
                                             std::chrono::milliseconds timeout) override;

 private:
  // Runs `<binary> args... -c <configFile>`.
  absl::StatusOr<util::CommandResult> RunNginx(const api::NginxSpec& nginx,
                                               std::vector<std::string> args,
                                               std::chrono::milliseconds timeout);

  util::CommandRunner& runner_;
  ProcessTable& processes_;
};

}  // namespace sy::host
