// Randomized invariant check of the planner against FakeCluster: thousands of runs with a
// fixed seed, each a random interleaving of planner passes (one step each, as the reconciler
// takes them), injected faults (crashes, frozen postmasters, failing pg_controldata, second
// actors restarting servers or acting between observe and act, promotions behind
// Switchyard's back, hosts whose agent does not answer...), flips of the desired color and
// application writes, then the faults lifted and the cluster driven to convergence on both colors.
// The safety rules are checked on ground truth (the fake's WAL records), not on what the planner
// saw, after every action: two running primaries at any moment fail the run unless the test itself
// made them with an external failover, and acknowledged writes may be missing or discarded only
// when such a failover (or a wiped directory) lost them.
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <optional>
#include <random>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "pkg/model/lsn.h"
#include "pkg/model/topology.h"
#include "pkg/plan/planner.h"
#include "pkg/plan/status.h"
#include "tests/fakes/fake_cluster.h"
#include "tests/fakes/plan_driver.h"

namespace sy::plan {
namespace {

using api::Color;
using api::Phase;
using fakes::FakeCluster;
using fakes::FakePostgres;

constexpr int kRuns = 3000;
constexpr uint64_t kSeed = 20261126;
constexpr int kActionsPerRun = 40;
constexpr int kSettlePasses = 80;  // passes (steps and holds) allowed to converge one color

std::string Name(Color c) { return std::string(api::ColorName(c)); }

// One run: a cluster, the resource, and a log of what happened for failure messages.
class Sim {
 public:
  explicit Sim(uint64_t seed)
      : rng_(seed), cluster_(fakes::FakeSpec(), Coin() ? Color::kBlue : Color::kGreen) {
    dc_ = fakes::FakeResource(Coin() ? Color::kBlue : Color::kGreen);
    if (Chance(25)) {
      dc_.spec.database.rejoin_method = api::RejoinMethod::kBasebackup;
    }
    if (Chance(30)) {
      dc_.spec.database.max_lag_bytes = 300;  // a write is 200 bytes: lag blocks switches
    }
    if (Chance(30)) {  // a consent left over from an earlier incident: it must never act
      dc_.metadata.annotations[std::string(api::kAllowDiscardAnnotation)] =
          api::FormatDiscardConsent({RandomColor(), 1, "0/1"});
    }
    Log(absl::StrCat("seed ", seed, ", desired ", Name(dc_.spec.active_color), ", rejoin ",
                     std::string(api::RejoinMethodName(dc_.spec.database.rejoin_method)),
                     ", allow-discard '", Allowed(), "'"));
  }

  // The random interleaving.
  void Chaos() {
    for (int i = 0; i < kActionsPerRun && !Failed(); ++i) {
      const int r = Uniform(100);
      if (r < 55) {
        Pass();
      } else if (r < 70) {
        absl::StatusOr<uint64_t> w = cluster_.Write();
        Log(w.ok() ? absl::StrCat("write ", *w) : "write refused: no primary");
      } else if (r < 78) {
        Flip();
      } else {
        Fault();
      }
      cluster_.clock().Advance(std::chrono::milliseconds(Uniform(3000)));
      NoteCollision();
      CheckPrimaries();
    }
  }

  // Faults lifted, the operator doing what the planner's messages ask: converges on the
  // desired color and then on the other one.
  void Converge() {
    cluster_.ClearFaults();
    Log("faults cleared");
    for (int round = 0; round < 2 && !Failed(); ++round) {
      if (round == 1) {
        Flip();
      }
      SettleOn();
    }
    if (Failed()) {
      return;
    }
    const size_t steps = cluster_.Steps().size();
    const fakes::DrivenPass again = fakes::Pass(cluster_, &dc_);
    Blind(again.plan.done() && cluster_.Steps().size() == steps,
          "the pass after convergence took a step");
    const absl::Status writes = cluster_.CheckNoAcknowledgedWriteLost();
    Blind(writes.ok(), std::string(writes.message()));
  }

  bool Failed() const { return !failure_.empty(); }
  bool Blinded() const { return blind_; }
  std::string Report() {
    return absl::StrCat(failure_, "\n  ", absl::StrJoin(log_, "\n  "), State());
  }

  // Ground truth of both servers, for failure messages.
  std::string State() {
    std::string out;
    for (Color c : api::kColors) {
      const FakePostgres s = cluster_.server(c);
      const char* mode[] = {"stopped", "primary", "standby"};
      absl::StrAppend(
          &out, "\n  ", Name(c), ": ", mode[static_cast<int>(s.mode)],
          s.has_data ? "" : " (no data)", ", timeline ", s.Timeline(), ", WAL end ",
          model::FormatLsn(s.End()), ", replayed to ", model::FormatLsn(s.ReplayEnd()), ", '",
          s.stopped_state, "'", s.standby_signal ? ", standby.signal" : "", ", primary ",
          s.primary_host, ":", s.primary_port, s.streaming ? ", streaming" : "",
          ", prefix of the other: ", cluster_.WalIsPrefixOf(c, api::Other(c)) ? "yes" : "no");
    }
    return out;
  }
  const std::map<std::string, int>& reasons() const { return reasons_; }

 private:
  bool Coin() { return Uniform(2) == 0; }
  bool Chance(int percent) { return Uniform(100) < percent; }
  int Uniform(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  Color RandomColor() { return Coin() ? Color::kBlue : Color::kGreen; }
  void Log(std::string s) {
    if (trace_) {
      s += State();
    }
    log_.push_back(std::move(s));
  }
  void Check(bool ok, const std::string& what) {
    if (!ok && failure_.empty()) {
      failure_ = what;
    }
  }
  // Never two primaries, at any moment (the fake records every change that made them).
  void CheckPrimaries() {
    const std::vector<std::string> v = cluster_.Violations();
    Check(v.empty(), v.empty() ? "" : v.front());
  }
  // A check the planner cannot pass once two servers hold different WAL under the same
  // timeline ID and the same history: nothing it observes (nor pg_rewind) tells them apart.
  // Such a run is counted, not failed; the checks above still apply to it.
  void Blind(bool ok, const std::string& what) {
    NoteCollision();
    if (collided_ && !ok) {
      blind_ = true;
      return;
    }
    Check(ok, what);
  }
  void NoteCollision() {
    const FakePostgres b = cluster_.server(Color::kBlue);
    const FakePostgres g = cluster_.server(Color::kGreen);
    collided_ = collided_ || (b.has_data && g.has_data && b.Timeline() == g.Timeline() &&
                              b.History() == g.History() && !b.IsPrefixOf(g) && !g.IsPrefixOf(b));
  }
  std::string Allowed() const {
    auto it = dc_.metadata.annotations.find(std::string(api::kAllowDiscardAnnotation));
    return it == dc_.metadata.annotations.end() ? "" : it->second;
  }

  void Flip() {
    dc_.spec.active_color = api::Other(dc_.spec.active_color);
    ++dc_.metadata.generation;
    Log("desired " + Name(dc_.spec.active_color));
  }

  // Drives to Converged on the desired color, acting as the operator when asked to.
  void SettleOn() {
    for (int i = 0; i < kSettlePasses && !Failed(); ++i) {
      const Plan p = Pass();
      if (!p.done()) {
        continue;
      }
      if (p.phase == Phase::kConverged) return;
      if (p.wait == Wait::kPoll) {
        cluster_.clock().Advance(std::chrono::seconds(1));
        continue;
      }
      if (p.reason == "SwitchAbandoned") {
        Log("operator: retries the abandoned switch (a new generation), as the message says");
        ++dc_.metadata.generation;
        continue;
      }
      if (p.reason == "SplitBrain" || p.reason == "NoPrimary") {
        Operator(p.reason);
        continue;
      }
      Blind(false, absl::StrCat("stuck without faults: ", std::string(PhaseName(p.phase)), " ",
                                p.reason, ": ", p.message));
    }
    Blind(Failed(), "did not converge within the pass budget");
  }

  // What an operator does about what the planner will not resolve alone: a split brain, or
  // no primary left but a standby (a failover: the standby with the most WAL is promoted).
  void Operator(const std::string& reason) {
    if (reason == "NoPrimary") {
      const FakePostgres b = cluster_.server(Color::kBlue);
      const FakePostgres g = cluster_.server(Color::kGreen);
      const bool blue = b.mode == fakes::Mode::kStandby &&
                        (g.mode != fakes::Mode::kStandby || b.End() >= g.End());
      Log("operator: fails over to " + Name(blue ? Color::kBlue : Color::kGreen));
      cluster_.PromoteBehindBack(blue ? Color::kBlue : Color::kGreen);
      return;
    }
    if (cluster_.RunningPrimaries() == 2) {
      const Color stop = api::Other(dc_.spec.active_color);
      Log("operator: stops " + Name(stop) + " by hand");
      cluster_.StopServer(stop);
      return;
    }
    // The operator consents to this incident, with the value the condition gives: what the
    // diverged server holds now. Writes it takes later are another incident's.
    const Color diverged = cluster_.RunningPrimary(Color::kBlue) ? Color::kGreen : Color::kBlue;
    const std::string consent =
        api::FormatDiscardConsent(model::IncidentOf(cluster_.ObserveWorld().server(diverged)));
    Log("operator: allows discarding " + Name(diverged) + "'s diverged writes: " + consent);
    dc_.metadata.annotations[std::string(api::kAllowDiscardAnnotation)] = consent;
    consented_color_ = diverged;
    consented_writes_ = cluster_.server(diverged).Writes();
  }
  // The writes of `c` the operator gave up (consented to discard).
  bool GivenUp(Color c, uint64_t id) const {
    return consented_color_ == c && consented_writes_.count(id) > 0;
  }

  void Fault() {
    const Color c = RandomColor();
    const std::string who = Name(c);
    const FakePostgres s = cluster_.server(c);
    switch (Uniform(21)) {
      case 20: {
        // nginx's agent stops answering, or answers again.
        const bool unknown = Coin();
        cluster_.SetNginxUnknown(unknown ? "agent unreachable (fault injected)" : "");
        Log(unknown ? "fault: nginx's host unknown" : "fault: nginx's host answers");
        return;
      }
      case 19:
        // The agent of `c`'s machine stops answering (or reports an operation in doubt, the
        // server's facts with it), or answers again; the server itself goes on.
        if (!s.host_unknown.empty()) {
          cluster_.SetHostUnknown(c, "");
          Log(who + "'s host answers");
        } else if (Coin()) {
          cluster_.SetHostUnknown(c, "agent unreachable (fault injected)");
          Log("fault: " + who + "'s host unknown");
        } else {
          cluster_.SetOperationInDoubt(c, "operation in doubt (fault injected)");
          Log("fault: an operation in doubt on " + who + "'s host");
        }
        return;
      case 18:
        cluster_.KillAfterShutdownCheckpoint(c);
        Log("fault: SIGKILL of " + who + "'s postmaster after its shutdown checkpoint");
        return;
      case 17:
        cluster_.StopDuringCrashRecovery(c);
        Log("fault: pg_ctl start + stop of " + who + " during its crash recovery");
        return;
      case 13:
        cluster_.SetFrozen(c, !s.frozen);
        Log(absl::StrCat("fault: ", s.frozen ? "SIGCONT " : "SIGSTOP ", who, "'s postmaster"));
        return;
      case 14: {
        const auto fault = static_cast<fakes::ControlFault>(Uniform(3));
        cluster_.SetControlDataFault(c, fault);
        Log(absl::StrCat("fault: pg_controldata on ", who, " ",
                         fault == fakes::ControlFault::kNone    ? "works"
                         : fault == fakes::ControlFault::kFails ? "fails"
                                                                : "warns untrustworthy"));
        return;
      }
      case 15: {
        // A second actor between the next observation and the step it leads to.
        const bool start = Coin();
        cluster_.BeforeNextStep([c, start](FakeCluster& cl) {
          if (start) {
            cl.StartServer(c);
          } else {
            cl.CrashServer(c);
          }
        });
        Log(absl::StrCat("fault: before the next step, ", start ? "pg_ctl start " : "kill -9 ",
                         who));
        return;
      }
      case 16:
        // Someone restarts whatever is stopped (systemd, an operator, a boot script).
        for (Color x : api::kColors) {
          cluster_.StartServer(x);
        }
        Log("fault: pg_ctl start of both servers (a second actor)");
        return;
      case 0: {
        const auto kind = static_cast<model::StepKind>(Uniform(11));
        const absl::Status st =
            Coin() ? absl::UnavailableError("injected") : absl::FailedPreconditionError("injected");
        cluster_.FailNext(kind, st);
        Log(absl::StrCat("fault: next ", std::string(model::StepKindName(kind)), " fails"));
        return;
      }
      case 1:
        cluster_.SetUnreachable(c, !s.unreachable);
        Log(absl::StrCat("fault: ", who, s.unreachable ? " reachable" : " unreachable"));
        return;
      case 2:
        cluster_.StopServer(c);
        Log("fault: pg_ctl stop " + who);
        return;
      case 3:
        cluster_.CrashServer(c);
        Log("fault: kill -9 " + who);
        return;
      case 4:
        cluster_.StartServer(c);
        Log("fault: pg_ctl start " + who);
        return;
      case 5:
        cluster_.SetDisconnected(c, !s.disconnected);
        Log(absl::StrCat("fault: ", who, s.disconnected ? " reconnected" : " disconnected"));
        return;
      case 6:
        cluster_.SetLagging(c, !s.lagging);
        Log(absl::StrCat("fault: ", who, s.lagging ? " no longer lagging" : " lagging"));
        return;
      case 7:
        cluster_.SetReplayPaused(c, !s.replay_paused);
        Log(absl::StrCat("fault: ", who, " replay ", s.replay_paused ? "resumed" : "paused"));
        return;
      case 8:
        cluster_.PromoteBehindBack(c);
        Log("fault: pg_promote " + who + " behind the controller's back");
        return;
      case 9:
        if (cluster_.server(api::Other(c)).has_data) {  // keep one cluster alive
          cluster_.WipeDataDirectory(c);
          Log("fault: rm -rf " + who + "'s data directory");
        }
        return;
      case 10: {
        const bool up = Coin();
        cluster_.SetNginxRunning(up);
        Log(up ? "fault: nginx started" : "fault: nginx stopped");
        return;
      }
      case 11: {
        const bool fails = Coin();
        cluster_.SetNginxTestFails(fails);
        Log(fails ? "fault: nginx -t fails" : "fault: nginx -t passes");
        return;
      }
      default: {
        const bool healthy = Coin();
        cluster_.SetUpstreamsHealthy(c, healthy);
        Log(absl::StrCat("fault: ", who, " upstreams ", healthy ? "healthy" : "down"));
        return;
      }
    }
  }

  // One reconciler pass with the invariants checked around the step.
  Plan Pass() {
    const model::World w = cluster_.ObserveWorld();
    const auto now = cluster_.clock().Now();
    const Plan p = Next(dc_, w, now);
    dc_.status = StatusFor(dc_, w, PlannedReport(dc_, w, p, now), now);
    ++reasons_[p.reason];
    if (p.step) {
      ++reasons_[std::string(model::StepKindName(p.step->kind))];
    }
    if (!p.step) {
      Log(absl::StrCat("pass: ", p.reason, " (", std::string(PhaseName(p.phase)), ")"));
      return p;
    }
    CheckBefore(*p.step, w);
    const size_t before = cluster_.Steps().size();
    const absl::Status st = cluster_.Run(dc_, *p.step, nullptr);
    Log(absl::StrCat("pass: ", model::Describe(*p.step), " (", p.reason, ") -> ",
                     st.ok() ? "ok" : st.ToString()));
    CheckAfter(*p.step, before);
    return p;
  }

  // The rules (pkg/plan/README.md §5 to §10) on ground truth, before the step runs.
  void CheckBefore(const model::Step& step, const model::World& w) {
    const FakePostgres t = cluster_.server(step.target);
    const FakePostgres o = cluster_.server(api::Other(step.target));
    const std::string what = model::Describe(step);
    // Rule (unknown hosts): no step on a host the pass could not observe.
    const Color on =
        step.kind == model::StepKind::kCreateSlot || step.kind == model::StepKind::kDropSlot
            ? step.source.value_or(step.target)
            : step.target;
    Check(step.kind == model::StepKind::kSwitchTraffic ? w.nginx.HostKnown()
                                                       : w.server(on).HostKnown(),
          what + " on a host whose observation was unknown");
    if (step.kind == model::StepKind::kPromote) {
      Check(!o.RunningPrimary(), what + " while the other runs as a primary");
      if (o.has_data && !o.Running() && o.stopped_state == "shut down" && o.fenced) {
        Check(w.server(step.target).replay_lsn > o.LastCheckpoint()->start,
              what + ": replay is not past the old primary's shutdown checkpoint");
      }
      // Every write the other holds is in what the target has (but writes a split brain
      // made: the other may be the stopped impostor).
      const std::set<uint64_t> has = t.Writes();
      for (const auto& aw : cluster_.AckedWrites()) {
        if (!aw.split_brain && o.Writes().count(aw.id) > 0 && has.count(aw.id) == 0) {
          Blind(false, absl::StrCat(what, " without acknowledged write ", aw.id));
        }
      }
    }
    if ((step.kind == model::StepKind::kRewind || step.kind == model::StepKind::kBasebackup) &&
        t.has_data) {
      const FakePostgres src = cluster_.server(step.source.value_or(step.target));
      Check(step.source.has_value() && *step.source != step.target && src.RunningPrimary(),
            what + ": the source is not a running primary");
      // Data is replaced only once the source is a primary on a newer timeline,
      // unless the operator allowed discarding the target's diverged writes (say, of a server
      // promoted behind Switchyard's back, newer than the desired primary, stopped by hand).
      const bool redundant = t.IsPrefixOf(src);
      const bool allowed =
          Allowed() == api::FormatDiscardConsent(model::IncidentOf(w.server(step.target)));
      Blind(src.Timeline() > t.Timeline() || allowed,
            absl::StrCat(what, ": the source's timeline ", src.Timeline(),
                         " is not newer than the target's ", t.Timeline()));
      Blind(redundant || allowed,
            what + ": the target diverged and the annotation does not allow discarding it");
    }
  }

  void CheckAfter(const model::Step& step, size_t before) {
    CheckPrimaries();
    const std::vector<fakes::StepRecord> steps = cluster_.Steps();
    if (steps.size() > before && !steps.back().discarded_writes.empty()) {
      // Consent per incident: only writes the target held when the operator consented may
      // go, never ones it took after (another incident), nor another color's.
      for (uint64_t id : steps.back().discarded_writes) {
        Blind(GivenUp(step.target, id),
              absl::StrCat(model::Describe(step), " discarded write ", id,
                           ", which the operator's consent did not give up"));
      }
      // Only an external failover's losses may be given up, even with the annotation: a
      // divergence Switchyard made itself would be a lost acknowledged write.
      const std::set<uint64_t> excused = cluster_.ExcusedWrites();
      for (uint64_t id : steps.back().discarded_writes) {
        Blind(excused.count(id) > 0,
              absl::StrCat(model::Describe(step), " discarded write ", id,
                           ", which no external failover of the test put at risk"));
      }
    }
  }

  std::optional<Color> consented_color_;
  std::set<uint64_t> consented_writes_;
  std::mt19937_64 rng_;
  FakeCluster cluster_;
  api::DeploymentColor dc_;
  std::vector<std::string> log_;
  std::string failure_;
  std::map<std::string, int> reasons_;
  const bool trace_ = std::getenv("SY_TRACE") != nullptr;  // the state after every action
  bool collided_ = false;  // a timeline-ID collision the planner cannot see happened
  bool blind_ = false;     // ... and a check failed because of it
};

// SY_SEED=<seed> replays the one run a failure names, printing its log (SY_TRACE=1: with both
// servers' state after every action).
TEST(Invariants, RandomInterleavingsOfStepsFaultsFlipsAndWrites) {
  if (const char* seed = std::getenv("SY_SEED")) {
    Sim sim(std::strtoull(seed, nullptr, 10));
    sim.Chaos();
    sim.Converge();
    std::cout << sim.Report() << "\n";
    EXPECT_FALSE(sim.Failed());
    return;
  }
  std::map<std::string, int> reasons;
  int failures = 0;
  int blinded = 0;
  for (int i = 0; i < kRuns; ++i) {
    Sim sim(kSeed + i);
    sim.Chaos();
    sim.Converge();
    for (const auto& [r, n] : sim.reasons()) {
      reasons[r] += n;
    }
    blinded += sim.Blinded() ? 1 : 0;
    if (sim.Failed()) {
      ADD_FAILURE() << "run " << i << " (SY_SEED=" << kSeed + i << "): " << sim.Report();
      if (++failures == 3) {
        break;
      }
    }
  }
  EXPECT_LT(blinded, kRuns / 30) << "too many runs hit an invisible timeline collision";
  std::cout << blinded << " of " << kRuns << " runs hit a timeline-ID collision\n";
  // The runs must reach the interesting places, or they prove little.
  for (const char* r : {"Converged",
                        "SwitchingTraffic",
                        "Fencing",
                        "Promoting",
                        "Checkpointing",
                        "LiftingFence",
                        "CancellingPromotion",
                        "StoppingFencedServer",
                        "ServerUnreadable",
                        "CatchingUp",
                        "AbandoningSwitch",
                        "CreatingSlot",
                        "Rejoining",
                        "StartingStandby",
                        "StartingPrimary",
                        "SplitBrain",
                        "Bootstrapping",
                        "ServerUnreachable",
                        "AgentUnreachable",
                        "StandbyLagging",
                        "ReplayPaused",
                        "NginxNotRunning",
                        "UpstreamsUnhealthy",
                        "switch-traffic",
                        "fence",
                        "promote",
                        "checkpoint",
                        "lift-fence",
                        "start",
                        "stop",
                        "create-slot",
                        "configure-standby",
                        "rewind",
                        "basebackup"}) {
    EXPECT_GT(reasons[r], 0) << r << " never planned";
  }
}

}  // namespace
}  // namespace sy::plan
