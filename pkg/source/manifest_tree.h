// The manifest tree of --manifests: which files it holds and what they say, confined to the
// tree. A symbolic link is followed only when it resolves inside the tree (the root resolved
// once per scan, so a root that is itself a link, as git-sync makes, is followed); one that
// leads outside is refused without being read, a directory reached twice (a loop, or a link
// to a directory already walked) is walked once, and a file reached twice is read once.
// Directories that cannot be read are reported, not taken as empty.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace sy::source {

struct ManifestFile {
  std::string path;  // as shown: under the root as given (e.g. /srv/deploy/team/shop.yaml)
  std::string real;  // resolved, inside the real root
  dev_t dev = 0;
  ino_t ino = 0;
};

struct TreeScan {
  std::string real_root;            // the root, resolved
  std::vector<ManifestFile> files;  // sorted by path
  // Directories walked: (as shown, resolved).
  std::vector<std::pair<std::string, std::string>> dirs;
  // Directories (as shown) that could not be read, with why: what they held is unknown.
  std::vector<std::pair<std::string, std::string>> unreadable;
  // Entries refused (a link leading outside the tree), one message each.
  std::vector<std::string> refused;
  bool empty = false;  // the root is a directory with no entry at all (not populated yet)
};

// Walks `root` (a directory, or one manifest file) for *.yaml, *.yml and *.json, skipping
// hidden entries. kNotFound / kPermissionDenied (naming the root) when the root itself
// cannot be reached.
absl::StatusOr<TreeScan> ScanManifestTree(const std::string& root);

// The bytes of a manifest file the scan found. Opened without following a link at its last
// component, checked to be the same regular file the scan saw, read only up to `max_bytes`
// (kOutOfRange above it). kAborted when the file changed while it was read (written now:
// try again later); other errors name the file and never quote its content.
absl::StatusOr<std::string> ReadManifest(const ManifestFile& f, size_t max_bytes);

// realpath(3) of `path`, or "" when it does not resolve.
std::string ResolvePath(const std::string& path);

// The largest manifest file read.
inline constexpr size_t kMaxManifestBytes = 1 << 20;

}  // namespace sy::source
