#include "pkg/source/manifest_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "pkg/util/files.h"

namespace sy::source {

std::string ResolvePath(const std::string& path) {
  char buf[PATH_MAX];
  return ::realpath(path.c_str(), buf) != nullptr ? std::string(buf) : std::string();
}

namespace {

bool IsManifest(const std::string& name) {
  for (const char* ext : {".yaml", ".yml", ".json"}) {
    const size_t n = strlen(ext);
    if (name.size() > n && name.compare(name.size() - n, n, ext) == 0) return true;
  }
  return false;
}

bool Inside(const std::string& real, const std::string& real_root) {
  return real == real_root || real_root == "/" ||
         (real.size() > real_root.size() && real.compare(0, real_root.size(), real_root) == 0 &&
          real[real_root.size()] == '/');
}

class Walker {
 public:
  explicit Walker(TreeScan* scan) : scan_(*scan) {}

  // Walks directory `shown` (resolved: `real`, whose stat is `st`).
  void Dir(const std::string& shown, const std::string& real, const struct stat& st) {
    if (!dirs_.insert({st.st_dev, st.st_ino}).second) return;  // reached before: a loop
    DIR* d = ::opendir(real.c_str());
    if (d == nullptr) {
      scan_.unreadable.emplace_back(shown, std::strerror(errno));
      return;
    }
    std::vector<std::string> names;
    errno = 0;
    while (dirent* e = ::readdir(d)) names.emplace_back(e->d_name);
    const int read_error = errno;
    ::closedir(d);
    if (read_error != 0) {
      scan_.unreadable.emplace_back(shown, std::strerror(read_error));
      return;
    }
    scan_.dirs.emplace_back(shown, real);
    if (shown == root_shown_) {
      scan_.empty = std::none_of(names.begin(), names.end(),
                                 [](const std::string& n) { return n != "." && n != ".."; });
    }
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
      if (name.empty() || name[0] == '.') continue;
      Entry(absl::StrCat(shown, "/", name), absl::StrCat(real, "/", name), name);
    }
  }

  void Entry(const std::string& shown, const std::string& path, const std::string& name) {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) return;  // gone since the listing
    std::string real = path;
    if (S_ISLNK(st.st_mode)) {
      real = ResolvePath(path);
      if (real.empty()) return;  // dangling: nothing to read
      if (!Inside(real, scan_.real_root)) {
        scan_.refused.push_back(absl::StrCat(shown,
                                             ": a symbolic link to outside the manifest tree (",
                                             scan_.real_root, "); it is not read"));
        return;
      }
      if (::stat(real.c_str(), &st) != 0) return;
    }
    if (S_ISDIR(st.st_mode)) {
      Dir(shown, real, st);
    } else if (S_ISREG(st.st_mode) && IsManifest(name) &&
               files_.insert({st.st_dev, st.st_ino}).second) {
      scan_.files.push_back({shown, real, st.st_dev, st.st_ino});
    }
  }

  std::string root_shown_;

 private:
  TreeScan& scan_;
  std::set<std::pair<dev_t, ino_t>> dirs_;
  std::set<std::pair<dev_t, ino_t>> files_;
};

}  // namespace

absl::StatusOr<TreeScan> ScanManifestTree(const std::string& root) {
  TreeScan scan;
  struct stat st;
  if (::stat(root.c_str(), &st) != 0) return util::ErrnoStatus(errno, "manifests " + root);
  scan.real_root = ResolvePath(root);
  if (scan.real_root.empty()) return util::ErrnoStatus(errno, "manifests " + root);
  if (!S_ISDIR(st.st_mode)) {
    // One file named by the operator: followed wherever it leads.
    scan.files.push_back({root, scan.real_root, st.st_dev, st.st_ino});
    return scan;
  }
  Walker w(&scan);
  w.root_shown_ = root;
  w.Dir(root, scan.real_root, st);
  std::sort(scan.files.begin(), scan.files.end(),
            [](const ManifestFile& a, const ManifestFile& b) { return a.path < b.path; });
  return scan;
}

absl::StatusOr<std::string> ReadManifest(const ManifestFile& f, size_t max_bytes) {
  const int fd = ::open(f.real.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return util::ErrnoStatus(errno, f.path);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat before;
  if (::fstat(fd, &before) != 0) return util::ErrnoStatus(errno, f.path);
  if (!S_ISREG(before.st_mode) || before.st_dev != f.dev || before.st_ino != f.ino) {
    return absl::AbortedError(f.path + ": replaced while the tree was read");
  }
  if (static_cast<size_t>(before.st_size) > max_bytes) {
    return absl::OutOfRangeError(absl::StrCat(
        f.path, ": ", before.st_size, " bytes, more than a manifest may have (", max_bytes, ")"));
  }
  std::string content;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return util::ErrnoStatus(errno, f.path);
    if (n == 0) break;
    content.append(buf, static_cast<size_t>(n));
    if (content.size() > max_bytes) {
      return absl::OutOfRangeError(
          absl::StrCat(f.path, ": more than a manifest may have (", max_bytes, " bytes)"));
    }
  }
  struct stat after;
  if (::fstat(fd, &after) != 0) return util::ErrnoStatus(errno, f.path);
  if (after.st_size != before.st_size || after.st_mtim.tv_sec != before.st_mtim.tv_sec ||
      after.st_mtim.tv_nsec != before.st_mtim.tv_nsec ||
      static_cast<size_t>(after.st_size) != content.size()) {
    return absl::AbortedError(f.path + ": changed while it was read");
  }
  return content;
}

}  // namespace sy::source
