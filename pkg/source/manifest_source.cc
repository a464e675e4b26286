#include "pkg/source/manifest_source.h"

#include <dirent.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "pkg/codec/codec.h"
#include "pkg/source/git_commit.h"
#include "pkg/util/files.h"
#include "pkg/util/log.h"

namespace sy::source {
namespace {

bool IsManifest(const std::string& name) {
  for (const char* ext : {".yaml", ".yml", ".json"}) {
    const size_t n = strlen(ext);
    if (name.size() > n && name.compare(name.size() - n, n, ext) == 0) return true;
  }
  return false;
}

void Walk(const std::string& dir, std::vector<std::string>* files, std::vector<std::string>* dirs) {
  if (dirs) dirs->push_back(dir);
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.empty() || name[0] == '.') continue;
    const std::string full = absl::StrCat(dir, "/", name);
    struct stat st;
    if (::stat(full.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      Walk(full, files, dirs);
    } else if (S_ISREG(st.st_mode) && IsManifest(name)) {
      files->push_back(full);
    }
  }
  ::closedir(d);
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ManifestFiles(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return util::ErrnoStatus(errno, "manifests " + path);
  std::vector<std::string> files;
  if (S_ISDIR(st.st_mode)) {
    Walk(path, &files, nullptr);
  } else {
    files.push_back(path);
  }
  std::sort(files.begin(), files.end());
  return files;
}

ManifestSource::ManifestSource(std::string path, source::Store& store)
    : path_(std::move(path)), store_(store) {
  if (!path_.empty() && path_[0] != '/') {
    char cwd[4096];
    if (::getcwd(cwd, sizeof cwd) != nullptr) path_ = std::string(cwd) + "/" + path_;
  }
  while (path_.size() > 1 && path_.back() == '/') path_.pop_back();
}

absl::Status ManifestSource::Sync() {
  if (!started_) {
    // What files gave before a restart: removed if their manifest is gone now.
    for (const auto& dc : store_.List()) {
      const std::string file = SourceFile(dc.status.source);
      if (!file.empty()) managed_[dc.Key()] = file;
    }
    started_ = true;
  }
  auto files = ManifestFiles(path_);
  if (!files.ok()) return files.status();
  const std::string commit = GitHeadCommit(path_);
  std::map<std::string, std::string> seen;  // key -> file
  std::vector<std::string> problems;
  // Keeps the resources `file` gave last time, marked invalid: it cannot be read or parsed,
  // so which resources it holds now is unknown, and unknown is not "removed".
  auto keep_previous = [&](const std::string& file, const std::string& msg) {
    for (const auto& [key, from] : managed_) {
      if (from != file || seen.count(key) > 0) continue;
      seen[key] = file;
      if (store_.Get(key)) (void)store_.MarkInvalid(key, file, msg);
    }
  };
  for (const auto& file : *files) {
    auto content = util::ReadFile(file);
    if (!content.ok()) {
      problems.emplace_back(content.status().message());
      keep_previous(file, std::string(content.status().message()));
      continue;
    }
    std::string unnamed;  // problems of documents whose resource is unknown
    for (const codec::DecodedDocument& doc : codec::DecodeYamlStream(*content, file)) {
      const std::string key = doc.object.Key();
      const bool named = !doc.object.metadata.name.empty();
      if (named) seen[key] = file;
      if (doc.ok()) {
        auto applied = store_.Apply(doc.object, FileSource(file, commit));
        if (!applied.ok()) {
          // E.g. the state directory is not writable: the stored spec stays in force, and the
          // resource says why (and --once stops) instead of a log line alone.
          problems.emplace_back(applied.status().message());
          if (store_.Get(key)) (void)store_.MarkInvalid(key, file, problems.back());
        }
        continue;
      }
      std::vector<std::string> lines;
      for (const auto& p : doc.problems) lines.push_back(p.ToString());
      const std::string msg = absl::StrJoin(lines, "; ");
      problems.push_back(msg);
      if (named && store_.Get(key)) {
        (void)store_.MarkInvalid(key, file, msg);
      } else if (!named) {
        unnamed += (unnamed.empty() ? "" : "; ") + msg;
      }
    }
    if (!unnamed.empty()) keep_previous(file, unnamed);
  }
  for (const auto& [key, file] : managed_) {
    if (!seen.count(key)) {
      log::Info("unmanaged", {{"resource", key},
                              {"file", file},
                              {"reason", "its manifest is gone; nothing was torn down"}});
      (void)store_.Remove(key);
    }
  }
  managed_ = std::move(seen);
  if (problems.empty()) {
    last_error_.clear();
    return absl::OkStatus();
  }
  const std::string all = absl::StrJoin(problems, "\n");
  if (all != last_error_) log::Error("manifest", {{"path", path_}, {"problems", all}});
  last_error_ = all;
  return absl::InvalidArgumentError(all);
}

void ManifestSource::Watch(const std::atomic<bool>& stop, std::chrono::milliseconds poll,
                           std::chrono::milliseconds debounce) {
  int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  auto add_watches = [&] {
    // Watch the directories (editors and git replace files by rename).
    struct stat st;
    std::vector<std::string> files, dirs;
    if (::stat(path_.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      Walk(path_, &files, &dirs);
    } else {
      std::string parent = path_.substr(0, path_.find_last_of('/'));
      dirs.push_back(parent.empty() ? "/" : parent);
    }
    // A git pull may move HEAD after the files: watch it too, for status.source's commit.
    const std::string git = GitDirOf(path_);
    for (const std::string& g : {git, git + "/refs/heads"}) {
      struct stat gst;
      if (!git.empty() && ::stat(g.c_str(), &gst) == 0 && S_ISDIR(gst.st_mode)) dirs.push_back(g);
    }
    for (const auto& d : dirs) {
      ::inotify_add_watch(fd, d.c_str(),
                          IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE |
                              IN_DELETE_SELF | IN_ATTRIB);
    }
  };
  if (fd >= 0) add_watches();
  // Catch up with edits made before the watches existed (e.g. since the caller's own Sync()):
  // inotify reports none of them, and the backstop poll may be far away.
  (void)Sync();
  auto last_sync = std::chrono::steady_clock::now();
  while (!stop.load()) {
    bool changed = false;
    if (fd >= 0) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) > 0) {
        char buf[8192];
        while (::read(fd, buf, sizeof buf) > 0) {
        }
        changed = true;
        // Debounce: let a burst of writes (git checkout) finish.
        while (::poll(&p, 1, static_cast<int>(debounce.count())) > 0) {
          while (::read(fd, buf, sizeof buf) > 0) {
          }
        }
      }
    } else {
      ::poll(nullptr, 0, 100);
    }
    const bool due = std::chrono::steady_clock::now() - last_sync >= poll;
    if (changed || due) {
      (void)Sync();
      last_sync = std::chrono::steady_clock::now();
      if (changed && fd >= 0) add_watches();  // new subdirectories
    }
  }
  if (fd >= 0) ::close(fd);
}

}  // namespace sy::source
