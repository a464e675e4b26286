// Tests of the GitOps side of ManifestSource on a real `git` checkout: the commit in
// status.source, objects a file gave before a restart, and GitHeadCommit on its own.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "pkg/source/git_commit.h"
#include "pkg/source/manifest_source.h"
#include "pkg/util/files.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/plan_driver.h"
#include "tests/fakes/temp_dir.h"
#include "tests/unit/codec/manifests.h"

namespace sy::source {
namespace {

class GitOpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.empty());
    if (std::system("git --version >/dev/null 2>&1") != 0) GTEST_SKIP() << "no git";
    Git("init -q -b main");
  }
  void Git(const std::string& args) {
    const std::string cmd =
        absl::StrCat("git -C ", dir_, " -c user.name=t -c user.email=t@t -c commit.gpgsign=false ",
                     args, " >/dev/null 2>&1");
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  std::string Head() {
    std::string out;
    FILE* p = ::popen(absl::StrCat("git -C ", dir_, " rev-parse HEAD").c_str(), "r");
    char buf[64];
    while (p && fgets(buf, sizeof buf, p)) out += buf;
    if (p) ::pclose(p);
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }
  void Commit(const std::string& file, const std::string& content) {
    ASSERT_TRUE(util::WriteFileAtomically(dir_ + "/" + file, content).ok());
    Git("add -A");
    Git("commit -q -m change");
  }

  fakes::FakeClock clock_;
  fakes::TempDir tmp_{"gitops_test"};
  const std::string dir_ = tmp_.path;
};

TEST_F(GitOpsTest, StatusSourceNamesFileAndCommit) {
  Commit("shop.yaml", std::string(codec::testing::kShop));
  EXPECT_EQ(GitHeadCommit(dir_), Head());
  Store store("", clock_);
  ManifestSource source(dir_, store);
  ASSERT_TRUE(source.Sync().ok());
  EXPECT_EQ(store.Get("default/shop")->status.source,
            absl::StrCat(dir_, "/shop.yaml (commit ", Head(), ")"));

  // A new commit that does not touch the file still updates the commit shown.
  const std::string before = Head();
  Commit("README.md", "hello\n");
  ASSERT_NE(Head(), before);
  ASSERT_TRUE(source.Sync().ok());
  EXPECT_EQ(SourceFile(store.Get("default/shop")->status.source), dir_ + "/shop.yaml");
  EXPECT_NE(store.Get("default/shop")->status.source.find(Head()), std::string::npos);
  EXPECT_EQ(store.Get("default/shop")->metadata.generation, 1);
}

TEST_F(GitOpsTest, PackedRefsAndDetachedHead) {
  Commit("shop.yaml", std::string(codec::testing::kShop));
  Git("pack-refs --all");
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/.git/refs/heads/main"));
  EXPECT_EQ(GitHeadCommit(dir_ + "/shop.yaml"), Head());
  Git("checkout -q --detach");
  EXPECT_EQ(GitHeadCommit(dir_), Head());
  EXPECT_EQ(GitHeadCommit("/"), "");
}

TEST_F(GitOpsTest, WorktreeCheckout) {
  Commit("shop.yaml", std::string(codec::testing::kShop));
  Git(absl::StrCat("worktree add -q ", dir_, "/wt"));
  EXPECT_EQ(GitHeadCommit(dir_ + "/wt"), Head());
}

TEST_F(GitOpsTest, FileGoneWhileStoppedStopsManagementOnceSettled) {
  Commit("shop.yaml", std::string(codec::testing::kShop));
  const std::string state = dir_ + "/.state";
  std::filesystem::create_directories(state);
  {
    Store store(state, clock_);
    ASSERT_TRUE(store.Load().ok());
    ManifestSource source(dir_, store);
    ASSERT_TRUE(source.Sync().ok());
    api::DeploymentColor cart = fakes::FakeResource();
    cart.metadata.name = "cart";
    ASSERT_TRUE(store.Apply(cart, "api").ok());
  }
  std::filesystem::remove(dir_ + "/shop.yaml");
  Store store(state, clock_);
  ASSERT_TRUE(store.Load().ok());
  ASSERT_EQ(store.List().size(), 2u);
  ManifestSourceOptions o;
  o.clock = &clock_;
  ManifestSource source(dir_, store, o);
  ASSERT_TRUE(source.Sync().ok());
  EXPECT_TRUE(store.Get("default/shop"));  // not yet: gone for less than removal_settle
  clock_.Advance(o.removal_settle);
  ASSERT_TRUE(source.Sync().ok());
  EXPECT_FALSE(store.Get("default/shop"));  // the file's, gone with it
  EXPECT_TRUE(store.Get("default/cart"));   // the API's stays
}

}  // namespace
}  // namespace sy::source
