// Rule (unknown hosts): a server whose host did not answer is never missing, stopped, a
// primary or a standby, whatever else its observation says; the rules that rest on the other
// server refuse; and each step names the hosts it needs (pkg/plan/README.md §20).
#include "pkg/model/unknown_hosts.h"

#include <gtest/gtest.h>

#include "gmock/gmock.h"
#include "pkg/model/topology.h"
#include "tests/fakes/fake_cluster.h"

namespace sy::model {
namespace {

using api::Color;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kUnreachable[] = "agent 10.200.0.22:9754 unreachable: connect: timed out";

// Each role a known host can show, by the facts a fake cluster reports.
std::vector<ServerState> EveryRole(Color c) {
  std::vector<ServerState> out;
  fakes::FakeCluster primary(fakes::FakeSpec(), c);
  out.push_back(primary.ObserveWorld().server(c));  // primary
  fakes::FakeCluster standby(fakes::FakeSpec(), api::Other(c));
  out.push_back(standby.ObserveWorld().server(c));  // standby
  standby.StopServer(c);
  out.push_back(standby.ObserveWorld().server(c));  // stopped
  standby.WipeDataDirectory(c);
  out.push_back(standby.ObserveWorld().server(c));  // missing
  return out;
}

ServerState Unknown(ServerState s) {
  s.host_unknown = kUnreachable;
  return s;
}

TEST(UnknownHosts, AnUnknownHostIsNeverMissingStoppedPrimaryOrStandby) {
  const std::vector<ServerState> roles = EveryRole(Color::kGreen);
  ASSERT_EQ(RoleOf(roles[3]), Role::kMissing);
  ServerState bare;  // what a controller fills when the agent does not answer
  bare.color = Color::kGreen;
  bare.host_unknown = kUnreachable;
  std::vector<ServerState> unknown = {bare};
  for (const ServerState& s : roles) unknown.push_back(Unknown(s));
  for (const ServerState& s : unknown) {
    EXPECT_EQ(RoleOf(s), Role::kUnknown);
    EXPECT_FALSE(s.RunningPrimary());
    EXPECT_FALSE(s.RunningStandby());
    EXPECT_FALSE(s.Running());
    EXPECT_FALSE(s.Stopped());
    EXPECT_FALSE(s.HostKnown());
  }
}

// A flip back over a promotion in doubt: blue stopped and configured as a primary, green in
// recovery with standby.signal (what a promotion looks like before it completes). Known,
// green competes with nobody and blue may start; in doubt, blue may not.
TEST(UnknownHosts, NoStartAsPrimaryNoLiftedFenceNoPromotionProofNoCopyBesideOne) {
  fakes::FakeCluster cluster(fakes::FakeSpec(), Color::kBlue);
  cluster.StopServer(Color::kBlue);
  World w = cluster.ObserveWorld();
  ASSERT_EQ(WhyNotStartAsPrimary(w.blue, w.green), "");
  w.green.host_unknown =
      "operation 1.6.shop.4.17.promote.green (promote) in doubt on 10.0.0.2:9754";
  EXPECT_THAT(WhyNotStartAsPrimary(w.blue, w.green),
              HasSubstr("green's host cannot be observed (operation "));
  EXPECT_NE(WhyNotStartAsPrimary(w.green, w.blue), "");

  // The fenced old primary, its standby caught up: the proof holds while both answer.
  fakes::FakeCluster fenced(fakes::FakeSpec(), Color::kBlue);
  ASSERT_TRUE(fenced.Run(fakes::FakeSpec(), Step{StepKind::kFence, Color::kBlue}, nullptr).ok());
  w = fenced.ObserveWorld();
  ASSERT_TRUE(CleanlyFencedBehind(w.blue, w.green));
  ASSERT_EQ(WhyNotLiftFence(w.blue, w.green), "");
  World blue_unknown = w;
  blue_unknown.blue.host_unknown = kUnreachable;
  EXPECT_FALSE(PromotionThreshold(blue_unknown.blue));
  EXPECT_FALSE(CleanlyFencedBehind(blue_unknown.blue, blue_unknown.green));
  EXPECT_NE(WhyNotLiftFence(blue_unknown.blue, blue_unknown.green), "");
  World green_unknown = w;
  green_unknown.green.host_unknown = kUnreachable;
  EXPECT_FALSE(CleanlyFencedBehind(green_unknown.blue, green_unknown.green));
  EXPECT_THAT(WhyNotLiftFence(green_unknown.blue, green_unknown.green),
              HasSubstr("green's host cannot be observed"));

  // A missing directory is cloned into; behind an unknown host it may be a live database.
  api::DeploymentColor dc;
  dc.spec = fakes::FakeSpec();
  fakes::FakeCluster wiped(fakes::FakeSpec(), Color::kBlue);
  wiped.WipeDataDirectory(Color::kGreen);
  w = wiped.ObserveWorld();
  ASSERT_EQ(WhyNotReplace(dc, w.green, w.blue), "");
  w.green.host_unknown = kUnreachable;
  EXPECT_THAT(WhyNotReplace(dc, w.green, w.blue), HasSubstr("green's host cannot be observed"));
  w = wiped.ObserveWorld();
  w.blue.host_unknown = kUnreachable;
  EXPECT_NE(WhyNotReplace(dc, w.green, w.blue), "");
}

TEST(UnknownHosts, TheHostsEachStepNeeds) {
  const World w = fakes::FakeCluster(fakes::FakeSpec(), Color::kBlue).ObserveWorld();
  const Color b = Color::kBlue;
  const Color g = Color::kGreen;
  auto hosts = [&](StepKind kind, Color target, std::optional<Color> source = std::nullopt,
                   const World& world = World()) {
    return HostsOf(Step{kind, target, source}, world);
  };
  EXPECT_THAT(hosts(StepKind::kSwitchTraffic, g).databases, IsEmpty());
  EXPECT_TRUE(hosts(StepKind::kSwitchTraffic, g).nginx);
  EXPECT_THAT(hosts(StepKind::kFence, b).databases, ElementsAre(b, g));
  EXPECT_TRUE(hosts(StepKind::kFence, b).nginx);
  EXPECT_THAT(hosts(StepKind::kPromote, g).databases, ElementsAre(g, b));
  EXPECT_FALSE(hosts(StepKind::kPromote, g).nginx);
  // A start as a primary rests on the other server; a standby's does not.
  EXPECT_THAT(hosts(StepKind::kStart, b, std::nullopt, w).databases, ElementsAre(b, g));
  EXPECT_THAT(hosts(StepKind::kStart, g, std::nullopt, w).databases, ElementsAre(g));
  // Lifting the fence of a running primary keeps it one; of a stopped server it makes one.
  EXPECT_THAT(hosts(StepKind::kLiftFence, b, std::nullopt, w).databases, ElementsAre(b));
  EXPECT_THAT(hosts(StepKind::kLiftFence, g, std::nullopt, w).databases, ElementsAre(g, b));
  // A slot lives on the source.
  EXPECT_THAT(hosts(StepKind::kCreateSlot, g, b).databases, ElementsAre(b));
  EXPECT_THAT(hosts(StepKind::kDropSlot, b, g).databases, ElementsAre(g));
  for (StepKind k : {StepKind::kConfigureStandby, StepKind::kRewind, StepKind::kBasebackup}) {
    EXPECT_THAT(hosts(k, g, b).databases, ElementsAre(g, b));
  }
  for (StepKind k : {StepKind::kStop, StepKind::kCheckpoint, StepKind::kSyncStandby}) {
    EXPECT_THAT(hosts(k, g, b).databases, ElementsAre(g));
    EXPECT_FALSE(hosts(k, g, b).nginx);
  }

  World unknown = w;
  unknown.green.host_unknown = kUnreachable;
  EXPECT_EQ(WhyNotWithUnknownHosts(Step{StepKind::kStart, b}, w), "");
  EXPECT_EQ(WhyNotWithUnknownHosts(Step{StepKind::kStart, b}, unknown),
            std::string("start blue rests on what green is, whose host cannot be observed (") +
                kUnreachable + ")");
  EXPECT_EQ(WhyNotWithUnknownHosts(Step{StepKind::kBasebackup, g, b}, unknown),
            std::string("basebackup green from blue acts on green, whose host cannot be "
                        "observed (") +
                kUnreachable + ")");
  EXPECT_EQ(WhyNotWithUnknownHosts(Step{StepKind::kCheckpoint, b}, unknown), "");
  unknown = w;
  unknown.nginx.host_unknown = "agent 10.200.0.30:9754 unreachable";
  EXPECT_EQ(WhyNotWithUnknownHosts(Step{StepKind::kFence, b}, unknown),
            "fence blue needs nginx seen, whose host cannot be observed (agent 10.200.0.30:9754 "
            "unreachable)");
  EXPECT_EQ(WhyNotWithUnknownHosts(Step{StepKind::kPromote, g}, unknown), "");
}

TEST(UnknownHosts, NginxUnknownServesNothingSeen) {
  NginxState n;
  n.running = true;
  n.file_color = n.served_color = Color::kGreen;
  EXPECT_TRUE(n.TrafficOn(Color::kGreen));
  EXPECT_EQ(n.Serving(), Color::kGreen);
  n.host_unknown = "agent 10.200.0.30:9754 unreachable";
  EXPECT_FALSE(n.TrafficOn(Color::kGreen));
  EXPECT_EQ(n.Serving(), std::nullopt);
}

}  // namespace
}  // namespace sy::model
