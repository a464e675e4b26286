// Process resource limits the daemon adjusts at start.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"

namespace sy::util {

// Raises the soft limit on open files (RLIMIT_NOFILE) to the hard limit, so that clients
// holding connections cannot make the daemon run out of descriptors for its own files and
// database connections at the usual soft limit of 1024. Returns the soft limit now in force,
// or the errno's status naming the call that failed.
absl::StatusOr<uint64_t> RaiseOpenFileLimit();

}  // namespace sy::util
