// What a fuzz target asserts: a broken invariant prints what broke and aborts, which both
// libFuzzer (a crash, with the input saved) and the corpus replay (a failed test) report.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "pkg/codec/codec.h"

namespace sy::fuzz {

inline void Check(bool ok, std::string_view what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz invariant broken: %.*s\n", static_cast<int>(what.size()), what.data());
  std::abort();
}

// Check(a == b), printing both objects (as JSON) when they differ.
inline void CheckSame(const api::DeploymentColor& a, const api::DeploymentColor& b,
                      std::string_view what) {
  if (a == b) return;
  const std::string ja = codec::EncodeJson(a, 1);
  const std::string jb = codec::EncodeJson(b, 1);
  std::fprintf(stderr, "--- after\n%s\n--- before\n%s\n", ja.c_str(), jb.c_str());
  Check(false, what);
}

}  // namespace sy::fuzz
