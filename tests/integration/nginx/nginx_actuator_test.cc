// The nginx observer and actuator against a real nginx: started by the test in a temporary
// directory, listening on a free loopback port, proxying to two in-process app servers that
// answer with their color.
#include "pkg/actuate/nginx_actuator.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pkg/host/local_nginx_host.h"
#include "pkg/host/nginx_master.h"
#include "pkg/host/nginx_upstream_file.h"
#include "pkg/host/process.h"
#include "pkg/observe/nginx_observer.h"
#include "pkg/util/clock.h"
#include "pkg/util/command_runner.h"
#include "pkg/util/files.h"
#include "tests/integration/nginx/test_servers.h"

namespace sy {
namespace {

using api::Color;
using std::chrono::milliseconds;
using std::chrono::steady_clock;
using ::testing::HasSubstr;

std::string NginxBinary() {
  const char* env = std::getenv("SY_NGINX_BINARY");
  return env ? env : "/usr/sbin/nginx";
}

// Polls `done` every 5 ms for up to 10 s; true when it held.
template <typename F>
bool Eventually(F done) {
  const auto deadline = steady_clock::now() + std::chrono::seconds(10);
  while (steady_clock::now() < deadline) {  // poll
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return done();
}

class NginxIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!util::PathExists(NginxBinary())) GTEST_SKIP() << NginxBinary() << " not installed";
    std::string tmpl = ::testing::TempDir() + "sy-nginx-it-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    ::chmod(dir_.c_str(), 0755);  // workers run as nobody when we are root
    port_ = testing::FreePort();
    spec_.nginx.upstream_name = "shop";
    spec_.nginx.upstream_file = dir_ + "/switchyard/shop.conf";
    spec_.nginx.binary = NginxBinary();
    spec_.nginx.config_file = dir_ + "/nginx.conf";
    spec_.nginx.probe.url = "http://127.0.0.1:" + std::to_string(port_) + "/";
    spec_.nginx.probe.timeout_seconds = 2;
    spec_.blue.upstreams = {blue_.address()};
    spec_.green.upstreams = {green_.address()};
    ASSERT_EQ(::mkdir((dir_ + "/switchyard").c_str(), 0755), 0);
    ASSERT_TRUE(
        util::WriteFileAtomically(spec_.nginx.upstream_file,
                                  host::RenderUpstreamFile(spec_, "default/shop", Color::kBlue))
            .ok());
    ASSERT_TRUE(util::WriteFileAtomically(dir_ + "/extra.conf", "# more http settings\n").ok());
    ASSERT_TRUE(util::WriteFileAtomically(spec_.nginx.config_file, NginxConf()).ok());
    StartNginx();
  }

  void TearDown() override {
    StopNginx();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // Explicit paths for everything nginx writes (pkg/observe/README.md #25).
  std::string NginxConf() const {
    return "worker_processes 2;\n"
           "pid " +
           dir_ +
           "/nginx.pid;\n"
           "error_log " +
           dir_ +
           "/error.log notice;\n"
           "events { worker_connections 256; }\n"
           "http {\n"
           "  access_log off;\n"
           "  client_body_temp_path " +
           dir_ +
           "/client_body;\n"
           "  proxy_temp_path " +
           dir_ +
           "/proxy;\n"
           "  fastcgi_temp_path " +
           dir_ +
           "/fastcgi;\n"
           "  uwsgi_temp_path " +
           dir_ +
           "/uwsgi;\n"
           "  scgi_temp_path " +
           dir_ +
           "/scgi;\n"
           "  include " +
           dir_ +
           "/extra.conf;\n"
           "  include " +
           spec_.nginx.upstream_file +
           ";\n"
           "  server {\n"
           "    listen 127.0.0.1:" +
           std::to_string(port_) +
           ";\n"
           "    location / {\n"
           "      proxy_pass http://shop;\n"
           "      proxy_http_version 1.1;\n"
           "      proxy_set_header Connection \"\";\n"
           "    }\n"
           "  }\n"
           "}\n";
  }

  // nginx in the foreground (daemon off) as our child, so stopping it leaves no zombie.
  void StartNginx() {
    nginx_ = std::thread([this] {
      util::Command cmd;
      cmd.argv = {NginxBinary(),           "-e", dir_ + "/error.log", "-c",
                  spec_.nginx.config_file, "-g", "daemon off;"};
      cmd.timeout = std::chrono::minutes(5);
      auto r = runner_.Run(cmd);
      std::lock_guard<std::mutex> lock(mu_);
      nginx_exit_ = r.ok() ? r->output : std::string(r.status().message());
    });
    ASSERT_TRUE(Eventually([&] { return observe::ProbeServedColor(Probe()).ok(); }))
        << "nginx did not come up: " << ErrorLog();
  }

  // SIGTERM (nginx's fast shutdown) rather than `nginx -s stop`, which would first parse a
  // configuration a test may have broken. The master exits after its workers, so the
  // thread's Run() returns once all of them are gone.
  void StopNginx() {
    if (!nginx_.joinable()) return;
    if (auto master = host::FindNginxMaster(spec_.nginx, procs_); master.ok()) {
      ::kill(*master, SIGTERM);
    }
    nginx_.join();
  }

  std::string ErrorLog() {
    auto log = util::ReadFile(dir_ + "/error.log");
    return log.ok() ? *log : std::string(log.status().message());
  }

  const api::ProbeSpec& Probe() const { return spec_.nginx.probe; }

  int Master() {
    auto master = host::FindNginxMaster(spec_.nginx, procs_);
    EXPECT_TRUE(master.ok()) << master.status();
    return master.ok() ? *master : -1;
  }

  // `n` requests, each on a fresh connection: the colors they were served by.
  std::vector<std::optional<Color>> Colors(int n) {
    std::vector<std::optional<Color>> out;
    for (int i = 0; i < n; ++i) {
      auto c = observe::ProbeServedColor(Probe());
      out.push_back(c.ok() ? std::optional<Color>(*c) : std::nullopt);
    }
    return out;
  }

  absl::Status Switch(Color c) {
    outcome_ = {};
    return actuator_.SwitchTraffic(spec_, "default/shop", c, &outcome_);
  }

  std::string File() {
    auto content = util::ReadFile(spec_.nginx.upstream_file);
    return content.ok() ? *content : "<" + std::string(content.status().message()) + ">";
  }

  testing::ColorServer blue_{"blue"};
  testing::ColorServer green_{"green"};
  std::string dir_;
  int port_ = 0;
  api::DeploymentColorSpec spec_;
  util::ExecCommandRunner runner_;
  host::ProcProcessTable procs_;
  host::LocalNginxHost host_{runner_, procs_};
  observe::HttpNginxObserver observer_{host_};
  actuate::NginxActuator actuator_{host_, util::RealClock::Get(), observer_};
  actuate::StepOutcome outcome_;
  std::thread nginx_;
  std::mutex mu_;
  std::string nginx_exit_;
};

TEST_F(NginxIntegrationTest, ObserverSeesTheFileAndTheServedColor) {
  auto state = observer_.Observe(spec_);
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_TRUE(state->running);
  EXPECT_TRUE(state->file_exists);
  EXPECT_EQ(state->file_color, Color::kBlue);
  EXPECT_EQ(state->served_color, Color::kBlue);
  EXPECT_EQ(state->probe_error, "");
}

TEST_F(NginxIntegrationTest, SwitchToGreenServesGreenOnEveryNewConnection) {
  ASSERT_TRUE(Switch(Color::kGreen).ok()) << ErrorLog();
  const auto colors = Colors(50);
  EXPECT_EQ(std::count(colors.begin(), colors.end(), Color::kGreen), 50);
  auto state = observer_.Observe(spec_);
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->file_color, Color::kGreen);
  EXPECT_EQ(state->served_color, Color::kGreen);
  EXPECT_EQ(File(), host::RenderUpstreamFile(spec_, "default/shop", Color::kGreen));
  EXPECT_THAT(outcome_.detail, HasSubstr("nginx switched to green"));
  RecordProperty("detail", outcome_.detail);
}

TEST_F(NginxIntegrationTest, NoRequestStartedAfterTheSwitchReachesTheOldColor) {
  // Fresh connections all along, from before the switch until well after it returns.
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<std::pair<steady_clock::time_point, std::optional<Color>>> seen;
  std::thread client([&] {
    while (!stop) {
      const auto started = steady_clock::now();
      auto c = observe::ProbeServedColor(Probe());
      std::lock_guard<std::mutex> lock(mu);
      seen.emplace_back(started, c.ok() ? std::optional<Color>(*c) : std::nullopt);
    }
  });
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard<std::mutex> lock(mu);
    return seen.size() >= 20;
  }));
  const absl::Status switched = Switch(Color::kGreen);
  const auto done = steady_clock::now();
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard<std::mutex> lock(mu);
    return std::count_if(seen.begin(), seen.end(), [&](const auto& s) { return s.first > done; }) >=
           50;
  }));
  stop = true;
  client.join();
  ASSERT_TRUE(switched.ok()) << switched;
  int after = 0;
  for (const auto& [started, color] : seen) {
    EXPECT_TRUE(color.has_value()) << "a request failed during the switch";
    if (started >= done) {
      ++after;
      EXPECT_EQ(color, Color::kGreen);
    }
  }
  EXPECT_GE(after, 50);
}

TEST_F(NginxIntegrationTest, SecondSwitchRunsNoReload) {
  ASSERT_TRUE(Switch(Color::kGreen).ok()) << ErrorLog();
  // The previous generation may still be finishing its exit: wait until only the new one is.
  ASSERT_TRUE(Eventually([&] { return host::ChildPids(Master()).size() == 2; }));
  const std::vector<int> workers = host::ChildPids(Master());
  ASSERT_TRUE(Switch(Color::kGreen).ok());
  EXPECT_THAT(outcome_.detail, HasSubstr("nothing to do"));
  EXPECT_EQ(host::ChildPids(Master()), workers);
  const auto colors = Colors(10);
  EXPECT_EQ(std::count(colors.begin(), colors.end(), Color::kGreen), 10);
}

TEST_F(NginxIntegrationTest, BackAndForth) {
  for (Color c : {Color::kGreen, Color::kBlue, Color::kGreen}) {
    ASSERT_TRUE(Switch(c).ok()) << ErrorLog();
    const auto colors = Colors(20);
    EXPECT_EQ(std::count(colors.begin(), colors.end(), c), 20) << api::ColorName(c);
  }
}

TEST_F(NginxIntegrationTest, RejectedConfigurationChangesNothing) {
  const std::string before = File();
  const std::vector<int> workers = host::ChildPids(Master());
  ASSERT_TRUE(util::WriteFileAtomically(dir_ + "/extra.conf", "this is { not nginx\n").ok());
  const absl::Status s = Switch(Color::kGreen);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(s.message(),
              HasSubstr("nginx -t rejected the new upstream file " + spec_.nginx.upstream_file));
  EXPECT_THAT(s.message(), HasSubstr(dir_ + "/extra.conf"));
  EXPECT_EQ(File(), before);                      // byte for byte
  EXPECT_EQ(host::ChildPids(Master()), workers);  // no reload
  const auto colors = Colors(10);
  EXPECT_EQ(std::count(colors.begin(), colors.end(), Color::kBlue), 10);
}

TEST_F(NginxIntegrationTest, StoppedNginxIsReportedAndNothingIsWritten) {
  StopNginx();
  const std::string before = File();
  auto state = observer_.Observe(spec_);
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_FALSE(state->running);
  EXPECT_EQ(state->file_color, Color::kBlue);
  EXPECT_EQ(state->served_color, std::nullopt);
  EXPECT_THAT(state->probe_error,
              HasSubstr("cannot connect to 127.0.0.1:" + std::to_string(port_)));
  const absl::Status s = Switch(Color::kGreen);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_THAT(s.message(), HasSubstr("nginx is not running (pid file " + dir_ + "/nginx.pid"));
  EXPECT_EQ(File(), before);
}

}  // namespace
}  // namespace sy
