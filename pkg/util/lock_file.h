// Lock files: an exclusive flock(2) on a file of ours that names its holder inside, for the
// locks Switchyard keeps beside data directories (in directories the database's OS user may
// write, so the file is checked before it is trusted).
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace sy::util {

// One open lock file. Movable, not copyable; closing it (destruction) releases the lock
// unless a process it was handed to (util::Command::inherit_fds) still holds the descriptor.
// Thread-compatible. The lock belongs to the open file, not to the process: two LockFiles of
// one path exclude each other even in one process.
class LockFile {
 public:
  // Opens `path` (created with mode 0600 when missing), close-on-exec, without taking the
  // lock. kFailedPrecondition naming the path when it is a symbolic link, not a regular file,
  // not owned by our effective user, has other hard links, or is writable by group or others
  // (someone else could have planted it to steer us); other errors as util::ErrnoStatus.
  static absl::StatusOr<LockFile> Open(const std::string& path);

  LockFile(LockFile&& other) noexcept;
  LockFile& operator=(LockFile&& other) noexcept;
  LockFile(const LockFile&) = delete;
  LockFile& operator=(const LockFile&) = delete;
  ~LockFile();

  // flock(LOCK_EX | LOCK_NB): true when taken (or already held through this file).
  bool TryLock();
  // Replaces the file's content with `holder` and a newline (best effort: it is for messages).
  void SetHolder(std::string_view holder);
  // The file's content without the trailing newline ("" when empty or unreadable).
  std::string Holder() const;

  int Descriptor() const { return fd_; }
  const std::string& Path() const { return path_; }

  // The path of a lock file beside `path` (a directory; trailing slashes ignored): "/a/b" and
  // ".lock" give "/a/b.lock".
  static std::string Beside(const std::string& path, std::string_view suffix);

 private:
  LockFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}

  std::string path_;
  int fd_ = -1;
};

}  // namespace sy::util
