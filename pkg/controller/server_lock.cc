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

absl::StatusOr<std::unique_ptr<ServerLock::Guard>> FlockServerLock::TryLock(
    const api::DeploymentColor& dc) {
  std::vector<std::string> paths;
  for (api::Color c : api::kColors) {
    paths.push_back(PathFor(dc.spec.color(c).database.data_directory));
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
