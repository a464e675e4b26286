#include "pkg/actuate/nginx_actuator.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pkg/host/nginx_upstream_file.h"
#include "pkg/util/files.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_command_runner.h"
#include "tests/fakes/fake_process_table.h"
#include "tests/fakes/temp_dir.h"

namespace sy::actuate {
namespace {

using api::Color;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using Argv = std::vector<std::string>;
using std::chrono::milliseconds;

constexpr int kMaster = 100;
constexpr char kWorkerTitle[] = "nginx: worker process";

// nginx as the actuator sees it: a master with a generation of workers, the color its
// current generation serves (read from the upstream file at the last reload), and the
// reload's timing of pkg/observe/README.md #23 on the fake clock: new workers answer after 16 ms,
// old ones begin to shut down after 100 ms and exit 20 ms later. Observe() advances the
// world to the fake clock's time.
class FakeNginx final : public model::NginxObserver {
 public:
  FakeNginx(const fakes::FakeClock& clock, fakes::FakeProcessTable& procs)
      : clock_(clock), procs_(procs) {
    procs_.Add(kMaster, 1, "nginx: master process /usr/sbin/nginx -c /etc/nginx/nginx.conf");
    StartGeneration();
  }

  absl::StatusOr<model::NginxState> Observe(const api::DeploymentColorSpec& spec) override {
    Advance();
    model::NginxState s;
    s.running = procs_.Alive(kMaster);
    auto content = util::ReadFile(spec.nginx.upstream_file);
    s.file_exists = content.ok();
    if (content.ok()) s.file_color = host::ParseUpstreamColor(spec, *content);
    s.served_color = served_;
    return s;
  }

  // What `nginx -s reload` does: the master loads the file and starts a new generation.
  void Reload(const api::DeploymentColorSpec& spec) {
    if (ignore_reloads_) return;
    auto content = util::ReadFile(spec.nginx.upstream_file);
    pending_ = content.ok() ? host::ParseUpstreamColor(spec, *content) : std::nullopt;
    reloaded_at_ = clock_.MonotonicNow();
    retiring_ = workers_;
    StartGeneration();
  }

  void IgnoreReloads() { ignore_reloads_ = true; }
  void OldWorkersLinger() { linger_ = true; }
  const std::vector<int>& Workers() const { return workers_; }
  int Reloads() const { return reloads_; }

 private:
  void StartGeneration() {
    workers_ = {next_pid_, next_pid_ + 1};
    next_pid_ += 2;
    for (int pid : workers_) procs_.Add(pid, kMaster, kWorkerTitle);
    ++reloads_;
  }
  void Advance() {
    if (!reloaded_at_) return;
    const auto since = clock_.MonotonicNow() - *reloaded_at_;
    if (since >= milliseconds(16)) served_ = pending_;
    if (since >= milliseconds(100) && !linger_) {
      for (int pid : retiring_) {
        procs_.SetCommandLine(pid, "nginx: worker process is shutting down");
      }
    }
    if (since >= milliseconds(120) && !linger_) {
      for (int pid : retiring_) procs_.Exit(pid);
    }
  }

  const fakes::FakeClock& clock_;
  fakes::FakeProcessTable& procs_;
  std::optional<Color> served_ = Color::kBlue;
  std::optional<Color> pending_;
  std::optional<std::chrono::steady_clock::time_point> reloaded_at_;
  std::vector<int> workers_;
  std::vector<int> retiring_;
  int next_pid_ = 101;
  int reloads_ = -1;  // the first generation is the start, not a reload
  bool ignore_reloads_ = false;
  bool linger_ = false;
};

class NginxActuatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.empty());
    spec_.nginx.upstream_name = "shop";
    spec_.nginx.upstream_file = dir_ + "/switchyard/shop.conf";
    spec_.nginx.config_file = dir_ + "/nginx.conf";
    spec_.nginx.binary = "/usr/sbin/nginx";
    spec_.blue.upstreams = {"127.0.0.1:18081"};
    spec_.green.upstreams = {"127.0.0.1:18082"};
    ASSERT_TRUE(
        util::WriteFileAtomically(spec_.nginx.config_file, "pid " + dir_ + "/nginx.pid;\n").ok());
    ASSERT_TRUE(util::WriteFileAtomically(dir_ + "/nginx.pid", std::to_string(kMaster)).ok());
    runner_.OnRun([this](const util::Command& cmd) -> absl::StatusOr<util::CommandResult> {
      if (cmd.argv.at(1) == "-t") return test_result_;
      if (cmd.argv.at(1) == "-s") nginx_.Reload(spec_);
      return util::CommandResult{};
    });
  }
  absl::Status Switch(Color c) {
    outcome_ = {};
    return actuator_.SwitchTraffic(spec_, "default/shop", c, &outcome_);
  }
  void MakeFileDirectory() { ASSERT_EQ(::mkdir((dir_ + "/switchyard").c_str(), 0755), 0); }
  std::optional<std::string> File() {
    auto content = util::ReadFile(spec_.nginx.upstream_file);
    if (!content.ok()) return std::nullopt;
    return *content;
  }
  Argv TestArgv() { return {"/usr/sbin/nginx", "-t", "-c", spec_.nginx.config_file}; }
  Argv ReloadArgv() { return {"/usr/sbin/nginx", "-s", "reload", "-c", spec_.nginx.config_file}; }

  fakes::TempDir tmp_{"sy-nginx-actuator"};
  const std::string dir_ = tmp_.path;
  api::DeploymentColorSpec spec_;
  fakes::FakeClock clock_;
  fakes::FakeProcessTable procs_;
  fakes::FakeCommandRunner runner_;
  FakeNginx nginx_{clock_, procs_};
  absl::StatusOr<util::CommandResult> test_result_ = util::CommandResult{};
  NginxActuator actuator_{runner_, clock_, nginx_, procs_};
  StepOutcome outcome_;
};

TEST_F(NginxActuatorTest, SwitchesAndReturnsOnlyOnceNoOldWorkerCanAccept) {
  const std::vector<int> old_workers = nginx_.Workers();
  ASSERT_TRUE(Switch(Color::kGreen).ok());
  EXPECT_EQ(File(), host::RenderUpstreamFile(spec_, "default/shop", Color::kGreen));
  EXPECT_THAT(runner_.Commands(), ElementsAre(TestArgv(), ReloadArgv()));
  EXPECT_EQ(nginx_.Reloads(), 1);
  for (int pid : old_workers) {
    EXPECT_TRUE(!procs_.Alive(pid) ||
                procs_.CommandLine(pid)->find("shutting down") != std::string::npos);
  }
  EXPECT_EQ(nginx_.Observe(spec_)->served_color, Color::kGreen);
  EXPECT_THAT(outcome_.detail, HasSubstr("nginx switched to green"));
  EXPECT_THAT(outcome_.detail, HasSubstr("green served after 20 ms"));
  EXPECT_THAT(outcome_.detail, HasSubstr("2 old workers retired after 100 ms"));
  struct stat st;
  ASSERT_EQ(::stat(spec_.nginx.upstream_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

TEST_F(NginxActuatorTest, SecondPassDoesNothing) {
  ASSERT_TRUE(Switch(Color::kGreen).ok());
  const auto commands = runner_.Commands().size();
  ASSERT_TRUE(Switch(Color::kGreen).ok());
  EXPECT_EQ(runner_.Commands().size(), commands);
  EXPECT_EQ(nginx_.Reloads(), 1);
  EXPECT_THAT(outcome_.detail, HasSubstr("already serves green"));
}

TEST_F(NginxActuatorTest, BothDirections) {
  ASSERT_TRUE(Switch(Color::kGreen).ok());
  ASSERT_TRUE(Switch(Color::kBlue).ok());
  EXPECT_EQ(File(), host::RenderUpstreamFile(spec_, "default/shop", Color::kBlue));
  EXPECT_EQ(nginx_.Observe(spec_)->served_color, Color::kBlue);
  EXPECT_EQ(nginx_.Reloads(), 2);
}

TEST_F(NginxActuatorTest, FileInPlaceButNotServedReloadsWithoutRewriting) {
  // A crash between the write and the reload.
  const std::string green = host::RenderUpstreamFile(spec_, "default/shop", Color::kGreen);
  MakeFileDirectory();
  ASSERT_TRUE(util::WriteFileAtomically(spec_.nginx.upstream_file, green, 0600).ok());
  ASSERT_TRUE(Switch(Color::kGreen).ok());
  EXPECT_THAT(runner_.Commands(), ElementsAre(TestArgv(), ReloadArgv()));
  struct stat st;
  ASSERT_EQ(::stat(spec_.nginx.upstream_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);  // untouched
  EXPECT_THAT(outcome_.detail, Not(HasSubstr("rewritten")));
}

TEST_F(NginxActuatorTest, NotRunningWritesNothing) {
  procs_.Exit(kMaster);
  const absl::Status s = Switch(Color::kGreen);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr("nginx is not running"));
  EXPECT_EQ(File(), std::nullopt);
  EXPECT_TRUE(runner_.Commands().empty());
}

TEST_F(NginxActuatorTest, RejectedConfigPutsThePreviousFileBack) {
  const std::string previous = "# hand-written\nupstream shop { server 127.0.0.1:18081; }\n";
  MakeFileDirectory();
  ASSERT_TRUE(util::WriteFileAtomically(spec_.nginx.upstream_file, previous, 0640).ok());
  test_result_ =
      util::CommandResult{1,
                          "nginx: [emerg] unknown directive \"x\" in /etc/nginx/a.conf:3\n"
                          "nginx: configuration file /etc/nginx/nginx.conf test failed\n"};
  const absl::Status s = Switch(Color::kGreen);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "nginx -t rejected the new upstream file " + spec_.nginx.upstream_file +
                             ": nginx: [emerg] unknown directive \"x\" in /etc/nginx/a.conf:3; "
                             "nginx: configuration file /etc/nginx/nginx.conf test failed; the "
                             "previous file is restored");
  EXPECT_EQ(File(), previous);
  struct stat st;
  ASSERT_EQ(::stat(spec_.nginx.upstream_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  EXPECT_THAT(runner_.Commands(), ElementsAre(TestArgv()));  // no reload
  EXPECT_EQ(nginx_.Observe(spec_)->served_color, Color::kBlue);
}

TEST_F(NginxActuatorTest, RejectedConfigRemovesAFileThatDidNotExist) {
  test_result_ = util::CommandResult{1, "nginx: [emerg] broken\n"};
  EXPECT_EQ(Switch(Color::kGreen).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(File(), std::nullopt);
  EXPECT_TRUE(util::PathExists(dir_ + "/switchyard"));  // the directory it created stays
}

TEST_F(NginxActuatorTest, MissingBinaryIsMisconfigurationAndRestores) {
  test_result_ = absl::NotFoundError("program 'nginx' not found in PATH (/usr/bin)");
  const absl::Status s = Switch(Color::kGreen);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("spec.nginx.binary '/usr/sbin/nginx'"));
  EXPECT_EQ(File(), std::nullopt);
}

TEST_F(NginxActuatorTest, ReloadThatTakesNoEffectTimesOut) {
  nginx_.IgnoreReloads();
  const auto before = clock_.MonotonicNow();
  const absl::Status s = Switch(Color::kGreen);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr("did not switch to green within 10000 ms"));
  EXPECT_THAT(s.message(), HasSubstr("the probe answers blue"));
  EXPECT_THAT(s.message(), HasSubstr("no new workers started"));
  EXPECT_GE(clock_.MonotonicNow() - before, milliseconds(10000));
  // The tested file stays: the next pass sees it and reloads again.
  EXPECT_EQ(File(), host::RenderUpstreamFile(spec_, "default/shop", Color::kGreen));
}

TEST_F(NginxActuatorTest, OldWorkersThatKeepAcceptingTimeOut) {
  nginx_.OldWorkersLinger();
  const absl::Status s = Switch(Color::kGreen);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr("2 old workers still accept connections"));
}

TEST_F(NginxActuatorTest, FailedReloadIsUnavailable) {
  runner_.OnRun([](const util::Command& cmd) -> absl::StatusOr<util::CommandResult> {
    if (cmd.argv.at(1) == "-s") {
      return util::CommandResult{1,
                                 "nginx: [error] invalid PID number \"\" in \"/run/nginx.pid\"\n"};
    }
    return util::CommandResult{};
  });
  const absl::Status s = Switch(Color::kGreen);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr("nginx -s reload failed (exit 1): nginx: [error] invalid"));
}

}  // namespace
}  // namespace sy::actuate
