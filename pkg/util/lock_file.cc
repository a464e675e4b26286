#include "pkg/util/lock_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "pkg/util/files.h"

namespace sy::util {

absl::StatusOr<LockFile> LockFile::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0 && errno == ELOOP) {
    return absl::FailedPreconditionError(
        absl::StrCat("lock file ", path, " is a symbolic link: remove it"));
  }
  if (fd < 0) return util::ErrnoStatus(errno, "opening lock file " + path);
  LockFile file(path, fd);
  // The directory may be writable by the database's OS user: a file it planted (or a hard
  // link to a file of ours elsewhere, which SetHolder would truncate) must not be used.
  struct stat st {};
  if (::fstat(fd, &st) != 0) return util::ErrnoStatus(errno, "lock file " + path);
  if (!S_ISREG(st.st_mode) || st.st_uid != ::geteuid() || st.st_nlink != 1 ||
      (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return absl::FailedPreconditionError(
        absl::StrCat("lock file ", path, " is not a regular file of uid ", ::geteuid(),
                     " with one link, writable only by it (uid ", st.st_uid, ", mode ", mode,
                     ", links ", st.st_nlink, "): remove it"));
  }
  return file;
}

LockFile::LockFile(LockFile&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)) {}

LockFile& LockFile::operator=(LockFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

LockFile::~LockFile() {
  if (fd_ >= 0) ::close(fd_);
}

std::string LockFile::Beside(const std::string& path, std::string_view suffix) {
  std::string out = path;
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out + std::string(suffix);
}

bool LockFile::TryLock() {
  int r;
  while ((r = ::flock(fd_, LOCK_EX | LOCK_NB)) != 0 && errno == EINTR) {
  }
  return r == 0;
}

void LockFile::SetHolder(std::string_view holder) {
  const std::string line = std::string(holder) + "\n";
  if (::ftruncate(fd_, 0) == 0) (void)!::pwrite(fd_, line.data(), line.size(), 0);
}

std::string LockFile::Holder() const {
  char buf[512];
  const ssize_t n = ::pread(fd_, buf, sizeof buf, 0);
  std::string out(buf, n > 0 ? static_cast<size_t>(n) : 0);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\0')) out.pop_back();
  return out;
}

}  // namespace sy::util
