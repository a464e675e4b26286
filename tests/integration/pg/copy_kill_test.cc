// A copy whose daemon is killed, on real PostgreSQL 15: a throttled pg_basebackup
// (--max-rate=32k) into green runs through the actuator in a child process, which is then
// SIGKILLed as a daemon is. pg_basebackup dies with it (parent-death signal); whatever else of
// that copy lives on (its WAL streamer) is killed by the next copy's lock before that copy
// starts, so no two copies ever run into the directory at once.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "pkg/actuate/postgres_actuator.h"
#include "pkg/host/local_postgres_host.h"
#include "pkg/host/pg_datadir.h"
#include "pkg/host/pqxx_pg_client.h"
#include "pkg/host/process.h"
#include "pkg/observe/pqxx_postgres_observer.h"
#include "pkg/util/clock.h"
#include "pkg/util/command_runner.h"
#include "tests/integration/pg/mini_postgres.h"

namespace sy {
namespace {

using api::Color;
using std::chrono::milliseconds;

constexpr Color kBlue = Color::kBlue;
constexpr Color kGreen = Color::kGreen;

// The live processes of pg_basebackup copies into `target` (its WAL streamer is a fork of
// pg_basebackup: the same command line).
std::vector<int> CopiesInto(const std::string& target) {
  std::vector<int> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    int pid = 0;
    if (std::from_chars(name.data(), name.data() + name.size(), pid).ptr !=
        name.data() + name.size()) {
      continue;
    }
    const std::string cmdline = host::ProcessCommandLine(pid).value_or("");
    if (absl::StrContains(cmdline, "pg_basebackup") && absl::StrContains(cmdline, target) &&
        host::ProcessAlive(pid)) {
      out.push_back(pid);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

api::DeploymentColor Resource(const api::DeploymentColorSpec& spec) {
  api::DeploymentColor dc;
  dc.metadata.name = "copy-kill";
  dc.spec = spec;
  return dc;
}

bool AnyAlive(const std::vector<int>& pids) {
  return std::any_of(pids.begin(), pids.end(), [](int p) { return host::ProcessAlive(p); });
}

template <typename F>
bool Within(milliseconds limit, F done) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {  // poll
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return done();
}

class CopyKillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<testing::MiniPostgres>> mp = testing::MiniPostgres::Create();
    ASSERT_TRUE(mp.ok()) << mp.status();
    pg_ = std::move(*mp);
    spec_ = pg_->spec();
    absl::Status s = actuator_.Start(spec_, kBlue);
    ASSERT_TRUE(s.ok()) << s;
    s = connections_.Query(host::EndpointFor(spec_, kBlue), testing::MiniPostgres::kCreateRolesSql)
            .status();
    ASSERT_TRUE(s.ok()) << s;
    // The same server programs, but pg_basebackup throttled so the copy is still running when
    // its daemon is killed.
    const std::filesystem::path bin = pg_->root() + "/throttled-bin";
    std::filesystem::create_directory(bin);
    for (const auto& e : std::filesystem::directory_iterator(spec_.database.bin_directory)) {
      if (e.path().filename() != "pg_basebackup") {
        std::filesystem::create_symlink(e.path(), bin / e.path().filename());
      }
    }
    std::ofstream(bin / "pg_basebackup") << "#!/bin/sh\nexec " << spec_.database.bin_directory
                                         << "/pg_basebackup --max-rate=32k \"$@\"\n";
    ASSERT_EQ(::chmod(bin.c_str(), 0755), 0);
    ASSERT_EQ(::chmod((bin / "pg_basebackup").c_str(), 0755), 0);
    throttled_ = spec_;
    throttled_.database.bin_directory = bin;
  }

  std::unique_ptr<testing::MiniPostgres> pg_;
  api::DeploymentColorSpec spec_;
  api::DeploymentColorSpec throttled_;
  host::PqxxPgClient connections_;
  util::ExecCommandRunner runner_;
  host::LocalPostgresHost host_{runner_, util::RealClock::Get()};
  observe::PqxxPostgresObserver observer_{connections_, host_};
  actuate::PostgresActuator actuator_{connections_, host_, observer_, runner_,
                                      util::RealClock::Get()};
};

TEST_F(CopyKillTest, NoCopyOutlivesItsKilledDaemonIntoTheNextCopy) {
  const std::string target = spec_.green.database.data_directory + ".new";
  const pid_t daemon = ::fork();
  if (daemon == 0) {  // a daemon of its own: its connections, runner and actuator
    host::PqxxPgClient connections;
    util::ExecCommandRunner runner;
    host::LocalPostgresHost host(runner, util::RealClock::Get());
    observe::PqxxPostgresObserver observer(connections, host);
    actuate::PostgresActuator actuator(connections, host, observer, runner, util::RealClock::Get());
    const absl::Status s = actuator.Basebackup(Resource(throttled_), kGreen, kBlue);
    std::cerr << "  the first copy ended (it should have been killed): " << s << "\n";
    ::_exit(s.ok() ? 0 : 1);
  }
  // Mid-copy: pg_basebackup and its WAL streamer run.
  std::vector<int> first;
  const bool copying = Within(milliseconds(30'000), [&] {
    first = CopiesInto(target);
    return first.size() >= 2;
  });
  if (!copying) ::kill(daemon, SIGKILL);
  ASSERT_TRUE(copying) << "pg_basebackup into " << target << " did not start";
  std::vector<int> tools;  // started by the daemon itself
  for (int pid : first) {
    if (host::ParentPid(pid) == daemon) tools.push_back(pid);
  }
  ASSERT_EQ(tools.size(), 1u) << absl::StrJoin(first, " ");
  std::this_thread::sleep_for(milliseconds(300));  // some files arrive
  ASSERT_EQ(::kill(daemon, SIGKILL), 0);
  ASSERT_EQ(::waitpid(daemon, nullptr, 0), daemon);

  EXPECT_TRUE(Within(milliseconds(5000), [&] { return !AnyAlive(tools); }))
      << "pg_basebackup " << tools[0] << " outlived its daemon";
  std::vector<int> survivors;
  for (int pid : first) {
    if (host::ProcessAlive(pid)) survivors.push_back(pid);
  }
  std::cout << "  first copy: pids " << absl::StrJoin(first, " ")
            << "; alive 0.3 s after its daemon "
            << "was killed: " << (survivors.empty() ? "none" : absl::StrJoin(survivors, " "))
            << "\n";

  // The next daemon's copy, watched: never a process of the first copy beside one of its own.
  std::atomic<bool> done{false};
  std::atomic<int> overlaps{0};
  std::atomic<int> samples{0};
  std::thread monitor([&] {
    while (!done.load()) {
      bool old_copy = false;
      bool new_copy = false;
      for (int pid : CopiesInto(target)) {
        (std::find(first.begin(), first.end(), pid) != first.end() ? old_copy : new_copy) = true;
      }
      if (old_copy && new_copy) ++overlaps;
      ++samples;
      std::this_thread::sleep_for(milliseconds(2));
    }
  });
  const absl::Status second = actuator_.Basebackup(Resource(spec_), kGreen, kBlue);
  done = true;
  monitor.join();
  EXPECT_TRUE(second.ok()) << second;
  EXPECT_EQ(overlaps.load(), 0) << "samples with both copies running, of " << samples.load();
  EXPECT_FALSE(AnyAlive(first)) << "a process of the killed daemon's copy is still running";
  std::cout << "  second copy: " << (second.ok() ? "ok" : std::string(second.message())) << "; "
            << samples.load() << " samples, " << overlaps.load() << " with both\n";

  // What the second copy made is a standby that runs.
  EXPECT_TRUE(host::HoldsCluster(spec_.green.database.data_directory));
  const absl::Status started = actuator_.Start(spec_, kGreen);
  EXPECT_TRUE(started.ok()) << started;
}

}  // namespace
}  // namespace sy
