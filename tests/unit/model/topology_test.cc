// Tests of the planner's vocabulary: roles, lineage via timeline history, streaming, slots.
#include "pkg/model/topology.h"

#include <gtest/gtest.h>

#include "pkg/model/step.h"
#include "tests/fakes/fake_cluster.h"

namespace sy::model {
namespace {

using api::Color;
using model::ControlData;
using model::Lsn;
using model::ServerState;
using model::TimelineFork;

constexpr uint64_t kSysid = 7309151702475113211ULL;
const api::DeploymentColorSpec kSpec = fakes::FakeSpec();

ServerState Primary(Color c, uint32_t tli, Lsn current, std::vector<TimelineFork> history = {}) {
  ServerState s;
  s.color = c;
  s.data_directory_exists = s.postmaster_pid = s.postmaster_alive = true;
  s.control = ControlData{"in production", kSysid, current - 0x100, tli, 0};
  s.reachable = true;
  s.system_identifier = kSysid;
  s.timeline = tli;
  s.current_lsn = current;
  s.history = std::move(history);
  return s;
}

ServerState Standby(Color c, uint32_t tli, Lsn replay) {
  ServerState s = Primary(c, tli, replay);
  s.control->cluster_state = "in archive recovery";
  s.in_recovery = true;
  s.current_lsn = 0;
  s.receive_lsn = s.replay_lsn = replay;
  return s;
}

ServerState Stopped(Color c, std::string state, Lsn checkpoint, uint32_t tli,
                    Lsn min_recovery_end = 0) {
  ServerState s;
  s.color = c;
  s.data_directory_exists = true;
  s.control = ControlData{std::move(state), kSysid, checkpoint, tli, min_recovery_end};
  return s;
}

ServerState WithStandbySignal(ServerState s) {
  s.startup.standby_signal = true;
  return s;
}

ServerState WithFence(ServerState s) {
  s.startup.fenced = s.startup.standby_signal = true;
  return s;
}

// A stopped peer with only recovery.signal is no standby: it would end its archive recovery
// as a primary. Its WAL counts, so a server behind it is not started as the primary; with
// standby.signal it competes with nobody.
TEST(WhyNotStartAsPrimary, APeerWithOnlyRecoverySignalStillCountsItsWal) {
  const ServerState behind = Stopped(Color::kGreen, "shut down", 0x3000100, 1);
  ServerState ahead = Stopped(Color::kBlue, "shut down", 0x3000900, 1);
  ahead.startup.recovery_signal = true;
  EXPECT_NE(WhyNotStartAsPrimary(behind, ahead), "");
  ahead.startup.standby_signal = true;
  EXPECT_EQ(WhyNotStartAsPrimary(behind, ahead), "");
}

TEST(CleanlyFencedBehind, OnlyAStoppedFencedServerThatProvesItsEndBehindARunningStandby) {
  const ServerState standby = Standby(Color::kGreen, 1, 0x3000000);
  const ServerState clean = WithFence(Stopped(Color::kBlue, "shut down", 0x3000100, 1));
  EXPECT_EQ(CleanlyFencedBehind(clean, standby), Lsn{0x3000101});
  // Restarted by someone (as a standby, by the fence) and stopped again after its recovery:
  // its minimum recovery point is where its WAL ends.
  const ServerState in_recovery =
      WithFence(Stopped(Color::kBlue, "shut down in recovery", 0x3000100, 1, 0x3000200));
  EXPECT_EQ(CleanlyFencedBehind(in_recovery, standby), Lsn{0x3000200});

  // Stopped cleanly but not fenced: anyone could start it as a primary again.
  EXPECT_FALSE(CleanlyFencedBehind(Stopped(Color::kBlue, "shut down", 0x3000100, 1), standby));
  // Stopped before its recovery ended, or crashed: nothing is proven.
  EXPECT_FALSE(CleanlyFencedBehind(
      WithFence(Stopped(Color::kBlue, "shut down in recovery", 0x3000100, 1)), standby));
  EXPECT_FALSE(CleanlyFencedBehind(WithFence(Stopped(Color::kBlue, "in production", 0x3000100, 1)),
                                   standby));
  // A stale postmaster.pid beside a clean "shut down" proves nothing either way: pg_control
  // does (a postmaster killed past its shutdown checkpoint).
  ServerState pid = clean;
  pid.postmaster_pid = true;
  EXPECT_EQ(CleanlyFencedBehind(pid, standby), Lsn{0x3000101});
  // Still running.
  EXPECT_FALSE(CleanlyFencedBehind(WithFence(Standby(Color::kBlue, 1, 0x3000100)), standby));

  // The successor must run as a standby: not stopped, not a primary, not unreachable.
  EXPECT_FALSE(CleanlyFencedBehind(
      clean, Stopped(Color::kGreen, "shut down in recovery", 0x3000000, 1, 0x3000000)));
  EXPECT_FALSE(CleanlyFencedBehind(clean, Primary(Color::kGreen, 2, 0x3000200)));
  ServerState unreachable = standby;
  unreachable.reachable = false;
  EXPECT_FALSE(CleanlyFencedBehind(clean, unreachable));
}

TEST(RoleOf, EachRole) {
  EXPECT_EQ(RoleOf(Primary(Color::kBlue, 1, 0x3000000)), Role::kPrimary);
  EXPECT_EQ(RoleOf(Standby(Color::kBlue, 1, 0x3000000)), Role::kStandby);
  EXPECT_EQ(RoleOf(Stopped(Color::kBlue, "shut down", 0x3000000, 1)), Role::kStopped);

  ServerState stale = Stopped(Color::kBlue, "in production", 0x3000000, 1);
  stale.postmaster_pid = true;  // left by a crash: the process is gone
  EXPECT_EQ(RoleOf(stale), Role::kStopped);

  ServerState starting = stale;
  starting.postmaster_alive = true;  // alive, not accepting connections
  EXPECT_EQ(RoleOf(starting), Role::kUnknown);

  ServerState empty;
  EXPECT_EQ(RoleOf(empty), Role::kMissing);
  // A cluster whose pg_control could not be read is unknown, never missing.
  ServerState no_control = Stopped(Color::kBlue, "shut down", 0x3000000, 1);
  no_control.control.reset();
  EXPECT_EQ(RoleOf(no_control), Role::kUnreadable);
  ServerState unreadable = Stopped(Color::kBlue, "shut down", 0x3000000, 1);
  unreadable.directory_error = "pg_controldata: WARNING: ... untrustworthy";
  EXPECT_EQ(RoleOf(unreadable), Role::kUnreadable);
  ServerState not_a_cluster;
  not_a_cluster.directory_error = "holds files but no PostgreSQL cluster";
  EXPECT_EQ(RoleOf(not_a_cluster), Role::kUnreadable);
}

struct LineageCase {
  std::string name;
  ServerState s;
  ServerState primary;
  Lineage want;
};

class LineageTest : public testing::TestWithParam<LineageCase> {};

TEST_P(LineageTest, Compare) {
  const LineageCase& c = GetParam();
  EXPECT_EQ(LineageOf(c.s, c.primary), c.want)
      << c.name << ": got " << LineageName(LineageOf(c.s, c.primary));
}

// The old primary's shutdown checkpoint starts at C; timeline 2 forks at its end, C + 120.
constexpr Lsn kC = 0x3000400;
constexpr Lsn kFork = kC + 120;
const ServerState kNewPrimary = Primary(Color::kGreen, 2, kFork + 0x1000, {{1, kFork}});

ServerState WithSysid(ServerState s, uint64_t id) {
  s.control->system_identifier = id;
  return s;
}

// pg_last_wal_receive_lsn() is NULL: its walreceiver never streamed in this run.
ServerState Unstreamed(ServerState s) {
  s.receive_lsn = 0;
  return s;
}

// Fenced by the fence step (marker and standby.signal), no promotion recorded.
ServerState FencedOnly(ServerState s) {
  s.startup.fenced = true;
  s.startup.standby_signal = true;
  return s;
}

// Fenced, and the promote step recorded in its marker that the other server was asked to
// promote over it.
ServerState PromotedOver(ServerState s) {
  s = FencedOnly(std::move(s));
  s.startup.fence_promotion_requested = true;
  return s;
}

ServerState WithHistory(ServerState s, std::vector<TimelineFork> history) {
  s.history = std::move(history);
  return s;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, LineageTest,
    testing::Values(
        LineageCase{"clean switch: WAL ends at the fork", Stopped(Color::kBlue, "shut down", kC, 1),
                    kNewPrimary, Lineage::kFollows},
        LineageCase{"wrote past the fork, then shut down again",
                    Stopped(Color::kBlue, "shut down", kFork + 0x200, 1), kNewPrimary,
                    Lineage::kDiverged},
        LineageCase{"a shutdown checkpoint exactly at the fork was written after it",
                    Stopped(Color::kBlue, "shut down", kFork, 1), kNewPrimary, Lineage::kDiverged},
        LineageCase{"stopped standby on the old timeline, replayed up to the fork",
                    Stopped(Color::kBlue, "shut down in recovery", kC, 1, kFork), kNewPrimary,
                    Lineage::kFollows},
        LineageCase{"running standby on the old timeline, at the fork",
                    Standby(Color::kBlue, 1, kFork), kNewPrimary, Lineage::kFollows},
        LineageCase{"running standby on the old timeline, past the fork, never streamed",
                    Unstreamed(Standby(Color::kBlue, 1, kFork + 8)), kNewPrimary,
                    Lineage::kDiverged},
        // PostgreSQL 15 reports the restartpoint's timeline once the walreceiver is gone.
        LineageCase{"standby that streamed all it replayed, reporting a stale timeline",
                    Standby(Color::kBlue, 1, kFork + 8), kNewPrimary, Lineage::kFollows},
        LineageCase{"standby that streamed past the primary's end",
                    Standby(Color::kBlue, 1, kFork + 0x2000), kNewPrimary, Lineage::kDiverged},
        LineageCase{"same timeline, behind",
                    Stopped(Color::kBlue, "shut down in recovery", 0x3000100, 1, 0x3000200),
                    Primary(Color::kGreen, 1, 0x3000800), Lineage::kFollows},
        LineageCase{"same timeline, ahead", Stopped(Color::kBlue, "shut down", 0x3000900, 1),
                    Primary(Color::kGreen, 1, 0x3000800), Lineage::kDiverged},
        // A split brain without a promotion: green started as a primary on blue's timeline,
        // both took writes, blue was then stopped by hand. Being behind proves nothing.
        LineageCase{"same timeline, shut down as a primary behind the running primary",
                    Stopped(Color::kBlue, "shut down", 0x3000100, 1),
                    Primary(Color::kGreen, 1, 0x3000800), Lineage::kDiverged},
        // Green's promotion was killed before its end-of-recovery record: it restarted on
        // timeline 1 from past blue's shutdown checkpoint. The fence recorded the promotion.
        LineageCase{"same timeline, the fenced old primary the promotion was recorded over",
                    PromotedOver(Stopped(Color::kBlue, "shut down", 0x3000100, 1)),
                    Primary(Color::kGreen, 1, 0x3000800), Lineage::kFollows},
        LineageCase{"same timeline, fenced but no promotion recorded",
                    FencedOnly(Stopped(Color::kBlue, "shut down", 0x3000100, 1)),
                    Primary(Color::kGreen, 1, 0x3000800), Lineage::kDiverged},
        LineageCase{"same timeline, running standby caught up", Standby(Color::kBlue, 1, 0x3000800),
                    Primary(Color::kGreen, 1, 0x3000800), Lineage::kFollows},
        LineageCase{"different system identifier",
                    WithSysid(Stopped(Color::kBlue, "shut down", kC, 1), 42), kNewPrimary,
                    Lineage::kForeign},
        LineageCase{"different system identifier, running as a standby",
                    WithSysid(Standby(Color::kBlue, 1, kFork), 42), kNewPrimary, Lineage::kForeign},
        LineageCase{"crashed on the old timeline: its WAL end is unknown",
                    Stopped(Color::kBlue, "in production", kC - 0x300, 1), kNewPrimary,
                    Lineage::kUnknown},
        // Crashed as a primary on the timeline another server runs as a primary: both were
        // primaries on one timeline, whatever its WAL end turns out to be.
        LineageCase{"crashed as a primary on the same timeline",
                    Stopped(Color::kBlue, "in production", 0x3000100, 1),
                    Primary(Color::kGreen, 1, 0x3000800), Lineage::kDiverged},
        // A copy pg_basebackup just made, configured as a standby: its pg_control is the
        // running primary's ("in production") until it first starts. (The nemesis found it.)
        LineageCase{"a fresh copy of the primary, not yet started",
                    WithStandbySignal(Stopped(Color::kBlue, "in production", 0x3000100, 1)),
                    Primary(Color::kGreen, 1, 0x3000800), Lineage::kUnknown},
        LineageCase{"on a newer timeline than the primary",
                    Stopped(Color::kBlue, "shut down", 0x3000100, 3), kNewPrimary,
                    Lineage::kDiverged},
        LineageCase{"on a timeline the primary's history does not name",
                    Stopped(Color::kBlue, "shut down", 0x3000100, 1),
                    Primary(Color::kGreen, 3, kFork + 0x1000, {{2, kFork}}), Lineage::kDiverged},
        LineageCase{"no pg_control", ServerState{}, kNewPrimary, Lineage::kUnknown},
        // Regression: timeline IDs collide when a standby is promoted before it ever saw
        // the newer timeline's history file; the forks differ, so it diverged.
        LineageCase{"same timeline ID, another fork",
                    WithHistory(Stopped(Color::kBlue, "shut down", kFork - 0x80, 2), {{1, kC}}),
                    kNewPrimary, Lineage::kDiverged},
        LineageCase{"same timeline ID, same fork, a standby",
                    WithHistory(Stopped(Color::kBlue, "shut down in recovery", kFork + 0x80, 2,
                                        kFork + 0x90),
                                {{1, kFork}}),
                    kNewPrimary, Lineage::kFollows},
        // Two promotions from one fork point both pick timeline 2 and both write on it.
        LineageCase{"same timeline ID, same fork, shut down as a primary",
                    WithHistory(Stopped(Color::kBlue, "shut down", kFork + 0x80, 2), {{1, kFork}}),
                    kNewPrimary, Lineage::kDiverged},
        LineageCase{"older timeline, its own history another fork",
                    WithHistory(Stopped(Color::kBlue, "shut down", kFork + 0x80, 2), {{1, kC}}),
                    Primary(Color::kGreen, 3, kFork + 0x1000, {{1, kFork}, {2, kFork + 0x100}}),
                    Lineage::kDiverged},
        LineageCase{"older timeline, its history the beginning of the primary's",
                    WithHistory(Stopped(Color::kBlue, "shut down", kFork + 0x80, 2), {{1, kFork}}),
                    Primary(Color::kGreen, 3, kFork + 0x1000, {{1, kFork}, {2, kFork + 0x100}}),
                    Lineage::kFollows},
        LineageCase{"unreadable history: positions decide",
                    Stopped(Color::kBlue, "shut down in recovery", kFork + 0x80, 2, kFork + 0x90),
                    kNewPrimary, Lineage::kFollows}),
    [](const testing::TestParamInfo<LineageCase>& param) {
      std::string n;
      for (char ch : param.param.name) {
        n += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
      }
      return n;
    });

// The same comparisons on states FakeCluster produced the real way.
TEST(LineageOf, AfterACleanSwitchInTheFakeTheOldPrimaryFollows) {
  fakes::FakeCluster cluster;
  ASSERT_TRUE(cluster.Write().ok());
  ASSERT_TRUE(cluster.Run(kSpec, {StepKind::kFence, Color::kBlue, std::nullopt}, nullptr).ok());
  ASSERT_TRUE(cluster.Run(kSpec, {StepKind::kPromote, Color::kGreen, std::nullopt}, nullptr).ok());
  const model::World w = cluster.ObserveWorld();
  EXPECT_EQ(w.green.timeline, 2u);
  ASSERT_EQ(w.green.history.size(), 1u);
  EXPECT_EQ(w.green.history[0].switchpoint, w.blue.control->checkpoint_lsn + 120);
  EXPECT_EQ(LineageOf(w.blue, w.green), Lineage::kFollows);
}

TEST(LineageOf, InTheFakeAnOldPrimaryThatWroteOnDiverges) {
  fakes::FakeCluster cluster;
  cluster.PromoteBehindBack(Color::kGreen);  // split brain: blue still runs
  ASSERT_TRUE(cluster.WriteOn(Color::kBlue).ok());
  cluster.StopServer(Color::kBlue);
  const model::World w = cluster.ObserveWorld();
  EXPECT_EQ(LineageOf(w.blue, w.green), Lineage::kDiverged);
  EXPECT_FALSE(cluster.WalIsPrefixOf(Color::kBlue, Color::kGreen));
}

TEST(StreamsFrom, SeenFromEitherSide) {
  ServerState p = Primary(Color::kBlue, 1, 0x3000800);
  ServerState s = Standby(Color::kGreen, 1, 0x3000800);
  EXPECT_FALSE(StreamsFrom(s, p, kSpec));

  ServerState by_primary = p;
  by_primary.replication.push_back({"green", "streaming", 0x3000800});
  EXPECT_TRUE(StreamsFrom(s, by_primary, kSpec));
  by_primary.replication[0].state = "catchup";
  EXPECT_FALSE(StreamsFrom(s, by_primary, kSpec));
  by_primary.replication[0] = {"blue", "streaming", 0x3000800};  // another standby
  EXPECT_FALSE(StreamsFrom(s, by_primary, kSpec));

  ServerState by_standby = s;
  by_standby.receiver =
      model::WalReceiver{"streaming", "127.0.0.1", 15433, SlotName(Color::kGreen)};
  EXPECT_TRUE(StreamsFrom(by_standby, p, kSpec));
  by_standby.receiver->sender_port = 15999;  // from another server
  EXPECT_FALSE(StreamsFrom(by_standby, p, kSpec));
  by_standby.receiver->sender_port = 15433;
  by_standby.receiver->status = "waiting";
  EXPECT_FALSE(StreamsFrom(by_standby, p, kSpec));
}

TEST(StreamsFrom, BothMustRunInTheirRoles) {
  fakes::FakeCluster cluster;
  model::World w = cluster.ObserveWorld();
  EXPECT_TRUE(StreamsFrom(w.green, w.blue, kSpec));
  EXPECT_FALSE(StreamsFrom(w.blue, w.green, kSpec));
  cluster.SetDisconnected(Color::kGreen, true);
  w = cluster.ObserveWorld();
  EXPECT_FALSE(StreamsFrom(w.green, w.blue, kSpec));
  cluster.SetDisconnected(Color::kGreen, false);
  cluster.StopServer(Color::kBlue);
  w = cluster.ObserveWorld();
  EXPECT_FALSE(StreamsFrom(w.green, w.blue, kSpec));
}

TEST(StreamedAll, ReceiveCoversReplayOnARunningStandby) {
  EXPECT_TRUE(StreamedAll(Standby(Color::kBlue, 1, 0x3000800)));
  EXPECT_FALSE(StreamedAll(Unstreamed(Standby(Color::kBlue, 1, 0x3000800))));
  ServerState paused = Standby(Color::kBlue, 1, 0x3000800);
  paused.replay_lsn = 0x3000700;  // replay behind what was received: still all streamed
  EXPECT_TRUE(StreamedAll(paused));
  ServerState local = Standby(Color::kBlue, 1, 0x3000800);
  local.receive_lsn = 0x3000000;  // replayed local WAL past what it streamed
  EXPECT_FALSE(StreamedAll(local));
  EXPECT_FALSE(StreamedAll(Primary(Color::kBlue, 1, 0x3000800)));
}

TEST(ConfiguredToFollow, PortAndOwnSlot) {
  ServerState s = Stopped(Color::kBlue, "shut down", kC, 1);
  EXPECT_FALSE(ConfiguredAsStandby(s));
  s.startup = {true, "host=127.0.0.1 port=15434", SlotName(Color::kBlue), "127.0.0.1", 15434};
  EXPECT_TRUE(ConfiguredAsStandby(s));
  EXPECT_TRUE(ConfiguredToFollow(s, kSpec, Color::kGreen));
  EXPECT_FALSE(ConfiguredToFollow(s, kSpec, Color::kBlue));
  s.startup.primary_slot_name = SlotName(Color::kGreen);
  EXPECT_FALSE(ConfiguredToFollow(s, kSpec, Color::kGreen));
}

TEST(Topology, LagTimelineAndSlots) {
  const ServerState p = Primary(Color::kBlue, 3, 0x3000800);
  EXPECT_EQ(LagBytes(Standby(Color::kGreen, 3, 0x3000700), p), 0x100u);
  EXPECT_EQ(LagBytes(Standby(Color::kGreen, 3, 0x3000900), p), 0u);
  EXPECT_EQ(TimelineOf(p), 3u);
  EXPECT_EQ(TimelineOf(Stopped(Color::kGreen, "shut down", kC, 2)), 2u);
  EXPECT_EQ(TimelineOf(ServerState{}), 0u);
  ServerState with_slot = p;
  with_slot.slots = {SlotName(Color::kGreen)};
  EXPECT_TRUE(HasSlotFor(with_slot, Color::kGreen));
  EXPECT_FALSE(HasSlotFor(with_slot, Color::kBlue));
  EXPECT_FALSE(HasSlotFor(p, Color::kGreen));
}

// Rule (WAL gone): a server whose WAL ends before the primary's oldest segment can never
// stream from it again; unknown ends and an unknown oldest segment decide nothing.
TEST(Topology, WalRemovedFor) {
  ServerState p = Primary(Color::kBlue, 1, 0x9000000);
  const ServerState standby = Standby(Color::kGreen, 1, 0x5000100);
  const ServerState stopped =
      Stopped(Color::kGreen, "shut down in recovery", 0x5000000, 1, 0x5000100);
  ServerState crashed = Stopped(Color::kGreen, "in archive recovery", 0x5000100, 1);
  EXPECT_FALSE(WalRemovedFor(standby, p));  // oldest segment unknown (no pg_monitor)
  p.oldest_wal_lsn = 0x5000000;             // the segment holding 0/5000100 is still there
  EXPECT_FALSE(WalRemovedFor(standby, p));
  EXPECT_FALSE(WalRemovedFor(stopped, p));
  p.oldest_wal_lsn = 0x6000000;
  EXPECT_TRUE(WalRemovedFor(standby, p));
  EXPECT_TRUE(WalRemovedFor(stopped, p));
  EXPECT_FALSE(WalRemovedFor(crashed, p));  // how far its WAL goes is not known
  EXPECT_FALSE(WalRemovedFor(standby, Standby(Color::kBlue, 1, 0x9000000)));  // not a primary
  // A copy is allowed for a follower that cannot stream again, without consent.
  api::DeploymentColor dc;
  dc.spec = kSpec;
  EXPECT_EQ(WhyNotReplace(dc, stopped, p), "");
  p.oldest_wal_lsn = 0x5000000;
  EXPECT_NE(WhyNotReplace(dc, stopped, p), "");
}

TEST(Topology, SlotDetails) {
  ServerState s = Primary(Color::kBlue, 1, 0x9000000);
  s.slot_details = {{"switchyard_green", "physical", true, "reserved", 0x8000000},
                    {"cdc_orders", "logical", false, "extended", 0x7000000},
                    {"backup_tool", "physical", false, "lost", 0}};
  ASSERT_NE(SlotFor(s, Color::kGreen), nullptr);
  EXPECT_TRUE(SlotFor(s, Color::kGreen)->active);
  EXPECT_EQ(SlotFor(s, Color::kBlue), nullptr);
  EXPECT_EQ(LogicalSlots(s), std::vector<std::string>{"cdc_orders"});
  api::DeploymentColor dc;
  EXPECT_FALSE(LogicalSlotLossAllowed(dc));
  dc.metadata.annotations[std::string(api::kAllowLosingLogicalSlotsAnnotation)] = "true";
  EXPECT_TRUE(LogicalSlotLossAllowed(dc));
  EXPECT_TRUE(IsSwitchyardSlot("switchyard_blue"));
  EXPECT_FALSE(IsSwitchyardSlot("switchyardish"));
  EXPECT_FALSE(IsSwitchyardSlot("backup_tool"));
}

}  // namespace
}  // namespace sy::model
