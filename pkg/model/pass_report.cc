#include "pkg/model/pass_report.h"

#include <algorithm>

#include "pkg/model/topology.h"

namespace sy::model {

std::string_view ComponentName(Component c) {
  switch (c) {
    case Component::kTraffic:
      return "traffic";
    case Component::kPrimary:
      return "primary";
    case Component::kStandby:
      return "standby";
  }
  return "?";
}

bool Drift::any() const {
  return std::any_of(components.begin(), components.end(),
                     [](const ComponentDrift& c) { return c.drifted; });
}

Drift DriftOf(const api::DeploymentColorSpec& spec, const World& w) {
  const api::Color d = spec.active_color;
  const ServerState& ds = w.server(d);
  const ServerState& os = w.server(api::Other(d));
  Drift drift;
  drift.For(Component::kTraffic).drifted = !w.nginx.TrafficOn(d);
  drift.For(Component::kPrimary).drifted = !ds.RunningPrimary() || os.RunningPrimary();
  drift.For(Component::kStandby).drifted = !StreamsFrom(os, ds, spec);
  return drift;
}

Observation ObservationOf(const api::DeploymentColorSpec& spec, const World& w) {
  Observation o;
  o.serving = w.nginx.Serving();
  o.blue_primary = w.blue.RunningPrimary();
  o.green_primary = w.green.RunningPrimary();
  for (api::Color primary : api::kColors) {
    const ServerState& p = w.server(primary);
    const ServerState& s = w.server(api::Other(primary));
    if (p.RunningPrimary() && s.RunningStandby()) {
      o.lag = Observation::Lag{api::Other(primary), LagBytes(s, p)};
    }
  }
  o.drift = DriftOf(spec, w);
  return o;
}

}  // namespace sy::model
