// Desired state from manifests on disk: one file, or a directory of them (a GitOps checkout
// kept fresh by git pull / git-sync), watched with inotify and a slow poll as a backstop.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "pkg/source/store.h"

namespace sy::source {

// Thread-compatible: Sync() and Watch() from one thread.
class ManifestSource {
 public:
  // `path` is a manifest file or a directory searched recursively for *.yaml, *.yml and
  // *.json (hidden entries such as .git are skipped). `store` must outlive this object.
  ManifestSource(std::string path, source::Store& store);

  // Reads every manifest and brings the store in line: valid documents are applied; an
  // invalid one marks its resource Invalid (the last valid spec stays in force) and is
  // reported; resources that disappeared from the manifests stop being managed (nothing in
  // the world is torn down). Returns kInvalidArgument listing the problems when any document
  // is invalid (the valid ones are applied all the same), kNotFound when `path` is missing.
  absl::Status Sync();

  // Calls Sync() whenever a manifest changes (inotify, debounced by `debounce`) and every
  // `poll` regardless, until `stop` is set (checked at least every 100 ms).
  void Watch(const std::atomic<bool>& stop,
             std::chrono::milliseconds poll = std::chrono::seconds(30),
             std::chrono::milliseconds debounce = std::chrono::milliseconds(20));

 private:
  std::string path_;
  source::Store& store_;
  std::set<std::string> managed_;  // keys this source applied last time
  std::string last_error_;
};

// Lists the manifest files under `path` (itself when it is a file), sorted.
absl::StatusOr<std::vector<std::string>> ManifestFiles(const std::string& path);

}  // namespace sy::source
