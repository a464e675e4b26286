// Desired state from manifests on disk: one file, or a directory of them (a GitOps checkout
// kept fresh by git pull / git-sync), watched with inotify and a slow poll as a backstop.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "pkg/source/store.h"

namespace sy::source {

// Thread-compatible: Sync() and Watch() from one thread.
class ManifestSource {
 public:
  // `path` is a manifest file or a directory searched recursively for *.yaml, *.yml and
  // *.json (hidden entries such as .git are skipped); relative to the working directory when
  // not absolute. `store` must outlive this object.
  ManifestSource(std::string path, source::Store& store);

  // Reads every manifest and brings the store in line: valid documents are applied (source:
  // the file, and the commit when `path` is in a git checkout); an invalid one marks its
  // resource Invalid (the last valid spec stays in force) and is reported, and so does a file
  // that cannot be read or parsed at all for the resources it held; resources that
  // disappeared from the manifests stop being managed (nothing in the world is torn down),
  // including, at the first Sync, those a file gave before a restart. Returns
  // kInvalidArgument listing the problems when any document is invalid (the valid ones are
  // applied all the same), kNotFound when `path` is missing.
  absl::Status Sync();

  // Calls Sync() once the watches are set up, whenever a manifest changes (inotify, debounced
  // by `debounce`) and every `poll` regardless, until `stop` is set (checked at least every
  // 100 ms).
  void Watch(const std::atomic<bool>& stop,
             std::chrono::milliseconds poll = std::chrono::seconds(30),
             std::chrono::milliseconds debounce = std::chrono::milliseconds(20));

 private:
  std::string path_;
  source::Store& store_;
  bool started_ = false;  // the first Sync() takes over what files gave before a restart
  std::map<std::string, std::string> managed_;  // key -> the file that declared it last time
  std::string last_error_;
};

// Lists the manifest files under `path` (itself when it is a file), sorted.
absl::StatusOr<std::vector<std::string>> ManifestFiles(const std::string& path);

}  // namespace sy::source
