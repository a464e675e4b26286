// Planner invariant (unknown hosts, pkg/plan/README.md §20), on random worlds: a fake cluster
// driven through random passes, writes, flips and faults (seeded), and at every point the
// world as observed with one or both database hosts and/or nginx marked unknown, their
// observations bare (the agent did not answer), as the server shows it now (an operation in
// doubt) or as an earlier pass saw it (anything at all), under every spec variant that
// decides (activeColor, rejoinMethod, synchronousReplication, a consent naming each
// server's incident). No plan may then
//  - promote, start a server as a primary, lift the fence of a stopped server, copy
//    (basebackup, rewind) or configure a standby while either database host is unknown;
//  - take any step on an unknown host;
//  - switch traffic or fence while nginx's host is unknown;
//  - call the pair Converged.
// The rule is checked here independently of how the planner enforces it.
#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "pkg/model/topology.h"
#include "pkg/plan/planner.h"
#include "tests/fakes/fake_cluster.h"
#include "tests/fakes/plan_driver.h"

namespace sy::plan {
namespace {

using api::Color;
using fakes::FakeCluster;
using model::ServerState;
using model::Step;
using model::StepKind;
using model::World;

constexpr uint64_t kSeed = 20261214;
constexpr int kRuns = 200;
constexpr int kActionsPerRun = 30;
constexpr int kVariants = 6;  // spec variants per observed world, drawn from 16

std::string Name(Color c) { return std::string(api::ColorName(c)); }

// What the rule forbids of `step`, planned on `w` (whose marks say which hosts are unknown);
// "" when it is allowed.
std::string Forbidden(const Step& step, const World& w) {
  const bool db_unknown = !w.blue.HostKnown() || !w.green.HostKnown();
  const std::string what = model::Describe(step);
  switch (step.kind) {
    case StepKind::kPromote:
    case StepKind::kBasebackup:
    case StepKind::kRewind:
    case StepKind::kConfigureStandby:
      if (db_unknown) return what + " while a database host is unknown";
      break;
    case StepKind::kLiftFence:
      if (db_unknown && !w.server(step.target).RunningPrimary()) {
        return what + " (a stopped server) while a database host is unknown";
      }
      break;
    case StepKind::kStart:
      // Started without standby.signal (or with only recovery.signal), it may be a primary.
      if (db_unknown && !w.server(step.target).startup.standby_signal) {
        return what + " as a primary while a database host is unknown";
      }
      break;
    case StepKind::kSwitchTraffic:
    case StepKind::kFence:
      if (!w.nginx.HostKnown()) return what + " while nginx's host is unknown";
      break;
    default:
      break;
  }
  // The server a step acts on: the slot's holder, else the target.
  const Color on = (step.kind == StepKind::kCreateSlot || step.kind == StepKind::kDropSlot)
                       ? step.source.value_or(step.target)
                       : step.target;
  if (step.kind != StepKind::kSwitchTraffic && !w.server(on).HostKnown()) {
    return what + " acts on " + Name(on) + ", whose host is unknown";
  }
  return "";
}

// The steps that would be unsafe beside an unknown host: how often the planner proposes one
// on the unmarked world says how much the runs exercised the rule.
bool Dangerous(const Plan& p) {
  if (!p.step) return false;
  switch (p.step->kind) {
    case StepKind::kPromote:
    case StepKind::kBasebackup:
    case StepKind::kRewind:
    case StepKind::kConfigureStandby:
    case StepKind::kLiftFence:
    case StepKind::kStart:
    case StepKind::kFence:
    case StepKind::kSwitchTraffic:
      return true;
    default:
      return false;
  }
}

class Walk {
 public:
  explicit Walk(uint64_t seed)
      : rng_(seed), cluster_(fakes::FakeSpec(), Coin() ? Color::kBlue : Color::kGreen) {
    dc_ = fakes::FakeResource(Coin() ? Color::kBlue : Color::kGreen);
    log_.push_back(absl::StrCat("seed ", seed));
  }

  void Go(std::map<std::string, int>* counts) {
    counts_ = counts;
    for (int i = 0; i < kActionsPerRun && failure_.empty(); ++i) {
      Observe();
      CheckEveryMarking();
      Act();
    }
    (*counts_)["cases whose unmarked world moves (a step the rule may forbid)"] += moving_;
  }
  const std::string& Failure() const { return failure_; }
  std::string Log() const {
    std::string out;
    for (const std::string& l : log_) absl::StrAppend(&out, "\n  ", l);
    return out;
  }

 private:
  bool Coin() { return Uniform(2) == 0; }
  int Uniform(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  Color RandomColor() { return Coin() ? Color::kBlue : Color::kGreen; }

  void Observe() {
    world_ = cluster_.ObserveWorld();
    for (Color c : api::kColors) seen_[c].push_back(world_.server(c));
  }

  // An unknown observation of `c`: bare, as it is now (in doubt), or as an earlier pass saw it.
  ServerState Marked(Color c, int how) {
    ServerState s;
    s.color = c;
    if (how == 1) s = world_.server(c);
    if (how == 2) s = seen_[c][static_cast<size_t>(Uniform(static_cast<int>(seen_[c].size())))];
    s.host_unknown = how == 0 ? "agent unreachable" : "operation in doubt";
    return s;
  }

  // Every marking of the world now (blue, green, nginx: any non-empty set), each database mark
  // in every form, under spec variants drawn at random.
  void CheckEveryMarking() {
    std::vector<api::DeploymentColor> variants;
    const auto now = cluster_.clock().Now();
    for (int i = 0; i < kVariants; ++i) {
      variants.push_back(Variant(Uniform(16)));
      if (Dangerous(Next(variants.back(), world_, now))) moving_ += 7 * 3;
    }
    for (int mask = 1; mask < 8 && failure_.empty(); ++mask) {
      for (int how = 0; how < 3 && failure_.empty(); ++how) {
        World w = world_;
        for (Color c : api::kColors) {
          if ((mask & (c == Color::kBlue ? 1 : 2)) != 0) w.server(c) = Marked(c, how);
        }
        if ((mask & 4) != 0) {
          w.nginx = model::NginxState();
          if (how != 0) w.nginx = world_.nginx;  // an operation in doubt: what it shows
          w.nginx.host_unknown = "agent unreachable";
        }
        for (const api::DeploymentColor& dc : variants) {
          if (failure_.empty()) Check(w, dc, mask, how);
        }
      }
    }
  }

  api::DeploymentColor Variant(int v) {
    api::DeploymentColor dc = dc_;
    if ((v & 1) != 0) {  // a flip: a new generation
      dc.spec.active_color = api::Other(dc.spec.active_color);
      ++dc.metadata.generation;
    }
    if ((v & 2) != 0) dc.spec.database.rejoin_method = api::RejoinMethod::kBasebackup;
    if ((v & 4) != 0) {
      dc.spec.database.synchronous_replication = api::SynchronousReplication::kRequired;
    }
    if ((v & 8) != 0) {  // consent to discard a server's current incident, as really seen
      const Color c = RandomColor();
      dc.metadata.annotations[std::string(api::kAllowDiscardAnnotation)] =
          api::FormatDiscardConsent(model::IncidentOf(world_.server(c)));
    }
    return dc;
  }

  void Check(const World& w, const api::DeploymentColor& dc, int mask, int how) {
    const auto now = cluster_.clock().Now();
    const Plan p = Next(dc, w, now);
    ++(*counts_)["cases"];
    if (p.step) ++(*counts_)["allowed " + std::string(model::StepKindName(p.step->kind))];
    std::string why = p.step ? Forbidden(*p.step, w) : "";
    if (why.empty() && p.phase == api::Phase::kConverged) why = "Converged with a host unknown";
    if (!why.empty()) {
      failure_ = absl::StrCat(why, " (marked: ", mask & 1 ? "blue " : "", mask & 2 ? "green " : "",
                              mask & 4 ? "nginx " : "", "as ",
                              how == 0   ? "bare"
                              : how == 1 ? "now"
                                         : "earlier",
                              "; desired ", Name(dc.spec.active_color), "; ", p.reason, ": ",
                              p.message, ")");
    }
  }

  // One random action on the real cluster: mostly passes on the world as it is (so runs walk
  // through switches and flips), with writes, flips, faults and time.
  void Act() {
    const Color c = RandomColor();
    const std::string who = Name(c);
    switch (Uniform(14)) {
      case 0:
      case 1:
      case 2:
      case 3:
      case 4: {
        const fakes::DrivenPass p = fakes::Pass(cluster_, &dc_);
        log_.push_back(p.plan.step ? "pass: " + model::Describe(*p.plan.step)
                                   : "pass: " + p.plan.reason);
        return;
      }
      case 5:
        (void)cluster_.Write();
        log_.push_back("write");
        return;
      case 6:
        dc_.spec.active_color = api::Other(dc_.spec.active_color);
        ++dc_.metadata.generation;
        log_.push_back("desired " + Name(dc_.spec.active_color));
        return;
      case 7:
        cluster_.StopServer(c);
        log_.push_back("pg_ctl stop " + who);
        return;
      case 8:
        cluster_.CrashServer(c);
        log_.push_back("kill -9 " + who);
        return;
      case 9:
        cluster_.StartServer(c);
        log_.push_back("pg_ctl start " + who);
        return;
      case 10:
        cluster_.SetFrozen(c, !cluster_.server(c).frozen);
        log_.push_back("SIGSTOP/SIGCONT " + who);
        return;
      case 11:
        if (cluster_.server(api::Other(c)).has_data) {
          cluster_.WipeDataDirectory(c);
          log_.push_back("rm -rf " + who);
        }
        return;
      case 12:
        cluster_.PromoteBehindBack(c);
        log_.push_back("pg_promote " + who + " behind the controller's back");
        return;
      default:
        cluster_.clock().Advance(std::chrono::seconds(Uniform(40)));
        log_.push_back("time passes");
        return;
    }
  }

  std::mt19937_64 rng_;
  FakeCluster cluster_;
  api::DeploymentColor dc_;
  World world_;
  std::map<Color, std::vector<ServerState>> seen_;
  std::map<std::string, int>* counts_ = nullptr;
  std::vector<std::string> log_;
  std::string failure_;
  int moving_ = 0;
};

TEST(UnknownHostsInvariant, NothingRestsOnAnUnknownHost) {
  std::map<std::string, int> counts;
  int failures = 0;
  for (int i = 0; i < kRuns && failures < 3; ++i) {
    Walk run(kSeed + i);
    run.Go(&counts);
    if (!run.Failure().empty()) {
      ++failures;
      ADD_FAILURE() << "seed " << kSeed + i << ": " << run.Failure() << run.Log();
    }
  }
  for (const auto& [what, n] : counts) std::cout << what << ": " << n << "\n";
  // The runs must reach worlds where, unmarked, the planner would move: else they prove little.
  EXPECT_GT(counts["cases"], 100000);
  EXPECT_GT(counts["cases whose unmarked world moves (a step the rule may forbid)"], 20000);
}

}  // namespace
}  // namespace sy::plan
