// Early-return helpers for absl::Status / absl::StatusOr (Abseil 20220623 has none).
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define SY_INTERNAL_CONCAT_INNER(a, b) a##b
#define SY_INTERNAL_CONCAT(a, b) SY_INTERNAL_CONCAT_INNER(a, b)

// Returns the status from the enclosing function when `expr` is not OK.
#define SY_RETURN_IF_ERROR(expr)        \
  do {                                  \
    ::absl::Status sy_status_ = (expr); \
    if (!sy_status_.ok()) {             \
      return sy_status_;                \
    }                                   \
  } while (false)

// `SY_ASSIGN_OR_RETURN(T x, Fn())` declares x from Fn()'s value or returns its status.
#define SY_ASSIGN_OR_RETURN(lhs, expr) \
  SY_INTERNAL_ASSIGN_OR_RETURN(SY_INTERNAL_CONCAT(sy_statusor_, __LINE__), lhs, expr)
// `lhs` is a declaration ("T x"), which parentheses would break.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define SY_INTERNAL_ASSIGN_OR_RETURN(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) {                                   \
    return std::move(tmp).status();                  \
  }                                                  \
  lhs = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)

namespace sy::util {

// Returns `status` with `context: ` put in front of its message, keeping its code.
inline absl::Status Annotate(const absl::Status& status, std::string_view context) {
  if (status.ok()) return status;
  return absl::Status(status.code(), std::string(context) + ": " + std::string(status.message()));
}

}  // namespace sy::util
