// The agent's durable state: the epoch file (rules, durability, another process's pin), the
// journal (what a restart finds, torn lines, compaction) and the audit log (lines, rotation).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "nlohmann/json.hpp"
#include "pkg/agent/audit.h"
#include "pkg/agent/epoch_store.h"
#include "pkg/agent/journal.h"
#include "pkg/util/files.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/temp_dir.h"

namespace sy::agent {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class StateTest : public ::testing::Test {
 protected:
  std::string State() const { return dir_.path + "/state"; }
  std::unique_ptr<EpochStore> Epochs() {
    absl::StatusOr<std::unique_ptr<EpochStore>> e = EpochStore::Open(State());
    EXPECT_TRUE(e.ok()) << e.status();
    return e.ok() ? *std::move(e) : nullptr;
  }
  std::unique_ptr<Journal> OpenJournal(JournalOptions o = {}) {
    absl::StatusOr<std::unique_ptr<Journal>> j = Journal::Open(State(), o);
    EXPECT_TRUE(j.ok()) << j.status();
    return j.ok() ? *std::move(j) : nullptr;
  }
  static JournalStart Start(const std::string& id) {
    JournalStart s;
    s.op_id = id;
    s.step = model::Step{model::StepKind::kPromote, api::Color::kGreen, api::Color::kBlue};
    s.machine = "green";
    s.resource = "default/shop";
    s.object = "/srv/pg/shop-green";
    s.epoch = {"era", 5};
    s.budget_ms = 60'000;
    return s;
  }

  fakes::TempDir dir_{"agent-state"};
};

TEST_F(StateTest, TheStateDirectoryIsCreatedPrivate) {
  ASSERT_NE(Epochs(), nullptr);
  struct stat st {};
  ASSERT_EQ(::stat(State().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ::chmod(State().c_str(), 0755);
  ASSERT_NE(OpenJournal(), nullptr);
  ASSERT_EQ(::stat(State().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST_F(StateTest, EpochRules) {
  std::unique_ptr<EpochStore> e = Epochs();
  EXPECT_EQ(e->Check({"era", 1}, true).code, Code::kNoEpoch);
  EXPECT_FALSE(e->Current({"era", 1}));
  ASSERT_TRUE(e->Pin({"era", 5}, false).ok());
  EXPECT_EQ(e->Check({"other", 9}, true).code, Code::kEraMismatch);
  EXPECT_EQ(e->Check({"era", 4}, true).code, Code::kStaleEpoch);
  EXPECT_EQ(e->Check({"era", 5}, true).code, Code::kOk);
  EXPECT_EQ(e->Check({"era", 6}, /*raise=*/false).code, Code::kOk);
  EXPECT_EQ(e->Highest().rev, 5);
  const EpochVerdict v = e->Check({"era", 7}, true);
  EXPECT_EQ(v.code, Code::kOk);
  EXPECT_EQ(v.before.rev, 5);
  EXPECT_TRUE(e->Current({"era", 7}));
  EXPECT_FALSE(e->Current({"era", 6}));
  // Durable: a new store (a restarted agent) reads it back.
  EXPECT_EQ(Epochs()->Highest(), (Epoch{"era", 7}));
}

TEST_F(StateTest, PinRefusesToLowerTheRevUnlessForced) {
  std::unique_ptr<EpochStore> e = Epochs();
  ASSERT_TRUE(e->Pin({"era", 9}, false).ok());
  const absl::Status lower = e->Pin({"era", 3}, false);
  EXPECT_TRUE(absl::IsFailedPrecondition(lower)) << lower;
  EXPECT_THAT(lower.message(), HasSubstr("--force"));
  EXPECT_EQ(e->Highest().rev, 9);
  ASSERT_TRUE(e->Pin({"era", 3}, true).ok());
  EXPECT_EQ(Epochs()->Highest().rev, 3);
  ASSERT_TRUE(e->Pin({"new-era", 1}, false).ok());  // another era starts anywhere
}

TEST_F(StateTest, AnotherProcessPinningIsSeenAtTheNextCall) {
  std::unique_ptr<EpochStore> serving = Epochs();
  ASSERT_TRUE(serving->Pin({"era", 5}, false).ok());
  ASSERT_TRUE(Epochs()->Pin({"era", 8}, false).ok());  // pin-epoch beside the agent
  EXPECT_FALSE(serving->Current({"era", 5}));
  EXPECT_EQ(serving->Check({"era", 7}, true).code, Code::kStaleEpoch);
}

TEST_F(StateTest, AnEpochFileThatCannotBeParsedIsAnError) {
  ASSERT_NE(Epochs(), nullptr);
  ASSERT_TRUE(util::WriteFileAtomically(State() + "/epoch.json", "{\"era\": 1}").ok());
  absl::StatusOr<std::unique_ptr<EpochStore>> e = EpochStore::Open(State());
  EXPECT_TRUE(absl::IsInvalidArgument(e.status())) << e.status();
  EXPECT_THAT(e.status().message(), HasSubstr("epoch.json"));
}

TEST_F(StateTest, TheJournalKnowsWhatEndedAndWhatDidNot) {
  {
    std::unique_ptr<Journal> j = OpenJournal();
    ASSERT_TRUE(j->Start(Start("a")).ok());
    ASSERT_TRUE(j->Start(Start("b")).ok());
    ASSERT_TRUE(j->End({"a", OpState::kDone, Code::kOk, "", "promoted"}).ok());
    EXPECT_TRUE(absl::IsNotFound(j->End({"zzz", OpState::kDone, Code::kOk, "", ""})));
  }
  // A crash tore the last line.
  std::ofstream(State() + "/journal.jsonl", std::ios::app) << "{\"event\":\"end\",\"op_";
  std::unique_ptr<Journal> j = OpenJournal();
  ASSERT_EQ(j->Unfinished().size(), 1u);
  EXPECT_EQ(j->Unfinished()[0], Start("b"));
  ASSERT_EQ(j->Ended().size(), 1u);
  EXPECT_EQ(j->Ended()[0].start, Start("a"));
  EXPECT_EQ(j->Ended()[0].end.detail, "promoted");
}

TEST_F(StateTest, CompactionKeepsTheLastEndedAndTheUnfinished) {
  JournalOptions o;
  o.compact_above_bytes = 4096;
  o.keep_ended = 3;
  {
    std::unique_ptr<Journal> j = OpenJournal(o);
    ASSERT_TRUE(j->Start(Start("open")).ok());
    for (int i = 0; i < 40; ++i) {
      const std::string id = "op-" + std::to_string(i);
      ASSERT_TRUE(j->Start(Start(id)).ok());
      ASSERT_TRUE(j->End({id, OpState::kDone, Code::kOk, "", ""}).ok());
    }
    EXPECT_LT(j->SizeBytes(), 2 * o.compact_above_bytes);
  }
  std::unique_ptr<Journal> j = OpenJournal(o);
  std::vector<std::string> ended;
  for (const JournalEntry& e : j->Ended()) ended.push_back(e.start.op_id);
  EXPECT_THAT(ended, ElementsAre("op-37", "op-38", "op-39"));
  ASSERT_EQ(j->Unfinished().size(), 1u);
  EXPECT_EQ(j->Unfinished()[0].op_id, "open");
}

TEST_F(StateTest, TheAuditLogWritesTimedLinesAndRotates) {
  fakes::FakeClock clock;
  absl::StatusOr<std::unique_ptr<AuditLog>> a = AuditLog::Open(State(), clock, 600);
  ASSERT_TRUE(a.ok()) << a.status();
  (*a)->Request("ops", "op-1", {"era", 5}, 4, "OK");
  (*a)->Commit("op-1", {"era", 5}, "pg_promote", true);
  (*a)->OpEnd("op-1", {"era", 5}, OpState::kDone, Code::kOk);
  absl::StatusOr<std::string> text = util::ReadFile(State() + "/audit.jsonl");
  ASSERT_TRUE(text.ok());
  std::vector<nlohmann::json> lines;
  std::istringstream in(*text);
  for (std::string l; std::getline(in, l);) lines.push_back(nlohmann::json::parse(l));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0]["type"], "request");
  EXPECT_EQ(lines[0]["highest_before"], "4");
  EXPECT_EQ(lines[0]["decision"], "OK");
  EXPECT_TRUE(lines[0]["t"].is_number_integer());
  EXPECT_EQ(lines[1]["act"], "pg_promote");
  EXPECT_EQ(lines[1]["allowed"], true);
  EXPECT_EQ(lines[2]["state"], "done");
  for (int i = 0; i < 20; ++i) (*a)->Commit("op-1", {"era", 5}, "sigint", false);
  EXPECT_TRUE(util::PathExists(State() + "/audit.jsonl.1"));
  absl::StatusOr<std::string> now = util::ReadFile(State() + "/audit.jsonl");
  ASSERT_TRUE(now.ok());
  EXPECT_LE(now->size(), 600u);
}

}  // namespace
}  // namespace sy::agent
