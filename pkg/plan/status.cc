#include "pkg/plan/status.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "pkg/model/lsn.h"
#include "pkg/model/topology.h"
#include "pkg/util/clock.h"

namespace sy::plan {

using model::Describe;
using model::FormatLsn;
using model::PromotionThreshold;
using model::Role;
using model::RoleName;
using model::RoleOf;
using model::ServerState;
using model::StreamsFrom;
using model::World;

namespace {

using api::Color;

std::string Name(Color c) { return std::string(api::ColorName(c)); }

api::Condition Make(std::string_view type, bool ok, std::string reason, std::string message) {
  api::Condition c;
  c.type = std::string(type);
  c.status = ok ? "True" : "False";
  c.reason = std::move(reason);
  c.message = std::move(message);
  return c;
}

std::string PrimaryColor(const model::World& w) {
  const bool b = w.blue.RunningPrimary();
  const bool g = w.green.RunningPrimary();
  if (b && g) return "blue,green";
  if (b) return "blue";
  if (g) return "green";
  return "";
}

}  // namespace

Drift DriftOf(const api::DeploymentColorSpec& spec, const model::World& w) {
  const Color d = spec.active_color;
  const auto& ds = w.server(d);
  const auto& os = w.server(api::Other(d));
  Drift drift;
  drift.traffic = w.nginx.served_color != d || w.nginx.file_color != d;
  drift.primary = !ds.RunningPrimary() || os.RunningPrimary();
  drift.standby = !StreamsFrom(os, ds, spec);
  return drift;
}

void SetCondition(api::DeploymentColorStatus* status, api::Condition c) {
  for (auto& existing : status->conditions) {
    if (existing.type == c.type) {
      if (existing.status == c.status) c.last_transition_time = existing.last_transition_time;
      existing = std::move(c);
      return;
    }
  }
  status->conditions.push_back(std::move(c));
}

api::DeploymentColorStatus StatusFor(const api::DeploymentColor& dc, const model::World& w,
                                     const Plan& plan, std::chrono::system_clock::time_point now) {
  const auto& spec = dc.spec;
  const Color d = spec.active_color;
  const Color o = api::Other(d);
  const auto& ds = w.server(d);
  const auto& os = w.server(o);
  api::DeploymentColorStatus st = dc.status;
  st.observed_generation = dc.metadata.generation;
  st.phase = std::string(api::PhaseName(plan.phase));
  st.serving_color = w.nginx.served_color ? Name(*w.nginx.served_color) : "";
  st.primary_color = PrimaryColor(w);
  st.step = plan.step ? Describe(*plan.step) : "";

  const std::string ts = util::FormatRfc3339(now);
  auto set = [&](api::Condition c) {
    c.last_transition_time = ts;
    c.observed_generation = dc.metadata.generation;
    SetCondition(&st, std::move(c));
  };
  const bool ready = plan.phase == api::Phase::kConverged;
  set(Make(api::kConditionReady, ready, plan.reason, plan.message));

  const Drift drift = DriftOf(spec, w);
  if (!drift.traffic) {
    set(Make(api::kConditionTrafficSwitched, true, "Serving", "nginx serves " + Name(d)));
  } else if (w.nginx.served_color) {
    set(Make(api::kConditionTrafficSwitched, false, "ServingOther",
             absl::StrCat("nginx serves ", Name(*w.nginx.served_color), ", upstream file says ",
                          w.nginx.file_color ? Name(*w.nginx.file_color) : "neither color")));
  } else {
    set(Make(api::kConditionTrafficSwitched, false, "ProbeFailed",
             "the probe saw no color: " + w.nginx.probe_error));
  }

  if (!drift.primary) {
    set(Make(api::kConditionPrimaryPromoted, true, "Primary",
             absl::StrCat(Name(d), " is the primary on timeline ", ds.timeline)));
  } else {
    set(Make(api::kConditionPrimaryPromoted, false,
             os.RunningPrimary() ? "PrimaryIsOther" : "NotPrimary",
             absl::StrCat(Name(d), " is ", std::string(RoleName(RoleOf(ds))), ", ", Name(o), " is ",
                          std::string(RoleName(RoleOf(os))))));
  }

  if (!drift.standby) {
    set(Make(api::kConditionStandbyStreaming, true, "Streaming",
             // No byte count: it changes with every write, and so would the status.
             absl::StrCat(Name(o), " streams from ", Name(d))));
  } else {
    set(Make(api::kConditionStandbyStreaming, false, "NotStreaming",
             absl::StrCat(Name(o), " is ", std::string(RoleName(RoleOf(os))),
                          " and does not stream from ", Name(d))));
  }

  std::vector<std::string> parts;
  if (drift.traffic) parts.push_back("traffic");
  if (drift.primary) parts.push_back("primary");
  if (drift.standby) parts.push_back("standby");
  set(Make(api::kConditionDrifted, drift.any(), drift.any() ? "Drifted" : "InSync",
           drift.any() ? "differs from the declaration: " + absl::StrJoin(parts, ", ")
                       : "the world matches the declaration"));
  // Drifted=True is the bad state; keep the Kubernetes convention of status strings.

  // A failed rewind is remembered until its color streams again (re-cloned, or rejoined).
  if (st.rewind_failure) {
    const std::optional<Color> c = api::ParseColor(st.rewind_failure->color);
    if (!c || StreamsFrom(w.server(*c), w.server(api::Other(*c)), spec)) {
      st.rewind_failure.reset();
    }
  }

  // The fence record: the old primary's shutdown checkpoint, when first seen.
  if (PromotionThreshold(os) && ds.RunningStandby()) {
    const std::string lsn = model::FormatLsn(os.control->checkpoint_lsn);
    if (!st.fence || st.fence->color != Name(o) || st.fence->checkpoint_lsn != lsn) {
      // Milliseconds: the catch-up timeout may be as short as a second.
      st.fence = api::FenceRecord{Name(o), lsn, os.control->checkpoint_timeline,
                                  util::FormatRfc3339Millis(now)};
    }
  }
  return st;
}

bool RecordStepFailure(const model::Step& step, const absl::Status& error,
                       std::chrono::system_clock::time_point now,
                       api::DeploymentColorStatus* status) {
  if (step.kind != model::StepKind::kRewind || !absl::IsAborted(error)) return false;
  status->rewind_failure =
      api::RewindFailure{Name(step.target), std::string(error.message()), util::FormatRfc3339(now)};
  return true;
}

}  // namespace sy::plan
