// Shared by the tests of ManifestSource: a temporary manifest tree with a.yaml (shop) and
// team/b.yaml (cart, web), a memory store, a source on the tree with a fake clock, and
// helpers to write files and wait for what the store desires.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "pkg/source/manifest_source.h"
#include "pkg/util/files.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/temp_dir.h"
#include "tests/unit/codec/manifests.h"

namespace sy::source {

// A directory under /tmp, removed with everything in it at the end of the test.
struct TempDir : fakes::TempDir {
  TempDir() : fakes::TempDir("manifest_source_test") {}
};

// `s` with every `from` replaced by `to`.
inline std::string ReplaceAll(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

// codec::testing::kShop renamed to `name`, with activeColor `color`; but for shop, on servers
// of its own (two resources may not share any): ports and paths from its name.
inline std::string Manifest(const std::string& name, const std::string& color = "blue") {
  std::string m = codec::testing::ShopWith("name: shop", "name: " + name);
  const size_t at = m.find("activeColor: blue");
  m.replace(at, 17, "activeColor: " + color);
  if (name == "shop") return m;
  const int base = 20000 + static_cast<int>(std::hash<std::string>{}(name) % 2000) * 10;
  m = ReplaceAll(m, "port: 15433", "port: " + std::to_string(base + 3));
  m = ReplaceAll(m, "port: 15434", "port: " + std::to_string(base + 4));
  m = ReplaceAll(m, "/tmp/pg/", "/tmp/pg/" + name + "-");
  return ReplaceAll(m, "/tmp/nginx/shop.conf", "/tmp/nginx/" + name + ".conf");
}

class ManifestSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp_.path.empty());
    Write("a.yaml", Manifest("shop"));
    Write("team/b.yaml", Manifest("cart") + "---\n" + Manifest("web", "green"));
  }
  void Write(const std::string& rel, const std::string& content) {
    const std::string path = tmp_.path + "/" + rel;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    ASSERT_TRUE(util::WriteFileAtomically(path, content).ok());
  }
  std::optional<api::Color> Desired(const std::string& name) {
    auto dc = store_.Get("default/" + name);
    if (!dc) return std::nullopt;
    return dc->spec.active_color;
  }
  // Whether `name`'s desired color becomes `c` within 5 s.
  bool WaitFor(const std::string& name, api::Color c) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (Desired(name) != c && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // poll
    }
    return Desired(name) == c;
  }
  ManifestSourceOptions Options() {
    ManifestSourceOptions o;
    o.clock = &clock_;
    return o;
  }
  // Every resource of the tree is still there with its first spec, and marked with a reason
  // that holds `why`.
  void ExpectAllKeptAndMarked(const std::string& why) {
    for (const char* name : {"shop", "cart", "web"}) {
      const auto dc = store_.Get(std::string("default/") + name);
      ASSERT_TRUE(dc.has_value()) << name;
      EXPECT_EQ(dc->metadata.generation, 1) << name;
      const auto reason = store_.InvalidReason(dc->Key());
      ASSERT_TRUE(reason.has_value()) << name;
      EXPECT_NE(reason->find(why), std::string::npos) << *reason;
    }
  }

  TempDir tmp_;
  fakes::FakeClock clock_;
  Store store_{"", clock_};
  ManifestSource source_{tmp_.path, store_, Options()};
};

}  // namespace sy::source
