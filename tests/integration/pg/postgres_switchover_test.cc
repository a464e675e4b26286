// The PostgreSQL actuator and observer against real PostgreSQL 15 servers: the clean
// switchover of pkg/plan/README.md §3 in both directions with its invariants, the pg_rewind and
// pg_basebackup rejoins, and idempotence of every step.
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pkg/actuate/postgres_actuator.h"
#include "pkg/host/local_postgres_host.h"
#include "pkg/host/pg_datadir.h"
#include "pkg/host/pqxx_pg_client.h"
#include "pkg/model/step.h"
#include "pkg/model/topology.h"
#include "pkg/observe/pqxx_postgres_observer.h"
#include "pkg/plan/preflight.h"
#include "pkg/util/clock.h"
#include "pkg/util/command_runner.h"
#include "pkg/util/files.h"
#include "tests/integration/pg/mini_postgres.h"

namespace sy {
namespace {

using api::Color;
using model::ServerState;
using std::chrono::milliseconds;
using ::testing::HasSubstr;

#define ASSERT_OK(expr)                         \
  do {                                          \
    const absl::Status sy_status_ = (expr);     \
    ASSERT_TRUE(sy_status_.ok()) << sy_status_; \
  } while (false)

constexpr Color kBlue = Color::kBlue;
constexpr Color kGreen = Color::kGreen;

class PostgresSwitchoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<testing::MiniPostgres>> mp = testing::MiniPostgres::Create();
    ASSERT_TRUE(mp.ok()) << mp.status();
    pg_ = std::move(*mp);
    spec_ = pg_->spec();
    // Blue the primary; green cloned from it by the actuator's own bootstrap path.
    ASSERT_OK(actuator_.Start(spec_, kBlue));
    ASSERT_OK(Exec(kBlue, testing::MiniPostgres::kCreateRolesSql));
    ASSERT_OK(Exec(kBlue, "CREATE TABLE orders (id int PRIMARY KEY, color text)"));
    ASSERT_OK(actuator_.CreateSlot(spec_, kGreen, kBlue));
    ASSERT_OK(actuator_.Basebackup(Resource(), kGreen, kBlue));
    ASSERT_OK(actuator_.Start(spec_, kGreen));
    ASSERT_NO_FATAL_FAILURE(WaitStreaming(kGreen, kBlue));
  }

  absl::Status Exec(Color c, const std::string& sql) {
    return connections_.Query(host::EndpointFor(spec_, c), sql).status();
  }

  int64_t Count(Color c) {
    absl::StatusOr<std::vector<host::PgRow>> rows =
        connections_.Query(host::EndpointFor(spec_, c), "SELECT count(*) FROM orders");
    EXPECT_TRUE(rows.ok()) << rows.status();
    return rows.ok() ? std::stoll(rows->at(0).at(0).value()) : -1;
  }

  absl::Status Insert(Color c, int from, int to) {
    return Exec(c, "INSERT INTO orders SELECT g, '" + std::string(api::ColorName(c)) +
                       "' FROM generate_series(" + std::to_string(from) + ", " +
                       std::to_string(to) + ") g");
  }

  ServerState Observe(Color c) {
    absl::StatusOr<ServerState> s = observer_.Observe(spec_, c);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *s : ServerState{};
  }

  // Polls (bounded) until `primary`'s pg_stat_replication shows `standby` streaming.
  void WaitStreaming(Color standby, Color primary) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    ServerState p;
    while (std::chrono::steady_clock::now() < deadline) {  // poll
      p = Observe(primary);
      for (const auto& peer : p.replication) {
        if (peer.application_name == api::ColorName(standby) && peer.state == "streaming") {
          return;
        }
      }
      clock_.SleepFor(milliseconds(10));
    }
    FAIL() << api::ColorName(standby) << " never streamed from " << api::ColorName(primary)
           << "; peers seen: " << p.replication.size();
  }

  // Runs a step through Actuator::Run, as the controller does, and shows what it reported.
  absl::Status RunStep(model::StepKind kind, Color target) {
    api::DeploymentColor dc;
    dc.metadata.name = "pg-test";
    dc.spec = spec_;
    actuate::StepOutcome outcome;
    absl::Status s = actuator_.Run(dc, {kind, target, std::nullopt}, &outcome);
    std::cout << "  " << outcome.detail << "\n";
    return s;
  }

  template <typename F>
  int64_t TimeMs(F f) {
    const auto start = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start)
        .count();
  }

  // The clean switchover of pkg/plan/README.md §3 from `from` to `to`, asserting each invariant on
  // the real servers; the rows inserted before it must all be on the new primary.
  void Switchover(Color from, Color to, int64_t rows_before) {
    const ServerState old_primary = Observe(from);
    const ServerState standby = Observe(to);
    ASSERT_TRUE(old_primary.RunningPrimary());
    ASSERT_TRUE(standby.RunningStandby());
    ASSERT_TRUE(standby.receiver.has_value());
    EXPECT_EQ(standby.receiver->status, "streaming");
    EXPECT_EQ(standby.system_identifier, old_primary.system_identifier);
    const uint32_t tli = old_primary.timeline;

    const int64_t fence_ms = TimeMs([&] { ASSERT_OK(RunStep(model::StepKind::kFence, from)); });
    const ServerState fenced = Observe(from);
    ASSERT_TRUE(fenced.Stopped());
    EXPECT_FALSE(fenced.postmaster_pid);
    EXPECT_FALSE(fenced.error.empty());
    ASSERT_TRUE(fenced.control.has_value());
    EXPECT_EQ(fenced.control->cluster_state, "shut down");
    EXPECT_EQ(fenced.control->checkpoint_timeline, tli);
    // The fence is durable: the directory would start as a standby with no upstream.
    EXPECT_TRUE(fenced.startup.fenced);
    EXPECT_TRUE(fenced.startup.standby_signal);
    EXPECT_EQ(fenced.startup.primary_port, 0);
    const model::Lsn checkpoint = fenced.control->checkpoint_lsn;

    // pkg/observe/README.md #5: the connected standby got the shutdown checkpoint before the old
    // primary exited; replay follows within moments.
    ServerState s;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    do {  // poll
      s = Observe(to);
    } while (s.replay_lsn <= checkpoint && std::chrono::steady_clock::now() < deadline &&
             (clock_.SleepFor(milliseconds(2)), true));
    ASSERT_GT(s.replay_lsn, checkpoint)
        << model::FormatLsn(s.replay_lsn) << " vs " << model::FormatLsn(checkpoint);
    EXPECT_GE(s.receive_lsn, s.replay_lsn);

    const int64_t promote_ms = TimeMs([&] { ASSERT_OK(RunStep(model::StepKind::kPromote, to)); });
    const ServerState promoted = Observe(to);
    ASSERT_TRUE(promoted.RunningPrimary());
    EXPECT_EQ(promoted.timeline, tli + 1);
    ASSERT_TRUE(promoted.control.has_value());
    EXPECT_EQ(promoted.control->checkpoint_timeline, tli + 1);  // the promote step checkpointed
    ASSERT_FALSE(promoted.history.empty());
    EXPECT_EQ(promoted.history.back().timeline, tli);
    // The new timeline forks right after the old primary's shutdown checkpoint record.
    EXPECT_GT(promoted.history.back().switchpoint, checkpoint);
    EXPECT_EQ(promoted.history.back().switchpoint, s.replay_lsn);
    EXPECT_EQ(Count(to), rows_before);  // no acknowledged commit lost

    // Rejoin without copying: slot, configuration, start.
    ASSERT_OK(actuator_.CreateSlot(spec_, from, to));
    ASSERT_OK(actuator_.ConfigureStandby(spec_, from, to));
    const ServerState configured = Observe(from);
    EXPECT_TRUE(configured.startup.standby_signal);
    EXPECT_EQ(configured.startup.primary_host, spec_.color(to).database.host);
    EXPECT_EQ(configured.startup.primary_port, spec_.color(to).database.port);
    EXPECT_EQ(configured.startup.primary_slot_name, model::SlotName(from));
    EXPECT_TRUE(configured.local_slots.empty());  // the old primary's slot for `to` is gone
    EXPECT_FALSE(configured.startup.fenced);      // a configured standby is no longer fenced
    const int64_t start_ms = TimeMs([&] { ASSERT_OK(RunStep(model::StepKind::kStart, from)); });
    ASSERT_NO_FATAL_FAILURE(WaitStreaming(from, to));
    // Streaming starts on the old timeline, up to the fork: wait (bounded) for the new one.
    ServerState rejoined = Observe(from);
    for (int i = 0; i < 1000 && rejoined.timeline != tli + 1; ++i) {  // poll
      clock_.SleepFor(milliseconds(10));
      rejoined = Observe(from);
    }
    EXPECT_TRUE(rejoined.RunningStandby());
    ASSERT_TRUE(rejoined.receiver.has_value());
    // Identity by host and port: PostgreSQL reports the host the standby connected to as its
    // primary_conninfo says it, the spec's host, which configure-standby wrote.
    EXPECT_EQ(rejoined.receiver->sender_host, spec_.color(to).database.host);
    EXPECT_EQ(rejoined.receiver->sender_port, spec_.color(to).database.port);
    EXPECT_EQ(rejoined.running_primary_host, spec_.color(to).database.host);
    EXPECT_EQ(rejoined.running_primary_port, spec_.color(to).database.port);
    EXPECT_EQ(rejoined.receiver->slot_name, model::SlotName(from));
    EXPECT_EQ(rejoined.timeline, tli + 1);
    EXPECT_EQ(rejoined.system_identifier, promoted.system_identifier);
    const ServerState primary = Observe(to);
    EXPECT_EQ(primary.slots, std::vector<std::string>{model::SlotName(from)});

    std::cout << "switchover " << api::ColorName(from) << " -> " << api::ColorName(to) << ": fence "
              << fence_ms << " ms, promote " << promote_ms << " ms, start " << start_ms << " ms\n";
    RecordProperty("fence_ms_to_" + std::string(api::ColorName(to)), fence_ms);
    RecordProperty("promote_ms_to_" + std::string(api::ColorName(to)), promote_ms);
    RecordProperty("start_ms_to_" + std::string(api::ColorName(to)), start_ms);
  }

  std::unique_ptr<testing::MiniPostgres> pg_;
  api::DeploymentColorSpec spec_;
  util::RealClock clock_;
  util::ExecCommandRunner runner_;
  host::PqxxPgClient connections_;
  host::LocalPostgresHost host_{runner_, clock_};
  observe::PqxxPostgresObserver observer_{connections_, host_};
  actuate::PostgresActuator actuator_{connections_, host_, observer_, runner_, clock_};

  // The resource the steps serve; `annotations` and `rejoin` as a test needs them.
  api::DeploymentColor Resource(std::map<std::string, std::string> annotations = {},
                                api::RejoinMethod rejoin = api::RejoinMethod::kAuto) {
    api::DeploymentColor dc;
    dc.metadata.name = "pg-test";
    dc.metadata.annotations = std::move(annotations);
    dc.spec = spec_;
    dc.spec.database.rejoin_method = rejoin;
    return dc;
  }
};

TEST_F(PostgresSwitchoverTest, CleanSwitchoverBothWays) {
  const ServerState blue = Observe(kBlue);
  const ServerState green = Observe(kGreen);
  ASSERT_TRUE(blue.RunningPrimary());
  ASSERT_TRUE(green.RunningStandby());
  EXPECT_EQ(blue.system_identifier, green.system_identifier);
  EXPECT_EQ(blue.timeline, 1u);
  EXPECT_TRUE(blue.history.empty());
  EXPECT_EQ(green.startup.primary_port, spec_.blue.database.port);
  EXPECT_FALSE(green.replay_paused);

  ASSERT_OK(Insert(kBlue, 1, 500));
  ASSERT_NO_FATAL_FAILURE(Switchover(kBlue, kGreen, 500));
  ASSERT_OK(Insert(kGreen, 501, 800));
  ASSERT_NO_FATAL_FAILURE(Switchover(kGreen, kBlue, 800));
  EXPECT_EQ(Observe(kBlue).timeline, 3u);
  EXPECT_EQ(Observe(kBlue).history.size(), 2u);
}

TEST_F(PostgresSwitchoverTest, RewindRejoinsADivergedOldPrimary) {
  ASSERT_OK(Insert(kBlue, 1, 100));
  ASSERT_NO_FATAL_FAILURE(WaitStreaming(kGreen, kBlue));
  // Split brain made by hand: green promoted while blue still runs, both written (the
  // actuator's promote step refuses that: blue is neither stopped nor fenced).
  EXPECT_EQ(actuator_.Promote(spec_, kGreen).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_OK(Exec(kGreen, "SELECT pg_promote()"));
  ASSERT_OK(Insert(kGreen, 101, 150));
  ASSERT_OK(Insert(kBlue, 1001, 1010));  // diverged writes, to be discarded
  ASSERT_OK(actuator_.Stop(spec_, kBlue));

  ASSERT_OK(actuator_.CreateSlot(spec_, kBlue, kGreen));
  actuate::StepOutcome outcome;
  // Without the operator's consent nothing is rewound: blue holds writes green lacks.
  const absl::Status refused =
      actuator_.Run(Resource(), {model::StepKind::kRewind, kBlue, kGreen}, &outcome);
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;
  EXPECT_EQ(Observe(kBlue).control->cluster_state, "shut down");
  // Nor with consent for another incident of blue (here: an earlier end of its WAL).
  api::DiscardConsent incident = model::IncidentOf(Observe(kBlue));
  const std::string given = api::FormatDiscardConsent(incident);
  incident.lsn = "0/1";
  const absl::Status stale = actuator_.Run(
      Resource({{std::string(api::kAllowDiscardAnnotation), api::FormatDiscardConsent(incident)}}),
      {model::StepKind::kRewind, kBlue, kGreen}, &outcome);
  EXPECT_EQ(stale.code(), absl::StatusCode::kFailedPrecondition) << stale;
  EXPECT_EQ(Observe(kBlue).control->cluster_state, "shut down");
  const api::DeploymentColor dc = Resource({{std::string(api::kAllowDiscardAnnotation), given}});
  ASSERT_OK(actuator_.Run(dc, {model::StepKind::kRewind, kBlue, kGreen}, &outcome));
  EXPECT_NE(outcome.detail.find("rewound blue from green"), std::string::npos) << outcome.detail;
  ASSERT_OK(actuator_.Start(spec_, kBlue));
  ASSERT_NO_FATAL_FAILURE(WaitStreaming(kBlue, kGreen));
  const ServerState blue = Observe(kBlue);
  EXPECT_TRUE(blue.RunningStandby());
  EXPECT_EQ(blue.timeline, 2u);
  // Poll until blue replayed what green has; the diverged rows are gone.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (Count(kBlue) != 150 && std::chrono::steady_clock::now() < deadline) {  // poll
    clock_.SleepFor(milliseconds(5));
  }
  EXPECT_EQ(Count(kBlue), 150);
}

TEST_F(PostgresSwitchoverTest, BasebackupReplacesALostOrBrokenStandby) {
  ASSERT_OK(Insert(kBlue, 1, 100));
  const std::string& green = spec_.green.database.data_directory;

  // Over an existing (stopped) directory, only when it is redundant (rejoinMethod basebackup
  // and its WAL a prefix of blue's) or given up: copied aside, swapped in, old one removed.
  ASSERT_OK(actuator_.Stop(spec_, kGreen));
  EXPECT_EQ(actuator_.Basebackup(Resource(), kGreen, kBlue).code(),
            absl::StatusCode::kFailedPrecondition);
  const api::DeploymentColor reclone = Resource({}, api::RejoinMethod::kBasebackup);
  ASSERT_OK(actuator_.Basebackup(reclone, kGreen, kBlue));
  EXPECT_FALSE(util::PathExists(green + ".old"));
  EXPECT_FALSE(util::PathExists(green + ".new"));
  ASSERT_OK(actuator_.Start(spec_, kGreen));
  ASSERT_NO_FATAL_FAILURE(WaitStreaming(kGreen, kBlue));

  // Lost entirely, with a leftover half copy from a crashed attempt.
  ASSERT_OK(actuator_.Stop(spec_, kGreen));
  std::filesystem::remove_all(green);
  std::filesystem::create_directories(green + ".new/base");
  const ServerState lost = Observe(kGreen);
  EXPECT_FALSE(lost.data_directory_exists);
  EXPECT_FALSE(lost.control.has_value());
  ASSERT_OK(actuator_.Basebackup(Resource(), kGreen, kBlue));
  EXPECT_FALSE(util::PathExists(green + ".new"));
  ASSERT_OK(actuator_.Start(spec_, kGreen));
  ASSERT_NO_FATAL_FAILURE(WaitStreaming(kGreen, kBlue));
  EXPECT_EQ(Count(kGreen), 100);

  // A crash between the swap's two renames: <dir>.old and a complete <dir>.new.
  ASSERT_OK(actuator_.Stop(spec_, kGreen));
  util::Command copy;
  copy.argv = {"cp", "-a", green, green + ".new"};
  copy.run_as = "postgres";
  absl::StatusOr<util::CommandResult> copied = runner_.Run(copy);
  ASSERT_TRUE(copied.ok() && copied->exit_code == 0) << copied.status();
  std::filesystem::rename(green, green + ".old");
  ASSERT_OK(actuator_.Basebackup(Resource(), kGreen, kBlue));
  EXPECT_FALSE(util::PathExists(green + ".old"));
  EXPECT_FALSE(util::PathExists(green + ".new"));
  ASSERT_OK(actuator_.Start(spec_, kGreen));
  ASSERT_NO_FATAL_FAILURE(WaitStreaming(kGreen, kBlue));
}

TEST_F(PostgresSwitchoverTest, EveryStepIsIdempotentAndChecksItsPrecondition) {
  ASSERT_OK(Insert(kBlue, 1, 10));
  // Wrong targets are refused, not acted on.
  EXPECT_EQ(actuator_.Fence(spec_, "pg-test", kGreen).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(actuator_.ConfigureStandby(spec_, kGreen, kBlue).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Observe(kGreen).RunningStandby());
  // Blue's slot on green while green is still a standby, as the switch makes it before the
  // fence: it reserves from green's last restartpoint, before blue's shutdown checkpoint.
  ASSERT_OK(actuator_.CreateSlot(spec_, kBlue, kGreen));

  ASSERT_OK(actuator_.Start(spec_, kGreen));              // running already
  ASSERT_OK(actuator_.CreateSlot(spec_, kGreen, kBlue));  // exists already
  ASSERT_OK(actuator_.Fence(spec_, "pg-test", kBlue));
  ASSERT_OK(actuator_.Fence(spec_, "pg-test", kBlue));
  ASSERT_OK(actuator_.Stop(spec_, kBlue));
  EXPECT_EQ(actuator_.Promote(spec_, kBlue).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_OK(actuator_.Promote(spec_, kGreen));
  ASSERT_OK(actuator_.Promote(spec_, kGreen));
  ASSERT_OK(actuator_.CreateSlot(spec_, kBlue, kGreen));
  ASSERT_OK(actuator_.CreateSlot(spec_, kBlue, kGreen));
  ASSERT_OK(actuator_.ConfigureStandby(spec_, kBlue, kGreen));
  const std::string conf = spec_.blue.database.data_directory + "/postgresql.auto.conf";
  const std::string first = util::ReadFile(conf).value();
  ASSERT_OK(actuator_.ConfigureStandby(spec_, kBlue, kGreen));
  EXPECT_EQ(util::ReadFile(conf).value(), first);
  EXPECT_NE(first.find("primary_conninfo = 'host=127.0.0.1 port=" +
                       std::to_string(spec_.green.database.port) +
                       " user=replicator application_name=blue'\n"),
            std::string::npos)
      << first;
  ASSERT_OK(actuator_.Start(spec_, kBlue));
  ASSERT_OK(actuator_.Start(spec_, kBlue));
  ASSERT_NO_FATAL_FAILURE(WaitStreaming(kBlue, kGreen));
  ASSERT_OK(actuator_.Stop(spec_, kBlue));
  ASSERT_OK(actuator_.Stop(spec_, kBlue));
  const ServerState stopped = Observe(kBlue);
  EXPECT_TRUE(stopped.Stopped());
  ASSERT_TRUE(stopped.control.has_value());
  EXPECT_EQ(stopped.control->cluster_state, "shut down in recovery");
}

TEST_F(PostgresSwitchoverTest, AKeptConnectionSurvivesARestartBehindItsBack) {
  ASSERT_TRUE(Observe(kGreen).reachable);  // connections_ now holds one to green
  host::PqxxPgClient others;
  observe::PqxxPostgresObserver other_observer(others, host_);
  actuate::PostgresActuator someone_else(others, host_, other_observer, runner_, clock_);
  ASSERT_OK(someone_else.Stop(spec_, kGreen));
  const ServerState down = Observe(kGreen);
  EXPECT_FALSE(down.reachable);
  EXPECT_FALSE(down.error.empty());
  EXPECT_TRUE(down.Stopped());
  ASSERT_OK(someone_else.Start(spec_, kGreen));
  EXPECT_TRUE(Observe(kGreen).RunningStandby());  // no pass lost to the dead connection
  ASSERT_OK(someone_else.Stop(spec_, kGreen));
  ASSERT_OK(someone_else.Start(spec_, kGreen));
  EXPECT_TRUE(connections_.Query(host::EndpointFor(spec_, kGreen), "SELECT 1").ok());
}

TEST_F(PostgresSwitchoverTest, MisconfigurationIsReportedNotMistakenForDowntime) {
  api::DeploymentColorSpec bad = spec_;
  bad.database.bin_directory = "/nonexistent/bin";
  absl::StatusOr<ServerState> s = observer_.Observe(bad, kBlue);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("/nonexistent/bin/pg_controldata"), std::string::npos);

  // Another server answering on green's port: Start refuses to take it for green.
  ASSERT_OK(actuator_.Stop(spec_, kGreen));
  api::DeploymentColorSpec squatted = spec_;
  squatted.green.database.port = spec_.blue.database.port;
  const absl::Status start = actuator_.Start(squatted, kGreen);
  EXPECT_EQ(start.code(), absl::StatusCode::kFailedPrecondition) << start;
  EXPECT_NE(start.message().find("starting green"), std::string::npos) << start;
}

// A running server's pg_control comes with the observation query (no pg_controldata process
// per pass), and says what pg_controldata says; a stopped one's still comes from it.
TEST_F(PostgresSwitchoverTest, RunningServersAreObservedWithoutAProcess) {
  struct Counting : util::CommandRunner {
    util::CommandRunner& real;
    int runs = 0;
    explicit Counting(util::CommandRunner& r) : real(r) {}
    absl::StatusOr<util::CommandResult> Run(const util::Command& cmd) override {
      ++runs;
      return real.Run(cmd);
    }
    absl::StatusOr<int> Spawn(const util::Command& cmd, const std::string& log) override {
      return real.Spawn(cmd, log);
    }
  } counting(runner_);
  host::LocalPostgresHost counting_host(counting, clock_);
  observe::PqxxPostgresObserver observer(connections_, counting_host);
  ASSERT_OK(Exec(kBlue, "CHECKPOINT"));
  for (Color c : {kBlue, kGreen}) {
    const std::string& dir = spec_.color(c).database.data_directory;
    const auto before = host::RunControlData(runner_, spec_.database.bin_directory, dir);
    absl::StatusOr<ServerState> s = observer.Observe(spec_, c);  // a restartpoint may come after
    const auto after = host::RunControlData(runner_, spec_.database.bin_directory, dir);
    ASSERT_TRUE(s.ok() && before.ok() && after.ok()) << s.status() << before.status();
    ASSERT_TRUE(s->reachable && s->control);
    EXPECT_TRUE(*s->control == *before || *s->control == *after)
        << api::ColorName(c) << ": " << model::FormatLsn(s->control->checkpoint_lsn);
  }
  EXPECT_EQ(counting.runs, 0);
  ASSERT_OK(actuator_.Stop(spec_, kGreen));
  absl::StatusOr<ServerState> stopped = observer.Observe(spec_, kGreen);
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  EXPECT_EQ(counting.runs, 1);
  ASSERT_TRUE(stopped->control);
  EXPECT_EQ(stopped->control->cluster_state, "shut down in recovery");
}

// The prerequisites a switch depends on, as the observer reads them from real servers.
TEST_F(PostgresSwitchoverTest, PrerequisitesAreObserved) {
  const ServerState blue = Observe(kBlue);
  const ServerState green = Observe(kGreen);
  for (const ServerState* s : {&blue, &green}) {
    const model::Prerequisites& p = s->prerequisites;
    SCOPED_TRACE(std::string(api::ColorName(s->color)));
    EXPECT_TRUE(p.known);
    EXPECT_GE(p.version_num, 150000);
    EXPECT_TRUE(absl::StartsWith(p.version, "15.")) << p.version;
    EXPECT_TRUE(p.hot_standby);
    EXPECT_EQ(p.apply_delay_ms, 0);
    EXPECT_EQ(p.streaming_delay_ms, 30'000);
    EXPECT_TRUE(p.wal_log_hints);  // MiniPostgres sets it
    EXPECT_TRUE(p.Has("superuser"));
  }
  const model::ReplicationPeer* peer = nullptr;
  for (const model::ReplicationPeer& r : blue.replication) {
    if (r.application_name == "green") peer = &r;
  }
  ASSERT_NE(peer, nullptr) << "green is not among blue's pg_stat_replication rows";
  EXPECT_GE(peer->replay_lag_ms, -1);

  // Set on the standby and reloaded: seen at once (pg_settings reads the applied value).
  ASSERT_OK(Exec(kGreen, "ALTER SYSTEM SET recovery_min_apply_delay = '3s'"));
  ASSERT_OK(Exec(kGreen, "SELECT pg_reload_conf()"));
  int64_t delay = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while ((delay = Observe(kGreen).prerequisites.apply_delay_ms) != 3000 &&
         std::chrono::steady_clock::now() < deadline) {  // poll: the reload is asynchronous
    clock_.SleepFor(milliseconds(20));
  }
  EXPECT_EQ(delay, 3000);
}

// A non-superuser without grants: the observation works, shows what it lacks (and the
// replication state PostgreSQL hides from it), and the preflight names the GRANTs; once
// granted, everything is seen and the preflight passes.
TEST_F(PostgresSwitchoverTest, PrivilegesOfANonSuperuser) {
  ASSERT_OK(Exec(kBlue, "CREATE ROLE limited LOGIN"));  // replayed by green
  api::DeploymentColor dc = Resource();
  dc.spec.active_color = kGreen;
  dc.spec.database.user = "limited";
  host::PqxxPgClient limited_pg;
  observe::PqxxPostgresObserver limited(limited_pg, host_);
  auto observe_world = [&](model::World* w) {
    for (Color c : {kBlue, kGreen}) {
      absl::StatusOr<ServerState> s = limited.Observe(dc.spec, c);
      ASSERT_TRUE(s.ok()) << s.status();
      ASSERT_TRUE(s->reachable) << s->error;
      w->server(c) = *s;
    }
  };
  // The preflight's "privileges" check of a switch to green over `w`.
  auto privileges = [&](const model::World& w) {
    for (plan::Check& c : plan::Preflight(dc, w, kGreen)) {
      if (c.name == "privileges") return c;
    }
    ADD_FAILURE() << "no privileges check";
    return plan::Check{};
  };

  model::World before;
  const auto role_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (absl::StatusOr<ServerState> s = limited.Observe(dc.spec, kGreen);
       !(s.ok() && s->reachable) && std::chrono::steady_clock::now() < role_deadline;
       s = limited.Observe(dc.spec, kGreen)) {  // poll: green replays the role
    clock_.SleepFor(milliseconds(20));
  }
  ASSERT_NO_FATAL_FAILURE(observe_world(&before));
  for (Color c : {kBlue, kGreen}) {
    const model::Prerequisites& p = before.server(c).prerequisites;
    SCOPED_TRACE(std::string(api::ColorName(c)));
    EXPECT_TRUE(p.known);
    EXPECT_GE(p.version_num, 150000);
    for (const char* lacking : {"superuser", "pg_promote", "pg_checkpoint", "replication",
                                "pg_monitor", "pg_reload_conf"}) {
      EXPECT_FALSE(p.Has(lacking)) << lacking;
    }
  }
  EXPECT_TRUE(before.green.RunningStandby());
  EXPECT_TRUE(before.blue.RunningPrimary());
  // Without pg_monitor the rows are there, their state hidden: nothing shows green streams.
  EXPECT_FALSE(model::StreamsFrom(before.green, before.blue, dc.spec));
  const plan::Check refused = privileges(before);
  EXPECT_FALSE(refused.ok);
  EXPECT_EQ(refused.reason, "InsufficientPrivileges");
  for (const char* grant : {"GRANT EXECUTE ON FUNCTION pg_promote(boolean, integer) TO limited",
                            "GRANT pg_checkpoint TO limited", "ALTER ROLE limited REPLICATION",
                            "GRANT pg_monitor TO limited"}) {
    EXPECT_THAT(refused.message, HasSubstr(grant));
  }
  std::cout << "  privileges check before the grants: " << refused.message << "\n";

  ASSERT_OK(Exec(kBlue, "GRANT EXECUTE ON FUNCTION pg_promote(boolean, integer) TO limited"));
  ASSERT_OK(Exec(kBlue, "GRANT pg_checkpoint TO limited"));
  ASSERT_OK(Exec(kBlue, "ALTER ROLE limited REPLICATION"));
  ASSERT_OK(Exec(kBlue, "GRANT pg_monitor TO limited"));
  model::World after;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {  // poll: green replays the grants
    ASSERT_NO_FATAL_FAILURE(observe_world(&after));
  } while (!after.green.prerequisites.Has("pg_monitor") &&
           std::chrono::steady_clock::now() < deadline &&
           (clock_.SleepFor(milliseconds(20)), true));
  for (Color c : {kBlue, kGreen}) {
    const model::Prerequisites& p = after.server(c).prerequisites;
    SCOPED_TRACE(std::string(api::ColorName(c)));
    for (const char* held : {"pg_promote", "pg_checkpoint", "replication", "pg_monitor"}) {
      EXPECT_TRUE(p.Has(held)) << held;
    }
    EXPECT_FALSE(p.Has("superuser"));
  }
  EXPECT_TRUE(model::StreamsFrom(after.green, after.blue, dc.spec));
  const plan::Check passed = privileges(after);
  EXPECT_TRUE(passed.ok) << passed.message;
  EXPECT_EQ(passed.observed, "limited: everything needed");
}

// A standby started with hot_standby = off refuses every connection: the observer sees it
// running and unreachable, and the refusal says why (the planner holds with HotStandbyOff on
// that text). Restarted with hot_standby on, it is a streaming standby again.
TEST_F(PostgresSwitchoverTest, AStandbyWithHotStandbyOffIsSeenAsSuch) {
  ASSERT_OK(actuator_.Stop(spec_, kGreen));
  const auto& db = spec_.green.database;
  util::Command start;
  start.argv = {
      spec_.database.bin_directory + "/pg_ctl",
      "-D",
      db.data_directory,
      "-l",
      pg_->root() + "/green-hot-standby-off.log",
      "-o",
      absl::StrCat("-c port=", db.port, " -c listen_addresses=", db.host, " -c hot_standby=off"),
      "-w",
      "-t",
      "30",
      "start"};
  start.run_as = spec_.database.os_user;
  absl::StatusOr<util::CommandResult> started = runner_.Run(start);
  ASSERT_TRUE(started.ok() && started->exit_code == 0)
      << started.status() << (started.ok() ? started->output : "");
  ServerState green;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {  // poll: the refusal comes once recovery has started
    green = Observe(kGreen);
  } while (!absl::StrContains(green.error, "Hot standby mode is disabled") &&
           std::chrono::steady_clock::now() < deadline &&
           (clock_.SleepFor(milliseconds(20)), true));
  std::cout << "  green with hot_standby = off: " << green.error << "\n";
  RecordProperty("hot_standby_off_error", green.error);
  EXPECT_FALSE(green.reachable);
  EXPECT_TRUE(green.postmaster_alive);
  EXPECT_EQ(model::RoleOf(green), model::Role::kUnknown);
  EXPECT_THAT(green.error, HasSubstr("the database system is not accepting connections"));
  EXPECT_THAT(green.error, HasSubstr("Hot standby mode is disabled"));

  ASSERT_OK(actuator_.Stop(spec_, kGreen));
  ASSERT_OK(actuator_.Start(spec_, kGreen));
  ASSERT_NO_FATAL_FAILURE(WaitStreaming(kGreen, kBlue));
  EXPECT_TRUE(Observe(kGreen).prerequisites.hot_standby);
}

}  // namespace
}  // namespace sy
