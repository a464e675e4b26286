// Desired state from manifests on disk: one file, or a directory of them (a GitOps checkout
// kept fresh by git pull / git-sync), watched with inotify and a slow poll as a backstop.
// Reading is confined to the tree (manifest_tree.h), and nothing that could be transient
// (a directory that cannot be read, a file being written, an empty or half-written file, a
// checkout not populated yet) stops the management of a resource: only a file gone for
// removal_settle does.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "pkg/source/git_commit.h"
#include "pkg/source/manifest_tree.h"
#include "pkg/source/store.h"
#include "pkg/util/clock.h"

namespace sy::source {

struct ManifestSourceOptions {
  // A file (or a resource in it) that disappears stops being managed only once it is still
  // gone this long after it was first missed: git replaces files by removing and creating
  // them, and a sync in between must not unmanage (and later re-create) their resources.
  std::chrono::milliseconds removal_settle{1000};
  // Must outlive the source. Null: util::RealClock.
  const util::Clock* clock = nullptr;
  // Tells whether a new checkout is older than the one applied before. Must outlive the
  // source. Null: going back is not detected.
  CommitHistory* history = nullptr;
};

// Thread-compatible: Sync() and Watch() from one thread.
class ManifestSource {
 public:
  // `path` is a manifest file or a directory searched recursively for *.yaml, *.yml and
  // *.json (hidden entries such as .git are skipped); relative to the working directory when
  // not absolute. `store` must outlive this object.
  ManifestSource(std::string path, source::Store& store, ManifestSourceOptions options = {});

  // Reads every manifest and brings the store in line: valid documents are applied (source:
  // the file, and the commit when `path` is in a git checkout, saying so when that commit is
  // older than the one applied before). Each of these keeps the last valid spec of the
  // resources it concerns, marked Invalid with the reason, and is reported: an invalid
  // document; a file that cannot be read or parsed, is empty, does not end with a newline
  // (YAML: it may be truncated) or is larger than kMaxManifestBytes; a resource defined more
  // than once (both places named; none is applied); a directory that cannot be read; a
  // symbolic link leading outside the tree (never read). A file being written (seen by
  // Watch()) or changing while read is left for the next sync. Resources whose file (or
  // document) is gone for removal_settle stop being managed (nothing in the world is torn
  // down), including, from the first Sync, those a file gave before a restart.
  // Returns kInvalidArgument listing the problems (the valid documents are applied all the
  // same); kNotFound / kPermissionDenied when `path` cannot be reached and no resource came
  // from it before; kUnavailable when it cannot be read or holds nothing at all (a checkout
  // not populated yet) while resources came from it (they stay, marked). Two documents that
  // share a database server, data directory or upstream file (api::SharedWith) are both
  // invalid, each naming the other; so is one sharing with a resource made through the API
  // (which stays).
  absl::Status Sync();

  // Calls Sync() once the watches are set up, whenever a manifest changes (inotify, debounced
  // by `debounce`), when the root (a symbolic link, as git-sync swaps it) points elsewhere,
  // when a deferred file or removal is due, and every `poll` regardless, until `stop` is set
  // (checked at least every 100 ms).
  void Watch(const std::atomic<bool>& stop,
             std::chrono::milliseconds poll = std::chrono::seconds(30),
             std::chrono::milliseconds debounce = std::chrono::milliseconds(20));

  // A file Watch() saw opened for writing and not yet closed: Sync() leaves it alone. (For
  // Watch() and tests.)
  void SetWriting(const std::string& file, bool writing);

 private:
  struct FileResult;
  std::chrono::steady_clock::time_point Now() const;
  // Reads one file of the scan: its documents, or why they cannot be used.
  FileResult Read(const ManifestFile& f) const;
  // The commit of the checkout, and a note when it is older than the one applied before.
  std::string CommitNote(const std::string& commit);
  absl::Status KeepEverything(const std::string& why);

  std::string path_;
  source::Store& store_;
  const ManifestSourceOptions options_;
  bool started_ = false;  // the first Sync() takes over what files gave before a restart
  std::map<std::string, std::string> managed_;  // key -> the file that declared it last time
  std::map<std::string, std::chrono::steady_clock::time_point> missing_since_;  // by key
  std::set<std::string> writing_;
  std::optional<std::chrono::steady_clock::time_point> due_;  // a sync to settle something
  std::string last_commit_;                                   // the newest commit applied
  std::string back_commit_;  // checked out now, and older than last_commit_
  std::string back_note_;
  std::string last_error_;
};

// Lists the manifest files under `path` (itself when it is a file), sorted, confined as
// ScanManifestTree() does.
absl::StatusOr<std::vector<std::string>> ManifestFiles(const std::string& path);

}  // namespace sy::source
