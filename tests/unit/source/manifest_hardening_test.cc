// Tests of what must not unmanage or change a resource by accident: a directory that cannot
// be read, an empty checkout, a resource defined twice, an emptied or truncated file, a file
// being written; and a checkout that went back to an older commit is said in status.source.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "pkg/util/command_runner.h"
#include "tests/unit/source/manifest_fixture.h"

namespace sy::source {
namespace {

namespace fs = std::filesystem;

// Runs `body` in a forked child (it may change process limits) and expects it to return 0.
template <typename F>
void InChild(F body) {
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) ::_exit(body());
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the child's check " << WEXITSTATUS(status) << " failed";
}

// EMFILE (reachable by holding connections) makes the walk's opendir() fail: that is not
// "every manifest is gone".
TEST_F(ManifestSourceTest, ADirectoryThatCannotBeReadKeepsItsResources) {
#if defined(__SANITIZE_ADDRESS__)
  // The sanitizers' runtime checks memory through a pipe of its own; with no descriptor left
  // it reports every virtual call as invalid. The EACCES test below covers this build.
  GTEST_SKIP() << "needs descriptors the sanitizer runtime uses";
#endif
  ASSERT_TRUE(source_.Sync().ok());
  const std::string uid = store_.Get("default/cart")->metadata.uid;
  InChild([&] {
    int highest = 0;
    for (const auto& e : fs::directory_iterator("/proc/self/fd")) {
      highest = std::max(highest, std::atoi(e.path().filename().c_str()));
    }
    rlimit lim{};
    ::getrlimit(RLIMIT_NOFILE, &lim);
    lim.rlim_cur = static_cast<rlim_t>(highest) + 8;
    if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) return 2;
    while (::dup(0) >= 0) {
    }  // no descriptor left
    for (int i = 0; i < 3; ++i) {
      clock_.Advance(std::chrono::seconds(5));  // well past removal_settle
      if (source_.Sync().ok()) return 3;
    }
    for (const char* name : {"shop", "cart", "web"}) {
      if (!store_.Get(std::string("default/") + name)) return 4;
      const auto reason = store_.InvalidReason(std::string("default/") + name);
      if (!reason || reason->find("cannot be read (Too many open files)") == std::string::npos) {
        return 5;
      }
    }
    return store_.Get("default/cart")->metadata.uid == uid ? 0 : 6;
  });
}

// The same with EACCES: a subdirectory of the tree its reader may not open.
TEST_F(ManifestSourceTest, ADirectoryWithoutPermissionKeepsItsResources) {
  ASSERT_TRUE(source_.Sync().ok());
  const std::string uid = store_.Get("default/cart")->metadata.uid;
  // Root reads any directory: the child drops to an unprivileged user, who may traverse the
  // tree but not open team/.
  fs::permissions(tmp_.path, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec |
                                 fs::perms::group_read | fs::perms::others_read);
  fs::permissions(tmp_.path + "/team", fs::perms::owner_all);
  InChild([&] {
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) return 2;
    for (int i = 0; i < 3; ++i) {
      clock_.Advance(std::chrono::seconds(5));  // well past removal_settle
      if (source_.Sync().ok()) return 3;
    }
    for (const char* name : {"cart", "web"}) {  // the two defined in team/b.yaml
      if (!store_.Get(std::string("default/") + name)) return 4;
      const auto reason = store_.InvalidReason(std::string("default/") + name);
      if (!reason || reason->find("cannot be read (Permission denied)") == std::string::npos) {
        return 5;
      }
    }
    return store_.Get("default/cart")->metadata.uid == uid ? 0 : 6;
  });
  fs::permissions(tmp_.path + "/team", fs::perms::owner_all | fs::perms::group_exec |
                                           fs::perms::others_exec | fs::perms::group_read |
                                           fs::perms::others_read);
}

TEST_F(ManifestSourceTest, AnEmptyCheckoutKeepsEverything) {
  ASSERT_TRUE(source_.Sync().ok());
  fs::remove_all(tmp_.path + "/team");
  fs::remove(tmp_.path + "/a.yaml");
  for (int i = 0; i < 3; ++i) {
    clock_.Advance(std::chrono::seconds(5));
    EXPECT_TRUE(absl::IsUnavailable(source_.Sync()));
  }
  ExpectAllKeptAndMarked("is empty, as a checkout not populated yet is");
  // Populated again: the same objects, unmarked.
  Write("a.yaml", Manifest("shop"));
  Write("team/b.yaml", Manifest("cart") + "---\n" + Manifest("web", "green"));
  EXPECT_TRUE(source_.Sync().ok());
  EXPECT_EQ(store_.InvalidReason("default/web"), std::nullopt);
  EXPECT_EQ(store_.Get("default/web")->metadata.generation, 1);
}

TEST_F(ManifestSourceTest, AMissingRootKeepsEverything) {
  ASSERT_TRUE(source_.Sync().ok());
  fs::rename(tmp_.path, tmp_.path + ".away");
  clock_.Advance(std::chrono::seconds(5));
  EXPECT_TRUE(absl::IsUnavailable(source_.Sync()));
  fs::rename(tmp_.path + ".away", tmp_.path);
  ExpectAllKeptAndMarked("No such file or directory");
}

TEST_F(ManifestSourceTest, AResourceDefinedTwiceIsRefusedNamingBothPlaces) {
  ASSERT_TRUE(source_.Sync().ok());
  Write("c.yaml", Manifest("shop", "green"));
  Write("team/b.yaml", Manifest("cart") + "---\n" + Manifest("web", "green") + "---\n" +
                           Manifest("cart", "green"));
  for (int i = 0; i < 2; ++i) {
    const absl::Status s = source_.Sync();
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
    EXPECT_NE(s.message().find(absl::StrCat("resource default/shop is defined more than once: ",
                                            tmp_.path, "/a.yaml:2 and ", tmp_.path, "/c.yaml:2")),
              std::string::npos)
        << s;
    EXPECT_NE(s.message().find(
                  absl::StrCat("resource default/cart is defined more than once: ", tmp_.path,
                               "/team/b.yaml:2 and ", tmp_.path, "/team/b.yaml:48")),
              std::string::npos)
        << s;
  }
  for (const char* name : {"shop", "cart"}) {  // neither copy applied, not even once
    EXPECT_EQ(Desired(name), api::Color::kBlue) << name;
    EXPECT_EQ(store_.Get(std::string("default/") + name)->metadata.generation, 1);
    EXPECT_NE(store_.InvalidReason(std::string("default/") + name)
                  .value_or("")
                  .find("is defined more than once"),
              std::string::npos);
  }
  fs::remove(tmp_.path + "/c.yaml");
  Write("team/b.yaml", Manifest("cart") + "---\n" + Manifest("web", "green"));
  EXPECT_TRUE(source_.Sync().ok());
  EXPECT_EQ(store_.InvalidReason("default/shop"), std::nullopt);
  EXPECT_EQ(store_.Get("default/shop")->metadata.generation, 1);
}

TEST_F(ManifestSourceTest, AnEmptiedFileKeepsItsResources) {
  ASSERT_TRUE(source_.Sync().ok());
  for (const std::string empty : {"", "\n  \n", "# all commented out\n"}) {
    Write("team/b.yaml", empty);
    clock_.Advance(std::chrono::seconds(5));
    EXPECT_TRUE(absl::IsInvalidArgument(source_.Sync()));
    for (const char* name : {"cart", "web"}) {
      ASSERT_TRUE(store_.Get(std::string("default/") + name).has_value()) << name;
      EXPECT_NE(store_.InvalidReason(std::string("default/") + name)
                    .value_or("")
                    .find("remove it to stop managing"),
                std::string::npos);
    }
  }
}

// A copy cut short at "maxLagBytes: 16|777216" still decodes: it must not relax the limit.
TEST_F(ManifestSourceTest, ATruncatedFileIsNotApplied) {
  ASSERT_TRUE(source_.Sync().ok());
  std::string cut = Manifest("shop", "green");
  cut.resize(cut.rfind("777216"));
  Write("a.yaml", cut);
  EXPECT_TRUE(absl::IsInvalidArgument(source_.Sync()));
  const auto dc = store_.Get("default/shop");
  EXPECT_EQ(dc->spec.database.max_lag_bytes, 16777216);
  EXPECT_EQ(dc->spec.active_color, api::Color::kBlue);
  EXPECT_NE(store_.InvalidReason("default/shop").value_or("").find("does not end with a newline"),
            std::string::npos);
}

// An editor writing in place: what is written so far is a valid manifest with a default in
// place of the line still to come. Nothing is applied until the file is closed.
TEST_F(ManifestSourceTest, AFileBeingWrittenIsAppliedOnlyOnceClosed) {
  ASSERT_TRUE(source_.Sync().ok());
  std::atomic<bool> stop{false};
  ManifestSource watched(tmp_.path, store_);
  std::thread watcher([&] { watched.Watch(stop, std::chrono::hours(1)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the watches are set
  std::string whole = Manifest("shop", "green");
  whole.replace(whole.find("16777216"), 8, "1024");
  const size_t last_line = whole.rfind("  database:");
  {
    std::ofstream editor(tmp_.path + "/a.yaml", std::ios::trunc);
    editor << whole.substr(0, last_line) << std::flush;  // valid so far: maxLagBytes defaulted
    Write("team/b.yaml", Manifest("cart", "green") + "---\n" + Manifest("web", "green"));
    EXPECT_TRUE(WaitFor("cart", api::Color::kGreen));  // a sync ran meanwhile
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(Desired("shop"), api::Color::kBlue);
    editor << whole.substr(last_line);
  }
  EXPECT_TRUE(WaitFor("shop", api::Color::kGreen));
  EXPECT_EQ(store_.Get("default/shop")->spec.database.max_lag_bytes, 1024);
  EXPECT_EQ(store_.Get("default/shop")->metadata.generation, 2);  // once, not twice
  stop = true;
  watcher.join();
}

class RollbackTest : public ManifestSourceTest {
 protected:
  void Git(const std::string& args) {
    const std::string cmd = absl::StrCat("git -C ", tmp_.path, " -c user.name=t -c user.email=t@t ",
                                         "-c commit.gpgsign=false ", args, " >/dev/null 2>&1");
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  util::ExecCommandRunner runner_;
  GitCommitHistory history_{runner_};
};

TEST_F(RollbackTest, ACheckoutOfAnOlderCommitIsSaidInStatus) {
  if (std::system("git --version >/dev/null 2>&1") != 0) GTEST_SKIP() << "no git";
  Git("init -q -b main");
  Git("add -A");
  Git("commit -q -m one");
  const std::string one = GitHeadCommit(tmp_.path);
  Write("a.yaml", Manifest("shop", "green"));
  Git("commit -q -am two");
  const std::string two = GitHeadCommit(tmp_.path);
  ManifestSourceOptions o = Options();
  o.history = &history_;
  ManifestSource source(tmp_.path, store_, o);
  ASSERT_TRUE(source.Sync().ok());
  EXPECT_EQ(store_.Get("default/shop")->status.source,
            absl::StrCat(tmp_.path, "/a.yaml (commit ", two, ")"));

  Git("checkout -q --detach " + one);
  ASSERT_TRUE(source.Sync().ok());
  EXPECT_EQ(Desired("shop"), api::Color::kBlue);  // applied, as git says
  EXPECT_EQ(store_.Get("default/shop")->status.source,
            absl::StrCat(tmp_.path, "/a.yaml (commit ", one, "; an older commit than ", two,
                         " applied before)"));
  ASSERT_TRUE(source.Sync().ok());  // still said while it stays there
  EXPECT_NE(store_.Get("default/shop")->status.source.find("older"), std::string::npos);

  Git("checkout -q main");
  ASSERT_TRUE(source.Sync().ok());
  EXPECT_EQ(store_.Get("default/shop")->status.source,
            absl::StrCat(tmp_.path, "/a.yaml (commit ", two, ")"));
}

}  // namespace
}  // namespace sy::source
