// FakeCommandRunner: records every command and answers from a handler the test sets, so
// actuator tests can script `nginx -t` failing, a reload taking effect, a missing binary.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "pkg/util/command_runner.h"

namespace sy::fakes {

// Thread-safe. The handlers run without the lock held (they may call back into the fake).
class FakeCommandRunner final : public util::CommandRunner {
 public:
  using RunHandler = std::function<absl::StatusOr<util::CommandResult>(const util::Command&)>;
  using SpawnHandler =
      std::function<absl::StatusOr<int>(const util::Command&, const std::string& log_file)>;

  // Without a handler every command succeeds with exit code 0 and no output.
  void OnRun(RunHandler h) {
    std::lock_guard<std::mutex> lock(mu_);
    on_run_ = std::move(h);
  }
  // Without a handler Spawn() returns pids 10000, 10001, ...
  void OnSpawn(SpawnHandler h) {
    std::lock_guard<std::mutex> lock(mu_);
    on_spawn_ = std::move(h);
  }
  // The argv of every Run() and Spawn(), in order.
  std::vector<std::vector<std::string>> Commands() {
    std::lock_guard<std::mutex> lock(mu_);
    return commands_;
  }

  absl::StatusOr<util::CommandResult> Run(const util::Command& cmd) override {
    RunHandler h;
    {
      std::lock_guard<std::mutex> lock(mu_);
      commands_.push_back(cmd.argv);
      h = on_run_;
    }
    if (h) return h(cmd);
    return util::CommandResult{};
  }
  absl::StatusOr<int> Spawn(const util::Command& cmd, const std::string& log_file) override {
    SpawnHandler h;
    int pid;
    {
      std::lock_guard<std::mutex> lock(mu_);
      commands_.push_back(cmd.argv);
      h = on_spawn_;
      pid = next_pid_++;
    }
    if (h) return h(cmd, log_file);
    return pid;
  }

 private:
  std::mutex mu_;
  RunHandler on_run_;
  SpawnHandler on_spawn_;
  std::vector<std::vector<std::string>> commands_;
  int next_pid_ = 10000;
};

}  // namespace sy::fakes
