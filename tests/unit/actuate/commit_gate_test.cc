// The commit gate of PostgresActuator: for each irreversible act of each step, a gate that
// refuses that act stops the step right before it (the act's effect is absent from the fakes,
// the refusal is returned as is); a gate that refuses everything leaves the fakes as they
// were; and a gate that allows everything changes nothing the step does.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "pkg/model/topology.h"
#include "tests/fakes/fake_commit_gate.h"
#include "tests/unit/actuate/pg_step_fixture.h"

namespace sy::actuate {
namespace {

using model::StepKind;
using ::testing::Contains;

class PgGateTest;

// One irreversible act: the world a step reaches it from, the step, and whether its effect
// shows in the fakes.
struct GateCase {
  std::string name;
  std::string_view act;
  std::function<void(PgGateTest&)> setup;
  model::Step step;
  std::function<bool(PgGateTest&)> acted;
};

void PrintTo(const GateCase& c, std::ostream* os) { *os << c.name; }

// Everything a database step can change in the fakes.
struct Snapshot {
  std::vector<std::pair<int, int>> signals;
  std::vector<std::vector<std::string>> commands;
  std::vector<model::StartupConfig> startup;
  std::vector<std::string> fence_notes;
  std::vector<bool> alive;
  std::vector<std::set<std::string>> slots;
  std::vector<bool> promotion_requested;
  std::vector<int> alter_systems;
  std::vector<uint64_t> system_ids;
  bool copy_exists = false;
  bool operator==(const Snapshot&) const = default;
};

class PgGateTest : public PgStepTest, public ::testing::WithParamInterface<GateCase> {
 public:
  // The cases' set-ups and checks reach the fixture's world.
  using PgStepTest::Dir;
  using PgStepTest::Directory;
  using PgStepTest::FencedBlue;
  using PgStepTest::host_;
  using PgStepTest::Pid;
  using PgStepTest::runner_;
  using PgStepTest::Server;

  void Stopped(Color c, const std::string& state) {
    host_.Process(Pid(c)).alive = false;
    Directory(c).pid.reset();
    Directory(c).control.cluster_state = state;
    Server(c).reachable = false;
  }
  // Green promoted to a running primary on timeline 2; blue stopped and fenced, and the
  // operator's consent to replace blue's directory as observed now.
  void GreenPrimaryBlueStoppedWithConsent() {
    Stopped(Color::kBlue, "shut down");
    Directory(Color::kBlue).startup.fenced = true;
    Directory(Color::kBlue).startup.standby_signal = true;
    Server(Color::kGreen).in_recovery = false;
    Server(Color::kGreen).timeline = 2;
    const absl::StatusOr<model::ServerState> s = observer_.Observe(dc_.spec, Color::kBlue);
    ASSERT_TRUE(s.ok()) << s.status();
    dc_.metadata.annotations[std::string(api::kAllowDiscardAnnotation)] =
        api::FormatDiscardConsent(model::IncidentOf(*s));
  }
  // Whether a program whose path ends in `program` was run or spawned.
  bool Ran(const std::string& program) {
    for (const auto& argv : runner_.Commands()) {
      if (!argv.empty() && absl::EndsWith(argv[0], program)) return true;
    }
    return false;
  }
  Snapshot Take() {
    Snapshot s{host_.Signals(), runner_.Commands()};
    for (Color c : api::kColors) {
      s.startup.push_back(Directory(c).startup);
      s.fence_notes.push_back(Directory(c).fence_note);
      s.alive.push_back(host_.PostmasterAlive(Dir(c)));
      s.slots.push_back(Server(c).slots);
      s.promotion_requested.push_back(Server(c).promotion_requested);
      s.alter_systems.push_back(Server(c).alter_systems);
      s.system_ids.push_back(Directory(c).control.system_identifier);
    }
    s.copy_exists = host_.Exists(host::CopyDirectory(Dir(Color::kBlue)));
    return s;
  }
  absl::Status RunGated(const model::Step& step) {
    StepOutcome out;
    return gated_.Run(dc_, step, &out);
  }

  fakes::FakeCommitGate gate_;
  PostgresActuator gated_{pg_, host_, observer_, runner_, clock_, timeouts_, &gate_};
};

model::Step StepOf(StepKind kind, Color target, std::optional<Color> source = std::nullopt) {
  return model::Step{kind, target, source};
}

void NoSetup(PgGateTest&) {}

void PromoteSetup(PgGateTest& t) { t.FencedBlue(); }

// Spawning postgres brings green up as a standby (pid 300).
void StoppedGreenThatStarts(PgGateTest& t) {
  t.Stopped(Color::kGreen, "shut down in recovery");
  t.runner_.OnSpawn([&t](const util::Command&, const std::string&) {
    t.host_.RunPostmaster(t.Dir(Color::kGreen), 300);
    t.Server(Color::kGreen).reachable = true;
    return absl::StatusOr<int>(300);
  });
}

// pg_basebackup writes a copy (a stopped cluster of system 7) over blue's of system 99.
void BasebackupSetup(PgGateTest& t) {
  t.GreenPrimaryBlueStoppedWithConsent();
  t.Directory(Color::kBlue).control.system_identifier = 99;
  t.runner_.OnRun([&t](const util::Command&) -> absl::StatusOr<util::CommandResult> {
    t.host_.Directory(host::CopyDirectory(t.Dir(Color::kBlue)));
    return util::CommandResult{};
  });
}

std::vector<GateCase> Cases() {
  return {
      {"FenceFiles", acts::kFenceFiles, NoSetup, StepOf(StepKind::kFence, Color::kBlue),
       [](PgGateTest& t) { return t.Directory(Color::kBlue).startup.fenced; }},
      {"Sigint", acts::kSigint, NoSetup, StepOf(StepKind::kFence, Color::kBlue),
       [](PgGateTest& t) { return !t.host_.Signals().empty(); }},
      {"RemovePromoteRequest", acts::kRemovePromoteRequest,
       [](PgGateTest& t) { t.Directory(Color::kGreen).startup.promote_requested = true; },
       StepOf(StepKind::kStop, Color::kGreen),
       [](PgGateTest& t) { return !t.Directory(Color::kGreen).startup.promote_requested; }},
      {"PgCtlStop", acts::kPgCtlStop,
       [](PgGateTest& t) {
         t.host_.Process(PgGateTest::Pid(Color::kGreen)).signal_denied = true;
         t.runner_.OnRun([&t](const util::Command&) -> absl::StatusOr<util::CommandResult> {
           t.host_.Process(PgGateTest::Pid(Color::kGreen)).signal_denied = false;
           EXPECT_TRUE(t.host_.SignalProcess(PgGateTest::Pid(Color::kGreen), SIGINT).ok());
           return util::CommandResult{};
         });
       },
       StepOf(StepKind::kStop, Color::kGreen), [](PgGateTest& t) { return t.Ran("pg_ctl"); }},
      {"PromotionRecord", acts::kPromotionRecord, PromoteSetup,
       StepOf(StepKind::kPromote, Color::kGreen),
       [](PgGateTest& t) { return t.Directory(Color::kBlue).startup.fence_promotion_requested; }},
      {"PgPromote", acts::kPgPromote, PromoteSetup, StepOf(StepKind::kPromote, Color::kGreen),
       [](PgGateTest& t) {
         return t.Server(Color::kGreen).promotion_requested || !t.Server(Color::kGreen).in_recovery;
       }},
      {"LiftFenceFiles", acts::kLiftFenceFiles, PromoteSetup,
       StepOf(StepKind::kLiftFence, Color::kBlue),
       [](PgGateTest& t) { return !t.Directory(Color::kBlue).startup.fenced; }},
      {"Spawn", acts::kSpawn, StoppedGreenThatStarts, StepOf(StepKind::kStart, Color::kGreen),
       [](PgGateTest& t) { return t.Ran("postgres"); }},
      {"CreateSlot", acts::kCreateSlot, NoSetup,
       StepOf(StepKind::kCreateSlot, Color::kGreen, Color::kBlue),
       [](PgGateTest& t) { return !t.Server(Color::kBlue).slots.empty(); }},
      {"DropSlot", acts::kDropSlot,
       [](PgGateTest& t) { t.Server(Color::kBlue).slots = {model::SlotName(Color::kGreen)}; },
       StepOf(StepKind::kDropSlot, Color::kGreen, Color::kBlue),
       [](PgGateTest& t) { return t.Server(Color::kBlue).slots.empty(); }},
      {"AlterSystem", acts::kAlterSystem,
       [](PgGateTest& t) { t.Server(Color::kGreen).sync_standby_names = "green"; },
       StepOf(StepKind::kSyncStandby, Color::kGreen, Color::kBlue),
       [](PgGateTest& t) { return t.Server(Color::kGreen).alter_systems > 0; }},
      {"StandbyFiles", acts::kStandbyFiles,
       [](PgGateTest& t) { t.GreenPrimaryBlueStoppedWithConsent(); },
       StepOf(StepKind::kConfigureStandby, Color::kBlue, Color::kGreen),
       [](PgGateTest& t) { return !t.Directory(Color::kBlue).startup.fenced; }},
      {"PgRewind", acts::kPgRewind, [](PgGateTest& t) { t.GreenPrimaryBlueStoppedWithConsent(); },
       StepOf(StepKind::kRewind, Color::kBlue, Color::kGreen),
       [](PgGateTest& t) { return t.Ran("pg_rewind"); }},
      {"PgBasebackup", acts::kPgBasebackup, BasebackupSetup,
       StepOf(StepKind::kBasebackup, Color::kBlue, Color::kGreen),
       [](PgGateTest& t) { return t.Ran("pg_basebackup"); }},
      {"SwapInCopy", acts::kSwapInCopy, BasebackupSetup,
       StepOf(StepKind::kBasebackup, Color::kBlue, Color::kGreen),
       [](PgGateTest& t) { return t.Directory(Color::kBlue).control.system_identifier == 7; }},
  };
}

TEST_P(PgGateTest, RefusingTheActStopsTheStepRightBeforeIt) {
  const GateCase& c = GetParam();
  c.setup(*this);
  ASSERT_FALSE(c.acted(*this));
  gate_.Refuse(std::string(c.act));
  const absl::Status s = RunGated(c.step);
  EXPECT_EQ(s, fakes::FakeCommitGate::Refusal(c.act));
  EXPECT_THAT(gate_.Asked(), Contains(std::string(c.act)));
  EXPECT_EQ(gate_.Asked().back(), c.act) << "asked nothing after the refusal";
  EXPECT_FALSE(c.acted(*this)) << c.act << " happened although the gate refused it";
}

TEST_P(PgGateTest, RefusingEverythingChangesNothing) {
  const GateCase& c = GetParam();
  c.setup(*this);
  const Snapshot before = Take();
  gate_.Refuse("*");
  const absl::Status s = RunGated(c.step);
  ASSERT_FALSE(gate_.Asked().empty());
  EXPECT_EQ(s, fakes::FakeCommitGate::Refusal(gate_.Asked().front()));
  EXPECT_EQ(gate_.Asked().size(), 1u);
  EXPECT_TRUE(Take() == before) << "the step changed the world before its first act";
}

TEST_P(PgGateTest, AllowingEverythingChangesNothingTheStepDoes) {
  const GateCase& c = GetParam();
  c.setup(*this);
  const absl::Status s = RunGated(c.step);
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_TRUE(c.acted(*this));
  EXPECT_THAT(gate_.Asked(), Contains(std::string(c.act)));
}

// The same step without a gate, from the same world, ends in the same world.
TEST_P(PgGateTest, WithoutAGateTheStepDoesTheSame) {
  const GateCase& c = GetParam();
  c.setup(*this);
  const absl::Status s = actuator_.Run(dc_, c.step, nullptr);
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_TRUE(c.acted(*this));
}

INSTANTIATE_TEST_SUITE_P(Acts, PgGateTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<GateCase>& param) {
                           return param.param.name;
                         });

}  // namespace
}  // namespace sy::actuate
