// Tests of `yardctl check`: the report and exit code RenderCheck gives for worlds made with
// FakeCluster (observed, then edited where the fake has no knob: settings, privileges), and
// CtlCheck's errors before anything is observed.
#include <gtest/gtest.h>

#include <sstream>

#include "pkg/app/yardctl.h"
#include "pkg/codec/codec.h"
#include "pkg/util/files.h"
#include "tests/fakes/fake_cluster.h"
#include "tests/fakes/plan_driver.h"
#include "tests/fakes/temp_dir.h"

namespace sy::app {
namespace {

using api::Color;
using fakes::FakeCluster;

struct Report {
  int rc = -1;
  std::string out;
};

// The report for `dc` on `w`.
Report Check(const api::DeploymentColor& dc, const model::World& w,
             std::optional<Color> to = std::nullopt) {
  std::ostringstream out;
  Report r;
  r.rc = RenderCheck(dc, w, to, std::chrono::system_clock::time_point{}, out);
  r.out = out.str();
  return r;
}

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// What the observer reads on a real server: a superuser on PostgreSQL 15 with the defaults
// and wal_log_hints on (else rewind-possible warns).
void Prerequisites(model::World& w) {
  for (Color c : api::kColors) {
    model::Prerequisites& p = w.server(c).prerequisites;
    p.known = true;
    p.version_num = 150004;
    p.version = "15.4";
    p.privileges = {"superuser"};
    p.wal_log_hints = true;
  }
}

TEST(RenderCheckTest, AllPassGoesAheadAndListsTheSteps) {
  FakeCluster cluster;  // blue primary, green streaming, traffic on blue
  model::World w = cluster.ObserveWorld();
  Prerequisites(w);
  const Report r = Check(fakes::FakeResource(Color::kGreen), w);
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_TRUE(Has(r.out, "default/shop: switch blue → green\n")) << r.out;
  EXPECT_TRUE(Has(r.out, "✓ lag-bytes")) << r.out;
  EXPECT_TRUE(Has(r.out, "✓ apply-delay")) << r.out;
  EXPECT_FALSE(Has(r.out, "✗")) << r.out;
  EXPECT_FALSE(Has(r.out, "failing:")) << r.out;
  EXPECT_FALSE(Has(r.out, "first,")) << r.out;
  EXPECT_TRUE(Has(r.out, "    1. switch-traffic green: nginx upstream file to green")) << r.out;
  EXPECT_TRUE(Has(r.out, ". fence blue: ")) << r.out;
  EXPECT_TRUE(Has(r.out, ". promote green: ")) << r.out;
  EXPECT_TRUE(Has(r.out, ". start blue: blue starts as green's streaming standby")) << r.out;
  EXPECT_TRUE(Has(r.out, "result: the switch to green would go ahead\n")) << r.out;
}

TEST(RenderCheckTest, ConvergedChecksTheNextFlipOrTheColorAsked) {
  FakeCluster cluster;
  const model::World w = cluster.ObserveWorld();
  Report r = Check(fakes::FakeResource(Color::kBlue), w);
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_TRUE(
      Has(r.out, "default/shop: blue is already the primary: checks for a switch back to green"))
      << r.out;
  EXPECT_TRUE(Has(r.out, ". fence blue: ")) << r.out;

  r = Check(fakes::FakeResource(Color::kBlue), w, Color::kGreen);
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_TRUE(Has(r.out, "default/shop: switch blue → green\n")) << r.out;

  r = Check(fakes::FakeResource(Color::kGreen), w, Color::kBlue);
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_TRUE(Has(r.out, "blue is already the primary: there is no switch to blue")) << r.out;
}

TEST(RenderCheckTest, PausedReplayBlocks) {
  FakeCluster cluster;
  cluster.SetReplayPaused(Color::kGreen, true);
  const Report r = Check(fakes::FakeResource(Color::kGreen), cluster.ObserveWorld());
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_TRUE(Has(r.out, "✗ replay-not-paused  paused")) << r.out;
  EXPECT_TRUE(Has(r.out, "✗ replay-not-paused (ReplayPaused): WAL replay is paused on green"))
      << r.out;
  EXPECT_FALSE(Has(r.out, "first,")) << r.out;  // the planner holds on this very check
  EXPECT_TRUE(Has(r.out, "steps of the switch to green once it may go ahead")) << r.out;
  EXPECT_TRUE(
      Has(r.out, "result: the switch to green would not go ahead: replay-not-paused fails\n"))
      << r.out;
}

TEST(RenderCheckTest, LagOverMaxLagBytesBlocks) {
  FakeCluster cluster;
  api::DeploymentColor dc = fakes::FakeResource(Color::kGreen);
  model::World w = cluster.ObserveWorld();
  dc.spec.database.max_lag_bytes = int64_t{1024} * 1024;
  w.blue.current_lsn = w.green.replay_lsn + uint64_t{3} * 1024 * 1024;  // blue wrote 3 MiB more
  const Report r = Check(dc, w);
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_TRUE(Has(r.out, "✗ lag-bytes")) << r.out;
  EXPECT_TRUE(Has(r.out, "3.0 MiB behind")) << r.out;
  EXPECT_TRUE(Has(r.out, "at most 1.0 MiB (maxLagBytes)")) << r.out;
  EXPECT_TRUE(Has(r.out, "green is more than maxLagBytes (1048576) behind blue")) << r.out;
}

TEST(RenderCheckTest, ApplyDelayBlocksNamingTheSetting) {
  FakeCluster cluster;
  model::World w = cluster.ObserveWorld();
  Prerequisites(w);
  w.green.prerequisites.apply_delay_ms = 5000;
  const Report r = Check(fakes::FakeResource(Color::kGreen), w);
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_TRUE(Has(r.out, "✗ apply-delay")) << r.out;
  EXPECT_TRUE(Has(r.out, "5000 ms")) << r.out;
  EXPECT_TRUE(Has(r.out, "green has recovery_min_apply_delay = 5000 ms")) << r.out;
  EXPECT_TRUE(Has(r.out, "would not go ahead: apply-delay fails")) << r.out;
}

TEST(RenderCheckTest, AWarningAloneGoesAhead) {
  FakeCluster cluster;
  model::World w = cluster.ObserveWorld();
  Prerequisites(w);
  w.green.prerequisites.streaming_delay_ms = -1;  // max_standby_streaming_delay = -1
  const Report r = Check(fakes::FakeResource(Color::kGreen), w);
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_TRUE(Has(r.out, "! conflict-delay")) << r.out;
  EXPECT_TRUE(Has(r.out, "-1 (for ever)")) << r.out;
  EXPECT_TRUE(Has(r.out, "! conflict-delay (ConflictDelay): green's max_standby_streaming_delay"))
      << r.out;
  EXPECT_FALSE(Has(r.out, "✗")) << r.out;
  EXPECT_TRUE(Has(r.out, "result: the switch to green would go ahead\n")) << r.out;
}

TEST(RenderCheckTest, ATargetThatDoesNotStreamIsMadeAStandbyFirst) {
  FakeCluster cluster;
  cluster.StopServer(Color::kGreen);
  const Report r = Check(fakes::FakeResource(Color::kGreen), cluster.ObserveWorld());
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_TRUE(Has(r.out, "  first, the controller would start green (")) << r.out;
  EXPECT_TRUE(Has(r.out, "(the checks below judge green as a standby streaming from blue)"))
      << r.out;
  EXPECT_TRUE(Has(r.out, "would not go ahead")) << r.out;
}

TEST(RenderCheckTest, NoPrimaryOrTwoAreNoSwitch) {
  FakeCluster stopped;
  stopped.StopServer(Color::kBlue);
  Report r = Check(fakes::FakeResource(Color::kGreen), stopped.ObserveWorld());
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_TRUE(Has(r.out,
                  "default/shop: no server runs as the primary (blue: stopped; green: "
                  "standby)"))
      << r.out;
  EXPECT_TRUE(Has(r.out, "  meanwhile the controller would")) << r.out;
  EXPECT_FALSE(Has(r.out, "CHECK")) << r.out;

  FakeCluster split;
  split.StartWithoutStandbySignal(Color::kGreen);
  r = Check(fakes::FakeResource(Color::kGreen), split.ObserveWorld());
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_TRUE(Has(r.out, "split brain: blue and green both run as primaries")) << r.out;
  EXPECT_TRUE(Has(r.out, "(SplitBrain)")) << r.out;
}

TEST(CtlCheckTest, InvalidOrMissingManifestsAreErrors) {
  fakes::TempDir tmp("yardctl_check_test");
  const std::string bad = tmp.path + "/bad.yaml";
  std::string text = codec::EncodeYaml(fakes::FakeResource());
  text.replace(text.find("activeColor: blue"), 17, "activeColor: purple");
  ASSERT_TRUE(util::WriteFileAtomically(bad, text).ok());
  CtlOptions o;
  o.files = {bad};
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(CtlCheck(o, out, err), 2);
  EXPECT_TRUE(Has(err.str(), "spec.activeColor: must be \"blue\" or \"green\"")) << err.str();
  EXPECT_EQ(out.str(), "");

  o.files = {tmp.path + "/missing.yaml"};
  EXPECT_EQ(CtlCheck(o, out, err), 2);
  o.files.clear();
  EXPECT_EQ(CtlCheck(o, out, err), 2);
  EXPECT_TRUE(Has(err.str(), "no manifest given")) << err.str();
}

}  // namespace
}  // namespace sy::app
