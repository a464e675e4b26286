// Tests of the confinement of the manifest tree: symbolic links that lead outside it are
// never read (their target's content appears nowhere), loops end, a link inside is read
// once, and a root that is a link (git-sync) is followed, also when it is swapped.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/unit/source/manifest_fixture.h"

namespace sy::source {
namespace {

namespace fs = std::filesystem;

constexpr char kSecret[] = "0b8d5e1f-not-a-manifest-secret";

class TreeTest : public ManifestSourceTest {
 protected:
  // A file outside the tree, as <state-dir>/token is.
  std::string Secret() {
    const std::string path = outside_.path + "/token";
    std::ofstream(path) << kSecret << "\n";
    return path;
  }
  TempDir outside_;
};

TEST_F(TreeTest, ALinkToAFileOutsideTheTreeIsNeverRead) {
  ASSERT_TRUE(source_.Sync().ok());
  fs::create_symlink(Secret(), tmp_.path + "/evil.yaml");
  fs::create_symlink(Secret(), tmp_.path + "/team/token.json");
  ::testing::internal::CaptureStderr();
  const absl::Status s = source_.Sync();
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_NE(s.message().find(tmp_.path + "/evil.yaml: a symbolic link to outside"),
            std::string::npos)
      << s;
  EXPECT_EQ(s.message().find(kSecret), std::string::npos) << s;
  EXPECT_EQ(log.find(kSecret), std::string::npos) << log;
  for (const auto& dc : store_.List()) {
    EXPECT_EQ(store_.InvalidReason(dc.Key()).value_or("").find(kSecret), std::string::npos);
  }
  EXPECT_EQ(store_.List().size(), 3u);
}

// A file that held resources and becomes a link to outside keeps them (not read, not gone).
TEST_F(TreeTest, AManifestReplacedByALinkToOutsideKeepsItsResources) {
  ASSERT_TRUE(source_.Sync().ok());
  fs::remove(tmp_.path + "/a.yaml");
  fs::create_symlink(Secret(), tmp_.path + "/a.yaml");
  EXPECT_FALSE(source_.Sync().ok());
  clock_.Advance(std::chrono::seconds(10));
  EXPECT_FALSE(source_.Sync().ok());
  ASSERT_TRUE(store_.Get("default/shop").has_value());
  EXPECT_NE(store_.InvalidReason("default/shop").value_or("").find("outside the manifest tree"),
            std::string::npos);
}

TEST_F(TreeTest, ALinkToADirectoryOutsideIsNotWalked) {
  std::ofstream(outside_.path + "/other.yaml") << Manifest("other");
  fs::create_symlink(outside_.path, tmp_.path + "/elsewhere");
  EXPECT_TRUE(absl::IsInvalidArgument(source_.Sync()));
  EXPECT_FALSE(store_.Get("default/other").has_value());
}

// Two links into each other: the sync ends (in a child process, which the test can kill if
// it does not) and applies the tree's manifests.
TEST_F(TreeTest, LinkLoopsEnd) {
  fs::create_directories(tmp_.path + "/x");
  fs::create_symlink(tmp_.path + "/x", tmp_.path + "/team/to-x");
  fs::create_symlink(tmp_.path + "/team", tmp_.path + "/x/to-team");
  fs::create_symlink(tmp_.path, tmp_.path + "/x/to-root");
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) ::_exit(source_.Sync().ok() && store_.List().size() == 3 ? 0 : 1);
  int status = 0;
  pid_t done = 0;
  for (int i = 0; i < 500 && (done = ::waitpid(pid, &status, WNOHANG)) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (done == 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    FAIL() << "Sync() did not end within 5 s";
  }
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST_F(TreeTest, ALinkInsideTheTreeIsReadOnce) {
  fs::create_symlink(tmp_.path + "/a.yaml", tmp_.path + "/team/also-a.yaml");
  fs::create_symlink(tmp_.path + "/team", tmp_.path + "/team-again");
  EXPECT_TRUE(source_.Sync().ok());  // not "defined more than once"
  EXPECT_EQ(store_.List().size(), 3u);
}

// git-sync: the root is a link to the checkout of the current commit, swapped atomically.
TEST_F(TreeTest, ARootLinkIsFollowedAndItsSwapSeenAtOnce) {
  TempDir parent;
  const std::string v1 = parent.path + "/rev-1";
  const std::string v2 = parent.path + "/rev-2";
  fs::create_directories(v1);
  fs::create_directories(v2);
  std::ofstream(v1 + "/shop.yaml") << Manifest("shop", "blue");
  std::ofstream(v2 + "/shop.yaml") << Manifest("shop", "green");
  const std::string root = parent.path + "/current";
  fs::create_symlink(v1, root);
  ManifestSource source(root, store_, Options());
  ASSERT_TRUE(source.Sync().ok());
  EXPECT_EQ(Desired("shop"), api::Color::kBlue);
  EXPECT_EQ(store_.Get("default/shop")->status.source, root + "/shop.yaml");

  std::atomic<bool> stop{false};
  std::thread watcher([&] { source.Watch(stop, std::chrono::hours(1)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the watches are set
  fs::create_symlink(v2, parent.path + "/next");
  fs::rename(parent.path + "/next", root);           // what git-sync does
  EXPECT_TRUE(WaitFor("shop", api::Color::kGreen));  // not after the (hour-long) poll
  stop = true;
  watcher.join();
}

}  // namespace
}  // namespace sy::source
