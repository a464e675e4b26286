#include "pkg/model/lsn.h"

#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"

namespace sy::model {

std::optional<Lsn> ParseLsn(std::string_view s) {
  const size_t slash = s.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == s.size()) return std::nullopt;
  uint32_t hi = 0;
  uint32_t lo = 0;
  if (!absl::SimpleHexAtoi(absl::string_view(s.data(), slash), &hi) ||
      !absl::SimpleHexAtoi(absl::string_view(s.data() + slash + 1, s.size() - slash - 1), &lo)) {
    return std::nullopt;
  }
  return (static_cast<Lsn>(hi) << 32) | lo;
}

std::string FormatLsn(Lsn lsn) {
  return absl::StrFormat("%X/%X", static_cast<uint32_t>(lsn >> 32), static_cast<uint32_t>(lsn));
}

}  // namespace sy::model
