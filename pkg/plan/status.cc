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
using model::Role;
using model::RoleName;
using model::RoleOf;
using model::ServerState;
using model::StreamsFrom;
using model::World;

namespace {

using api::Color;
using model::Component;

std::string Name(Color c) { return std::string(api::ColorName(c)); }

api::Condition Make(std::string_view type, bool ok, std::string reason, std::string message) {
  api::Condition c;
  c.type = std::string(type);
  c.status = ok ? "True" : "False";
  c.reason = std::move(reason);
  c.message = std::move(message);
  return c;
}

// The condition that is False exactly while component `c` drifts.
std::string_view ConditionOf(Component c) {
  switch (c) {
    case Component::kTraffic:
      return api::kConditionTrafficSwitched;
    case Component::kPrimary:
      return api::kConditionPrimaryPromoted;
    case Component::kStandby:
      return api::kConditionStandbyStreaming;
  }
  return "";
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

model::PassReport PlannedReport(const api::DeploymentColor& dc, const model::World& w,
                                const Plan& plan, std::chrono::system_clock::time_point now) {
  model::PassReport r;
  r.resource = dc.Key();
  r.generation = dc.metadata.generation;
  r.desired = dc.spec.active_color;
  r.max_lag_bytes = dc.spec.database.max_lag_bytes;
  r.phase = plan.phase;
  r.reason = plan.reason;
  r.message = plan.message;
  r.observed = model::ObservationOf(dc.spec, w);
  DateDrift(dc.status, now, &r.observed->drift);
  if (plan.step) r.step = model::StepReport{*plan.step};
  r.abandon = plan.abandon;
  return r;
}

void DateDrift(const api::DeploymentColorStatus& before, std::chrono::system_clock::time_point now,
               model::Drift* drift) {
  for (model::Component c : model::kComponents) {
    model::ComponentDrift& d = drift->For(c);
    d.since = {};
    if (!d.drifted) continue;
    const api::Condition* cond = api::FindCondition(before, ConditionOf(c));
    if (cond == nullptr || cond->status != "False" ||
        !util::ParseRfc3339(cond->last_transition_time, &d.since)) {
      d.since = std::chrono::floor<std::chrono::seconds>(now);
    }
  }
}

api::DeploymentColorStatus StatusFor(const api::DeploymentColor& dc, const model::World& w,
                                     const model::PassReport& report,
                                     std::chrono::system_clock::time_point now) {
  const auto& spec = dc.spec;
  const Color d = spec.active_color;
  const Color o = api::Other(d);
  const auto& ds = w.server(d);
  const auto& os = w.server(o);
  api::DeploymentColorStatus st = dc.status;
  st.observed_generation = dc.metadata.generation;
  st.phase = std::string(api::PhaseName(report.phase));
  st.serving_color = w.nginx.Serving() ? Name(*w.nginx.Serving()) : "";
  st.primary_color = PrimaryColor(w);
  st.step = report.step ? Describe(report.step->step) : "";

  const std::string ts = util::FormatRfc3339(now);
  auto set = [&](api::Condition c) {
    c.last_transition_time = ts;
    c.observed_generation = dc.metadata.generation;
    SetCondition(&st, std::move(c));
  };
  const bool ready = report.phase == api::Phase::kConverged;
  set(Make(api::kConditionReady, ready, report.reason, report.message));

  const model::Drift drift = report.observed ? report.observed->drift : model::DriftOf(spec, w);
  if (!drift.For(Component::kTraffic).drifted) {
    set(Make(api::kConditionTrafficSwitched, true, "Serving", "nginx serves " + Name(d)));
  } else if (!w.nginx.HostKnown()) {
    set(Make(api::kConditionTrafficSwitched, false, "AgentUnreachable",
             "what nginx serves is not known: " + w.nginx.host_unknown));
  } else if (w.nginx.served_color) {
    set(Make(api::kConditionTrafficSwitched, false, "ServingOther",
             absl::StrCat("nginx serves ", Name(*w.nginx.served_color), ", upstream file says ",
                          w.nginx.file_color ? Name(*w.nginx.file_color) : "neither color")));
  } else {
    set(Make(api::kConditionTrafficSwitched, false, "ProbeFailed",
             "the probe saw no color: " + w.nginx.probe_error));
  }

  if (!drift.For(Component::kPrimary).drifted) {
    set(Make(api::kConditionPrimaryPromoted, true, "Primary",
             absl::StrCat(Name(d), " is the primary on timeline ", ds.timeline)));
  } else {
    set(Make(api::kConditionPrimaryPromoted, false,
             os.RunningPrimary() ? "PrimaryIsOther" : "NotPrimary",
             absl::StrCat(Name(d), " is ", std::string(RoleName(RoleOf(ds))), ", ", Name(o), " is ",
                          std::string(RoleName(RoleOf(os))))));
  }

  if (!drift.For(Component::kStandby).drifted) {
    set(Make(api::kConditionStandbyStreaming, true, "Streaming",
             // No byte count: it changes with every write, and so would the status.
             absl::StrCat(Name(o), " streams from ", Name(d))));
  } else {
    set(Make(api::kConditionStandbyStreaming, false, "NotStreaming",
             absl::StrCat(Name(o), " is ", std::string(RoleName(RoleOf(os))),
                          " and does not stream from ", Name(d))));
  }

  std::vector<std::string> parts;
  for (Component c : model::kComponents) {
    if (drift.For(c).drifted) parts.emplace_back(model::ComponentName(c));
  }
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

  // A switch given up after its fence is recorded once (the first pass that plans it dates
  // it); a record of an earlier generation no longer holds anything back and goes.
  if (report.abandon) {
    const api::AbandonedSwitch& a = *report.abandon;
    if (!st.abandoned_switch || st.abandoned_switch->color != a.color ||
        st.abandoned_switch->generation != a.generation) {
      st.abandoned_switch = a;
      st.abandoned_switch->abandoned_at = ts;
    }
  } else if (st.abandoned_switch && st.abandoned_switch->generation != dc.metadata.generation) {
    st.abandoned_switch.reset();
  }

  // A fence record goes once its server is seen unfenced or running: a later fence of the same
  // stopped server (same shutdown checkpoint: it did not run in between, e.g. its fence was
  // lifted to bring it back and a new generation fences it again) is a new wait, from then.
  // A server whose host is unknown is seen neither running nor unfenced: the record stays.
  if (st.fence) {
    const std::optional<Color> c = api::ParseColor(st.fence->color);
    const model::ServerState* s = c ? &w.server(*c) : nullptr;
    if (s == nullptr || s->Running() ||
        (s->HostKnown() && s->control && s->directory_error.empty() && !s->startup.fenced)) {
      st.fence.reset();
    }
  }

  // The fence record: the old primary's shutdown checkpoint, when first seen. The planner
  // waits for the standby (the catch-up timeout runs from fencedAt) under the same predicate.
  if (model::CleanlyFencedBehind(os, ds)) {
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
