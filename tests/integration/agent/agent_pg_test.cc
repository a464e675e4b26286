// switchyard-agent against a real PostgreSQL 15 server: the agent binary, on 127.0.0.1 with
// plain HTTP, observes a data directory through POST /v1/observe, then starts and stops its
// server through POST /v1/ops (polling GET /v1/ops/<id>), each checked with the server
// itself. Blue only (the agent of blue's machine); green, the peer, is absent.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "pkg/agent/protocol.h"
#include "pkg/api/validation.h"
#include "pkg/host/pqxx_pg_client.h"
#include "pkg/util/command_runner.h"
#include "tests/fakes/temp_dir.h"
#include "tests/integration/agent/agent_process.h"
#include "tests/integration/pg/mini_postgres.h"

namespace sy::testing {
namespace {

using agent::OpState;
using api::Color;

class AgentPgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<MiniPostgres>> mp = MiniPostgres::Create();
    ASSERT_TRUE(mp.ok()) << mp.status();
    pg_ = *std::move(mp);
    dc_.metadata.name = "shop";
    dc_.metadata.uid = "u-1";
    dc_.metadata.generation = 1;
    dc_.spec = pg_->spec();
    dc_.spec.blue.upstreams = {"127.0.0.1:18081"};  // a valid resource; no app runs here
    dc_.spec.green.upstreams = {"127.0.0.1:18082"};
    api::ApplyDefaults(&dc_);
    const api::DatabaseRef& blue = dc_.spec.blue.database;
    absl::StatusOr<std::unique_ptr<AgentProcess>> a = AgentProcess::Start(
        dir_.path,
        absl::StrCat("insecureHttp: true\npostgres:\n  - dataDirectory: ", blue.data_directory,
                     "\n    binDirectory: ", dc_.spec.database.bin_directory,
                     "\n    osUser: ", dc_.spec.database.os_user, "\n    port: ", blue.port, "\n"));
    ASSERT_TRUE(a.ok()) << a.status();
    agent_ = *std::move(a);
  }

  agent::ObserveReply Observe() {
    agent::ObserveRequest r;
    r.epoch = {"e1", 5};
    r.leader = "test";
    r.object = dc_;
    r.machine = agent::Machine{.nginx = false, .color = Color::kBlue};
    const AgentResponse res = agent_->Call("POST", "/v1/observe", agent::EncodeObserveRequest(r));
    EXPECT_EQ(res.status, 200) << res.body;
    absl::StatusOr<agent::ObserveReply> reply = agent::DecodeObserveReply(res.body);
    EXPECT_TRUE(reply.ok()) << reply.status() << ": " << res.body;
    return reply.ok() ? *reply : agent::ObserveReply{};
  }

  // Submits `kind` on blue and polls until it ends; returns the final reply.
  agent::OpReply RunOp(const std::string& id, model::StepKind kind) {
    agent::OpRequest r;
    r.epoch = {"e1", 5};
    r.leader = "test";
    r.op_id = id;
    r.object = dc_;
    r.step = model::Step{kind, Color::kBlue, std::nullopt};
    model::ServerState green;  // the peer: green's directory does not exist
    green.color = Color::kGreen;
    r.peer = green;
    AgentResponse res = agent_->Call("POST", "/v1/ops", agent::EncodeOpRequest(r));
    for (int i = 0; i < 20 && res.status == 202; ++i) {
      res = agent_->Call("GET", "/v1/ops/" + id + "?wait_ms=2000");
    }
    EXPECT_EQ(res.status, 200) << res.body;
    absl::StatusOr<agent::OpReply> reply = agent::DecodeOpReply(res.body);
    EXPECT_TRUE(reply.ok()) << reply.status() << ": " << res.body;
    return reply.ok() ? *reply : agent::OpReply{};
  }

  // pg_is_in_recovery() as blue answers it, or the error.
  absl::StatusOr<std::string> InRecovery() {
    absl::StatusOr<std::vector<host::PgRow>> rows =
        client_.Query(host::EndpointFor(dc_.spec, Color::kBlue), "SELECT pg_is_in_recovery()");
    if (!rows.ok()) return rows.status();
    return rows->at(0).at(0).value_or("");
  }

  std::unique_ptr<MiniPostgres> pg_;
  fakes::TempDir dir_{"agent-pg"};
  api::DeploymentColor dc_;
  std::unique_ptr<AgentProcess> agent_;
  host::PqxxPgClient client_;
};

TEST_F(AgentPgTest, ObservesThenStartsAndStopsThroughOperations) {
  agent::ObserveReply seen = Observe();
  ASSERT_EQ(seen.code, agent::Code::kOk) << seen.message;
  ASSERT_TRUE(seen.server.has_value());
  EXPECT_TRUE(seen.server->data_directory_exists);
  EXPECT_TRUE(seen.server->Stopped());
  ASSERT_TRUE(seen.server->control.has_value());
  EXPECT_EQ(seen.server->control->cluster_state, "shut down");
  EXPECT_FALSE(InRecovery().ok());

  // Started as a primary: its configuration has no standby.signal, and the peer shows green
  // cannot be one.
  agent::OpReply started = RunOp("e1.5.u-1.1.1.start.blue", model::StepKind::kStart);
  EXPECT_EQ(started.state, OpState::kDone) << started.message;
  EXPECT_EQ(started.code, agent::Code::kOk) << started.message;
  EXPECT_EQ(InRecovery().value_or("error"), "f");
  seen = Observe();
  ASSERT_TRUE(seen.server.has_value());
  EXPECT_TRUE(seen.server->RunningPrimary());

  // The only primary is not stopped: the step's re-check reads green from the peer.
  agent::OpReply refused = RunOp("e1.5.u-1.1.2.stop.blue", model::StepKind::kStop);
  EXPECT_EQ(refused.state, OpState::kFailed);
  EXPECT_EQ(refused.code, agent::Code::kFailedPrecondition);
  EXPECT_THAT(refused.message, ::testing::HasSubstr("only primary"));
  EXPECT_EQ(InRecovery().value_or("error"), "f");

  // A standby may be stopped: blue is shut down outside the agent, given standby.signal,
  // and started again by the agent, now as a standby.
  const std::string dir = dc_.spec.blue.database.data_directory;
  util::Command stop;
  stop.argv = {dc_.spec.database.bin_directory + "/pg_ctl", "stop", "-m", "fast", "-w", "-D", dir};
  stop.run_as = dc_.spec.database.os_user;
  absl::StatusOr<util::CommandResult> stopped_outside = util::ExecCommandRunner().Run(stop);
  ASSERT_TRUE(stopped_outside.ok() && stopped_outside->exit_code == 0)
      << stopped_outside.status() << (stopped_outside.ok() ? stopped_outside->output : "");
  std::ofstream(dir + "/standby.signal").close();
  struct stat st {};
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  ASSERT_EQ(::chown((dir + "/standby.signal").c_str(), st.st_uid, st.st_gid), 0);
  client_.Drop(host::EndpointFor(dc_.spec, Color::kBlue));
  started = RunOp("e1.5.u-1.1.3.start.blue", model::StepKind::kStart);
  EXPECT_EQ(started.state, OpState::kDone) << started.message;
  EXPECT_EQ(InRecovery().value_or("error"), "t");

  const agent::OpReply stopped = RunOp("e1.5.u-1.1.4.stop.blue", model::StepKind::kStop);
  EXPECT_EQ(stopped.state, OpState::kDone) << stopped.message;
  EXPECT_EQ(stopped.code, agent::Code::kOk) << stopped.message;
  client_.Drop(host::EndpointFor(dc_.spec, Color::kBlue));
  EXPECT_FALSE(InRecovery().ok()) << "blue still answers after the stop";
  seen = Observe();
  ASSERT_TRUE(seen.server.has_value());
  EXPECT_TRUE(seen.server->Stopped());

  // The same id again: answered from the table, not run (blue stays stopped... and is not
  // started by a repeated start either).
  started = RunOp("e1.5.u-1.1.3.start.blue", model::StepKind::kStart);
  EXPECT_EQ(started.state, OpState::kDone);
  EXPECT_FALSE(InRecovery().ok());
}

}  // namespace
}  // namespace sy::testing
