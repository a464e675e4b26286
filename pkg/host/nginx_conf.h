// A reader of nginx's configuration syntax, enough to find directives in a file: the
// owned upstream file's `server` lines and nginx.conf's `pid`. No includes are followed,
// no variables expanded. Pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace sy::host {

// One directive: `name arg...;` or `name arg... { block }`.
struct NginxDirective {
  std::string name;
  std::vector<std::string> args;  // unquoted
  bool has_block = false;
  std::vector<NginxDirective> block;
  int line = 0;  // 1-based, where the name stands
};

// Parses `content` into its top-level directives. Handles comments (`#` at the start of a
// word, to the end of the line), single- and double-quoted strings with backslash escapes,
// and any whitespace. kInvalidArgument with the line for unbalanced braces, an unterminated
// string or a directive without its `;`.
absl::StatusOr<std::vector<NginxDirective>> ParseNginxConfig(std::string_view content);

}  // namespace sy::host
