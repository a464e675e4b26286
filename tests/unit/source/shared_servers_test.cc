// No two resources act on the same servers: the store refuses an API write that would share a
// database server, data directory or upstream file with another resource, and ManifestSource
// refuses both documents that share one (README "How a switch goes": one actor per pair).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "pkg/codec/codec.h"
#include "pkg/source/manifest_source.h"
#include "pkg/source/store.h"
#include "pkg/util/files.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/plan_driver.h"
#include "tests/fakes/temp_dir.h"

namespace sy::source {
namespace {

using api::Color;

// default/`name` on the fake's servers (shop's), or on servers of its own.
api::DeploymentColor Resource(const std::string& name, bool own_servers,
                              Color color = Color::kBlue) {
  api::DeploymentColor dc = fakes::FakeResource(color);
  dc.metadata.name = name;
  dc.metadata.namespace_ = "default";
  if (own_servers) {
    for (Color c : api::kColors) {
      dc.spec.color(c).database.port += 10000;
      dc.spec.color(c).database.data_directory += "-" + name;
    }
    dc.spec.nginx.upstream_file = "/etc/nginx/switchyard/" + name + ".conf";
  }
  return dc;
}

WriteOptions FromApi() {
  WriteOptions o;
  o.from_api = true;
  return o;
}

class SharedServersTest : public ::testing::Test {
 protected:
  void WriteManifest(const std::string& file, const std::vector<api::DeploymentColor>& dcs) {
    std::string text;
    for (const auto& dc : dcs) text += (text.empty() ? "" : "---\n") + codec::EncodeYaml(dc);
    ASSERT_TRUE(util::WriteFileAtomically(tmp_.path + "/" + file, text).ok());
  }

  fakes::TempDir tmp_{"shared_servers_test"};
  fakes::FakeClock clock_;
  Store store_{"", clock_};
};

TEST_F(SharedServersTest, TheApiRefusesAResourceOnAnotherOnesServers) {
  ASSERT_TRUE(store_.Apply(Resource("shop", false), "api", FromApi()).ok());
  absl::StatusOr<api::DeploymentColor> r =
      store_.Apply(Resource("shop2", false, Color::kGreen), "api", FromApi());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << r.status();
  const std::string msg(r.status().message());
  EXPECT_NE(msg.find("\"shop2\" is invalid: spec.colors.blue.database.port: database server "
                     "127.0.0.1:15433 is also spec.colors.blue.database of default/shop"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("spec.colors.blue.database.dataDirectory: \"/var/lib/switchyard/shop/blue\" "
                     "is also spec.colors.blue.database.dataDirectory of default/shop"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("spec.nginx.upstreamFile"), std::string::npos) << msg;
  EXPECT_FALSE(store_.Get("default/shop2").has_value());
  // Dry runs are refused alike; servers of its own are fine.
  WriteOptions dry = FromApi();
  dry.dry_run = true;
  EXPECT_FALSE(store_.Apply(Resource("shop2", false), "api", dry).ok());
  EXPECT_TRUE(store_.Apply(Resource("shop2", true), "api", FromApi()).ok());
  // Moving it onto shop's servers later is refused too.
  EXPECT_EQ(store_.Apply(Resource("shop2", false), "api", FromApi()).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(SharedServersTest, AWriteThatSharesNothingNewGoesThrough) {
  // Two stored before the rule (not through the API): pausing one must stay possible.
  ASSERT_TRUE(store_.Apply(Resource("shop", false), "test").ok());
  ASSERT_TRUE(store_.Apply(Resource("shop2", false), "test").ok());
  api::DeploymentColor paused = Resource("shop2", false);
  paused.spec.paused = true;
  EXPECT_TRUE(store_.Apply(paused, "api", FromApi()).ok());
}

TEST_F(SharedServersTest, ManifestsSharingServersAreBothInvalidNamingEachOther) {
  WriteManifest("a.yaml", {Resource("shop", false)});
  ManifestSource source(tmp_.path, store_);
  ASSERT_TRUE(source.Sync().ok());
  // A copy of shop renamed, with the other color, in the same directory (before the fix the
  // pair ping-ponged forever).
  WriteManifest("b.yaml", {Resource("shop2", false, Color::kGreen)});
  const absl::Status s = source.Sync();
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_FALSE(store_.Get("default/shop2").has_value()) << "never applied";
  const std::optional<std::string> shop = store_.InvalidReason("default/shop");
  ASSERT_TRUE(shop.has_value());
  EXPECT_NE(shop->find("of default/shop2 (" + tmp_.path + "/b.yaml)"), std::string::npos) << *shop;
  EXPECT_NE(s.message().find(tmp_.path + "/b.yaml: default/shop2: spec.colors.blue.database"),
            std::string::npos)
      << s;
  EXPECT_NE(s.message().find("of default/shop (" + tmp_.path + "/a.yaml)"), std::string::npos) << s;
  // shop's last valid spec stays in force.
  EXPECT_EQ(store_.Get("default/shop")->spec.active_color, Color::kBlue);

  // Once shop2 has servers of its own, both are fine.
  WriteManifest("b.yaml", {Resource("shop2", true, Color::kGreen)});
  EXPECT_TRUE(source.Sync().ok());
  EXPECT_EQ(store_.InvalidReason("default/shop"), std::nullopt);
  EXPECT_EQ(store_.Get("default/shop2")->spec.active_color, Color::kGreen);
}

TEST_F(SharedServersTest, AManifestOnTheServersOfAnApiResourceIsInvalid) {
  ASSERT_TRUE(store_.Apply(Resource("shop", false), "api", FromApi()).ok());
  WriteManifest("b.yaml", {Resource("shop2", false, Color::kGreen)});
  ManifestSource source(tmp_.path, store_);
  const absl::Status s = source.Sync();
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_NE(s.message().find("of default/shop (through the API)"), std::string::npos) << s;
  EXPECT_FALSE(store_.Get("default/shop2").has_value());
  EXPECT_EQ(store_.InvalidReason("default/shop"), std::nullopt) << "the API's stays";
}

}  // namespace
}  // namespace sy::source
