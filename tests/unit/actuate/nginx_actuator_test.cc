#include "pkg/actuate/nginx_actuator.h"

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pkg/host/nginx_upstream_file.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_commit_gate.h"
#include "tests/fakes/fake_nginx_host.h"

namespace sy::actuate {
namespace {

using api::Color;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using Runs = std::vector<std::string>;
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
  FakeNginx(const fakes::FakeClock& clock, fakes::FakeNginxHost& host)
      : clock_(clock), host_(host) {
    host_.AddProcess(kMaster, 1, "nginx: master process /usr/sbin/nginx -c /etc/nginx/nginx.conf");
    host_.SetMaster(kMaster);
    StartGeneration();
  }

  absl::StatusOr<model::NginxState> Observe(const api::DeploymentColorSpec& spec) override {
    Advance();
    model::NginxState s;
    s.running = host_.Alive(kMaster);
    const auto file = host_.File(spec.nginx.upstream_file);
    s.file_exists = file.has_value();
    if (file) s.file_color = host::ParseUpstreamColor(spec, file->content);
    s.served_color = served_;
    return s;
  }

  // What `nginx -s reload` does: the master loads the file and starts a new generation.
  void Reload(const api::DeploymentColorSpec& spec) {
    if (ignore_reloads_) return;
    const auto file = host_.File(spec.nginx.upstream_file);
    pending_ = file ? host::ParseUpstreamColor(spec, file->content) : std::nullopt;
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
    for (int pid : workers_) host_.AddProcess(pid, kMaster, kWorkerTitle);
    ++reloads_;
  }
  void Advance() {
    if (!reloaded_at_) return;
    const auto since = clock_.MonotonicNow() - *reloaded_at_;
    if (since >= milliseconds(16)) served_ = pending_;
    if (since >= milliseconds(100) && !linger_) {
      for (int pid : retiring_) {
        host_.SetTitle(pid, "nginx: worker process is shutting down");
      }
    }
    if (since >= milliseconds(120) && !linger_) {
      for (int pid : retiring_) host_.ExitProcess(pid);
    }
  }

  const fakes::FakeClock& clock_;
  fakes::FakeNginxHost& host_;
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
    spec_.nginx.upstream_name = "shop";
    spec_.nginx.upstream_file = "/etc/nginx/switchyard/shop.conf";
    spec_.nginx.config_file = "/etc/nginx/nginx.conf";
    spec_.nginx.binary = "/usr/sbin/nginx";
    spec_.blue.upstreams = {"127.0.0.1:18081"};
    spec_.green.upstreams = {"127.0.0.1:18082"};
    host_.OnTest([this] { return test_result_; });
    host_.OnReload([this]() -> absl::StatusOr<util::CommandResult> {
      nginx_.Reload(spec_);
      return util::CommandResult{};
    });
  }
  absl::Status Switch(Color c) {
    outcome_ = {};
    return actuator_.SwitchTraffic(spec_, "default/shop", c, &outcome_);
  }
  std::optional<std::string> File() {
    const auto file = host_.File(spec_.nginx.upstream_file);
    if (!file) return std::nullopt;
    return file->content;
  }
  unsigned Mode() { return host_.File(spec_.nginx.upstream_file).value().mode; }

  api::DeploymentColorSpec spec_;
  fakes::FakeClock clock_;
  fakes::FakeNginxHost host_;
  FakeNginx nginx_{clock_, host_};
  absl::StatusOr<util::CommandResult> test_result_ = util::CommandResult{};
  NginxActuator actuator_{host_, clock_, nginx_};
  fakes::FakeCommitGate gate_;
  NginxActuator gated_{host_, clock_, nginx_, {}, &gate_};
  StepOutcome outcome_;
};

TEST_F(NginxActuatorTest, SwitchesAndReturnsOnlyOnceNoOldWorkerCanAccept) {
  const std::vector<int> old_workers = nginx_.Workers();
  ASSERT_TRUE(Switch(Color::kGreen).ok());
  EXPECT_EQ(File(), host::RenderUpstreamFile(spec_, "default/shop", Color::kGreen));
  EXPECT_THAT(host_.ProgramRuns(), ElementsAre("test", "reload"));
  EXPECT_EQ(nginx_.Reloads(), 1);
  for (int pid : old_workers) {
    EXPECT_TRUE(host_.WorkerRetired(pid));
  }
  EXPECT_EQ(nginx_.Observe(spec_)->served_color, Color::kGreen);
  EXPECT_THAT(outcome_.detail, HasSubstr("nginx switched to green"));
  EXPECT_THAT(outcome_.detail, HasSubstr("green served after 20 ms"));
  EXPECT_THAT(outcome_.detail, HasSubstr("2 old workers retired after 100 ms"));
  EXPECT_EQ(Mode(), 0644u);
}

TEST_F(NginxActuatorTest, SecondPassDoesNothing) {
  ASSERT_TRUE(Switch(Color::kGreen).ok());
  const auto runs = host_.ProgramRuns().size();
  ASSERT_TRUE(Switch(Color::kGreen).ok());
  EXPECT_EQ(host_.ProgramRuns().size(), runs);
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
  host_.SetFile(spec_.nginx.upstream_file, green, 0600);
  ASSERT_TRUE(Switch(Color::kGreen).ok());
  EXPECT_THAT(host_.ProgramRuns(), ElementsAre("test", "reload"));
  EXPECT_EQ(Mode(), 0600u);  // untouched
  EXPECT_THAT(outcome_.detail, Not(HasSubstr("rewritten")));
}

TEST_F(NginxActuatorTest, NotRunningWritesNothing) {
  host_.ExitProcess(kMaster);
  const absl::Status s = Switch(Color::kGreen);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr("nginx is not running"));
  EXPECT_EQ(File(), std::nullopt);
  EXPECT_TRUE(host_.ProgramRuns().empty());
}

TEST_F(NginxActuatorTest, RejectedConfigPutsThePreviousFileBack) {
  const std::string previous = "# hand-written\nupstream shop { server 127.0.0.1:18081; }\n";
  host_.SetFile(spec_.nginx.upstream_file, previous, 0640);
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
  EXPECT_EQ(Mode(), 0640u);
  EXPECT_THAT(host_.ProgramRuns(), ElementsAre("test"));  // no reload
  EXPECT_EQ(nginx_.Observe(spec_)->served_color, Color::kBlue);
}

TEST_F(NginxActuatorTest, RejectedConfigRemovesAFileThatDidNotExist) {
  test_result_ = util::CommandResult{1, "nginx: [emerg] broken\n"};
  EXPECT_EQ(Switch(Color::kGreen).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(File(), std::nullopt);
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
  host_.OnReload([]() -> absl::StatusOr<util::CommandResult> {
    return util::CommandResult{1, "nginx: [error] invalid PID number \"\" in \"/run/nginx.pid\"\n"};
  });
  const absl::Status s = Switch(Color::kGreen);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr("nginx -s reload failed (exit 1): nginx: [error] invalid"));
}

TEST_F(NginxActuatorTest, RestoreThatFailsSaysBoth) {
  const std::string previous = host::RenderUpstreamFile(spec_, "default/shop", Color::kBlue);
  host_.SetFile(spec_.nginx.upstream_file, previous);
  host_.OnTest([this]() -> absl::StatusOr<util::CommandResult> {
    host_.FailWrites(absl::PermissionDeniedError("writing /etc/nginx/switchyard/shop.conf"));
    return util::CommandResult{1, "nginx: [emerg] broken\n"};
  });
  const absl::Status s = Switch(Color::kGreen);
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(s.message(), HasSubstr("nginx -t rejected the new upstream file"));
  EXPECT_THAT(s.message(),
              HasSubstr("putting the previous file back failed: writing /etc/nginx/switchyard"));
  EXPECT_THAT(host_.ProgramRuns(), ElementsAre("test"));  // no reload of an untested file
}

TEST_F(NginxActuatorTest, RemovalThatFailsSaysBoth) {
  test_result_ = util::CommandResult{1, "nginx: [emerg] broken\n"};
  host_.FailRemoves(absl::PermissionDeniedError("removing /etc/nginx/switchyard/shop.conf"));
  const absl::Status s = Switch(Color::kGreen);
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(s.message(), HasSubstr("putting the previous file back failed: removing"));
  EXPECT_THAT(host_.ProgramRuns(), ElementsAre("test"));
}

TEST_F(NginxActuatorTest, FileThatCannotBeWrittenRunsNothing) {
  host_.FailWrites(absl::PermissionDeniedError("creating directory /etc/nginx/switchyard"));
  const absl::Status s = Switch(Color::kGreen);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(s.message(), HasSubstr("nginx upstreamFile"));
  EXPECT_TRUE(host_.ProgramRuns().empty());
  EXPECT_EQ(nginx_.Observe(spec_)->served_color, Color::kBlue);
}

TEST_F(NginxActuatorTest, FileThatCannotBeReadWritesNothing) {
  host_.FailReads(absl::PermissionDeniedError("reading /etc/nginx/switchyard/shop.conf"));
  const absl::Status s = Switch(Color::kGreen);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(s.message(), HasSubstr("nginx upstreamFile"));
  EXPECT_EQ(File(), std::nullopt);
  EXPECT_TRUE(host_.ProgramRuns().empty());
}

TEST_F(NginxActuatorTest, ReloadThatTimesOutIsUnavailable) {
  host_.OnReload([]() -> absl::StatusOr<util::CommandResult> {
    return absl::DeadlineExceededError("nginx -s reload did not finish within 30000 ms");
  });
  const absl::Status s = Switch(Color::kGreen);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr("did not finish"));
  // The tested file stays: the next pass reloads again.
  EXPECT_EQ(File(), host::RenderUpstreamFile(spec_, "default/shop", Color::kGreen));
}

// --- the commit gate (switchyard-agent's epoch re-check) ---

TEST_F(NginxActuatorTest, GateRefusingTheFileWriteChangesNothing) {
  gate_.Refuse(std::string(acts::kUpstreamFile));
  const absl::Status s = gated_.SwitchTraffic(spec_, "default/shop", Color::kGreen, &outcome_);
  EXPECT_EQ(s, fakes::FakeCommitGate::Refusal(acts::kUpstreamFile));
  EXPECT_EQ(File(), std::nullopt);
  EXPECT_TRUE(host_.ProgramRuns().empty());
  EXPECT_EQ(nginx_.Reloads(), 0);
}

TEST_F(NginxActuatorTest, GateRefusingTheReloadLeavesTheTestedFileUnloaded) {
  gate_.Refuse(std::string(acts::kNginxReload));
  const absl::Status s = gated_.SwitchTraffic(spec_, "default/shop", Color::kGreen, &outcome_);
  EXPECT_EQ(s, fakes::FakeCommitGate::Refusal(acts::kNginxReload));
  EXPECT_EQ(File(), host::RenderUpstreamFile(spec_, "default/shop", Color::kGreen));
  EXPECT_THAT(host_.ProgramRuns(), ElementsAre("test"));
  EXPECT_EQ(nginx_.Reloads(), 0);
  EXPECT_EQ(nginx_.Observe(spec_)->served_color, Color::kBlue);
}

// A file already in place (a crash between the write and the reload): only the reload asks.
TEST_F(NginxActuatorTest, GateRefusingEverythingOverAFileInPlaceRunsNoReload) {
  host_.SetFile(spec_.nginx.upstream_file,
                host::RenderUpstreamFile(spec_, "default/shop", Color::kGreen));
  gate_.Refuse("*");
  const absl::Status s = gated_.SwitchTraffic(spec_, "default/shop", Color::kGreen, &outcome_);
  EXPECT_EQ(s, fakes::FakeCommitGate::Refusal(acts::kNginxReload));
  EXPECT_THAT(gate_.Asked(), ElementsAre(std::string(acts::kNginxReload)));
  EXPECT_EQ(nginx_.Reloads(), 0);
}

TEST_F(NginxActuatorTest, GateAllowingEverythingSwitchesAsWithoutOne) {
  ASSERT_TRUE(gated_.SwitchTraffic(spec_, "default/shop", Color::kGreen, &outcome_).ok());
  EXPECT_THAT(gate_.Asked(),
              ElementsAre(std::string(acts::kUpstreamFile), std::string(acts::kNginxReload)));
  EXPECT_EQ(File(), host::RenderUpstreamFile(spec_, "default/shop", Color::kGreen));
  EXPECT_THAT(host_.ProgramRuns(), ElementsAre("test", "reload"));
  EXPECT_EQ(nginx_.Observe(spec_)->served_color, Color::kGreen);
  // Done: a second pass asks nothing and does nothing.
  ASSERT_TRUE(gated_.SwitchTraffic(spec_, "default/shop", Color::kGreen, &outcome_).ok());
  EXPECT_EQ(gate_.Asked().size(), 2u);
  EXPECT_EQ(nginx_.Reloads(), 1);
}

}  // namespace
}  // namespace sy::actuate
