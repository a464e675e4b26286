// yardctl check: the preflight of a switch and the steps it would take, as the planner sees
// the world now, changing nothing (a dry run, like `repmgr standby switchover --dry-run`).
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "pkg/app/wiring.h"
#include "pkg/app/yardctl.h"
#include "pkg/app/yardctl_internal.h"
#include "pkg/plan/planner.h"
#include "pkg/plan/preflight.h"
#include "pkg/util/clock.h"

namespace sy::app {
namespace {

using api::Color;

std::string Name(Color c) { return std::string(api::ColorName(c)); }

// What a server is doing, for a person: "primary", "standby", "stopped", "not answering: ...".
std::string RoleOf(const model::ServerState& s) {
  if (!s.HostKnown()) return "unknown: " + s.host_unknown;
  if (s.RunningPrimary()) return "primary";
  if (s.RunningStandby()) return "standby";
  if (s.Stopped()) return "stopped";
  return absl::StrCat("not answering", s.error.empty() ? "" : ": ", s.error);
}

// "  the controller would ...": the plan of the planner, a step or a hold.
void PrintPlan(const plan::Plan& p, std::string_view lead, std::ostream& out) {
  if (p.step) {
    out << "  " << lead << " the controller would " << model::Describe(*p.step) << " (" << p.reason
        << "): " << p.message << "\n";
  } else {
    out << "  " << lead << " the controller would hold (" << p.reason << "): " << p.message << "\n";
  }
}

// ✓ passed, ✗ failed and blocks the switch, ! failed as a warning (the switch goes ahead).
std::string_view Mark(const plan::Check& c) {
  if (c.ok) return "✓";
  return c.blocking ? "✗" : "!";
}

// Long observations (missing privileges) do not widen the whole table.
constexpr size_t kMaxObservedWidth = 36;

void PrintChecks(const std::vector<plan::Check>& checks, std::ostream& out) {
  size_t name_w = std::string_view("CHECK").size();
  size_t observed_w = std::string_view("OBSERVED").size();
  for (const plan::Check& c : checks) {
    name_w = std::max(name_w, c.name.size());
    if (c.observed.size() <= kMaxObservedWidth) {
      observed_w = std::max(observed_w, c.observed.size());
    }
  }
  out << absl::StrFormat("    %-*s  %-*s  %s\n", name_w, "CHECK", observed_w, "OBSERVED", "LIMIT");
  for (const plan::Check& c : checks) {
    out << absl::StrFormat("  %s %-*s  %-*s  %s\n", Mark(c), name_w, c.name, observed_w, c.observed,
                           c.limit);
  }
  bool header = false;
  for (const plan::Check& c : checks) {
    if (c.ok) continue;
    if (!header) out << "  failing:\n";
    header = true;
    out << "  " << Mark(c) << " " << c.name << " (" << c.reason << "): " << c.message << "\n";
  }
}

void PrintSteps(const std::vector<plan::SwitchStep>& steps, Color to, bool go, std::ostream& out) {
  out << "  steps of the switch to " << Name(to) << (go ? "" : " once it may go ahead")
      << " (one per pass, each after observing the world again):\n";
  int n = 0;
  for (const plan::SwitchStep& s : steps) {
    out << "    " << ++n << ". " << model::Describe(s.step) << ": " << s.what << "\n";
  }
}

}  // namespace

int RenderCheck(const api::DeploymentColor& dc, const model::World& world, std::optional<Color> to,
                std::chrono::system_clock::time_point now, std::ostream& out) {
  const std::string key = dc.Key();
  const bool blue_primary = world.blue.RunningPrimary();
  const bool green_primary = world.green.RunningPrimary();
  if (blue_primary && green_primary) {
    out << key
        << ": split brain: blue and green both run as primaries; no switch until one "
           "is stopped\n";
    PrintPlan(plan::Next(dc, world, now), "meanwhile", out);
    out << "  result: a switch would not go ahead\n";
    return 1;
  }
  if (!blue_primary && !green_primary) {
    out << key << ": no server runs as the primary (blue: " << RoleOf(world.blue)
        << "; green: " << RoleOf(world.green) << "): a switch needs one to switch from\n";
    PrintPlan(plan::Next(dc, world, now), "meanwhile", out);
    out << "  result: a switch would not go ahead\n";
    return 1;
  }
  const Color primary = blue_primary ? Color::kBlue : Color::kGreen;
  if (to == primary) {
    out << key << ": " << Name(primary) << " is already the primary: there is no switch to "
        << Name(primary) << " to check (--to " << Name(api::Other(primary)) << " checks one)\n";
    return 1;
  }
  const Color target = api::Other(primary);
  if (!to && dc.spec.active_color == primary) {
    out << key << ": " << Name(primary) << " is already the primary: checks for a switch back to "
        << Name(target) << "\n";
  } else {
    out << key << ": switch " << Name(primary) << " → " << Name(target) << "\n";
  }

  // The planner's view of the same switch: the spec with activeColor the target.
  api::DeploymentColor flip = dc;
  flip.spec.active_color = target;
  const plan::Plan next = plan::Next(flip, world, now);
  const std::vector<plan::Check> checks = plan::Preflight(flip, world, target);
  const std::vector<plan::SwitchStep> steps = plan::SwitchSteps(flip, world, target);
  const plan::Check* failed = plan::FirstFailure(checks);

  // The checks judge a standby that streams from the primary: when the planner would first
  // make the target one (or holds for another reason than a failing check), say so.
  const bool own_step =
      next.step && std::any_of(steps.begin(), steps.end(),
                               [&](const plan::SwitchStep& s) { return s.step == *next.step; });
  const bool held_by_check = !next.step && failed != nullptr && next.reason == failed->reason;
  const bool first = !own_step && !held_by_check;
  if (first) {
    PrintPlan(next, "first,", out);
    out << "  (the checks below judge " << Name(target) << " as a standby streaming from "
        << Name(primary) << ")\n";
  }
  PrintChecks(checks, out);
  const bool go = failed == nullptr && !first;
  PrintSteps(steps, target, go, out);
  if (go) {
    out << "  result: the switch to " << Name(target) << " would go ahead\n";
    return 0;
  }
  out << "  result: the switch to " << Name(target) << " would not go ahead: "
      << (failed != nullptr ? absl::StrCat(failed->name, " fails") : next.reason) << "\n";
  return 1;
}

int CtlCheck(const CtlOptions& o, std::ostream& out, std::ostream& err) {
  auto objs = internal::ReadObjects(o);
  if (!objs.ok()) {
    err << objs.status().message() << "\n";
    return 2;
  }
  Wiring wiring;
  int rc = 0;
  for (const auto& dc : *objs) {
    auto world = wiring.world_observer().Observe(dc.spec);
    if (!world.ok()) {
      err << dc.Key() << ": cannot observe: " << world.status().message() << "\n";
      rc = 2;
      continue;
    }
    rc = std::max(rc, RenderCheck(dc, *world, o.to, util::RealClock::Get().Now(), out));
  }
  return rc;
}

}  // namespace sy::app
