#include "pkg/util/process_limits.h"

#include <sys/resource.h>

#include <cerrno>

#include "pkg/util/files.h"

namespace sy::util {

absl::StatusOr<uint64_t> RaiseOpenFileLimit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return ErrnoStatus(errno, "getrlimit(RLIMIT_NOFILE)");
  if (lim.rlim_cur >= lim.rlim_max) return static_cast<uint64_t>(lim.rlim_cur);
  lim.rlim_cur = lim.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) return ErrnoStatus(errno, "setrlimit(RLIMIT_NOFILE)");
  return static_cast<uint64_t>(lim.rlim_cur);
}

}  // namespace sy::util
