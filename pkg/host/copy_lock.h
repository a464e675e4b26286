// The per-target copy lock: pg_rewind and pg_basebackup into a data directory run only while
// holding it, so two copies never run into one directory at once, not even when a daemon was
// killed and the processes of its copy live on.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "pkg/util/clock.h"
#include "pkg/util/lock_file.h"

namespace sy::host {

// An exclusive flock on `<dataDirectory>.switchyard-copy-lock` (beside the directory, ours,
// mode 0600, naming the daemon's pid inside). The copy tools inherit its descriptor
// (util::Command::inherit_fds), so the lock lives exactly as long as any copy process: this
// object, the tool, and what the tool starts itself (pg_basebackup's WAL streamer, which the
// parent-death signal does not reach). Movable, not copyable; thread-compatible.
class CopyLock {
 public:
  static constexpr std::chrono::milliseconds kDefaultWait{10'000};

  // Takes the copy lock of `data_directory`. While it is held:
  //  - by a live copy (of this process, of a child of ours, of the daemon named in the file,
  //    or of any process running our own program): waits up to 200 ms (a fork between its
  //    fork and exec holds it for a moment), then kUnavailable naming the holders;
  //  - otherwise by leftovers of a copy whose daemon died: SIGKILLs every process that has
  //    the file open and waits up to `wait` for them to be gone; kUnavailable naming the
  //    survivors after that.
  // kFailedPrecondition when the lock file is not a regular file of ours (util::LockFile);
  // file errors as util::ErrnoStatus. `clock` is used only during the call.
  static absl::StatusOr<CopyLock> Acquire(const std::string& data_directory,
                                          const util::Clock& clock,
                                          std::chrono::milliseconds wait = kDefaultWait);

  CopyLock(CopyLock&& other) noexcept;
  CopyLock& operator=(CopyLock&& other) noexcept;
  CopyLock(const CopyLock&) = delete;
  CopyLock& operator=(const CopyLock&) = delete;
  ~CopyLock();

  // The descriptor the copy tools inherit.
  int Descriptor() const { return file_.Descriptor(); }
  // The leftover processes Acquire killed, ascending.
  const std::vector<int>& Killed() const { return killed_; }

  // "<data_directory>.switchyard-copy-lock".
  static std::string PathFor(const std::string& data_directory);

 private:
  CopyLock(util::LockFile file, std::vector<int> killed)
      : file_(std::move(file)), killed_(std::move(killed)) {}
  void Release();

  util::LockFile file_;
  std::vector<int> killed_;
};

}  // namespace sy::host
