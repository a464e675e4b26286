// Table-driven tests of plan::Next: each case builds a world with FakeCluster (and, where a
// position must be exact, edits the observed snapshot), then checks the one step planned
// (kind, target, source) or the reason nothing is, and the phase.
#include "pkg/plan/planner.h"

#include <gtest/gtest.h>

#include <functional>

#include "absl/strings/str_cat.h"
#include "pkg/model/topology.h"
#include "pkg/plan/status.h"
#include "pkg/util/clock.h"
#include "tests/fakes/fake_cluster.h"
#include "tests/fakes/plan_driver.h"

namespace sy::plan {
namespace {

using api::Color;
using api::Phase;
using fakes::FakeCluster;
using std::chrono::seconds;

constexpr Color kBlue = Color::kBlue;
constexpr Color kGreen = Color::kGreen;
const std::string kAllow(api::kAllowDiscardAnnotation);

struct Want {
  std::optional<model::StepKind> kind;  // nullopt: no step
  Color target = kBlue;
  std::optional<Color> source;
  Phase phase = Phase::kConverged;
  std::string reason;
};

Want Step(model::StepKind k, Color target, std::optional<Color> source, std::string reason) {
  return {k, target, source, Phase::kProgressing, std::move(reason)};
}
Want None(Phase phase, std::string reason) {
  return {std::nullopt, kBlue, std::nullopt, phase, std::move(reason)};
}
// The first step of giving up a switch to green after blue's fence: lifting blue's fence
// (green, a standby nobody asked to promote, cannot become a primary meanwhile), to start
// blue as the primary again (pkg/plan/README.md §19).
Want AbandonsTheSwitchToGreen() {
  return {model::StepKind::kLiftFence, kBlue, std::nullopt, Phase::kDegraded, "AbandoningSwitch"};
}

struct Case {
  std::string name;
  // Starts from FakeCluster() (blue primary, green streaming, traffic on blue) and
  // FakeResource(kBlue); may act on both, e.g. run the planner part of the way.
  std::function<void(FakeCluster&, api::DeploymentColor&)> setup;
  Want want;
  // Edits the observed snapshot before planning (exact positions the fake does not produce).
  std::function<void(model::World&)> tweak = nullptr;
};

// Flips the resource to `c`.
void Desire(api::DeploymentColor& dc, Color c) { dc.spec.active_color = c; }

// Runs the planner against the cluster until it proposes `kind` (not taken).
void Until(FakeCluster& c, api::DeploymentColor& dc, model::StepKind kind) {
  ASSERT_TRUE(fakes::RunUntil(c, &dc, kind).has_value())
      << "never planned " << model::StepKindName(kind);
}

// Converges the cluster to `color` (a clean switch when it is not already there).
void SwitchTo(FakeCluster& c, api::DeploymentColor& dc, Color color) {
  Desire(dc, color);
  ASSERT_EQ(fakes::Settle(c, &dc).phase, Phase::kConverged);
}

// Green promoted behind the controller's back while blue ran and took a write; blue then
// stopped by the planner (older timeline). Blue holds a write green lacks.
void DivergeBlue(FakeCluster& c, api::DeploymentColor& dc) {
  c.PromoteBehindBack(kGreen);
  ASSERT_TRUE(c.WriteOn(kBlue).ok());
  c.StopServer(kBlue);
  Desire(dc, kGreen);
  Until(c, dc, model::StepKind::kSwitchTraffic);
  ASSERT_TRUE(
      c.Run(dc.spec, {model::StepKind::kSwitchTraffic, kGreen, std::nullopt}, nullptr).ok());
  ASSERT_TRUE(c.Run(dc.spec, {model::StepKind::kCreateSlot, kBlue, kGreen}, nullptr).ok());
}

// The operator's consent to discard `c`'s diverged writes: the value the SplitBrain
// condition gives for `c`'s incident as observed now.
void Consent(FakeCluster& c, api::DeploymentColor& dc, Color color) {
  dc.metadata.annotations[kAllow] =
      api::FormatDiscardConsent(model::IncidentOf(c.ObserveWorld().server(color)));
}

// Green restarted without standby.signal (a second primary on blue's timeline) takes a
// write, blue takes more (ahead of green), then green is stopped by hand.
void SplitBrainGreenStoppedByHand(FakeCluster& c, api::DeploymentColor&) {
  c.StartWithoutStandbySignal(kGreen);
  ASSERT_TRUE(c.WriteOn(kGreen).ok());
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(c.WriteOn(kBlue).ok());
  c.StopServer(kGreen);
}

// Flips to green with green not receiving blue's last WAL, past the catch-up timeout: the
// switch is abandoned at the next pass.
void AbandonTheSwitchToGreen(FakeCluster& c, api::DeploymentColor& dc) {
  c.SetLagging(kGreen, true);
  ASSERT_TRUE(c.Write().ok());
  Desire(dc, kGreen);
  ASSERT_FALSE(fakes::RunUntil(c, &dc, model::StepKind::kPromote).has_value());
  c.clock().Advance(seconds(dc.spec.database.catch_up_timeout_seconds + 1));
}

const Case kCases[] = {
    // --- steady state and holds ---
    {"ConvergedOnBlue", [](FakeCluster&, api::DeploymentColor&) {},
     None(Phase::kConverged, "Converged")},
    {"Paused",
     [](FakeCluster&, api::DeploymentColor& dc) {
       Desire(dc, kGreen);
       dc.spec.paused = true;
     },
     None(Phase::kPaused, "Paused")},
    {"StandbyNotStreamingBlocksTheSwitch",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       c.SetDisconnected(kGreen, true);
       Desire(dc, kGreen);
     },
     None(Phase::kProgressing, "StandbyConnecting")},
    {"StandbyNotStreamingWhenConverged",
     [](FakeCluster& c, api::DeploymentColor&) { c.SetDisconnected(kGreen, true); },
     None(Phase::kProgressing, "StandbyConnecting")},
    // Started by someone else while its configuration was rewritten: it runs with the old,
    // empty primary_conninfo and would wait for ever; restarted, it reads the new one.
    {"StandbyRunningWithAnEmptyPrimaryConninfoIsRestarted",
     [](FakeCluster& c, api::DeploymentColor&) { c.SetDisconnected(kGreen, true); },
     Step(model::StepKind::kStop, kGreen, std::nullopt, "Rejoining"),
     [](model::World& w) { w.green.running_primary_port = 0; }},
    {"StandbyRunningWithItsConfiguredPrimaryConninfoWaits",
     [](FakeCluster& c, api::DeploymentColor&) { c.SetDisconnected(kGreen, true); },
     None(Phase::kProgressing, "StandbyConnecting"),
     [](model::World& w) { w.green.running_primary_port = w.green.startup.primary_port; }},
    {"RejoinedStandbyDisconnectedAfterASwitch",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       SwitchTo(c, dc, kGreen);
       c.SetDisconnected(kBlue, true);
     },
     None(Phase::kProgressing, "StandbyConnecting")},
    {"StandbyLagging",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       c.SetLagging(kGreen, true);
       ASSERT_TRUE(c.Write().ok());
       dc.spec.database.max_lag_bytes = 100;  // one write is 200 bytes
       Desire(dc, kGreen);
     },
     None(Phase::kDegraded, "StandbyLagging")},
    {"ReplayPaused",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       c.SetReplayPaused(kGreen, true);
       Desire(dc, kGreen);
     },
     None(Phase::kDegraded, "ReplayPaused")},
    {"SystemIdentifierMismatch",
     [](FakeCluster&, api::DeploymentColor& dc) { Desire(dc, kGreen); },
     None(Phase::kDegraded, "SystemIdentifierMismatch"),
     [](model::World& w) { w.green.system_identifier = 42; }},
    {"ServerUnreachable",
     [](FakeCluster& c, api::DeploymentColor&) { c.SetUnreachable(kGreen, true); },
     None(Phase::kProgressing, "ServerUnreachable")},
    // The refusal of a standby started with hot_standby = off, as the PostgreSQL client
    // reports it (captured from PostgreSQL 15).
    {"HotStandbyOff",
     [](FakeCluster& c, api::DeploymentColor&) { c.SetUnreachable(kGreen, true); },
     None(Phase::kDegraded, "HotStandbyOff"),
     [](model::World& w) {
       w.green.error =
           "connecting to 127.0.0.1:15434: connection to server at \"127.0.0.1\", port 15434 "
           "failed: FATAL:  the database system is not accepting connections (Hot standby mode "
           "is disabled.)";
     }},
    // A non-superuser outside pg_monitor sees pg_stat_replication and pg_stat_wal_receiver
    // with their state hidden: a streaming standby is not taken for one starting to.
    {"ReplicationStateHiddenFromTheUser",
     [](FakeCluster&, api::DeploymentColor& dc) { Desire(dc, kGreen); },
     None(Phase::kDegraded, "InsufficientPrivileges"),
     [](model::World& w) {
       for (model::ServerState* s : {&w.blue, &w.green}) {
         s->prerequisites.known = true;
         s->prerequisites.privileges = {"replication", "pg_promote", "pg_checkpoint"};
       }
       for (model::ReplicationPeer& peer : w.blue.replication) peer.state.clear();
       w.green.receiver->status.clear();
     }},
    {"ServerUnreachableWithNoPrimary",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       Desire(dc, kGreen);
       Until(c, dc, model::StepKind::kPromote);
       c.SetUnreachable(kGreen, true);
     },
     None(Phase::kProgressing, "ServerUnreachable")},
    {"NginxNotRunning",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       c.SetNginxRunning(false);
       Desire(dc, kGreen);
     },
     None(Phase::kDegraded, "NginxNotRunning")},
    {"UpstreamsUnhealthy",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       c.SetUpstreamsHealthy(kGreen, false);
       Desire(dc, kGreen);
     },
     None(Phase::kDegraded, "UpstreamsUnhealthy")},

    // --- the switchover, step by step ---
    {"TrafficFirst", [](FakeCluster&, api::DeploymentColor& dc) { Desire(dc, kGreen); },
     Step(model::StepKind::kSwitchTraffic, kGreen, std::nullopt, "SwitchingTraffic")},
    {"ThenFence",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       Desire(dc, kGreen);
       Until(c, dc, model::StepKind::kFence);
     },
     Step(model::StepKind::kFence, kBlue, std::nullopt, "Fencing")},
    {"PromoteOnceReplayIsPastTheShutdownCheckpoint",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       ASSERT_TRUE(c.Write().ok());
       Desire(dc, kGreen);
       Until(c, dc, model::StepKind::kPromote);
     },
     Step(model::StepKind::kPromote, kGreen, std::nullopt, "Promoting")},
    {"ReplayAtTheCheckpointIsNotPast",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       Desire(dc, kGreen);
       Until(c, dc, model::StepKind::kPromote);
     },
     None(Phase::kProgressing, "CatchingUp"),
     [](model::World& w) { w.green.replay_lsn = w.blue.control->checkpoint_lsn; }},
    {"ReplayBehindTheCheckpointUntilTheTimeout",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       Desire(dc, kGreen);
       Until(c, dc, model::StepKind::kPromote);
       // A second short of the timeout: status.fence.fencedAt has second precision, so the
       // timeout can fire up to a second early (reported to the lead, not papered over).
       c.clock().Advance(seconds(dc.spec.database.catch_up_timeout_seconds - 1));
     },
     None(Phase::kProgressing, "CatchingUp"),
     [](model::World& w) { w.green.replay_lsn = w.blue.control->checkpoint_lsn - 8; }},
    {"ReplayBehindTheCheckpointAfterTheTimeout",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       Desire(dc, kGreen);
       Until(c, dc, model::StepKind::kPromote);
       c.clock().Advance(seconds(dc.spec.database.catch_up_timeout_seconds + 1));
     },
     AbandonsTheSwitchToGreen(),
     [](model::World& w) { w.green.replay_lsn = w.blue.control->checkpoint_lsn - 8; }},
    // WAL archive (pkg/plan/README.md §6): segments the fenced old primary left unarchived
    // (.ready; its archive_command failed at its shutdown) hold the promotion for
    // archiveTimeoutSeconds from the fence, then refuse it; never a silent gap.
    {"UnarchivedSegmentsOfTheOldPrimaryHoldThePromotion",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       Desire(dc, kGreen);
       Until(c, dc, model::StepKind::kPromote);
       c.clock().Advance(seconds(dc.spec.database.archive_timeout_seconds - 1));
     },
     None(Phase::kProgressing, "ArchivePending"), [](model::World& w) { w.blue.archive_ready = 2; }},
    {"UnarchivedSegmentsOfTheOldPrimaryRefuseThePromotionAfterTheTimeout",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       Desire(dc, kGreen);
       Until(c, dc, model::StepKind::kPromote);
       c.clock().Advance(seconds(dc.spec.database.archive_timeout_seconds + 1));
     },
     AbandonsTheSwitchToGreen(), [](model::World& w) { w.blue.archive_ready = 1; }},
    {"UnarchivedSegmentsOfTheNewPrimaryDoNotHoldThePromotion",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       Desire(dc, kGreen);
       Until(c, dc, model::StepKind::kPromote);
     },
     Step(model::StepKind::kPromote, kGreen, std::nullopt, "Promoting"),
     [](model::World& w) { w.green.archive_ready = 3; }},
    // Regression: with no fence record yet (StatusFor writes it after the first pass plans)
    // the timeout was taken as expired: Failed on the first pass after every fence.
    {"ReplayBehindOnTheFirstPassAfterTheFence",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       Desire(dc, kGreen);
       Until(c, dc, model::StepKind::kPromote);
       dc.status.fence.reset();
     },
     None(Phase::kProgressing, "CatchingUp"),
     [](model::World& w) { w.green.replay_lsn = w.blue.control->checkpoint_lsn - 8; }},
    {"ReplayBehindWithAnEarlierFenceOnRecord",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       Desire(dc, kGreen);
       Until(c, dc, model::StepKind::kPromote);
       dc.status.fence->checkpoint_lsn = "0/3000028";  // a fence before a flip back
       dc.status.fence->fenced_at = "2026-01-01T00:00:00Z";
     },
     None(Phase::kProgressing, "CatchingUp"),
     [](model::World& w) { w.green.replay_lsn = w.blue.control->checkpoint_lsn - 8; }},
    {"UnreadableFenceRecordCountsAsExpired",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       Desire(dc, kGreen);
       Until(c, dc, model::StepKind::kPromote);
       dc.status.fence->fenced_at = "yesterday";
     },
     AbandonsTheSwitchToGreen(),
     [](model::World& w) { w.green.replay_lsn = w.blue.control->checkpoint_lsn - 8; }},
    {"LaggingStandbyMissesTheShutdownCheckpoint",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       c.SetLagging(kGreen, true);  // within maxLagBytes, but not sent the last WAL
       ASSERT_TRUE(c.Write().ok());
       Desire(dc, kGreen);
       ASSERT_FALSE(fakes::RunUntil(c, &dc, model::StepKind::kPromote).has_value());
     },
     None(Phase::kProgressing, "CatchingUp")},
    {"LaggingStandbyTimesOut",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       c.SetLagging(kGreen, true);
       ASSERT_TRUE(c.Write().ok());
       Desire(dc, kGreen);
       ASSERT_FALSE(fakes::RunUntil(c, &dc, model::StepKind::kPromote).has_value());
       c.clock().Advance(seconds(31));
     },
     AbandonsTheSwitchToGreen()},
    {"PausedReplayAfterTheFenceFailsAtOnce",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       c.SetLagging(kGreen, true);
       ASSERT_TRUE(c.Write().ok());
       Desire(dc, kGreen);
       ASSERT_FALSE(fakes::RunUntil(c, &dc, model::StepKind::kPromote).has_value());
       c.SetReplayPaused(kGreen, true);
     },
     AbandonsTheSwitchToGreen()},
    // After the abandonment blue is the primary again and the switch is held for this
    // generation (Failed: the alert fires).
    {"AnAbandonedSwitchEndsWithTheOldPrimaryBack",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       AbandonTheSwitchToGreen(c, dc);
       c.SetLagging(kGreen, false);
       fakes::Settle(c, &dc);
       ASSERT_TRUE(c.ObserveWorld().blue.RunningPrimary());
     },
     None(Phase::kFailed, "SwitchAbandoned")},
    // Regression (real stack, a replay frozen by a lock conflict): the standby's WAL receiver
    // is not restarted while its replay stands still, so it does not stream from the old
    // primary back; the wait for it (StandbyConnecting, Progressing) hid the abandonment for
    // as long as that lasted.
    {"AnAbandonedSwitchIsReportedWhileTheStandbyCannotStream",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       AbandonTheSwitchToGreen(c, dc);
       c.SetDisconnected(kGreen, true);
       fakes::Settle(c, &dc);
       ASSERT_TRUE(c.ObserveWorld().blue.RunningPrimary());
     },
     None(Phase::kFailed, "SwitchAbandoned")},
    // Never promote a standby whose WAL is not the stopped old primary's: blue crashed on
    // timeline 1 after writes green (promoted behind the back, timeline 2) lacks; blue rejoined
    // as a standby but cannot stream (diverged); green took a write and was stopped. Blue's
    // replay position is numerically past green's shutdown checkpoint, on the wrong branch:
    // promoting blue would lose green's write. Only the timeline tells them apart.
    {"StandbyOnAnOlderTimelineIsNotPromotedPastACheckpointOfAnother",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       c.SetLagging(kGreen, true);
       for (int i = 0; i < 3; ++i) {
         ASSERT_TRUE(c.Write().ok());  // blue only
       }
       c.PromoteBehindBack(kGreen);
       c.CrashServer(kBlue);
       c.SetLagging(kGreen, false);
       ASSERT_EQ(fakes::Settle(c, &dc).reason, "SplitBrain");
       ASSERT_EQ(c.server(kBlue).mode, fakes::Mode::kStandby);
       ASSERT_TRUE(c.WriteOn(kGreen).ok());
       c.StopServer(kGreen);
       ASSERT_TRUE(c.Run(dc, {model::StepKind::kFence, kGreen, std::nullopt}, nullptr).ok());
       ASSERT_GT(c.server(kBlue).ReplayEnd(), c.server(kGreen).LastCheckpoint()->start);
     },
     None(Phase::kProgressing, "CatchingUp")},
    // An old primary stopped by someone else (pg_ctl stop) is fenced before any promotion:
    // else anyone could start it again as a primary beside the promoted one.
    {"AnOldPrimaryStoppedByHandIsFencedBeforeThePromotion",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       c.StopServer(kBlue);
       Desire(dc, kGreen);
     },
     Step(model::StepKind::kFence, kBlue, std::nullopt, "Fencing")},
    // Health gates come before the fence, never after it: once blue is fenced, green is
    // promoted whatever its app says (an app that needs a writable database would wait for
    // the promotion, which would wait for the app).
    {"PromoteDoesNotWaitForTheAppAfterTheFence",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       ASSERT_TRUE(c.Write().ok());
       Desire(dc, kGreen);
       Until(c, dc, model::StepKind::kPromote);
       c.SetUpstreamsHealthy(kGreen, false);
       c.SetNginxRunning(false);
     },
     Step(model::StepKind::kPromote, kGreen, std::nullopt, "Promoting")},
    {"UnhealthyAppHoldsTheSwitchBeforeTheFence",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       Desire(dc, kGreen);
       Until(c, dc, model::StepKind::kFence);  // traffic is on green already
       c.SetUpstreamsHealthy(kGreen, false);
     },
     None(Phase::kDegraded, "UpstreamsUnhealthy")},
    {"APromotionWhoseCheckpointNeverRanIsCheckpointed",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       Desire(dc, kGreen);
       Until(c, dc, model::StepKind::kPromote);
       c.PromoteBehindBack(kGreen);  // what the step does, but the checkpoint after it
     },
     Step(model::StepKind::kCheckpoint, kGreen, std::nullopt, "Checkpointing")},
    // A new primary that crashed before its first checkpoint still shows the old timeline in
    // pg_control; its pg_wal shows the new one. It holds the newest data: it is started, not
    // the fenced old primary (whose fence stays).
    {"ANewPrimaryCrashedBeforeItsFirstCheckpointIsStarted",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       Desire(dc, kGreen);
       Until(c, dc, model::StepKind::kPromote);
       c.PromoteBehindBack(kGreen);
       for (int i = 0; i < 3; ++i) {
         ASSERT_TRUE(c.WriteOn(kGreen).ok());
       }
       c.CrashServer(kGreen);
       Desire(dc, kBlue);  // even a flip back must not restart blue over green's writes
     },
     Step(model::StepKind::kStart, kGreen, std::nullopt, "StartingPrimary")},
    // pg_controldata failing on a stopped server makes it unknown, never "missing": nothing
    // is copied over a crashed old primary that may hold writes nobody else has.
    {"UnreadablePgControlIsNotMissing",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       c.SetLagging(kGreen, true);
       ASSERT_TRUE(c.Write().ok());  // on blue only
       c.CrashServer(kBlue);
       c.PromoteBehindBack(kGreen);  // an operator's failover
       ASSERT_TRUE(c.Run(dc, {model::StepKind::kCheckpoint, kGreen, std::nullopt}, nullptr).ok());
       ASSERT_TRUE(c.Run(dc, {model::StepKind::kSwitchTraffic, kGreen, std::nullopt}, nullptr).ok());
       c.SetControlDataFault(kBlue, fakes::ControlFault::kFails);
       Desire(dc, kGreen);
     },
     None(Phase::kDegraded, "ServerUnreadable")},
    {"UntrustworthyPgControlIsNotMissing",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       c.StopServer(kGreen);
       c.SetControlDataFault(kGreen, fakes::ControlFault::kUntrustworthy);
       dc.spec.database.rejoin_method = api::RejoinMethod::kBasebackup;
     },
     None(Phase::kDegraded, "ServerUnreadable")},
    // A fenced old primary started again by someone else comes up read-only; it is stopped
    // again before the promotion, whose proof its pg_control then still gives.
    {"AFencedOldPrimaryStartedBySomeoneElseIsStoppedAgain",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       Desire(dc, kGreen);
       Until(c, dc, model::StepKind::kPromote);
       c.StartServer(kBlue);
       ASSERT_EQ(c.server(kBlue).mode, fakes::Mode::kStandby);
     },
     Step(model::StepKind::kStop, kBlue, std::nullopt, "StoppingFencedServer")},

    // A running primary whose directory would start it as a standby (a standby.signal nobody
    // accounts for: an interrupted fence, a hand) is repaired before it restarts read-only.
    {"ARunningPrimaryConfiguredAsAStandbyIsLifted", [](FakeCluster&, api::DeploymentColor&) {},
     Step(model::StepKind::kLiftFence, kBlue, std::nullopt, "LiftingFence"),
     [](model::World& w) { w.blue.startup.standby_signal = true; }},

    // --- rejoin of the old primary ---
    // The old primary's slot is made on the standby before the fence: it then reserves WAL
    // from before the fork (made on the new primary, from past it).
    {"TheOldPrimarysSlotIsMadeOnTheStandbyBeforeTheFence",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       Desire(dc, kGreen);
       Until(c, dc, model::StepKind::kCreateSlot);
       ASSERT_EQ(c.server(kGreen).mode, fakes::Mode::kStandby);
       ASSERT_EQ(c.server(kBlue).mode, fakes::Mode::kPrimary);
     },
     Step(model::StepKind::kCreateSlot, kBlue, kGreen, "CreatingSlot")},
    {"RejoinAfterACleanSwitchCopiesNothing",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       Desire(dc, kGreen);
       Until(c, dc, model::StepKind::kConfigureStandby);
     },
     Step(model::StepKind::kConfigureStandby, kBlue, kGreen, "Rejoining")},
    {"RejoinStartsTheConfiguredStandby",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       Desire(dc, kGreen);
       Until(c, dc, model::StepKind::kStart);
     },
     Step(model::StepKind::kStart, kBlue, std::nullopt, "StartingStandby")},
    {"ConvergedOnGreenAfterTheSwitch",
     [](FakeCluster& c, api::DeploymentColor& dc) { SwitchTo(c, dc, kGreen); },
     None(Phase::kConverged, "Converged")},
    {"RejoinMethodBasebackupAlwaysReclones",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       dc.spec.database.rejoin_method = api::RejoinMethod::kBasebackup;
       Desire(dc, kGreen);
       Until(c, dc, model::StepKind::kBasebackup);
     },
     Step(model::StepKind::kBasebackup, kBlue, kGreen, "Rejoining")},
    // Regression: rejoinMethod basebackup re-cloned an old primary that had crashed (its WAL
    // end unknown) although it held writes the primary (promoted behind the controller's
    // back) lacked. It must rejoin without copying first, which shows how far it goes.
    {"RejoinMethodBasebackupDoesNotRecloneACrashedServer",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       dc.spec.database.rejoin_method = api::RejoinMethod::kBasebackup;
       c.SetLagging(kGreen, true);
       ASSERT_TRUE(c.Write().ok());  // on blue only
       c.CrashServer(kBlue);
       c.PromoteBehindBack(kGreen);
       c.SetLagging(kGreen, false);
       Desire(dc, kGreen);
       Until(c, dc, model::StepKind::kConfigureStandby);
     },
     Step(model::StepKind::kConfigureStandby, kBlue, kGreen, "Rejoining")},
    {"RejoinMethodBasebackupCrashedServerThenShowsItDiverged",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       dc.spec.database.rejoin_method = api::RejoinMethod::kBasebackup;
       c.SetLagging(kGreen, true);
       ASSERT_TRUE(c.Write().ok());
       c.CrashServer(kBlue);
       c.PromoteBehindBack(kGreen);
       c.SetLagging(kGreen, false);
       Desire(dc, kGreen);
       EXPECT_EQ(fakes::Settle(c, &dc).reason, "SplitBrain");
       for (const auto& s : c.Steps()) {
         EXPECT_NE(s.step.kind, model::StepKind::kBasebackup) << model::Describe(s.step);
       }
     },
     None(Phase::kDegraded, "SplitBrain")},
    {"DivergedWithoutTheAnnotationIsLeftAlone", DivergeBlue,
     None(Phase::kDegraded, "SplitBrain")},
    {"DivergedWithTheAnnotationForTheOtherColor",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       DivergeBlue(c, dc);
       Consent(c, dc, kGreen);
     },
     None(Phase::kDegraded, "SplitBrain")},
    // The old form, a bare color, is refused by validation; should one reach the planner
    // it authorizes nothing.
    {"DivergedWithABareColorIsLeftAlone",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       DivergeBlue(c, dc);
       dc.metadata.annotations[kAllow] = "blue";
     },
     None(Phase::kDegraded, "SplitBrain")},
    // Consent for blue's incident on another position (an earlier one) does not act.
    {"DivergedWithAConsentForAnotherIncidentIsLeftAlone",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       DivergeBlue(c, dc);
       api::DiscardConsent other = model::IncidentOf(c.ObserveWorld().blue);
       other.lsn = "0/1";
       dc.metadata.annotations[kAllow] = api::FormatDiscardConsent(other);
     },
     None(Phase::kDegraded, "SplitBrain")},
    {"DivergedWithTheAnnotationRewinds",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       DivergeBlue(c, dc);
       Consent(c, dc, kBlue);
     },
     Step(model::StepKind::kRewind, kBlue, kGreen, "Rejoining")},
    {"AFailedRewindIsFollowedByAReclone",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       DivergeBlue(c, dc);
       Consent(c, dc, kBlue);
       dc.status.rewind_failure = api::RewindFailure{"blue", "pg_rewind exited with 1", ""};
     },
     Step(model::StepKind::kBasebackup, kBlue, kGreen, "Rejoining")},
    {"AFailedRewindOfTheOtherColorChangesNothing",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       DivergeBlue(c, dc);
       Consent(c, dc, kBlue);
       dc.status.rewind_failure = api::RewindFailure{"green", "pg_rewind exited with 1", ""};
     },
     Step(model::StepKind::kRewind, kBlue, kGreen, "Rejoining")},
    {"DivergedWithTheAnnotationAndRejoinMethodBasebackup",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       DivergeBlue(c, dc);
       Consent(c, dc, kBlue);
       dc.spec.database.rejoin_method = api::RejoinMethod::kBasebackup;
     },
     Step(model::StepKind::kBasebackup, kBlue, kGreen, "Rejoining")},
    {"MissingDataDirectoryIsBootstrapped",
     [](FakeCluster& c, api::DeploymentColor&) { c.WipeDataDirectory(kGreen); },
     Step(model::StepKind::kBasebackup, kGreen, kBlue, "Bootstrapping")},
    {"MissingDataDirectoryOfTheDesiredColor",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       c.WipeDataDirectory(kGreen);
       Desire(dc, kGreen);
     },
     Step(model::StepKind::kBasebackup, kGreen, kBlue, "Bootstrapping")},

    // --- split brain ---
    // Regression (pkg/plan/README.md §14): the planner stopped the older timeline's primary even when it
    // was the desired one; with D older it must only report.
    {"SplitBrainWithTheDesiredOnTheOlderTimelineOnlyReports",
     [](FakeCluster& c, api::DeploymentColor&) { c.PromoteBehindBack(kGreen); },
     None(Phase::kDegraded, "SplitBrain")},
    {"SplitBrainStopsTheOlderTimeline",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       c.PromoteBehindBack(kGreen);
       Desire(dc, kGreen);
     },
     {model::StepKind::kStop, kBlue, std::nullopt, Phase::kDegraded, "SplitBrain"}},
    // A standby restarted without standby.signal runs as a second primary on the primary's
    // timeline and takes writes; stopped by hand (as SplitBrain asks), its clean shutdown
    // checkpoint lies behind the primary's position. That must not read as "follows": a
    // re-clone or a rejoin would destroy the writes only it holds (pkg/plan/README.md §15).
    {"ASameTimelineSplitBrainStoppedByHandIsLeftAlone", SplitBrainGreenStoppedByHand,
     None(Phase::kDegraded, "SplitBrain")},
    {"ASameTimelineSplitBrainStoppedByHandIsLeftAloneByBasebackupToo",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       dc.spec.database.rejoin_method = api::RejoinMethod::kBasebackup;
       SplitBrainGreenStoppedByHand(c, dc);
     },
     None(Phase::kDegraded, "SplitBrain")},
    // The same split brain, but green crashes instead of being stopped cleanly: its WAL end
    // is unknown. Started as a standby to learn it, it would replay its own writes and show an
    // end below blue's that proves nothing on the shared timeline; once blue recycled its WAL
    // that read as "a follower whose WAL is gone" and green was re-cloned over 20
    // acknowledged writes (found by an adversarial review on the real stack).
    {"ASameTimelineSplitBrainThatCrashedIsLeftAlone",
     [](FakeCluster& c, api::DeploymentColor&) {
       c.StartWithoutStandbySignal(kGreen);
       ASSERT_TRUE(c.WriteOn(kGreen).ok());
       for (int i = 0; i < 6; ++i) ASSERT_TRUE(c.WriteOn(kBlue).ok());
       c.CrashServer(kGreen);
     },
     None(Phase::kDegraded, "SplitBrain")},
    {"ASameTimelineSplitBrainThatCrashedIsLeftAloneWhenItsWalIsGone",
     [](FakeCluster& c, api::DeploymentColor&) {
       c.StartWithoutStandbySignal(kGreen);
       ASSERT_TRUE(c.WriteOn(kGreen).ok());
       for (int i = 0; i < 6; ++i) ASSERT_TRUE(c.WriteOn(kBlue).ok());
       c.CrashServer(kGreen);
       c.RemoveOldWal(kBlue);
     },
     None(Phase::kDegraded, "SplitBrain")},
    // With consent it is re-cloned even under rejoinMethod auto: on one shared timeline
    // pg_rewind finds no fork and changes nothing.
    {"ASameTimelineSplitBrainWithConsentIsReclonedNotRewound",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       SplitBrainGreenStoppedByHand(c, dc);
       Consent(c, dc, kGreen);
     },
     Step(model::StepKind::kBasebackup, kGreen, kBlue, "Rejoining")},
    // Another cluster in the standby's directory is not this cluster's diverged copy: no
    // annotation lets Switchyard replace it.
    {"AnotherClusterIsNeverReplacedEvenWithConsent",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       c.StopServer(kGreen);
       Consent(c, dc, kGreen);  // its incident: consent cannot cover another cluster
     },
     None(Phase::kDegraded, "SystemIdentifierMismatch"),
     [](model::World& w) { w.green.control->system_identifier = 42; }},
    {"SplitBrainOnTheSameTimelineOnlyReports", [](FakeCluster&, api::DeploymentColor&) {},
     None(Phase::kDegraded, "SplitBrain"),
     [](model::World& w) {
       w.green.in_recovery = false;  // started without standby.signal: same timeline
       w.green.current_lsn = w.green.replay_lsn;
     }},

    // --- a leftover recovery.signal counts like standby.signal (pkg/observe/README.md #31) ---
    // In the running primary's directory it is lifted like a fence: a restart would otherwise
    // run an archive recovery and promote the server onto a new timeline.
    {"ALeftoverRecoverySignalInThePrimarysDirectoryIsLifted",
     [](FakeCluster&, api::DeploymentColor&) {},
     Step(model::StepKind::kLiftFence, kBlue, std::nullopt, "LiftingFence"),
     [](model::World& w) { w.blue.startup.recovery_signal = true; }},
    // A stopped server with only a recovery.signal is neither started as a primary nor as a
    // standby (it would promote itself); NoPrimary says why.
    {"AStoppedServerWithOnlyARecoverySignalIsNotStarted",
     [](FakeCluster& c, api::DeploymentColor&) {
       c.StopServer(kGreen);
       c.StopServer(kBlue);
     },
     None(Phase::kDegraded, "NoPrimary"),
     [](model::World& w) {
       for (model::ServerState* s : {&w.blue, &w.green}) {
         s->startup.standby_signal = false;
         s->startup.fenced = false;
         s->startup.recovery_signal = true;
       }
     }},

    // --- flipping back ---
    // A flip back after the fence, before any promotion was asked for: green cannot become
    // a primary (nobody asked it to), so blue's fence is lifted at once and blue started.
    {"FlipBackAfterTheFenceLiftsTheFence",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       Desire(dc, kGreen);
       Until(c, dc, model::StepKind::kPromote);
       Desire(dc, kBlue);
     },
     Step(model::StepKind::kLiftFence, kBlue, std::nullopt, "LiftingFence")},
    {"FlipBackWhileTheStandbyIsBehindLiftsTheFence",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       c.SetLagging(kGreen, true);
       ASSERT_TRUE(c.Write().ok());
       Desire(dc, kGreen);
       ASSERT_FALSE(fakes::RunUntil(c, &dc, model::StepKind::kPromote).has_value());
       Desire(dc, kBlue);
     },
     Step(model::StepKind::kLiftFence, kBlue, std::nullopt, "LiftingFence")},
    // Once green was asked to promote over blue's fence (the marker says so), the promotion
    // may be under way even with no request file left: green is stopped before the lift.
    {"FlipBackAfterARequestedPromotionStopsTheStandbyFirst",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       Desire(dc, kGreen);
       Until(c, dc, model::StepKind::kPromote);
       Desire(dc, kBlue);
     },
     Step(model::StepKind::kStop, kGreen, std::nullopt, "ReleasingFence"),
     [](model::World& w) { w.blue.startup.fence_promotion_requested = true; }},
    // A promotion that timed out (green's postmaster frozen) stays pending: a flip back
    // cancels it (stopping green, its request removed) before blue can become the primary.
    {"FlipBackDuringAStalledPromotionCancelsItFirst",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       Desire(dc, kGreen);
       Until(c, dc, model::StepKind::kPromote);
       c.SetFrozen(kGreen, true);
       ASSERT_TRUE(absl::IsUnavailable(fakes::Pass(c, &dc).step_status));
       ASSERT_TRUE(c.server(kGreen).promote_requested);
       Desire(dc, kBlue);
     },
     Step(model::StepKind::kStop, kGreen, std::nullopt, "CancellingPromotion")},
    {"FlipBackAfterThePromotionRejoinsFirst",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       Desire(dc, kGreen);
       Until(c, dc, model::StepKind::kConfigureStandby);
       Desire(dc, kBlue);
     },
     Step(model::StepKind::kConfigureStandby, kBlue, kGreen, "Rejoining")},
    // After a switch and a rejoin, the standby's walreceiver goes with the fenced primary and
    // PostgreSQL 15 reports the standby's restartpoint timeline, older than the fenced
    // primary's: the switch back must still promote it.
    {"SecondSwitchPromotesAStandbyReportingItsRestartpointTimeline",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       SwitchTo(c, dc, kGreen);
       Desire(dc, kBlue);
       Until(c, dc, model::StepKind::kPromote);
       const model::World w = c.ObserveWorld();
       ASSERT_LT(w.blue.timeline, w.green.control->checkpoint_timeline);
     },
     Step(model::StepKind::kPromote, kBlue, std::nullopt, "Promoting")},
    {"FlipBackAfterThePromotionThenSwitchesBack",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       Desire(dc, kGreen);
       Until(c, dc, model::StepKind::kConfigureStandby);
       Desire(dc, kBlue);
       Until(c, dc, model::StepKind::kFence);
     },
     Step(model::StepKind::kFence, kGreen, std::nullopt, "Fencing")},
};

// The standby component drifted `ago` before the cluster's now (the StandbyStreaming
// condition False since then), as the status says after passes that long.
void NotStreamingSince(FakeCluster& c, api::DeploymentColor& dc, seconds ago) {
  api::Condition cond;
  cond.type = std::string(api::kConditionStandbyStreaming);
  cond.status = "False";
  cond.reason = "NotStreaming";
  cond.last_transition_time = util::FormatRfc3339(c.clock().Now() - ago);
  dc.status.conditions = {cond};
}

// Green promoted behind the controller's back while blue ran and took a write; blue stopped;
// traffic on green. Blue is held in a split brain (no consent), and has no slot on green.
void SplitBrainWithoutSlot(FakeCluster& c, api::DeploymentColor& dc) {
  c.PromoteBehindBack(kGreen);
  ASSERT_TRUE(c.WriteOn(kBlue).ok());
  c.StopServer(kBlue);
  Desire(dc, kGreen);
  Until(c, dc, model::StepKind::kSwitchTraffic);
  ASSERT_TRUE(
      c.Run(dc.spec, {model::StepKind::kSwitchTraffic, kGreen, std::nullopt}, nullptr).ok());
}

// Converged on blue; green stopped while blue writes and then removes the WAL green needs.
void GreenNeedsRemovedWal(FakeCluster& c, api::DeploymentColor&) {
  c.StopServer(kGreen);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(c.Write().ok());
  c.RemoveOldWal(kBlue);
}

// The replication-slot rules (pkg/plan/README.md §18).
const Case kSlotCases[] = {
    // A color held in a split brain gets no slot: it would pin the primary's WAL for nothing.
    {"SplitBrainHoldCreatesNoSlot", SplitBrainWithoutSlot, None(Phase::kDegraded, "SplitBrain")},
    {"HeldColorKeepsItsSlotWithinTheRetention",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       DivergeBlue(c, dc);
       NotStreamingSince(c, dc, seconds(dc.spec.database.slot_retention_seconds - 1));
     },
     None(Phase::kDegraded, "SplitBrain")},
    {"HeldColorLosesItsSlotPastTheRetention",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       DivergeBlue(c, dc);
       NotStreamingSince(c, dc, seconds(dc.spec.database.slot_retention_seconds));
     },
     Step(model::StepKind::kDropSlot, kBlue, kGreen, "DroppingSlot")},
    {"ZeroRetentionDropsAHeldColorsSlotAtOnce",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       DivergeBlue(c, dc);
       dc.spec.database.slot_retention_seconds = 0;
       NotStreamingSince(c, dc, seconds(0));
     },
     Step(model::StepKind::kDropSlot, kBlue, kGreen, "DroppingSlot")},
    // A standby that keeps failing to start loses its slot too; once it runs it gets one.
    {"AStandbyThatDoesNotStartLosesItsSlotPastTheRetention",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       c.StopServer(kGreen);
       NotStreamingSince(c, dc, seconds(dc.spec.database.slot_retention_seconds + 60));
     },
     Step(model::StepKind::kDropSlot, kGreen, kBlue, "DroppingSlot")},
    {"WithoutItsSlotPastTheRetentionItStartsWithoutOne",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       c.StopServer(kGreen);
       ASSERT_TRUE(c.Run(dc.spec, {model::StepKind::kDropSlot, kGreen, kBlue}, nullptr).ok());
       NotStreamingSince(c, dc, seconds(dc.spec.database.slot_retention_seconds + 60));
     },
     Step(model::StepKind::kStart, kGreen, std::nullopt, "StartingStandby")},
    {"ARunningStandbyWithoutItsSlotGetsOne",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       c.StopServer(kGreen);
       ASSERT_TRUE(c.Run(dc.spec, {model::StepKind::kDropSlot, kGreen, kBlue}, nullptr).ok());
       c.StartServer(kGreen);
       NotStreamingSince(c, dc, seconds(dc.spec.database.slot_retention_seconds + 60));
     },
     Step(model::StepKind::kCreateSlot, kGreen, kBlue, "CreatingSlot")},
    // A switch abandoned after the slot was made on the standby leaves it there: dropped.
    {"ASlotLeftOnAStandbyByAnAbandonedSwitchIsDropped",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       Desire(dc, kGreen);
       Until(c, dc, model::StepKind::kFence);
       ASSERT_EQ(c.server(kGreen).slots, std::set<std::string>{model::SlotName(kBlue)});
       Desire(dc, kBlue);
       Until(c, dc, model::StepKind::kDropSlot);
     },
     Step(model::StepKind::kDropSlot, kBlue, kGreen, "DroppingSlot")},
    // The WAL a following standby needs is gone: a copy loses nothing and is the only way.
    {"WalRemovedStoppedFollowerIsRecloned", GreenNeedsRemovedWal,
     Step(model::StepKind::kBasebackup, kGreen, kBlue, "WalRemoved")},
    {"WalRemovedRunningFollowerIsStoppedFirst",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       GreenNeedsRemovedWal(c, dc);
       c.StartServer(kGreen);
     },
     Step(model::StepKind::kStop, kGreen, std::nullopt, "WalRemoved")},
    // Logical slots on the primary: the preflight refuses unless the annotation accepts it.
    {"LogicalSlotsOnThePrimaryRefuseTheSwitch",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       c.AddLogicalSlot(kBlue, "cdc_orders");
       Desire(dc, kGreen);
     },
     None(Phase::kDegraded, "LogicalSlots")},
    {"LogicalSlotsAcceptedByTheAnnotation",
     [](FakeCluster& c, api::DeploymentColor& dc) {
       c.AddLogicalSlot(kBlue, "cdc_orders");
       dc.metadata.annotations[std::string(api::kAllowLosingLogicalSlotsAnnotation)] = "true";
       Desire(dc, kGreen);
     },
     Step(model::StepKind::kSwitchTraffic, kGreen, std::nullopt, "SwitchingTraffic")},
};

class PlannerTest : public testing::TestWithParam<Case> {};

TEST_P(PlannerTest, NextStep) {
  const Case& c = GetParam();
  FakeCluster cluster;
  api::DeploymentColor dc = fakes::FakeResource(kBlue);
  c.setup(cluster, dc);
  if (HasFatalFailure()) {
    return;
  }
  model::World w = cluster.ObserveWorld();
  if (c.tweak) {
    c.tweak(w);
  }
  const Plan p = Next(dc, w, cluster.clock().Now());
  const std::string got = p.step ? model::Describe(*p.step) : "no step";
  if (c.want.kind) {
    ASSERT_TRUE(p.step.has_value()) << p.reason << ": " << p.message;
    EXPECT_EQ(p.step->kind, *c.want.kind) << got;
    EXPECT_EQ(p.step->target, c.want.target) << got;
    EXPECT_EQ(p.step->source, c.want.source) << got;
  } else {
    EXPECT_FALSE(p.step.has_value()) << got << " (" << p.message << ")";
  }
  EXPECT_EQ(api::PhaseName(p.phase), api::PhaseName(c.want.phase)) << p.message;
  EXPECT_EQ(p.reason, c.want.reason) << p.message;
  EXPECT_FALSE(p.message.empty());
  EXPECT_TRUE(cluster.Violations().empty());
}

INSTANTIATE_TEST_SUITE_P(Table, PlannerTest, testing::ValuesIn(kCases),
                         [](const testing::TestParamInfo<Case>& param) {
                           return param.param.name;
                         });
INSTANTIATE_TEST_SUITE_P(Slots, PlannerTest, testing::ValuesIn(kSlotCases),
                         [](const testing::TestParamInfo<Case>& param) {
                           return param.param.name;
                         });

// Rule: a rejoin deletes only Switchyard's own slots from the old primary's directory; a
// backup tool's physical slot and a logical slot survive the switch, there and back.
TEST(Planner, ARejoinKeepsSlotsThatAreNotSwitchyards) {
  FakeCluster cluster;
  api::DeploymentColor dc = fakes::FakeResource(kBlue);
  dc.metadata.annotations[std::string(api::kAllowLosingLogicalSlotsAnnotation)] = "true";
  cluster.AddForeignSlot(kBlue, "backup_tool");
  cluster.AddLogicalSlot(kBlue, "cdc_orders");
  Desire(dc, kGreen);
  ASSERT_EQ(fakes::Settle(cluster, &dc).reason, "Converged");
  EXPECT_EQ(cluster.server(kBlue).slots, (std::set<std::string>{"backup_tool"}));
  EXPECT_EQ(cluster.server(kBlue).logical_slots, (std::set<std::string>{"cdc_orders"}));
  EXPECT_EQ(cluster.server(kGreen).slots, (std::set<std::string>{model::SlotName(kBlue)}));
  Desire(dc, kBlue);
  ASSERT_EQ(fakes::Settle(cluster, &dc).reason, "Converged");
  EXPECT_EQ(cluster.server(kBlue).slots,
            (std::set<std::string>{"backup_tool", model::SlotName(kGreen)}));
  EXPECT_TRUE(cluster.server(kGreen).slots.empty());
}

// A held color's slot is dropped once, after the retention, and not made again while it is
// held; the driven passes keep the status (the StandbyStreaming condition) as the reconciler
// does.
TEST(Planner, AHeldColorsSlotGoesAfterTheRetentionAndStaysGone) {
  FakeCluster cluster;
  api::DeploymentColor dc = fakes::FakeResource(kBlue);
  DivergeBlue(cluster, dc);
  ASSERT_FALSE(fakes::Pass(cluster, &dc).plan.step.has_value());
  cluster.clock().Advance(seconds(dc.spec.database.slot_retention_seconds + 1));
  const fakes::DrivenPass drop = fakes::Pass(cluster, &dc);
  ASSERT_TRUE(drop.plan.step.has_value()) << drop.plan.message;
  EXPECT_EQ(model::Describe(*drop.plan.step), "drop-slot blue on green");
  EXPECT_TRUE(drop.step_status.ok()) << drop.step_status;
  EXPECT_TRUE(cluster.server(kGreen).slots.empty());
  const fakes::DrivenPass after = fakes::Pass(cluster, &dc);
  EXPECT_FALSE(after.plan.step.has_value()) << after.plan.message;
  EXPECT_EQ(after.plan.reason, "SplitBrain");
}

// Both directions are the same code: the mirror image of the clean switch.
TEST(Planner, GreenToBlueIsTheMirrorImage) {
  FakeCluster cluster(fakes::FakeSpec(kGreen), kGreen);
  api::DeploymentColor dc = fakes::FakeResource(kGreen);
  EXPECT_EQ(fakes::Settle(cluster, &dc).reason, "Converged");
  EXPECT_TRUE(cluster.Steps().empty());
  Desire(dc, kBlue);
  const Plan last = fakes::Settle(cluster, &dc);
  EXPECT_EQ(last.reason, "Converged");
  std::vector<std::string> steps;
  for (const auto& s : cluster.Steps()) {
    steps.push_back(model::Describe(s.step));
  }
  EXPECT_EQ(steps, (std::vector<std::string>{"switch-traffic blue", "create-slot green on blue",
                                             "fence green", "promote blue",
                                             "configure-standby green from blue", "start green"}));
}

TEST(Planner, TheSecondPassAfterConvergenceTakesNoAction) {
  FakeCluster cluster;
  api::DeploymentColor dc = fakes::FakeResource(kBlue);
  Desire(dc, kGreen);
  ASSERT_EQ(fakes::Settle(cluster, &dc).phase, Phase::kConverged);
  const size_t steps = cluster.Steps().size();
  const fakes::DrivenPass again = fakes::Pass(cluster, &dc);
  EXPECT_TRUE(again.plan.done());
  EXPECT_EQ(cluster.Steps().size(), steps);
  EXPECT_TRUE(cluster.CheckNoAcknowledgedWriteLost().ok());
}

// The rewind -> re-clone fallback is planned: a pg_rewind that answers Aborted is recorded in
// the status, the next pass re-clones, and the record goes once the color streams.
TEST(Planner, AFailedRewindIsRecordedAndReclonedThenForgotten) {
  FakeCluster cluster;
  api::DeploymentColor dc = fakes::FakeResource(kBlue);
  DivergeBlue(cluster, dc);
  Consent(cluster, dc, kBlue);
  cluster.FailNext(model::StepKind::kRewind,
                   absl::AbortedError("pg_rewind exited with 1; re-clone it instead"));
  const fakes::DrivenPass rewind = fakes::Pass(cluster, &dc);
  ASSERT_TRUE(rewind.plan.step.has_value());
  EXPECT_EQ(rewind.plan.step->kind, model::StepKind::kRewind);
  EXPECT_TRUE(absl::IsAborted(rewind.step_status));
  ASSERT_TRUE(dc.status.rewind_failure.has_value());
  EXPECT_EQ(dc.status.rewind_failure->color, "blue");
  const fakes::DrivenPass reclone = fakes::Pass(cluster, &dc);
  ASSERT_TRUE(reclone.plan.step.has_value());
  EXPECT_EQ(reclone.plan.step->kind, model::StepKind::kBasebackup);
  EXPECT_NE(reclone.plan.message.find("pg_rewind failed (pg_rewind exited with 1"),
            std::string::npos)
      << reclone.plan.message;
  EXPECT_TRUE(reclone.step_status.ok()) << reclone.step_status;
  EXPECT_EQ(fakes::Settle(cluster, &dc).phase, Phase::kConverged);
  EXPECT_FALSE(dc.status.rewind_failure.has_value());
  // Any other failure of a rewind (here: unreachable) is retried as a rewind.
  api::DeploymentColor other = fakes::FakeResource(kBlue);
  EXPECT_FALSE(plan::RecordStepFailure({model::StepKind::kRewind, kBlue, kGreen},
                                       absl::UnavailableError("x"), {}, &other.status));
  EXPECT_FALSE(plan::RecordStepFailure({model::StepKind::kBasebackup, kBlue, kGreen},
                                       absl::AbortedError("x"), {}, &other.status));
  EXPECT_FALSE(other.status.rewind_failure.has_value());
}

// Consent per incident (pkg/plan/README.md §10): the annotation given for blue's first
// divergence and left in place does not give up the writes of blue's second one. The
// SplitBrain message says it is stale and gives the value that would; that value acts.
TEST(Planner, AConsentLeftInPlaceDoesNotCoverTheNextIncident) {
  FakeCluster cluster;
  api::DeploymentColor dc = fakes::FakeResource(kBlue);
  DivergeBlue(cluster, dc);  // incident A: blue wrote past green's fork
  Consent(cluster, dc, kBlue);
  const std::string a = dc.metadata.annotations.at(kAllow);
  const Plan converged = fakes::Settle(cluster, &dc);
  ASSERT_EQ(converged.phase, Phase::kConverged) << converged.message;
  EXPECT_NE(converged.message.find(a + " names a past incident"), std::string::npos)
      << converged.message;

  // Incident B: blue, green's standby now, restarted without standby.signal, takes a write;
  // green takes more; blue is stopped by hand.
  cluster.StartWithoutStandbySignal(kBlue);
  ASSERT_TRUE(cluster.WriteOn(kBlue).ok());
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(cluster.WriteOn(kGreen).ok());
  cluster.StopServer(kBlue);
  const std::string b = api::FormatDiscardConsent(model::IncidentOf(cluster.ObserveWorld().blue));
  ASSERT_NE(a, b);
  const size_t before = cluster.Steps().size();
  const Plan held = fakes::Settle(cluster, &dc);
  EXPECT_EQ(held.reason, "SplitBrain");
  EXPECT_EQ(cluster.Steps().size(), before);
  EXPECT_NE(
      held.message.find(absl::StrCat(kAllow, "=", a, " names another incident and is ignored")),
      std::string::npos)
      << held.message;
  EXPECT_NE(held.message.find(absl::StrCat("annotate ", kAllow, "=", b, " ")), std::string::npos)
      << held.message;

  dc.metadata.annotations[kAllow] = b;
  const Plan rejoined = fakes::Settle(cluster, &dc);
  EXPECT_EQ(rejoined.phase, Phase::kConverged) << rejoined.message;
  ASSERT_GT(cluster.Steps().size(), before);
  EXPECT_EQ(model::Describe(cluster.Steps()[before].step), "basebackup blue from green");
  EXPECT_TRUE(cluster.CheckNoAcknowledgedWriteLost().ok());
}

// A clean switch and back, with writes in between: nothing copied, nothing lost.
TEST(Planner, SwitchAndBackLosesNoWrite) {
  FakeCluster cluster;
  api::DeploymentColor dc = fakes::FakeResource(kBlue);
  for (Color to : {kGreen, kBlue, kGreen}) {
    ASSERT_TRUE(cluster.Write().ok());
    Desire(dc, to);
    ASSERT_EQ(fakes::Settle(cluster, &dc).phase, Phase::kConverged);
    ASSERT_TRUE(cluster.Write().ok());
    EXPECT_TRUE(cluster.RunningPrimary(to));
    EXPECT_TRUE(cluster.CheckNoAcknowledgedWriteLost().ok());
  }
  for (const auto& s : cluster.Steps()) {
    EXPECT_NE(s.step.kind, model::StepKind::kRewind);
    EXPECT_NE(s.step.kind, model::StepKind::kBasebackup);
  }
  EXPECT_EQ(cluster.server(kGreen).Timeline(), 4u);
}

}  // namespace
}  // namespace sy::plan
