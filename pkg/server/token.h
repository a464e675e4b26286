// The API's bearer token: generated on the daemon's first start into <state-dir>/token
// (mode 0600), read again on every later start, so that kubeconfigs keep working.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace sy::server {

// Returns the token in `path`, creating it (64 hex digits from the kernel's random source,
// mode 0600, written atomically) when the file does not exist. kFailedPrecondition when the
// file is empty or readable by others than its owner (fix: chmod 600), kPermissionDenied /
// kInternal naming the path for I/O errors.
absl::StatusOr<std::string> LoadOrCreateToken(const std::string& path);

// Reads a token file (yardctl): the first line, trimmed. kNotFound / kPermissionDenied name
// the path.
absl::StatusOr<std::string> ReadToken(const std::string& path);

}  // namespace sy::server
