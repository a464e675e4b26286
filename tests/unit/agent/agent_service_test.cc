// The agent's service over a fake executor and a real state directory: the epoch rules of
// pkg/agent/README.md "Epochs" as every verb applies them, operations run once by id (also
// after a restart), one thing at a time per managed object, the commit gate refusing a
// running operation once a newer controller arrived, and operations a crash left in doubt.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "nlohmann/json.hpp"
#include "pkg/agent/journal.h"
#include "pkg/util/files.h"
#include "tests/unit/agent/agent_fixture.h"

namespace sy::agent {
namespace {

using api::Color;
using model::StepKind;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// The audit log's lines of `type`.
std::vector<nlohmann::json> AuditLines(const std::string& dir, const std::string& type) {
  std::vector<nlohmann::json> out;
  std::ifstream in(dir + "/audit.jsonl");
  for (std::string line; std::getline(in, line);) {
    nlohmann::json j = nlohmann::json::parse(line);
    if (j["type"] == type) out.push_back(j);
  }
  return out;
}

// --- epochs ---

TEST_F(AgentTest, NeverPinnedRefusesEveryEpochBearingCall) {
  int status = 0;
  EXPECT_EQ(Observe(5, Color::kBlue, &status).code, Code::kNoEpoch);
  EXPECT_EQ(status, 409);
  EXPECT_EQ(Submit(Op("op-1", StepKind::kPromote, Color::kGreen, 5), &status).code, Code::kNoEpoch);
  EXPECT_EQ(status, 409);
  EXPECT_EQ(Post("/v1/epoch", EncodeEpochRequest({{kEra, 5}, "test"})).status, 409);
  EXPECT_THAT(executor_.Runs(), IsEmpty());
  EXPECT_EQ(executor_.Observations(), 0);
  EXPECT_EQ(service_->Info().highest, Epoch{});
}

TEST_F(AgentTest, PinWhileServingTakesEffectWithoutARestart) {
  EXPECT_EQ(Observe(5, Color::kBlue).code, Code::kNoEpoch);
  Pin(5);
  EXPECT_EQ(Observe(5, Color::kBlue).code, Code::kOk);
}

TEST_F(AgentTest, AnotherEraIsRefused) {
  Pin(5);
  ObserveRequest r;
  r.epoch = {"another-era", 9};
  r.object = dc_;
  const server::HttpResponse res = Post("/v1/observe", EncodeObserveRequest(r));
  EXPECT_EQ(res.status, 409);
  EXPECT_EQ(DecodeErrorReply(res.body)->code, Code::kEraMismatch);
  EXPECT_EQ(service_->Info().highest, (Epoch{kEra, 5}));  // not raised
  EXPECT_EQ(executor_.Observations(), 0);
}

TEST_F(AgentTest, AHigherRevIsPersistedBeforeTheCallProceedsAndSurvivesARestart) {
  Pin(5);
  EXPECT_EQ(Post("/v1/epoch", EncodeEpochRequest({{kEra, 7}, "test"})).status, 200);
  EXPECT_EQ(service_->Info().highest.rev, 7);
  absl::StatusOr<std::string> file = util::ReadFile(dir_.path + "/epoch.json");
  ASSERT_TRUE(file.ok());
  EXPECT_THAT(*file, HasSubstr("\"7\""));
  Restart();
  EXPECT_EQ(service_->Info().highest, (Epoch{kEra, 7}));
  EXPECT_EQ(Observe(6, Color::kBlue).code, Code::kStaleEpoch);
  EXPECT_EQ(Observe(7, Color::kBlue).code, Code::kOk);
  EXPECT_EQ(Observe(8, Color::kBlue).code, Code::kOk);  // an observation raises too
  EXPECT_EQ(service_->Info().highest.rev, 8);
}

TEST_F(AgentTest, ALowerEpochIsRefusedAndNothingRuns) {
  Pin(5);
  int status = 0;
  const OpReply r = Submit(Op("op-1", StepKind::kPromote, Color::kGreen, 4), &status);
  EXPECT_EQ(status, 409);
  EXPECT_EQ(r.state, OpState::kRefused);
  EXPECT_EQ(r.code, Code::kStaleEpoch);
  EXPECT_THAT(executor_.Runs(), IsEmpty());
  EXPECT_TRUE(executor_.Server(Color::kGreen).in_recovery);
  // Not remembered either: the id is unknown.
  Poll("op-1", &status);
  EXPECT_EQ(status, 404);
  const std::vector<nlohmann::json> requests = AuditLines(dir_.path, "request");
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0]["verb"], "ops");
  EXPECT_EQ(requests[0]["decision"], "STALE_EPOCH");
  EXPECT_EQ(requests[0]["highest_before"], "5");
  EXPECT_EQ(requests[0]["epoch"]["rev"], "4");
  EXPECT_EQ(requests[1]["verb"], "poll");
  EXPECT_EQ(requests[1]["decision"], "UNKNOWN_OP");
}

TEST_F(AgentTest, AReadonlyObservationNeitherRaisesNorIsRefused) {
  Pin(5);
  ObserveRequest r;
  r.epoch = {kEra, 2};
  r.readonly = true;
  r.object = dc_;
  r.machine = Machine{.nginx = false, .color = Color::kGreen};
  EXPECT_EQ(DecodeObserveReply(Post("/v1/observe", EncodeObserveRequest(r)).body)->code, Code::kOk);
  r.epoch.rev = 9;
  EXPECT_EQ(DecodeObserveReply(Post("/v1/observe", EncodeObserveRequest(r)).body)->code, Code::kOk);
  EXPECT_EQ(service_->Info().highest.rev, 5);
}

// --- operations ---

TEST_F(AgentTest, AnOperationRunsAndEnds) {
  Pin(5);
  int status = 0;
  const OpReply r = Submit(Op("op-1", StepKind::kPromote, Color::kGreen, 5), &status);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(r.state, OpState::kDone);
  EXPECT_EQ(r.code, Code::kOk);
  EXPECT_EQ(r.detail, "fake promote green");
  EXPECT_FALSE(executor_.Server(Color::kGreen).in_recovery);
  const std::vector<nlohmann::json> commits = AuditLines(dir_.path, "commit");
  ASSERT_EQ(commits.size(), 1u);
  EXPECT_EQ(commits[0]["act"], "sigint");
  EXPECT_EQ(commits[0]["allowed"], true);
  EXPECT_EQ(AuditLines(dir_.path, "op_end").size(), 1u);
}

TEST_F(AgentTest, TheSameOpIdRunsOnceAlsoAfterARestart) {
  Pin(5);
  ASSERT_EQ(Submit(Op("op-1", StepKind::kStop, Color::kGreen, 5)).state, OpState::kDone);
  executor_.SetServer([&] {
    model::ServerState s = executor_.Server(Color::kGreen);
    s.postmaster_alive = s.reachable = true;  // someone started it again
    return s;
  }());
  int status = 0;
  OpReply again = Submit(Op("op-1", StepKind::kStop, Color::kGreen, 5), &status);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(again.state, OpState::kDone);
  EXPECT_THAT(executor_.Runs(), ElementsAre("stop green"));
  Restart();
  again = Submit(Op("op-1", StepKind::kStop, Color::kGreen, 5), &status);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(again.state, OpState::kDone);
  EXPECT_EQ(again.detail, "fake stop green");  // answered from the journal
  EXPECT_THAT(executor_.Runs(), ElementsAre("stop green"));
  EXPECT_TRUE(executor_.Server(Color::kGreen).reachable);
}

TEST_F(AgentTest, AnOperationHoldsItsObjectObservationsWaitThenAnswerBusy) {
  Pin(5);
  executor_.Hold();
  int status = 0;
  const OpReply running = Submit(Op("op-1", StepKind::kPromote, Color::kGreen, 5), &status);
  EXPECT_EQ(status, 202);
  EXPECT_EQ(running.state, OpState::kRunning);
  ASSERT_TRUE(executor_.AwaitRuns(1));
  const ObserveReply busy = Observe(5, Color::kGreen, &status, 50);
  EXPECT_EQ(status, 409);
  EXPECT_EQ(busy.code, Code::kBusy);
  EXPECT_EQ(busy.running_op, "op-1");
  EXPECT_FALSE(busy.server.has_value());
  // Another operation on the same object is refused; the other database is not held.
  EXPECT_EQ(Submit(Op("op-2", StepKind::kStop, Color::kGreen, 5), &status).code, Code::kBusy);
  EXPECT_EQ(status, 409);
  EXPECT_EQ(Observe(5, Color::kBlue).code, Code::kOk);
  executor_.Release();
  const OpReply done = Poll("op-1", &status, "2000");
  EXPECT_EQ(status, 200);
  EXPECT_EQ(done.state, OpState::kDone);
  const ObserveReply after = Observe(5, Color::kGreen);
  EXPECT_EQ(after.code, Code::kOk);
  ASSERT_TRUE(after.server.has_value());
  EXPECT_TRUE(after.server->RunningPrimary());
  EXPECT_THAT(executor_.Runs(), ElementsAre("promote green"));
}

TEST_F(AgentTest, AnObservationThatMeetsARunningOperationWaitsForIt) {
  Pin(5);
  executor_.Hold();
  Submit(Op("op-1", StepKind::kPromote, Color::kGreen, 5));
  ASSERT_TRUE(executor_.AwaitRuns(1));
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    executor_.Release();
  });
  const ObserveReply r = Observe(5, Color::kGreen, nullptr, 2000);
  release.join();
  EXPECT_EQ(r.code, Code::kOk);
  ASSERT_TRUE(r.server.has_value());
  EXPECT_TRUE(r.server->RunningPrimary());  // what the operation did, not what was before
}

TEST_F(AgentTest, AHigherEpochArrivingMidOperationStopsItAtItsNextAct) {
  Pin(5);
  executor_.Hold();
  Submit(Op("op-1", StepKind::kPromote, Color::kGreen, 5));
  ASSERT_TRUE(executor_.AwaitRuns(1));
  // A newer controller announces itself while the operation waits before its act.
  EXPECT_EQ(Post("/v1/epoch", EncodeEpochRequest({{kEra, 6}, "newer"})).status, 200);
  executor_.Release();
  int status = 0;
  const OpReply r = Poll("op-1", &status, "2000");
  EXPECT_EQ(status, 200);
  EXPECT_EQ(r.state, OpState::kFailed);
  EXPECT_EQ(r.code, Code::kStaleEpoch);
  EXPECT_THAT(r.message, HasSubstr("stopped before sigint"));
  EXPECT_TRUE(executor_.Server(Color::kGreen).in_recovery);  // never promoted
  const std::vector<nlohmann::json> commits = AuditLines(dir_.path, "commit");
  ASSERT_EQ(commits.size(), 1u);
  EXPECT_EQ(commits[0]["allowed"], false);
  EXPECT_EQ(commits[0]["epoch"]["rev"], "5");
}

// --- operations in doubt after a crash ---

class InDoubtTest : public AgentTest {
 protected:
  // What a crash mid-operation leaves: the journal's start line, with `acted` the record of
  // its first irreversible act, and no end.
  void CrashedDuring(const std::string& op_id, StepKind kind, Color target, bool acted = true) {
    service_.reset();
    absl::StatusOr<std::unique_ptr<Journal>> j = Journal::Open(dir_.path);
    ASSERT_TRUE(j.ok()) << j.status();
    JournalStart s;
    s.op_id = op_id;
    s.step = model::Step{kind, target, std::nullopt};
    s.machine = std::string(api::ColorName(target));
    s.resource = dc_.Key();
    s.object = dc_.spec.color(target).database.data_directory;
    s.epoch = {kEra, 5};
    s.budget_ms = 60'000;
    ASSERT_TRUE((*j)->Start(s).ok());
    if (acted) {
      ASSERT_TRUE((*j)->Acted(op_id).ok());
    }
    j->reset();
    Restart();
  }
};

TEST_F(InDoubtTest, APromotionIsInDoubtUntilTheServerIsSeenWritable) {
  Pin(5);
  CrashedDuring("op-p", StepKind::kPromote, Color::kGreen);
  int status = 0;
  EXPECT_EQ(Poll("op-p", &status).state, OpState::kInDoubt);
  EXPECT_EQ(status, 202);
  ObserveReply r = Observe(5, Color::kGreen);
  EXPECT_EQ(r.code, Code::kOk);
  EXPECT_THAT(r.in_doubt_ops, ElementsAre("op-p"));
  // Operations on the object wait for it to settle; the other database is not held.
  OpReply refused = Submit(Op("op-2", StepKind::kStop, Color::kGreen, 5), &status);
  EXPECT_EQ(status, 409);
  EXPECT_EQ(refused.code, Code::kBusy);
  EXPECT_THAT(refused.message, HasSubstr("op-p"));
  EXPECT_THAT(Observe(5, Color::kBlue).in_doubt_ops, IsEmpty());
  // The promotion completes (PostgreSQL finishes it on its own): the next observation sees it.
  model::ServerState green = executor_.Server(Color::kGreen);
  green.in_recovery = false;
  executor_.SetServer(green);
  r = Observe(5, Color::kGreen);
  EXPECT_THAT(r.in_doubt_ops, IsEmpty());
  const OpReply settled = Poll("op-p", &status);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(settled.state, OpState::kDone);
  EXPECT_THAT(settled.message, HasSubstr("restarted mid-operation"));
  EXPECT_EQ(Submit(Op("op-2", StepKind::kStop, Color::kGreen, 5)).state, OpState::kDone);
  // Settled for good: a restart finds it ended, and never runs it.
  Restart();
  EXPECT_EQ(Poll("op-p").state, OpState::kDone);
  EXPECT_THAT(executor_.Runs(), ElementsAre("stop green"));
}

// Killed after the operation began but before its first irreversible act (pg_promote()):
// nothing was done, so nothing is held; the controller observes and plans again at once.
TEST_F(InDoubtTest, AnOperationThatNeverActedIsNotInDoubt) {
  Pin(5);
  CrashedDuring("op-p", StepKind::kPromote, Color::kGreen, /*acted=*/false);
  const OpReply r = Poll("op-p");
  EXPECT_EQ(r.state, OpState::kFailed);
  EXPECT_EQ(r.code, Code::kAborted);
  EXPECT_THAT(r.message, HasSubstr("before the operation's first irreversible act"));
  EXPECT_THAT(Observe(5, Color::kGreen).in_doubt_ops, IsEmpty());
  EXPECT_EQ(Submit(Op("op-2", StepKind::kStop, Color::kGreen, 5)).state, OpState::kDone);
}

// The record of the act is made through the operation's commit gate, before the act.
TEST_F(InDoubtTest, TheFirstActIsJournaledBeforeItIsDone) {
  Pin(5);
  EXPECT_EQ(Submit(Op("op-1", StepKind::kStop, Color::kGreen, 5)).state, OpState::kDone);
  service_.reset();
  const std::string text = util::ReadFile(dir_.path + "/journal.jsonl").value_or("");
  const size_t start = text.find("\"event\":\"start\"");
  const size_t act = text.find("\"event\":\"act\"");
  const size_t end = text.find("\"event\":\"end\"");
  EXPECT_NE(act, std::string::npos) << text;
  EXPECT_LT(start, act);
  EXPECT_LT(act, end);
}

TEST_F(InDoubtTest, AnInDoubtStopEndsAsFailedOnceItsBudgetPassesUnseen) {
  Pin(5);
  CrashedDuring("op-s", StepKind::kStop, Color::kGreen);
  EXPECT_THAT(Observe(5, Color::kGreen).in_doubt_ops, ElementsAre("op-s"));  // still running
  clock_.Advance(std::chrono::milliseconds(60'001));
  EXPECT_THAT(Observe(5, Color::kGreen).in_doubt_ops, IsEmpty());
  const OpReply r = Poll("op-s");
  EXPECT_EQ(r.state, OpState::kFailed);
  EXPECT_EQ(r.code, Code::kUnavailable);
  EXPECT_THAT(r.message, HasSubstr("not seen within 60000 ms"));
}

TEST_F(InDoubtTest, AnInterruptedCopyEndsAsFailedAtOnce) {
  Pin(5);
  CrashedDuring("op-b", StepKind::kBasebackup, Color::kGreen);
  const OpReply r = Poll("op-b");
  EXPECT_EQ(r.state, OpState::kFailed);
  EXPECT_EQ(r.code, Code::kAborted);
  EXPECT_THAT(r.message, HasSubstr("agent restarted mid-operation"));
  EXPECT_THAT(Observe(5, Color::kGreen).in_doubt_ops, IsEmpty());
  EXPECT_THAT(executor_.Runs(), IsEmpty());
}

// --- the allowlist and the transport's admission ---

TEST_F(AgentTest, AResourceNamingAnotherDirectoryIsNotManaged) {
  Pin(5);
  dc_.spec.green.database.data_directory = "/srv/pg/elsewhere";
  int status = 0;
  const OpReply r = Submit(Op("op-1", StepKind::kPromote, Color::kGreen, 6), &status);
  EXPECT_EQ(status, 422);
  EXPECT_EQ(r.code, Code::kNotManaged);
  EXPECT_THAT(r.message, HasSubstr("spec.colors.green.database.dataDirectory"));
  EXPECT_THAT(executor_.Runs(), IsEmpty());
  EXPECT_EQ(service_->Info().highest.rev, 5);  // a refused call raises nothing
}

TEST_F(AgentTest, AdmissionRefusesUnknownVerbsBeforeTheBody) {
  server::HttpRequest head;
  head.method = "POST";
  head.path = "/v1/other";
  EXPECT_EQ(service_->Admit(head)->status, 404);
  head.path = "/v1/info";
  EXPECT_EQ(service_->Admit(head)->status, 405);
  head.method = "GET";
  EXPECT_FALSE(service_->Admit(head).has_value());
  const nlohmann::json info = nlohmann::json::parse(Get("/v1/info").body);
  EXPECT_EQ(info["agent"]["id"], "dbg");
  EXPECT_EQ(info["objects"].size(), 3u);
}

TEST_F(AgentTest, StoppingRefusesTheNextActOfARunningOperation) {
  Pin(5);
  executor_.Hold();
  Submit(Op("op-1", StepKind::kPromote, Color::kGreen, 5));
  ASSERT_TRUE(executor_.AwaitRuns(1));
  std::thread stop([&] { service_->Stop(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // Stop() began
  executor_.Release();
  stop.join();
  const OpReply r = Poll("op-1");
  EXPECT_EQ(r.state, OpState::kFailed);
  EXPECT_EQ(r.code, Code::kUnavailable);
  EXPECT_THAT(r.message, HasSubstr("stopping"));
  EXPECT_TRUE(executor_.Server(Color::kGreen).in_recovery);
  // Ended in the journal: after the restart it is not in doubt.
  Restart();
  EXPECT_EQ(Poll("op-1").state, OpState::kFailed);
}

}  // namespace
}  // namespace sy::agent
