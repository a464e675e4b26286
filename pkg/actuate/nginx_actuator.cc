#include "pkg/actuate/nginx_actuator.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <vector>

#include "pkg/host/nginx_master.h"
#include "pkg/host/nginx_upstream_file.h"
#include "pkg/util/files.h"
#include "pkg/util/log.h"
#include "pkg/util/status_macros.h"

namespace sy::actuate {
namespace {

using Millis = std::chrono::milliseconds;

std::string MsString(std::chrono::nanoseconds d) {
  return std::to_string(std::chrono::duration_cast<Millis>(d).count()) + " ms";
}

absl::Status MakeParentDirectories(const std::string& path) {
  for (size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    const std::string dir = path.substr(0, slash);
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
      return util::ErrnoStatus(errno, "creating directory " + dir);
    }
  }
  return absl::OkStatus();
}

// nginx's multi-line complaint as one line for a status message.
std::string OneLine(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  std::string out;
  for (char c : s) {
    if (c == '\n') {
      out += "; ";
    } else {
      out += c;
    }
  }
  return out.size() > 2000 ? out.substr(0, 2000) + "..." : out;
}

// An old worker can no longer take a new connection once it has exited, or once it has
// begun its graceful exit: nginx retitles it and closes its listening sockets before it
// next polls for events, then lingers only for the requests it still serves.
bool Retired(host::ProcessTable& processes, int pid) {
  if (!processes.Alive(pid)) return true;
  const auto cmdline = processes.CommandLine(pid);
  return !cmdline || cmdline->find("shutting down") != std::string::npos;
}

}  // namespace

absl::Status NginxActuator::SwitchTraffic(const api::DeploymentColorSpec& spec,
                                          const std::string& key, api::Color color,
                                          StepOutcome* out) {
  const auto started = clock_.MonotonicNow();
  const std::string& path = spec.nginx.upstream_file;
  const std::string color_name(api::ColorName(color));
  // Before anything is written: a stopped nginx would load a file nobody tested.
  SY_ASSIGN_OR_RETURN(const int master, host::FindNginxMaster(spec.nginx, processes_));

  const std::string wanted = host::RenderUpstreamFile(spec, key, color);
  std::optional<std::string> previous;
  mode_t previous_mode = 0644;
  if (auto read = util::ReadFile(path); read.ok()) {
    previous = *std::move(read);
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) previous_mode = st.st_mode & 07777;
  } else if (!absl::IsNotFound(read.status())) {
    return util::Annotate(read.status(), "nginx upstreamFile");
  }
  const bool write = previous != wanted;
  if (!write) {
    SY_ASSIGN_OR_RETURN(const model::NginxState now, observer_.Observe(spec));
    if (now.served_color == color) {
      out->detail = "nginx already serves " + color_name + " from " + path + ": nothing to do";
      return absl::OkStatus();
    }
  }

  if (write) {
    SY_RETURN_IF_ERROR(MakeParentDirectories(path));
    SY_RETURN_IF_ERROR(
        util::Annotate(util::WriteFileAtomically(path, wanted, 0644), "nginx upstreamFile"));
  }
  const auto test_started = clock_.MonotonicNow();
  if (absl::Status tested = TestConfig(spec); !tested.ok()) {
    if (!write) return tested;
    const absl::Status restored = previous
                                      ? util::WriteFileAtomically(path, *previous, previous_mode)
                                      : (::unlink(path.c_str()) == 0 || errno == ENOENT
                                             ? absl::OkStatus()
                                             : util::ErrnoStatus(errno, "removing " + path));
    if (!restored.ok()) {
      return absl::InternalError(
          std::string(tested.message()) +
          "; putting the previous file back failed: " + std::string(restored.message()));
    }
    return absl::Status(tested.code(),
                        std::string(tested.message()) +
                            (previous ? "; the previous file is restored" : "; it is removed"));
  }
  const auto test_took = clock_.MonotonicNow() - test_started;

  const std::vector<int> old_workers = processes_.Children(master);
  SY_ASSIGN_OR_RETURN(const util::CommandResult reload,
                      RunNginx(spec, {"-s", "reload", "-c", spec.nginx.config_file}));
  if (reload.exit_code != 0) {
    return absl::UnavailableError("nginx -s reload failed (exit " +
                                  std::to_string(reload.exit_code) +
                                  "): " + OneLine(reload.output));
  }
  const auto reloaded = clock_.MonotonicNow();
  std::string waited;
  SY_RETURN_IF_ERROR(AwaitSwitch(spec, color, master, old_workers, reloaded, &waited));

  out->detail = "nginx switched to " + color_name + " (" + path + (write ? " rewritten" : "") +
                "; nginx -t " + MsString(test_took) + "; " + waited + "; " +
                MsString(clock_.MonotonicNow() - started) + " in all)";
  log::Info("nginx-switched",
            {{"resource", key},
             {"color", color_name},
             {"reload_ms",
              std::to_string(
                  std::chrono::duration_cast<Millis>(clock_.MonotonicNow() - reloaded).count())},
             {"old_workers", std::to_string(old_workers.size())}});
  return absl::OkStatus();
}

absl::StatusOr<util::CommandResult> NginxActuator::RunNginx(const api::DeploymentColorSpec& spec,
                                                            std::vector<std::string> args) {
  util::Command cmd;
  cmd.argv = {spec.nginx.binary};
  cmd.argv.insert(cmd.argv.end(), args.begin(), args.end());
  cmd.timeout = options_.command_timeout;
  auto result = runner_.Run(cmd);
  if (result.ok()) return result;
  const std::string msg(result.status().message());
  switch (result.status().code()) {
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kPermissionDenied:
      return absl::InvalidArgumentError("spec.nginx.binary '" + spec.nginx.binary + "': " + msg);
    case absl::StatusCode::kDeadlineExceeded:
      return absl::UnavailableError(msg);
    default:
      return result.status();
  }
}

absl::Status NginxActuator::TestConfig(const api::DeploymentColorSpec& spec) {
  SY_ASSIGN_OR_RETURN(const util::CommandResult test,
                      RunNginx(spec, {"-t", "-c", spec.nginx.config_file}));
  if (test.exit_code == 0) return absl::OkStatus();
  return absl::InvalidArgumentError("nginx -t rejected the new upstream file " +
                                    spec.nginx.upstream_file + ": " + OneLine(test.output));
}

absl::Status NginxActuator::AwaitSwitch(const api::DeploymentColorSpec& spec, api::Color color,
                                        int master, const std::vector<int>& old_workers,
                                        std::chrono::steady_clock::time_point reloaded,
                                        std::string* detail) {
  const auto deadline = reloaded + options_.reload_timeout;
  std::optional<std::chrono::nanoseconds> first_served;
  while (true) {
    SY_ASSIGN_OR_RETURN(const model::NginxState now, observer_.Observe(spec));
    const auto at = clock_.MonotonicNow();
    const bool served = now.served_color == color;
    if (served && !first_served) first_served = at - reloaded;
    const auto active = std::count_if(old_workers.begin(), old_workers.end(),
                                      [&](int pid) { return !Retired(processes_, pid); });
    if (served && active == 0) {
      *detail = "reloaded: " + std::string(api::ColorName(color)) + " served after " +
                MsString(*first_served) + ", " + std::to_string(old_workers.size()) +
                " old workers retired after " + MsString(at - reloaded);
      return absl::OkStatus();
    }
    if (at >= deadline) {
      std::string why = "nginx did not switch to " + std::string(api::ColorName(color)) +
                        " within " + MsString(options_.reload_timeout) + " of the reload: ";
      if (!served) {
        why += now.served_color
                   ? "the probe answers " + std::string(api::ColorName(*now.served_color))
                   : "the probe fails: " + now.probe_error;
      } else {
        why += std::to_string(active) + " old workers still accept connections";
      }
      const std::vector<int> workers = processes_.Children(master);
      const bool renewed = std::any_of(workers.begin(), workers.end(), [&](int pid) {
        return std::find(old_workers.begin(), old_workers.end(), pid) == old_workers.end();
      });
      if (!renewed) why += "; no new workers started: see nginx's error_log";
      return absl::UnavailableError(why);
    }
    clock_.SleepFor(options_.poll_interval);
  }
}

}  // namespace sy::actuate
