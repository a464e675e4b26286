// FakeProcessTable: an in-memory process table behind host::ProcessTable, for tests of
// code that finds nginx's master and waits for its old workers.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "pkg/host/process.h"

namespace sy::fakes {

// Thread-safe.
class FakeProcessTable final : public host::ProcessTable {
 public:
  // Adds (or replaces) a live process.
  void Add(int pid, int ppid, std::string command_line) {
    std::lock_guard<std::mutex> lock(mu_);
    procs_[pid] = Proc{ppid, std::move(command_line)};
  }
  void Exit(int pid) {
    std::lock_guard<std::mutex> lock(mu_);
    procs_.erase(pid);
  }
  void SetCommandLine(int pid, std::string command_line) {
    std::lock_guard<std::mutex> lock(mu_);
    procs_[pid].command_line = std::move(command_line);
  }

  bool Alive(int pid) override {
    std::lock_guard<std::mutex> lock(mu_);
    return procs_.count(pid) > 0;
  }
  std::vector<int> Children(int pid) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<int> out;
    for (const auto& [child, p] : procs_) {
      if (p.ppid == pid) out.push_back(child);
    }
    return out;
  }
  std::optional<std::string> CommandLine(int pid) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = procs_.find(pid);
    if (it == procs_.end()) return std::nullopt;
    return it->second.command_line;
  }

 private:
  struct Proc {
    int ppid = 0;
    std::string command_line;
  };
  std::mutex mu_;
  std::map<int, Proc> procs_;
};

}  // namespace sy::fakes
