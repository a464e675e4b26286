// A fresh directory for a test (mode 0700, made by mkdtemp under /tmp), removed with all it
// holds when the object goes. `path` is "" when it could not be made.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace sy::fakes {

struct TempDir {
  explicit TempDir(std::string_view prefix = "switchyard-test") {
    std::string tmpl = "/tmp/" + std::string(prefix) + ".XXXXXX";
    if (::mkdtemp(tmpl.data()) != nullptr) path = tmpl;
  }
  ~TempDir() {
    if (path.empty()) return;
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string path;
};

}  // namespace sy::fakes
