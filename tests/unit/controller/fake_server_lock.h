// FakeServerLock: ServerLock in memory, by data directory, where a test can hold servers as
// another daemon would.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/strings/str_cat.h"
#include "pkg/controller/server_lock.h"

namespace sy::controller {

// Thread-safe.
class FakeServerLock final : public ServerLock {
 public:
  // `dir` is held by `holder` (e.g. "pid 4242 resource default/other") until Release(dir).
  void HoldExternally(const std::string& dir, const std::string& holder) {
    std::lock_guard<std::mutex> l(mu_);
    held_[dir] = holder;
  }
  void Release(const std::string& dir) {
    std::lock_guard<std::mutex> l(mu_);
    held_.erase(dir);
  }

  absl::StatusOr<std::unique_ptr<Guard>> TryLock(const api::DeploymentColor& dc) override {
    std::lock_guard<std::mutex> l(mu_);
    for (api::Color c : api::kColors) {
      const std::string& dir = dc.spec.color(c).database.data_directory;
      if (auto it = held_.find(dir); it != held_.end()) {
        return absl::UnavailableError(
            absl::StrCat("the servers are locked: ", dir, " is held by ", it->second));
      }
    }
    std::vector<std::string> dirs;
    for (api::Color c : api::kColors) {
      dirs.push_back(dc.spec.color(c).database.data_directory);
      held_[dirs.back()] = "resource " + dc.Key();
    }
    return std::unique_ptr<Guard>(new FakeGuard(*this, std::move(dirs)));
  }

 private:
  class FakeGuard final : public Guard {
   public:
    FakeGuard(FakeServerLock& lock, std::vector<std::string> dirs)
        : lock_(lock), dirs_(std::move(dirs)) {}
    ~FakeGuard() override {
      for (const auto& d : dirs_) lock_.Release(d);
    }

   private:
    FakeServerLock& lock_;
    std::vector<std::string> dirs_;
  };

  std::mutex mu_;
  std::map<std::string, std::string> held_;  // data directory -> holder
};

}  // namespace sy::controller
