#include "pkg/host/nginx_master.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "pkg/host/nginx_conf.h"
#include "pkg/util/files.h"
#include "pkg/util/status_macros.h"

namespace sy::host {
namespace {

constexpr char kDefaultPidFile[] = "/run/nginx.pid";
constexpr char kMasterTitle[] = "nginx: master process";

}  // namespace

absl::StatusOr<std::string> NginxPidFile(const std::string& config_file) {
  const std::string what = "nginx configFile " + config_file;
  auto content = util::ReadFile(config_file);
  if (!content.ok()) {
    return absl::FailedPreconditionError(what + ": " + std::string(content.status().message()));
  }
  auto conf = ParseNginxConfig(*content);
  if (!conf.ok()) {
    return absl::FailedPreconditionError(what + ": " + std::string(conf.status().message()));
  }
  std::string pid_file = kDefaultPidFile;
  for (const NginxDirective& d : *conf) {
    if (d.name == "pid" && d.args.size() == 1) pid_file = d.args[0];
  }
  if (pid_file.empty() || pid_file[0] != '/') {
    return absl::FailedPreconditionError(
        what + ": pid file '" + pid_file +
        "' is relative; make it absolute (nginx -t and -s reload run without -p)");
  }
  return pid_file;
}

absl::StatusOr<int> FindNginxMaster(const api::NginxSpec& nginx, ProcessTable& processes) {
  SY_ASSIGN_OR_RETURN(const std::string pid_file, NginxPidFile(nginx.config_file));
  const std::string not_running = "nginx is not running (pid file " + pid_file;
  auto content = util::ReadFile(pid_file);
  if (!content.ok()) {
    if (absl::IsNotFound(content.status())) {
      return absl::UnavailableError(not_running + " is missing)");
    }
    return absl::UnavailableError(not_running + ": " + std::string(content.status().message()) +
                                  ")");
  }
  int pid = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(*content), &pid) || pid <= 0) {
    return absl::UnavailableError(not_running + " holds no pid)");
  }
  if (!processes.Alive(pid)) {
    return absl::UnavailableError(not_running + " names pid " + std::to_string(pid) +
                                  ", which has exited)");
  }
  const auto cmdline = processes.CommandLine(pid);
  if (!cmdline || !cmdline->starts_with(kMasterTitle)) {
    return absl::UnavailableError(not_running + " names pid " + std::to_string(pid) +
                                  ", which is not an nginx master: \"" + cmdline.value_or("") +
                                  "\")");
  }
  return pid;
}

}  // namespace sy::host
