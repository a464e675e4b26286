// Small file-system helpers: atomic replace, reading whole files.
#pragma once

#include <sys/types.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace sy::util {

// Replaces `path` with `content` atomically: writes a temporary file beside it, fsyncs it,
// renames it over `path` and fsyncs the directory. Readers see the old or the new content,
// never a mix; after a crash the file is one or the other. Returns kInvalidArgument for a
// relative path, kPermissionDenied / kInternal for I/O errors (naming the path).
absl::Status WriteFileAtomically(const std::string& path, const std::string& content,
                                 mode_t mode = 0644);

// Reads a whole file. kNotFound when it does not exist.
absl::StatusOr<std::string> ReadFile(const std::string& path);

bool PathExists(const std::string& path);

// Whether `path` exists: false only when it provably does not (ENOENT, ENOTDIR); any other
// failure to tell (EACCES, EIO, ...) is an error naming the path, so that "cannot read" is
// never taken for "absent".
absl::StatusOr<bool> Exists(const std::string& path);

// Maps an errno to the closest absl status code.
absl::Status ErrnoStatus(int err, const std::string& what);

}  // namespace sy::util
