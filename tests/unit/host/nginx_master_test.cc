#include "pkg/host/nginx_master.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pkg/host/process.h"
#include "pkg/util/files.h"
#include "tests/fakes/fake_process_table.h"
#include "tests/fakes/temp_dir.h"

namespace sy::host {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

class NginxMasterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.empty());
    nginx_.config_file = dir_ + "/nginx.conf";
  }
  void WriteConfig(const std::string& content) {
    ASSERT_TRUE(util::WriteFileAtomically(nginx_.config_file, content).ok());
  }

  fakes::TempDir tmp_{"sy-nginx-master"};
  const std::string dir_ = tmp_.path;
  api::NginxSpec nginx_;
  fakes::FakeProcessTable procs_;
};

TEST_F(NginxMasterTest, PidFileFromTheTopLevelDirectiveOrTheDefault) {
  WriteConfig("events {}\nhttp { server { listen 80; } }\n");
  EXPECT_EQ(*NginxPidFile(nginx_.config_file), "/run/nginx.pid");
  WriteConfig("# pid /commented.pid;\nworker_processes 2;\npid  \"" + dir_ +
              "/nginx.pid\" ;\nhttp { pid /not/top/level.pid; }\n");
  EXPECT_EQ(*NginxPidFile(nginx_.config_file), dir_ + "/nginx.pid");
}

TEST_F(NginxMasterTest, PidFileErrorsAreMisconfiguration) {
  auto missing = NginxPidFile(dir_ + "/missing.conf");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(missing.status().message(), HasSubstr("missing.conf"));
  WriteConfig("pid logs/nginx.pid;\n");
  auto relative = NginxPidFile(nginx_.config_file);
  EXPECT_EQ(relative.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(relative.status().message(), HasSubstr("relative"));
  WriteConfig("http {\n");
  EXPECT_EQ(NginxPidFile(nginx_.config_file).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(NginxMasterTest, FindsTheRunningMaster) {
  WriteConfig("pid " + dir_ + "/nginx.pid;\n");
  ASSERT_TRUE(util::WriteFileAtomically(dir_ + "/nginx.pid", "4242\n").ok());
  procs_.Add(4242, 1, "nginx: master process /usr/sbin/nginx -c " + nginx_.config_file);
  EXPECT_EQ(*FindNginxMaster(nginx_, procs_), 4242);
}

TEST_F(NginxMasterTest, NotRunningSaysWhy) {
  WriteConfig("pid " + dir_ + "/nginx.pid;\n");
  auto why = [&] {
    auto r = FindNginxMaster(nginx_, procs_);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
    return std::string(r.status().message());
  };
  EXPECT_EQ(why(), "nginx is not running (pid file " + dir_ + "/nginx.pid is missing)");
  ASSERT_TRUE(util::WriteFileAtomically(dir_ + "/nginx.pid", "\n").ok());
  EXPECT_THAT(why(), HasSubstr("holds no pid"));
  ASSERT_TRUE(util::WriteFileAtomically(dir_ + "/nginx.pid", "4242\n").ok());
  EXPECT_THAT(why(), HasSubstr("names pid 4242, which has exited"));
  procs_.Add(4242, 1, "/usr/bin/python3 app.py");  // a recycled pid
  EXPECT_THAT(why(), HasSubstr("which is not an nginx master"));
}

TEST(ProcessTest, AliveChildrenAndCommandLine) {
  EXPECT_TRUE(ProcessAlive(::getpid()));
  EXPECT_FALSE(ProcessAlive(0));
  EXPECT_FALSE(ProcessAlive(-1));
  EXPECT_THAT(*ProcessCommandLine(::getpid()), HasSubstr("host_test"));

  const pid_t child = ::fork();
  if (child == 0) {
    ::pause();
    ::_exit(0);
  }
  ASSERT_GT(child, 0);
  EXPECT_TRUE(ProcessAlive(child));
  EXPECT_THAT(ChildPids(::getpid()), Contains(child));
  ::kill(child, SIGKILL);
  // Until it is reaped it is a zombie, which counts as exited; wait for it to get there.
  siginfo_t info;
  ASSERT_EQ(::waitid(P_PID, child, &info, WEXITED | WNOWAIT), 0);
  EXPECT_FALSE(ProcessAlive(child));
  EXPECT_THAT(ChildPids(::getpid()), Not(Contains(child)));
  ::waitpid(child, nullptr, 0);
  EXPECT_FALSE(ProcessAlive(child));
  EXPECT_EQ(ProcessCommandLine(child), std::nullopt);
}

}  // namespace
}  // namespace sy::host
