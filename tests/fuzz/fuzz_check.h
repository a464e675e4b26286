// What a fuzz target asserts: a broken invariant prints what broke and aborts, which both
// libFuzzer (a crash, with the input saved) and the corpus replay (a failed test) report.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace sy::fuzz {

inline void Check(bool ok, std::string_view what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz invariant broken: %.*s\n", static_cast<int>(what.size()), what.data());
  std::abort();
}

}  // namespace sy::fuzz
