#include "pkg/agent/state_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "pkg/util/files.h"

namespace sy::agent {

absl::Status PrepareStateDirectory(const std::string& dir) {
  if (dir.empty() || dir.front() != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("state directory \"", dir, "\": must be an absolute path"));
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return util::ErrnoStatus(errno, "creating the state directory " + dir);
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return util::ErrnoStatus(errno, "reading " + dir);
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError("state directory " + dir + ": not a directory");
  }
  if ((st.st_mode & 0777) != 0700 && ::chmod(dir.c_str(), 0700) != 0) {
    return util::ErrnoStatus(errno, "setting mode 0700 on the state directory " + dir);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<LineFile>> LineFile::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return util::ErrnoStatus(errno, "opening " + path);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return util::ErrnoStatus(err, "reading " + path);
  }
  return std::unique_ptr<LineFile>(new LineFile(path, fd, static_cast<uint64_t>(st.st_size)));
}

LineFile::~LineFile() { ::close(fd_); }

absl::Status LineFile::Append(std::string_view line, bool sync) {
  std::string buf(line);
  buf += '\n';
  size_t done = 0;
  while (done < buf.size()) {
    const ssize_t n = ::write(fd_, buf.data() + done, buf.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return util::ErrnoStatus(errno, "appending to " + path_);
    done += static_cast<size_t>(n);
  }
  size_ += buf.size();
  if (sync && ::fdatasync(fd_) != 0) return util::ErrnoStatus(errno, "syncing " + path_);
  return absl::OkStatus();
}

}  // namespace sy::agent
