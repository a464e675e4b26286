// The lock on the servers a resource acts on, held by the Reconciler for a whole pass
// (observe, plan, act): two resources naming the same servers, or two daemons with different
// state directories, never act on them at once.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "pkg/api/types.h"
#include "pkg/util/clock.h"

namespace sy::controller {

class ServerLock {
 public:
  // The lock, held while this lives.
  class Guard {
   public:
    virtual ~Guard() = default;
  };

  virtual ~ServerLock() = default;

  // Takes the lock of both colors' servers of `dc`, or nothing. kUnavailable naming the
  // holder when another pass holds one (of this process or another): try again later. Other
  // codes when it cannot be taken at all (e.g. a lock file cannot be made beside a data
  // directory). Thread-safe.
  virtual absl::StatusOr<std::unique_ptr<Guard>> TryLock(const api::DeploymentColor& dc) = 0;
};

// flock(2) on `<dataDirectory>.switchyard-lock` beside each color's data directory
// (util::LockFile: ours, mode 0600), taken in the order of their paths without waiting
// (LOCK_NB); "pid <pid> resource <namespace/name>" written inside names the holder in
// messages. The lock belongs to the open file: it excludes passes of this process as well as
// of other daemons, and goes with a process however it ends. A fork of another thread holds a
// copy of the (close-on-exec) descriptor until it execs: TryLock tries again for up to `retry`
// before it names the holder.
class FlockServerLock final : public ServerLock {
 public:
  static constexpr std::chrono::milliseconds kDefaultRetry{50};
  // `clock` must outlive this object.
  // `agent_lock_directory`: where the locks of databases on agents' machines are made (the
  // daemon's state directory); "" refuses such a resource.
  explicit FlockServerLock(const util::Clock& clock,
                           std::chrono::milliseconds retry = kDefaultRetry,
                           std::string agent_lock_directory = "")
      : clock_(clock), retry_(retry), agent_lock_directory_(std::move(agent_lock_directory)) {}

  absl::StatusOr<std::unique_ptr<Guard>> TryLock(const api::DeploymentColor& dc) override;

  // "<data_directory>.switchyard-lock".
  static std::string PathFor(const std::string& data_directory);
  // A database on an agent's machine has no directory here to lock beside: its lock is
  // "<agent_lock_directory>/<agent>:<data directory, '/' as '_'>.switchyard-lock", which
  // keeps two resources of this daemon apart. Two daemons on different machines are kept
  // apart by the agents instead: one operation at a time per data directory, and a lower
  // epoch refused (pkg/agent/README.md).
  static std::string AgentPathFor(const std::string& agent_lock_directory,
                                  const api::DatabaseRef& db);

 private:
  const util::Clock& clock_;
  const std::chrono::milliseconds retry_;
  const std::string agent_lock_directory_;
};

}  // namespace sy::controller
