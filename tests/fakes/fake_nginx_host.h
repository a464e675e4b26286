// FakeNginxHost: nginx's machine in memory behind host::NginxHost, for tests of the nginx
// observer and actuator. It holds files (with modes), a process table with the master and
// its workers, and answers `nginx -t` and `nginx -s reload` from handlers the test sets. Every
// failure of the real host that matters to the actuator's rules can be scripted: a file that
// cannot be read, written or removed; nginx not running; nginx's program missing, timing out,
// rejecting the configuration or failing to reload.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "pkg/host/nginx_host.h"

namespace sy::fakes {

// Thread-safe. The handlers run without the lock held (they may call back into the fake).
class FakeNginxHost final : public host::NginxHost {
 public:
  using ProgramHandler = std::function<absl::StatusOr<util::CommandResult>()>;

  // --- files ---
  void SetFile(const std::string& path, std::string content, unsigned mode = 0644) {
    std::lock_guard<std::mutex> lock(mu_);
    files_[path] = host::HostFile{std::move(content), mode};
  }
  std::optional<host::HostFile> File(const std::string& path) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = files_.find(path);
    if (it == files_.end()) return std::nullopt;
    return it->second;
  }
  // While set, every ReadFile / WriteFile / RemoveFile fails with it and changes nothing.
  void FailReads(absl::Status s) { Set(read_error_, std::move(s)); }
  void FailWrites(absl::Status s) { Set(write_error_, std::move(s)); }
  void FailRemoves(absl::Status s) { Set(remove_error_, std::move(s)); }

  // --- processes ---
  // Adds (or replaces) a live process; the master is the one FindMaster answers.
  void AddProcess(int pid, int ppid, std::string title) {
    std::lock_guard<std::mutex> lock(mu_);
    procs_[pid] = Proc{ppid, std::move(title)};
  }
  void SetMaster(int pid) {
    std::lock_guard<std::mutex> lock(mu_);
    master_ = pid;
  }
  void ExitProcess(int pid) {
    std::lock_guard<std::mutex> lock(mu_);
    procs_.erase(pid);
  }
  void SetTitle(int pid, std::string title) {
    std::lock_guard<std::mutex> lock(mu_);
    procs_[pid].title = std::move(title);
  }
  bool Alive(int pid) {
    std::lock_guard<std::mutex> lock(mu_);
    return procs_.count(pid) > 0;
  }

  // --- nginx's program ---
  // Without a handler `nginx -t` and `nginx -s reload` succeed with exit code 0.
  void OnTest(ProgramHandler h) { SetHandler(on_test_, std::move(h)); }
  void OnReload(ProgramHandler h) { SetHandler(on_reload_, std::move(h)); }
  // "test" and "reload", in the order they were run.
  std::vector<std::string> ProgramRuns() {
    std::lock_guard<std::mutex> lock(mu_);
    return runs_;
  }

  absl::StatusOr<std::optional<host::HostFile>> ReadFile(const std::string& path) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!read_error_.ok()) return read_error_;
    auto it = files_.find(path);
    if (it == files_.end()) return std::nullopt;
    return it->second;
  }
  absl::Status WriteFile(const std::string& path, const std::string& content,
                         unsigned mode) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!write_error_.ok()) return write_error_;
    files_[path] = host::HostFile{content, mode};
    return absl::OkStatus();
  }
  absl::Status RemoveFile(const std::string& path) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!remove_error_.ok()) return remove_error_;
    files_.erase(path);
    return absl::OkStatus();
  }

  absl::StatusOr<int> FindMaster(const api::NginxSpec& nginx) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (master_ <= 0 || procs_.count(master_) == 0) {
      return absl::UnavailableError("nginx is not running (configFile " + nginx.config_file +
                                    " names no live master)");
    }
    return master_;
  }
  std::vector<int> Workers(int master) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<int> out;
    for (const auto& [pid, p] : procs_) {
      if (p.ppid == master) out.push_back(pid);
    }
    return out;
  }
  bool WorkerRetired(int pid) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = procs_.find(pid);
    return it == procs_.end() || it->second.title.find("shutting down") != std::string::npos;
  }

  absl::StatusOr<util::CommandResult> TestConfig(const api::NginxSpec& /*nginx*/,
                                                 std::chrono::milliseconds /*timeout*/) override {
    return RunProgram("test", on_test_);
  }
  absl::StatusOr<util::CommandResult> Reload(const api::NginxSpec& /*nginx*/,
                                             std::chrono::milliseconds /*timeout*/) override {
    return RunProgram("reload", on_reload_);
  }

 private:
  struct Proc {
    int ppid = 0;
    std::string title;
  };
  void Set(absl::Status& field, absl::Status s) {
    std::lock_guard<std::mutex> lock(mu_);
    field = std::move(s);
  }
  void SetHandler(ProgramHandler& field, ProgramHandler h) {
    std::lock_guard<std::mutex> lock(mu_);
    field = std::move(h);
  }
  absl::StatusOr<util::CommandResult> RunProgram(const std::string& what,
                                                 const ProgramHandler& handler) {
    ProgramHandler h;
    {
      std::lock_guard<std::mutex> lock(mu_);
      runs_.push_back(what);
      h = handler;
    }
    if (!h) return util::CommandResult{};
    return h();
  }

  std::mutex mu_;
  std::map<std::string, host::HostFile> files_;
  absl::Status read_error_;
  absl::Status write_error_;
  absl::Status remove_error_;
  std::map<int, Proc> procs_;
  int master_ = 0;
  ProgramHandler on_test_;
  ProgramHandler on_reload_;
  std::vector<std::string> runs_;
};

}  // namespace sy::fakes
