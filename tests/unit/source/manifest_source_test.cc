// Tests of ManifestSource on a temporary directory of manifests: what Sync() applies, marks
// invalid and stops managing, and that Watch() sees edits.
#include "pkg/source/manifest_source.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <thread>

#include "tests/unit/source/manifest_fixture.h"

namespace sy::source {
namespace {

TEST_F(ManifestSourceTest, AppliesEveryDocumentOfEveryFile) {
  ASSERT_TRUE(source_.Sync().ok());
  EXPECT_EQ(store_.List().size(), 3u);
  EXPECT_EQ(Desired("shop"), api::Color::kBlue);
  EXPECT_EQ(Desired("cart"), api::Color::kBlue);
  EXPECT_EQ(Desired("web"), api::Color::kGreen);
  EXPECT_EQ(store_.Get("default/web")->status.source, tmp_.path + "/team/b.yaml");
  EXPECT_EQ(store_.Get("default/shop")->metadata.generation, 1);

  ASSERT_TRUE(source_.Sync().ok());  // nothing changed: nothing rewritten
  EXPECT_EQ(store_.Get("default/shop")->metadata.generation, 1);
}

TEST_F(ManifestSourceTest, InvalidDocumentKeepsItsLastValidSpec) {
  ASSERT_TRUE(source_.Sync().ok());
  Write("a.yaml", Manifest("shop", "purple"));
  Write("team/b.yaml", Manifest("cart", "green") + "---\n" + Manifest("web", "green"));

  const absl::Status s = source_.Sync();
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_EQ(Desired("shop"), api::Color::kBlue);
  const auto reason = store_.InvalidReason("default/shop");
  ASSERT_TRUE(reason.has_value());
  EXPECT_NE(reason->find(tmp_.path + "/a.yaml:7:16"), std::string::npos) << *reason;
  EXPECT_NE(s.message().find(tmp_.path + "/a.yaml:7:16"), std::string::npos) << s;
  EXPECT_EQ(Desired("cart"), api::Color::kGreen);  // the valid ones still apply
  EXPECT_EQ(store_.InvalidReason("default/cart"), std::nullopt);

  Write("a.yaml", Manifest("shop", "green"));
  ASSERT_TRUE(source_.Sync().ok());
  EXPECT_EQ(store_.InvalidReason("default/shop"), std::nullopt);
  EXPECT_EQ(Desired("shop"), api::Color::kGreen);
}

TEST_F(ManifestSourceTest, UnwritableStateKeepsTheStoredSpecAndSaysWhy) {
  TempDir state;
  Store store(state.path, clock_);
  ASSERT_TRUE(store.Load().ok());
  ManifestSource source(tmp_.path, store);
  ASSERT_TRUE(source.Sync().ok());
  // The state directory stops taking files (even root cannot write into a non-directory).
  const std::string objects = state.path + "/objects";
  std::filesystem::rename(objects, objects + ".away");
  ASSERT_TRUE(util::WriteFileAtomically(objects, "").ok());
  Write("a.yaml", Manifest("shop", "green"));

  const absl::Status s = source.Sync();
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(store.Get("default/shop")->spec.active_color, api::Color::kBlue);
  const auto reason = store.InvalidReason("default/shop");
  ASSERT_TRUE(reason.has_value());
  EXPECT_NE(reason->find(tmp_.path + "/a.yaml"), std::string::npos) << *reason;
  EXPECT_NE(reason->find(objects + "/default_shop.json"), std::string::npos) << *reason;
  EXPECT_EQ(store.InvalidReason("default/cart"), std::nullopt);  // unchanged: nothing written

  // Writable again: the next sync applies the edit and clears the mark.
  std::filesystem::remove(objects);
  std::filesystem::rename(objects + ".away", objects);
  ASSERT_TRUE(source.Sync().ok());
  EXPECT_EQ(store.InvalidReason("default/shop"), std::nullopt);
  EXPECT_EQ(store.Get("default/shop")->spec.active_color, api::Color::kGreen);
}

TEST_F(ManifestSourceTest, SyntaxErrorKeepsManagingTheFilesResources) {
  ASSERT_TRUE(source_.Sync().ok());
  const std::string uid = store_.Get("default/shop")->metadata.uid;
  Write("a.yaml", "apiVersion: switchyard.dev/v1alpha1\nkind: [DeploymentColor\n");

  const absl::Status s = source_.Sync();
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  // A file that cannot be parsed does not say its resources are gone.
  ASSERT_TRUE(store_.Get("default/shop").has_value());
  EXPECT_EQ(Desired("shop"), api::Color::kBlue);
  const auto reason = store_.InvalidReason("default/shop");
  ASSERT_TRUE(reason.has_value());
  EXPECT_NE(reason->find(tmp_.path + "/a.yaml:"), std::string::npos) << *reason;

  Write("a.yaml", Manifest("shop"));
  ASSERT_TRUE(source_.Sync().ok());
  EXPECT_EQ(store_.InvalidReason("default/shop"), std::nullopt);
  EXPECT_EQ(store_.Get("default/shop")->metadata.uid, uid);  // the same object, not a new one
}

TEST_F(ManifestSourceTest, RemovedFileStopsManagingItsResourcesOnceSettled) {
  ASSERT_TRUE(source_.Sync().ok());
  std::filesystem::remove(tmp_.path + "/team/b.yaml");
  EXPECT_TRUE(source_.Sync().ok());
  // Not yet: a checkout removes files and creates them again.
  EXPECT_TRUE(store_.Get("default/cart").has_value());
  EXPECT_EQ(store_.InvalidReason("default/cart"), std::nullopt);
  clock_.Advance(std::chrono::milliseconds(999));
  EXPECT_TRUE(source_.Sync().ok());
  EXPECT_TRUE(store_.Get("default/cart").has_value());
  clock_.Advance(std::chrono::milliseconds(1));
  EXPECT_TRUE(source_.Sync().ok());
  EXPECT_FALSE(store_.Get("default/cart").has_value());
  EXPECT_FALSE(store_.Get("default/web").has_value());
  EXPECT_TRUE(store_.Get("default/shop").has_value());
}

TEST_F(ManifestSourceTest, HiddenEntriesAreIgnored) {
  Write(".git/refs/old.yaml", Manifest("hidden"));
  Write(".staged.yaml", Manifest("staged"));
  Write("notes.txt", "not a manifest");
  ASSERT_TRUE(source_.Sync().ok());
  EXPECT_FALSE(store_.Get("default/hidden").has_value());
  EXPECT_FALSE(store_.Get("default/staged").has_value());
  EXPECT_EQ(store_.List().size(), 3u);
  auto files = ManifestFiles(tmp_.path);
  ASSERT_TRUE(files.ok());
  EXPECT_EQ(*files, (std::vector<std::string>{tmp_.path + "/a.yaml", tmp_.path + "/team/b.yaml"}));
}

TEST_F(ManifestSourceTest, SingleFile) {
  ManifestSource one(tmp_.path + "/team/b.yaml", store_);
  ASSERT_TRUE(one.Sync().ok());
  EXPECT_EQ(store_.List().size(), 2u);
}

TEST_F(ManifestSourceTest, MissingPathIsNotFound) {
  ManifestSource missing(tmp_.path + "/nope", store_);
  const absl::Status s = missing.Sync();
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
  EXPECT_NE(s.message().find(tmp_.path + "/nope"), std::string::npos) << s;
}

TEST_F(ManifestSourceTest, WatchPicksUpAnEditAndStops) {
  ASSERT_TRUE(source_.Sync().ok());
  std::atomic<bool> stop{false};
  std::promise<void> stopped;
  auto done = stopped.get_future();
  // The backstop poll is an hour away: only inotify can bring the edit in.
  std::thread watcher([&] {
    source_.Watch(stop, std::chrono::hours(1));
    stopped.set_value();
  });
  // This edit may land before the watches exist: Watch() syncs once they do.
  Write("team/b.yaml", Manifest("cart", "green") + "---\n" + Manifest("web", "green"));
  EXPECT_TRUE(WaitFor("cart", api::Color::kGreen));
  // Seen, so the watches exist: this one can only come in through inotify.
  Write("a.yaml", Manifest("shop", "green"));
  EXPECT_TRUE(WaitFor("shop", api::Color::kGreen));

  stop = true;
  if (done.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    watcher.detach();
    FAIL() << "Watch() did not return after stop was set";
  }
  watcher.join();
}

}  // namespace
}  // namespace sy::source
