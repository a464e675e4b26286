#include "pkg/actuate/nginx_actuator.h"

#include <algorithm>
#include <optional>
#include <vector>

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

// nginx's program could not be run: a missing or unrunnable binary is misconfiguration, a
// timeout is worth another try.
absl::Status ProgramFailure(const api::DeploymentColorSpec& spec, const absl::Status& failed) {
  const std::string msg(failed.message());
  switch (failed.code()) {
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kPermissionDenied:
      return absl::InvalidArgumentError("spec.nginx.binary '" + spec.nginx.binary + "': " + msg);
    case absl::StatusCode::kDeadlineExceeded:
      return absl::UnavailableError(msg);
    default:
      return failed;
  }
}

}  // namespace

absl::Status NginxActuator::SwitchTraffic(const api::DeploymentColorSpec& spec,
                                          const std::string& key, api::Color color,
                                          StepOutcome* out) {
  const auto started = clock_.MonotonicNow();
  const std::string& path = spec.nginx.upstream_file;
  const std::string color_name(api::ColorName(color));
  // Before anything is written: a stopped nginx would load a file nobody tested.
  SY_ASSIGN_OR_RETURN(const int master, host_.FindMaster(spec.nginx));

  const std::string wanted = host::RenderUpstreamFile(spec, key, color);
  auto read = host_.ReadFile(path);
  if (!read.ok()) return util::Annotate(read.status(), "nginx upstreamFile");
  const std::optional<host::HostFile> previous = *std::move(read);
  const bool write = !previous || previous->content != wanted;
  if (!write) {
    SY_ASSIGN_OR_RETURN(const model::NginxState now, observer_.Observe(spec));
    if (now.served_color == color) {
      out->detail = "nginx already serves " + color_name + " from " + path + ": nothing to do";
      return absl::OkStatus();
    }
  }

  if (write) {
    SY_RETURN_IF_ERROR(AskGate(gate_, acts::kUpstreamFile));
    SY_RETURN_IF_ERROR(util::Annotate(host_.WriteFile(path, wanted, 0644), "nginx upstreamFile"));
  }
  const auto test_started = clock_.MonotonicNow();
  if (absl::Status tested = TestConfig(spec); !tested.ok()) {
    if (!write) return tested;
    const absl::Status restored = previous
                                      ? host_.WriteFile(path, previous->content, previous->mode)
                                      : host_.RemoveFile(path);
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

  const std::vector<int> old_workers = host_.Workers(master);
  SY_RETURN_IF_ERROR(AskGate(gate_, acts::kNginxReload));
  auto reload = host_.Reload(spec.nginx, options_.command_timeout);
  if (!reload.ok()) return ProgramFailure(spec, reload.status());
  if (reload->exit_code != 0) {
    return absl::UnavailableError("nginx -s reload failed (exit " +
                                  std::to_string(reload->exit_code) +
                                  "): " + OneLine(reload->output));
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

absl::Status NginxActuator::TestConfig(const api::DeploymentColorSpec& spec) {
  auto test = host_.TestConfig(spec.nginx, options_.command_timeout);
  if (!test.ok()) return ProgramFailure(spec, test.status());
  if (test->exit_code == 0) return absl::OkStatus();
  return absl::InvalidArgumentError("nginx -t rejected the new upstream file " +
                                    spec.nginx.upstream_file + ": " + OneLine(test->output));
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
                                      [&](int pid) { return !host_.WorkerRetired(pid); });
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
      const std::vector<int> workers = host_.Workers(master);
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
