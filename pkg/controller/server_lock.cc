#include "pkg/controller/server_lock.h"

#include <unistd.h>

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "pkg/util/lock_file.h"
#include "pkg/util/status_macros.h"

namespace sy::controller {
namespace {

class FlockGuard final : public ServerLock::Guard {
 public:
  std::vector<util::LockFile> files;  // closing them releases the locks
};

}  // namespace

std::string FlockServerLock::PathFor(const std::string& data_directory) {
  return util::LockFile::Beside(data_directory, ".switchyard-lock");
}

std::string FlockServerLock::AgentPathFor(const std::string& agent_lock_directory,
                                          const api::DatabaseRef& db) {
  std::string dir = db.data_directory;
  std::replace(dir.begin(), dir.end(), '/', '_');
  return absl::StrCat(agent_lock_directory, "/", db.agent, ":", dir, ".switchyard-lock");
}

absl::StatusOr<std::unique_ptr<ServerLock::Guard>> FlockServerLock::TryLock(
    const api::DeploymentColor& dc) {
  std::vector<std::string> paths;
  for (api::Color c : api::kColors) {
    const api::DatabaseRef& db = dc.spec.color(c).database;
    if (db.agent.empty()) {
      paths.push_back(PathFor(db.data_directory));
    } else if (agent_lock_directory_.empty()) {
      return absl::InvalidArgumentError(
          "server lock: the database is on an agent's machine and this daemon has no "
          "directory for such locks");
    } else {
      paths.push_back(AgentPathFor(agent_lock_directory_, db));
    }
  }
  std::sort(paths.begin(), paths.end());  // one order for every taker
  paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
  auto guard = std::make_unique<FlockGuard>();
  const auto start = clock_.MonotonicNow();
  for (const std::string& path : paths) {
    absl::StatusOr<util::LockFile> file = util::LockFile::Open(path);
    if (!file.ok()) return util::Annotate(file.status(), "server lock");
    while (!file->TryLock()) {
      if (clock_.MonotonicNow() - start >= retry_) {
        const std::string holder = file->Holder();
        return absl::UnavailableError(absl::StrCat(
            "the servers are locked: ", path, " is held by ",
            holder.empty() ? "another process" : holder,
            "; another resource or daemon acts on them, so this one waits (two may not act on "
            "the same servers)"));
      }
      clock_.SleepFor(std::chrono::milliseconds(2));
    }
    guard->files.push_back(*std::move(file));
  }
  const std::string holder = absl::StrCat("pid ", ::getpid(), " resource ", dc.Key());
  for (util::LockFile& f : guard->files) f.SetHolder(holder);
  return std::unique_ptr<ServerLock::Guard>(std::move(guard));
}

}  // namespace sy::controller
