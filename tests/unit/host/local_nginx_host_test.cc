#include "pkg/host/local_nginx_host.h"

#include <sys/stat.h>

#include <chrono>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pkg/util/files.h"
#include "tests/fakes/fake_command_runner.h"
#include "tests/fakes/fake_process_table.h"
#include "tests/fakes/temp_dir.h"

namespace sy::host {
namespace {

using ::testing::ElementsAre;
using Argv = std::vector<std::string>;
using std::chrono::milliseconds;

class LocalNginxHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.empty());
    nginx_.binary = "/usr/sbin/nginx";
    nginx_.config_file = dir_ + "/nginx.conf";
  }

  fakes::TempDir tmp_{"sy-local-nginx-host"};
  const std::string dir_ = tmp_.path;
  api::NginxSpec nginx_;
  fakes::FakeCommandRunner runner_;
  fakes::FakeProcessTable procs_;
  LocalNginxHost host_{runner_, procs_};
};

TEST_F(LocalNginxHostTest, WriteCreatesTheDirectoriesAndKeepsTheMode) {
  const std::string path = dir_ + "/a/b/shop.conf";
  ASSERT_TRUE(host_.WriteFile(path, "upstream shop {}\n", 0640).ok());
  const auto file = host_.ReadFile(path);
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_TRUE(file->has_value());
  EXPECT_EQ((*file)->content, "upstream shop {}\n");
  EXPECT_EQ((*file)->mode, 0640u);
  struct stat st;
  ASSERT_EQ(::stat((dir_ + "/a/b").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0755u);
}

TEST_F(LocalNginxHostTest, MissingFileIsNoFileAndRemovingItIsFine) {
  const auto file = host_.ReadFile(dir_ + "/none.conf");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_FALSE(file->has_value());
  EXPECT_TRUE(host_.RemoveFile(dir_ + "/none.conf").ok());
}

TEST_F(LocalNginxHostTest, RemoveRemoves) {
  ASSERT_TRUE(host_.WriteFile(dir_ + "/x.conf", "x", 0644).ok());
  ASSERT_TRUE(host_.RemoveFile(dir_ + "/x.conf").ok());
  EXPECT_FALSE(util::PathExists(dir_ + "/x.conf"));
}

TEST_F(LocalNginxHostTest, WriteUnderAFileFailsAndNamesTheDirectory) {
  ASSERT_TRUE(host_.WriteFile(dir_ + "/plain", "x", 0644).ok());
  const absl::Status s = host_.WriteFile(dir_ + "/plain/shop.conf", "y", 0644);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), ::testing::HasSubstr(dir_ + "/plain"));
}

TEST_F(LocalNginxHostTest, ProgramRunsWithTheConfigFileAndTheBound) {
  std::vector<milliseconds> timeouts;
  runner_.OnRun([&](const util::Command& cmd) -> absl::StatusOr<util::CommandResult> {
    timeouts.push_back(std::chrono::duration_cast<milliseconds>(cmd.timeout));
    return util::CommandResult{};
  });
  ASSERT_TRUE(host_.TestConfig(nginx_, milliseconds(1500)).ok());
  ASSERT_TRUE(host_.Reload(nginx_, milliseconds(2500)).ok());
  EXPECT_THAT(runner_.Commands(),
              ElementsAre(Argv{"/usr/sbin/nginx", "-t", "-c", nginx_.config_file},
                          Argv{"/usr/sbin/nginx", "-s", "reload", "-c", nginx_.config_file}));
  EXPECT_THAT(timeouts, ElementsAre(milliseconds(1500), milliseconds(2500)));
}

TEST_F(LocalNginxHostTest, ProgramFailuresKeepTheRunnersCodes) {
  runner_.OnRun([](const util::Command&) -> absl::StatusOr<util::CommandResult> {
    return absl::NotFoundError("program '/usr/sbin/nginx' not found");
  });
  EXPECT_EQ(host_.TestConfig(nginx_, milliseconds(100)).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(LocalNginxHostTest, WorkersAndTheirRetirement) {
  procs_.Add(100, 1, "nginx: master process nginx");
  procs_.Add(101, 100, "nginx: worker process");
  procs_.Add(102, 100, "nginx: worker process is shutting down");
  procs_.Add(200, 1, "bash");
  EXPECT_THAT(host_.Workers(100), ElementsAre(101, 102));
  EXPECT_FALSE(host_.WorkerRetired(101));
  EXPECT_TRUE(host_.WorkerRetired(102));
  EXPECT_TRUE(host_.WorkerRetired(103));  // exited
}

TEST_F(LocalNginxHostTest, FindsTheMasterThroughThePidFile) {
  ASSERT_TRUE(util::WriteFileAtomically(nginx_.config_file, "pid " + dir_ + "/nginx.pid;\n").ok());
  ASSERT_TRUE(util::WriteFileAtomically(dir_ + "/nginx.pid", "100\n").ok());
  procs_.Add(100, 1, "nginx: master process nginx");
  const auto master = host_.FindMaster(nginx_);
  ASSERT_TRUE(master.ok()) << master.status();
  EXPECT_EQ(*master, 100);
  procs_.Exit(100);
  EXPECT_EQ(host_.FindMaster(nginx_).status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace sy::host
