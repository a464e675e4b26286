// ManifestSource::Watch(): inotify on every directory of the tree, on the directory holding
// the root (git-sync swaps a symbolic link there) and on the checkout's HEAD, a check of where
// the root leads on every tick, and the polls Sync() asks for.
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>

#include "absl/strings/str_cat.h"
#include "pkg/source/manifest_source.h"

namespace sy::source {
namespace {

constexpr uint32_t kEvents = IN_CLOSE_WRITE | IN_MODIFY | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE |
                             IN_DELETE | IN_DELETE_SELF | IN_ATTRIB;

// One inotify instance and what each of its watches is, by the path the tree shows.
class Inotify {
 public:
  Inotify() : fd_(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {}
  ~Inotify() {
    if (fd_ >= 0) ::close(fd_);
  }
  Inotify(const Inotify&) = delete;
  Inotify& operator=(const Inotify&) = delete;

  int Fd() const { return fd_; }
  // Watches directory `real`, shown as `shown`; with `only`, for that entry alone.
  void Add(const std::string& shown, const std::string& real, const std::string& only = "") {
    if (fd_ < 0) return;
    const int wd = ::inotify_add_watch(fd_, real.c_str(), kEvents);
    if (wd >= 0) dirs_[wd] = {shown, only};
  }
  // The path (as shown) an event is about, or "" when it is none of ours.
  std::string PathOf(const inotify_event& ev) const {
    auto it = dirs_.find(ev.wd);
    if (it == dirs_.end()) return "";
    const std::string name = ev.len > 0 ? ev.name : "";
    if (!it->second.only.empty() && name != it->second.only) return "";
    return absl::StrCat(it->second.shown, "/", name);
  }

 private:
  struct Dir {
    std::string shown;
    std::string only;
  };
  int fd_;
  std::map<int, Dir> dirs_;
};

bool IsDir(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

void ManifestSource::Watch(const std::atomic<bool>& stop, std::chrono::milliseconds poll,
                           std::chrono::milliseconds debounce) {
  std::unique_ptr<Inotify> inotify;
  std::string root;  // where path_ led when the watches were set
  auto add_watches = [&] {
    if (auto scan = ScanManifestTree(path_); scan.ok()) {
      for (const auto& [shown, real] : scan->dirs) inotify->Add(shown, real);
    }
    // Where the root is: its creation, removal or replacement (a swapped link), and a
    // single-file root's edits.
    const size_t slash = path_.find_last_of('/');
    const std::string parent = slash == 0 ? "/" : path_.substr(0, slash);
    inotify->Add(slash == 0 ? "" : parent, parent, path_.substr(slash + 1));
    // A git pull may move HEAD after the files: watch it too, for status.source's commit.
    const std::string git = GitDirOf(path_);
    for (const std::string& g : {git, git + "/refs/heads"}) {
      if (!git.empty() && IsDir(g)) inotify->Add(g, g);
    }
  };
  auto reset = [&] {
    inotify = std::make_unique<Inotify>();
    root = ResolvePath(path_);
    writing_.clear();
    add_watches();
  };
  reset();
  // Catch up with edits made before the watches existed (e.g. since the caller's own Sync()):
  // inotify reports none of them, and the backstop poll may be far away.
  (void)Sync();
  auto last_sync = Now();
  // Reads what inotify has; true when something changed (not only a write in progress).
  auto drain = [&] {
    alignas(inotify_event) char buf[8192];
    bool changed = false;
    for (ssize_t n; (n = ::read(inotify->Fd(), buf, sizeof buf)) > 0;) {
      for (ssize_t at = 0; at < n;) {
        const auto* ev = reinterpret_cast<const inotify_event*>(buf + at);
        at += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
        if (ev->mask & IN_Q_OVERFLOW) {
          writing_.clear();  // what is being written is unknown: read everything
          changed = true;
          continue;
        }
        const std::string file = inotify->PathOf(*ev);
        if (file.empty()) continue;
        if ((ev->mask & IN_MODIFY) && !(ev->mask & IN_ISDIR)) {
          SetWriting(file, true);  // until it is closed: a sync meanwhile leaves it alone
          continue;
        }
        if (ev->mask & (IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_FROM)) SetWriting(file, false);
        changed = true;
      }
    }
    return changed;
  };
  while (!stop.load()) {
    bool changed = false;
    if (inotify->Fd() >= 0) {
      pollfd p{inotify->Fd(), POLLIN, 0};
      if (::poll(&p, 1, 100) > 0) {
        changed = drain();
        // Debounce: let a burst of writes (git checkout) finish.
        while (::poll(&p, 1, static_cast<int>(debounce.count())) > 0) changed = drain() || changed;
      }
    } else {
      ::poll(nullptr, 0, 100);
    }
    const bool moved = ResolvePath(path_) != root;  // e.g. git-sync swapped the root link
    if (moved) reset();
    const auto now = Now();
    const bool due = (due_ && now >= *due_) || now - last_sync >= poll;
    if (changed || moved || due) {
      (void)Sync();
      last_sync = Now();
      if (changed) add_watches();  // new subdirectories
    }
  }
}

}  // namespace sy::source
