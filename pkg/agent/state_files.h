// The files of switchyard-agent's state directory: the directory itself (mode 0700: the epoch
// file decides which controller may act on this machine, and the journal and the audit log
// say what was done) and the append-only JSON-lines files the journal and the audit log are.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace sy::agent {

// Creates `dir` with mode 0700 when missing (its parent must exist), and sets an existing
// one to 0700. Errors name the path (kPermissionDenied when it is another user's).
absl::Status PrepareStateDirectory(const std::string& dir);

// One file written by appending whole lines. Thread-compatible (its owners lock).
class LineFile {
 public:
  // Opens `path` for appending (created with mode 0600).
  static absl::StatusOr<std::unique_ptr<LineFile>> Open(const std::string& path);
  ~LineFile();
  LineFile(const LineFile&) = delete;
  LineFile& operator=(const LineFile&) = delete;

  // Writes `line` and a newline with one write(2), so that a reader (or a crash) never sees
  // half of two lines interleaved; `sync`: fdatasync before returning.
  absl::Status Append(std::string_view line, bool sync);
  // Bytes in the file now.
  uint64_t Size() const { return size_; }
  const std::string& Path() const { return path_; }

 private:
  LineFile(std::string path, int fd, uint64_t size)
      : path_(std::move(path)), fd_(fd), size_(size) {}
  std::string path_;
  int fd_;
  uint64_t size_;
};

}  // namespace sy::agent
