#include "pkg/plan/planner.h"

#include "absl/strings/str_cat.h"
#include "pkg/observe/lsn.h"
#include "pkg/plan/topology.h"
#include "pkg/util/clock.h"

namespace sy::plan {
namespace {

using api::Color;
using api::Phase;
using observe::ServerState;

std::string Name(Color c) { return std::string(api::ColorName(c)); }

Plan Do(StepKind kind, Color target, std::optional<Color> source, std::string reason,
        std::string message) {
  Plan p;
  p.step = Step{kind, target, source};
  p.phase = Phase::kProgressing;
  p.reason = std::move(reason);
  p.message = std::move(message);
  return p;
}

Plan Hold(Phase phase, Wait wait, std::string reason, std::string message) {
  Plan p;
  p.phase = phase;
  p.wait = wait;
  p.reason = std::move(reason);
  p.message = std::move(message);
  return p;
}

bool DiscardAllowed(const api::DeploymentColor& dc, Color c) {
  auto it = dc.metadata.annotations.find(std::string(api::kAllowDiscardAnnotation));
  return it != dc.metadata.annotations.end() && it->second == api::ColorName(c);
}

std::string Where(const api::DeploymentColorSpec& spec, Color c) {
  const auto& db = spec.color(c).database;
  return absl::StrCat(Name(c), " (", db.host, ":", db.port, ")");
}

// Makes `s` (not running as a primary) a streaming standby of running primary `p`.
// Returns nullopt when it already streams.
std::optional<Plan> RepairStandby(const api::DeploymentColor& dc, const ServerState& s,
                                  const ServerState& p) {
  const auto& spec = dc.spec;
  const Color sc = s.color;
  const Color pc = p.color;
  const Role role = RoleOf(s);
  if (role == Role::kUnknown) {
    return Hold(Phase::kProgressing, Wait::kRetry, "ServerUnreachable",
                absl::StrCat(Where(spec, sc), " runs but accepts no connections: ", s.error));
  }
  if (role == Role::kMissing) {
    return Do(
        StepKind::kBasebackup, sc, pc, "Bootstrapping",
        absl::StrCat(Name(sc), "'s data directory holds no cluster: cloning it from ", Name(pc)));
  }
  if (role == Role::kStandby && StreamsFrom(s, p, spec)) return std::nullopt;
  if (!HasSlotFor(p, sc)) {
    return Do(StepKind::kCreateSlot, sc, pc, "CreatingSlot",
              absl::StrCat("creating ", Name(sc), "'s replication slot on ", Name(pc)));
  }

  const Lineage lineage = LineageOf(s, p);
  if (lineage == Lineage::kDiverged) {
    if (!DiscardAllowed(dc, sc)) {
      return Hold(Phase::kDegraded, Wait::kRetry, "SplitBrain",
                  absl::StrCat(Name(sc), " holds writes that ", Name(pc),
                               " (the primary) does not have; it is left untouched. To discard "
                               "them and rejoin ",
                               Name(sc), " as a standby, annotate ",
                               std::string(api::kAllowDiscardAnnotation), "=", Name(sc)));
    }
    if (role == Role::kStandby) {
      return Do(StepKind::kStop, sc, std::nullopt, "Rejoining",
                absl::StrCat("stopping diverged ", Name(sc), " to rewind it"));
    }
    const bool rewind = spec.database.rejoin_method == api::RejoinMethod::kAuto;
    return Do(rewind ? StepKind::kRewind : StepKind::kBasebackup, sc, pc, "Rejoining",
              absl::StrCat(Name(sc), " diverged from ", Name(pc), " and discarding is allowed"));
  }
  if (role == Role::kStandby) {
    if (s.startup.primary_port != spec.color(pc).database.port) {
      return Do(StepKind::kStop, sc, std::nullopt, "Rejoining",
                absl::StrCat("stopping ", Name(sc), ": it is a standby of another server"));
    }
    return Hold(Phase::kProgressing, Wait::kPoll, "StandbyConnecting",
                absl::StrCat(Name(sc), " is starting to stream from ", Name(pc)));
  }
  // Stopped.
  if (ConfiguredToFollow(s, spec, pc)) {
    return Do(StepKind::kStart, sc, std::nullopt, "StartingStandby",
              absl::StrCat("starting ", Name(sc), " as a standby of ", Name(pc)));
  }
  // Re-clone only what is known to be redundant. A server that was not shut down cleanly
  // (lineage unknown) may hold writes the primary lacks: replacing it lost them without the
  // operator's annotation. It rejoins without copying first; started as a standby, it shows
  // how far its WAL goes, and a divergence is then reported like any other.
  if (spec.database.rejoin_method == api::RejoinMethod::kBasebackup &&
      lineage == Lineage::kFollows) {
    return Do(
        StepKind::kBasebackup, sc, pc, "Rejoining",
        absl::StrCat("re-cloning ", Name(sc), " from ", Name(pc), " (rejoinMethod basebackup)"));
  }
  return Do(StepKind::kConfigureStandby, sc, pc, "Rejoining",
            absl::StrCat(Name(sc), "'s WAL ",
                         lineage == Lineage::kFollows ? "is a prefix of " : "may continue ",
                         Name(pc), "'s: rejoining it as a standby without copying"));
}

// Traffic to `d`, when it can go there.
std::optional<Plan> RouteTraffic(const api::DeploymentColor& dc, const observe::World& w, Color d) {
  if (w.nginx.served_color == d && w.nginx.file_color == d) return std::nullopt;
  if (!w.nginx.running) {
    return Hold(Phase::kDegraded, Wait::kRetry, "NginxNotRunning",
                absl::StrCat("nginx is not running (", dc.spec.nginx.config_file,
                             "): start it; traffic cannot be switched to ", Name(d)));
  }
  if (!w.UpstreamsHealthy(d)) {
    return Hold(Phase::kDegraded, Wait::kRetry, "UpstreamsUnhealthy",
                absl::StrCat("no upstream of ", Name(d), " answers; traffic stays where it is"));
  }
  return Do(StepKind::kSwitchTraffic, d, std::nullopt, "SwitchingTraffic",
            absl::StrCat("switching traffic to ", Name(d)));
}

// O is the running primary: make D its streaming standby, check, move traffic, fence O.
Plan Switch(const api::DeploymentColor& dc, const observe::World& w, Color d) {
  const auto& spec = dc.spec;
  const ServerState& ds = w.server(d);
  const ServerState& os = w.server(api::Other(d));
  if (auto repair = RepairStandby(dc, ds, os)) return *repair;
  // Preflight.
  if (ds.system_identifier != os.system_identifier) {
    return Hold(Phase::kDegraded, Wait::kRetry, "SystemIdentifierMismatch",
                absl::StrCat(Name(d), " and ", Name(os.color), " are different clusters"));
  }
  if (ds.replay_paused) {
    return Hold(Phase::kDegraded, Wait::kRetry, "ReplayPaused",
                absl::StrCat("WAL replay is paused on ", Name(d),
                             ": resume it (pg_wal_replay_resume()) to switch"));
  }
  const uint64_t lag = LagBytes(ds, os);
  if (lag > static_cast<uint64_t>(spec.database.max_lag_bytes)) {
    return Hold(Phase::kDegraded, Wait::kRetry, "StandbyLagging",
                absl::StrCat(Name(d), " is ", lag, " bytes behind ", Name(os.color),
                             " (maxLagBytes ", spec.database.max_lag_bytes, ")"));
  }
  if (auto route = RouteTraffic(dc, w, d)) return *route;
  return Do(
      StepKind::kFence, os.color, std::nullopt, "Fencing",
      absl::StrCat("fencing the old primary ", Name(os.color), " (checkpoint, fast shutdown)"));
}

// Nothing runs as a primary.
Plan NoPrimary(const api::DeploymentColor& dc, const observe::World& w, Color d,
               std::chrono::system_clock::time_point now) {
  const auto& spec = dc.spec;
  const Color o = api::Other(d);
  const ServerState& ds = w.server(d);
  const ServerState& os = w.server(o);
  const Role dr = RoleOf(ds);
  const Role orole = RoleOf(os);
  if (dr == Role::kUnknown || orole == Role::kUnknown) {
    const ServerState& u = dr == Role::kUnknown ? ds : os;
    return Hold(Phase::kProgressing, Wait::kRetry, "ServerUnreachable",
                absl::StrCat(Where(spec, u.color), " runs but accepts no connections: ", u.error));
  }
  // The old primary was stopped cleanly and D streams: promote D once it has everything.
  if (dr == Role::kStandby && orole == Role::kStopped && !ConfiguredAsStandby(os) &&
      os.control->cluster_state == kShutDown) {
    const observe::Lsn c = os.control->checkpoint_lsn;
    const std::string cs = observe::FormatLsn(c);
    // Once the old primary is gone the standby's WAL receiver is too, and PostgreSQL 15 then
    // reports the standby's timeline only as of its last restartpoint, which may be older:
    // so the standby's timeline must not be newer than the old primary's, not equal to it.
    // But an older timeline is also what a standby reports whose own WAL went another way on
    // that timeline (an old primary that crashed after writes, rejoined, cannot stream), and
    // its replay position can be numerically past C on the wrong branch. So an older timeline
    // counts only when all the standby replayed it received by streaming in its current run,
    // past C (FIELD-NOTES #5: receive = replay = C + 120 after a clean fence): then it came
    // from O, the only other server, and one cannot stream a history it diverged from.
    const uint32_t ot = os.control->checkpoint_timeline;
    const bool on_o_branch =
        ds.timeline == ot || (ds.timeline < ot && StreamedAll(ds) && ds.receive_lsn > c);
    if (ds.system_identifier == os.control->system_identifier && on_o_branch && ds.replay_lsn > c) {
      if (auto route = RouteTraffic(dc, w, d)) return *route;
      return Do(StepKind::kPromote, d, std::nullopt, "Promoting",
                absl::StrCat(Name(d), " replayed ", observe::FormatLsn(ds.replay_lsn), ", past ",
                             Name(o), "'s shutdown checkpoint ", cs, ": promoting"));
    }
    // The catch-up timeout runs from status.fence.fencedAt, which StatusFor() writes on the
    // first pass that sees this shutdown checkpoint -- after this plan is made. No record of
    // this fence (none yet, or an earlier fence's) means the wait starts now; treating it as
    // expired declared a standby still replaying its last WAL Failed/StandbyBehind on the first
    // pass after every fence. An unreadable record still counts as expired.
    bool timed_out = false;
    if (dc.status.fence && dc.status.fence->color == api::ColorName(o) &&
        dc.status.fence->checkpoint_lsn == cs) {
      std::chrono::system_clock::time_point fenced;
      timed_out = !util::ParseRfc3339(dc.status.fence->fenced_at, &fenced) ||
                  now - fenced > std::chrono::seconds(spec.database.catch_up_timeout_seconds);
    }
    const std::string msg =
        absl::StrCat(Name(d), " has replayed ", observe::FormatLsn(ds.replay_lsn), " of ", Name(o),
                     "'s WAL, which ends after ", cs);
    if (!timed_out && !ds.replay_paused) {
      return Hold(Phase::kProgressing, Wait::kPoll, "CatchingUp", msg);
    }
    return Hold(Phase::kFailed, Wait::kRetry, "StandbyBehind",
                absl::StrCat(msg, "; nothing was promoted. Set activeColor back to ", Name(o),
                             " to restart it as the primary"));
  }
  // A server that would come up as a primary, and holds the newest data, is started.
  auto start_candidate = [&](const ServerState& s, const ServerState& other) {
    if (RoleOf(s) != Role::kStopped || ConfiguredAsStandby(s)) return false;
    const Role r = RoleOf(other);
    if (r == Role::kMissing) return true;
    if (TimelineOf(other) != TimelineOf(s)) return TimelineOf(s) > TimelineOf(other);
    const observe::Lsn other_end =
        r == Role::kStandby ? other.replay_lsn : other.control->checkpoint_lsn;
    return s.control->checkpoint_lsn >= other_end || ConfiguredAsStandby(other);
  };
  if (start_candidate(ds, os)) {
    return Do(StepKind::kStart, d, std::nullopt, "StartingPrimary",
              absl::StrCat("starting ", Name(d), ", which holds the newest data, as the primary"));
  }
  if (start_candidate(os, ds)) {
    return Do(StepKind::kStart, o, std::nullopt, "StartingPrimary",
              absl::StrCat("starting ", Name(o),
                           " (it holds the newest data) as the primary, to switch from it"));
  }
  // A stopped standby is harmless to start: it may hold WAL the other needs.
  for (const ServerState* s : {&ds, &os}) {
    if (RoleOf(*s) == Role::kStopped && ConfiguredAsStandby(*s)) {
      return Do(StepKind::kStart, s->color, std::nullopt, "StartingStandby",
                absl::StrCat("starting ", Name(s->color), " as a standby"));
    }
  }
  return Hold(Phase::kDegraded, Wait::kRetry, "NoPrimary",
              absl::StrCat("no primary: ", Name(d), " is ", std::string(RoleName(dr)), " and ",
                           Name(o), " is ", std::string(RoleName(orole)),
                           "; promoting a standby here would be a failover, which needs an "
                           "operator"));
}

}  // namespace

Plan Next(const api::DeploymentColor& dc, const observe::World& w,
          std::chrono::system_clock::time_point now) {
  const auto& spec = dc.spec;
  const Color d = spec.active_color;
  const Color o = api::Other(d);
  const ServerState& ds = w.server(d);
  const ServerState& os = w.server(o);

  if (spec.paused) {
    return Hold(Phase::kPaused, Wait::kResync, "Paused",
                "spec.paused is true: observing and reporting only");
  }
  // Two writable primaries: when D is on the newer timeline, stop O and keep its data.
  if (ds.RunningPrimary() && os.RunningPrimary()) {
    const uint32_t dt = ds.timeline;
    const uint32_t ot = os.timeline;
    if (dt > ot) {
      Plan stop = Do(StepKind::kStop, o, std::nullopt, "SplitBrain",
                     absl::StrCat("split brain: blue and green are both primaries; stopping ",
                                  Name(o), " (older timeline) and keeping its data"));
      // Design §3: a split brain is Degraded "either way", also while the impostor is being
      // stopped (the phase drives the alert; Progressing would hide it for that pass).
      stop.phase = Phase::kDegraded;
      return stop;
    }
    // Design §3: "If D is on a newer timeline than O, Switchyard fences O ... Otherwise it only
    // reports." Stopping D here (the older timeline) took the desired, serving primary down,
    // left the writes it had taken stranded as "diverged", and sent multi-host clients to O.
    if (ot > dt) {
      return Hold(Phase::kDegraded, Wait::kRetry, "SplitBrain",
                  absl::StrCat("split brain: blue and green are both primaries; ", Name(o),
                               " is on a newer timeline than the desired ", Name(d),
                               ", so Switchyard stops neither: stop one by hand, or set "
                               "activeColor to ",
                               Name(o)));
    }
    Plan p = Hold(Phase::kDegraded, Wait::kRetry, "SplitBrain",
                  "split brain: blue and green are both primaries on the same timeline; "
                  "Switchyard cannot tell which is right: stop one by hand");
    return p;
  }
  if (ds.RunningPrimary()) {
    if (auto route = RouteTraffic(dc, w, d)) return *route;
    if (auto repair = RepairStandby(dc, os, ds)) return *repair;
    return Hold(Phase::kConverged, Wait::kResync, "Converged",
                absl::StrCat("traffic and primary on ", Name(d), "; ", Name(o), " streaming, lag ",
                             LagBytes(os, ds), " B"));
  }
  if (os.RunningPrimary()) return Switch(dc, w, d);
  return NoPrimary(dc, w, d, now);
}

}  // namespace sy::plan
