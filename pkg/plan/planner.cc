#include "pkg/plan/planner.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "pkg/model/lsn.h"
#include "pkg/model/sync_rep.h"
#include "pkg/model/topology.h"
#include "pkg/plan/preflight.h"
#include "pkg/plan/unseen.h"
#include "pkg/util/clock.h"

namespace sy::plan {

using model::ConfiguredAsStandby;
using model::ConfiguredToFollow;
using model::Fenced;
using model::FormatLsn;
using model::HasSlotFor;
using model::IsSwitchyardSlot;
using model::kShutDown;
using model::LagBytes;
using model::Lineage;
using model::LineageOf;
using model::Lsn;
using model::NewestTimeline;
using model::PromotionThreshold;
using model::Role;
using model::RoleName;
using model::RoleOf;
using model::ServerState;
using model::Step;
using model::StepKind;
using model::StreamedAll;
using model::StreamsFrom;
using model::TimelineOf;
using model::WalRemovedFor;
using model::WhyNotLiftFence;
using model::WhyNotStartAsPrimary;
using model::World;

namespace {

using api::Color;
using api::Phase;

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

// Rule (managed synchronous replication, pkg/plan/README.md §17): the step that gives running
// `s` the synchronous_standby_names spec.database.synchronousReplication wants for it, whose
// standby is `other` (streaming from it or not). nullopt when unmanaged, unread, or right.
std::optional<Plan> ManageSyncStandby(const api::DeploymentColorSpec& spec, const ServerState& s,
                                      Color other, bool other_streams, const std::string& when) {
  const std::optional<std::string> want =
      model::ManagedSyncStandbyNames(spec.database.synchronous_replication, other, other_streams);
  if (!want || !s.sync.known || s.sync.standby_names == *want) return std::nullopt;
  const bool names = !want->empty();
  return Do(StepKind::kSyncStandby, s.color, names ? std::optional<Color>(other) : std::nullopt,
            "SettingSyncStandby",
            absl::StrCat(
                "setting ", Name(s.color), "'s synchronous_standby_names to '", *want, "' (was '",
                s.sync.standby_names, "'): ", when, " (spec.database.synchronousReplication ",
                std::string(api::SynchronousReplicationName(spec.database.synchronous_replication)),
                ")"));
}

// Rule (pending promotions): a promotion request that must not complete now is cancelled by
// stopping its server. The stop removes the request file first, and a postmaster that was
// asked to shut down does not promote (nor does one that starts: it removes the file).
Plan CancelPromotion(const api::DeploymentColorSpec& spec, Color c, const std::string& why) {
  return Do(StepKind::kStop, c, std::nullopt, "CancellingPromotion",
            absl::StrCat(Where(spec, c), " has a pending promotion request; ", why,
                         ": stopping it (the request is removed first)"));
}

// How long the standby component has drifted (the StandbyStreaming condition False since its
// lastTransitionTime, which the status keeps across passes and restarts); 0 when it was not
// False at the last pass.
std::chrono::seconds NotStreamingFor(const api::DeploymentColor& dc,
                                     std::chrono::system_clock::time_point now) {
  const api::Condition* c = api::FindCondition(dc.status, api::kConditionStandbyStreaming);
  std::chrono::system_clock::time_point since;
  if (c == nullptr || c->status != "False" ||
      !util::ParseRfc3339(c->last_transition_time, &since) || now < since) {
    return std::chrono::seconds(0);
  }
  return std::chrono::floor<std::chrono::seconds>(now - since);
}

bool PastSlotRetention(const api::DeploymentColor& dc, std::chrono::system_clock::time_point now) {
  return NotStreamingFor(dc, now) >= std::chrono::seconds(dc.spec.database.slot_retention_seconds);
}

// Rule (slots when used): `s`'s slot on running primary `p` is created only right before `s`
// is going to stream from it: before the copy, the configuration, the start or the wait that
// rejoins it, never while it is held (unseen, another cluster, diverged without consent: the
// slot would pin p's WAL for nothing). Before a copy too, so that the slot reserves the WAL
// from before the copy's end. A stopped server that has not streamed for longer than
// slotRetentionSeconds (it keeps failing to start) starts without one; the slot is created
// once it runs as a standby.
Plan WithSlot(const api::DeploymentColor& dc, const ServerState& s, const ServerState& p,
              Plan rejoin, std::chrono::system_clock::time_point now) {
  if (HasSlotFor(p, s.color)) return rejoin;
  if (rejoin.step && rejoin.step->kind == StepKind::kStart && PastSlotRetention(dc, now)) {
    return rejoin;
  }
  return Do(StepKind::kCreateSlot, s.color, p.color, "CreatingSlot",
            absl::StrCat("creating ", Name(s.color), "'s replication slot on ", Name(p.color),
                         ", to ", rejoin.message));
}

// `s` (stopped or a running standby) can never stream from `p` again: the WAL it needs is gone
// (WalRemovedFor). A copy is then the only way back, and it is made only where the lineage
// allows it without consent (its WAL is a prefix of p's: nothing is lost); else the status
// says why and what to do.
Plan WalRemoved(const api::DeploymentColor& dc, const ServerState& s, const ServerState& p,
                Lineage lineage, std::chrono::system_clock::time_point now) {
  const Color sc = s.color;
  const Color pc = p.color;
  const model::ReplicationSlot* slot = model::SlotFor(p, sc);
  const std::string why = absl::StrCat(
      Name(sc), " needs WAL that ", Name(pc), " has removed (its WAL ends at ",
      model::FormatLsn(model::KnownWalEnd(s)), ", ", Name(pc), "'s oldest segment begins at ",
      model::FormatLsn(p.oldest_wal_lsn),
      slot == nullptr ? "; it has no slot there"
                      : absl::StrCat("; its slot there is ",
                                     slot->wal_status.empty() ? "unreserved" : slot->wal_status),
      ")");
  if (lineage == Lineage::kFollows || model::DiscardAllowed(dc, s)) {
    if (s.reachable) {
      return Do(StepKind::kStop, sc, std::nullopt, "WalRemoved",
                absl::StrCat(why, ": stopping it to re-clone it"));
    }
    return WithSlot(dc, s, p,
                    Do(StepKind::kBasebackup, sc, pc, "WalRemoved",
                       absl::StrCat(why, lineage == Lineage::kFollows
                                             ? "; its WAL is a prefix of theirs, so a copy "
                                               "loses nothing: re-cloning it"
                                             : "; discarding is allowed: re-cloning it")),
                    now);
  }
  return Hold(Phase::kDegraded, Wait::kRetry, "WalRemoved",
              absl::StrCat(why,
                           "; it cannot stream again, and how far its WAL goes is not known "
                           "(it did not shut down cleanly), so it is not copied over. To "
                           "re-clone it, annotate ",
                           std::string(api::kAllowDiscardAnnotation), "=",
                           api::FormatDiscardConsent(model::IncidentOf(s)),
                           " (this value covers this incident only)"));
}

// Whether the user Switchyard connects as sees the replication state on `s`: without
// pg_read_all_stats (which pg_monitor holds) a non-superuser sees the rows of
// pg_stat_replication and pg_stat_wal_receiver with their state and positions NULL.
bool SeesReplication(const ServerState& s) {
  const model::Prerequisites& p = s.prerequisites;
  return !p.known || p.Has("superuser") || p.Has("pg_monitor");
}

// Makes `s` (not running as a primary) a streaming standby of running primary `p`.
// Returns nullopt when it already streams.
std::optional<Plan> RepairStandby(const api::DeploymentColor& dc, const ServerState& s,
                                  const ServerState& p, std::chrono::system_clock::time_point now) {
  const auto& spec = dc.spec;
  const Color sc = s.color;
  const Color pc = p.color;
  if (auto unseen = Unseen(spec, s, Phase::kProgressing)) return unseen;
  const Role role = RoleOf(s);
  if (role == Role::kMissing) {
    return WithSlot(
        dc, s, p,
        Do(StepKind::kBasebackup, sc, pc, "Bootstrapping",
           absl::StrCat(Name(sc), "'s data directory holds nothing: cloning it from ", Name(pc))),
        now);
  }
  // A standby seen streaming that needs WAL the primary no longer holds is only trying to: it
  // fails at once, again and again (its walreceiver's status flickers to "streaming").
  if (role == Role::kStandby && StreamsFrom(s, p, spec) && !WalRemovedFor(s, p)) {
    return std::nullopt;
  }

  const Lineage lineage = LineageOf(s, p);
  if (lineage == Lineage::kForeign) {
    return Hold(
        Phase::kDegraded, Wait::kRetry, "SystemIdentifierMismatch",
        absl::StrCat(Name(sc), "'s data directory (", spec.color(sc).database.data_directory,
                     ") and ", Name(pc), "'s (", spec.color(pc).database.data_directory,
                     ") hold different clusters (system identifiers ", s.control->system_identifier,
                     " and ", p.system_identifier,
                     "); neither is touched, whatever the annotations say. Switchyard does not "
                     "pick one: find which is the database, and move the other directory aside "
                     "(a missing directory is cloned from the running primary)"));
  }
  if (lineage == Lineage::kDiverged) {
    // Rule (consent per incident): only a consent naming this incident, as observed now,
    // discards anything. One given for an earlier incident (left in a Git repository, say)
    // is ignored, and the message says so and what the current value would be.
    const model::Consent consent = model::ConsentFor(dc, s);
    if (consent != model::Consent::kGiven) {
      const api::DiscardConsent incident = model::IncidentOf(s);
      const std::string key(api::kAllowDiscardAnnotation);
      const std::string stale =
          consent == model::Consent::kStale
              ? absl::StrCat(" The annotation ", key, "=", dc.metadata.annotations.at(key),
                             " names another incident and is ignored.")
              : "";
      return Hold(Phase::kDegraded, Wait::kRetry, "SplitBrain",
                  absl::StrCat(Name(sc), " holds writes that ", Name(pc),
                               " (the primary) does not have; it is left untouched.", stale,
                               " To discard them and rejoin ", Name(sc), " as a standby, annotate ",
                               key, "=", api::FormatDiscardConsent(incident), " (", Name(sc),
                               " on timeline ", incident.timeline, ", its WAL ending at ",
                               incident.lsn, "; this value covers this incident only)"));
    }
    if (role == Role::kStandby) {
      return Do(StepKind::kStop, sc, std::nullopt, "Rejoining",
                absl::StrCat("stopping diverged ", Name(sc),
                             " to rewind it (the consent names its incident; stopped, its end "
                             "is read from pg_control)"));
    }
    // A rewind of this color that failed (status.rewindFailure) is not tried again: the copy
    // falls back to a re-clone, allowed for the same reason (discarding is allowed).
    if (const auto& failed = dc.status.rewind_failure; failed && failed->color == Name(sc)) {
      return Do(StepKind::kBasebackup, sc, pc, "Rejoining",
                absl::StrCat(Name(sc), " diverged from ", Name(pc),
                             ", discarding is allowed and pg_rewind failed (", failed->message,
                             "): re-cloning it"));
    }
    // pg_rewind looks for the fork between two timelines; on one shared timeline (a split
    // brain without a promotion) it finds none and changes nothing, so only a copy helps.
    const bool rewind =
        spec.database.rejoin_method == api::RejoinMethod::kAuto && TimelineOf(s) != TimelineOf(p);
    return WithSlot(
        dc, s, p,
        Do(rewind ? StepKind::kRewind : StepKind::kBasebackup, sc, pc, "Rejoining",
           absl::StrCat(Name(sc), " diverged from ", Name(pc), " and discarding is allowed")),
        now);
  }
  if (WalRemovedFor(s, p)) return WalRemoved(dc, s, p, lineage, now);
  if (role == Role::kStandby) {
    // Rule (server identity): by host and port (model::NamesServer).
    if (!model::NamesServer(spec, pc, s.startup.primary_host, s.startup.primary_port)) {
      return Do(StepKind::kStop, sc, std::nullopt, "Rejoining",
                absl::StrCat("stopping ", Name(sc), ": it is not a standby of ", Where(spec, pc)));
    }
    // Configured to follow p, but running with what its file said before (someone started
    // it while it was being configured): it would wait for ever. Restarted, it reads the file.
    const std::string running_host = s.running_primary_host.value_or("");
    if (s.running_primary_port &&
        !model::NamesServer(spec, pc, running_host, *s.running_primary_port)) {
      return Do(StepKind::kStop, sc, std::nullopt, "Rejoining",
                absl::StrCat("stopping ", Name(sc), ": it runs with a primary_conninfo (",
                             *s.running_primary_port == 0
                                 ? std::string("empty")
                                 : absl::StrCat(running_host.empty() ? "" : "host ", running_host,
                                                running_host.empty() ? "" : ", ", "port ",
                                                *s.running_primary_port),
                             ") that its configuration no longer says (", Name(pc), ", ",
                             spec.color(pc).database.host, ":", spec.color(pc).database.port,
                             "): it was started while being configured"));
    }
    if (!SeesReplication(s) && !SeesReplication(p)) {
      const std::string& user = spec.database.user;
      return Hold(
          Phase::kDegraded, Wait::kRetry, "InsufficientPrivileges",
          absl::StrCat("the user ", user,
                       " is neither a superuser nor in pg_monitor: PostgreSQL hides the "
                       "state of pg_stat_replication and pg_stat_wal_receiver from it, so "
                       "Switchyard cannot tell whether ",
                       Name(sc), " streams from ", Name(pc), " (GRANT pg_monitor TO ", user, ")"));
    }
    return WithSlot(dc, s, p,
                    Hold(Phase::kProgressing, Wait::kPoll, "StandbyConnecting",
                         absl::StrCat(Name(sc), " is starting to stream from ", Name(pc))),
                    now);
  }
  // Stopped. A fenced directory is configured again even if it looks configured: that also
  // removes the marker.
  if (ConfiguredToFollow(s, spec, pc) && !Fenced(s)) {
    return WithSlot(dc, s, p,
                    Do(StepKind::kStart, sc, std::nullopt, "StartingStandby",
                       absl::StrCat("starting ", Name(sc), " as a standby of ", Name(pc))),
                    now);
  }
  // Re-clone only what is known to be redundant. A server that was not shut down cleanly
  // (lineage unknown) may hold writes the primary lacks: replacing it lost them without the
  // operator's annotation. It rejoins without copying first; started as a standby, it shows
  // how far its WAL goes, and a divergence is then reported like any other.
  if (spec.database.rejoin_method == api::RejoinMethod::kBasebackup &&
      lineage == Lineage::kFollows) {
    return WithSlot(
        dc, s, p,
        Do(StepKind::kBasebackup, sc, pc, "Rejoining",
           absl::StrCat("re-cloning ", Name(sc), " from ", Name(pc), " (rejoinMethod basebackup)")),
        now);
  }
  return WithSlot(
      dc, s, p,
      Do(StepKind::kConfigureStandby, sc, pc, "Rejoining",
         absl::StrCat(Name(sc), "'s WAL ",
                      lineage == Lineage::kFollows ? "is a prefix of " : "may continue ", Name(pc),
                      "'s: rejoining it as a standby without copying")),
      now);
}

// Rule (slot retention): the slot of `s` on running primary `p` pins p's WAL for as long as it
// exists. When `s` has not streamed for slotRetentionSeconds and is held (`repair` is a hold:
// a split brain, another cluster, unseen, WAL gone) or keeps failing to start, the slot is
// dropped; WithSlot creates it again when `s` rejoins. Not while `s` runs as p's standby
// waiting to stream (it needs the slot now), nor before a copy or a configuration (progress).
std::optional<Plan> DropHeldSlot(const api::DeploymentColor& dc, const ServerState& s,
                                 const ServerState& p, const std::optional<Plan>& repair,
                                 std::chrono::system_clock::time_point now) {
  if (!repair || !HasSlotFor(p, s.color) || !PastSlotRetention(dc, now)) return std::nullopt;
  const bool held = !repair->step && repair->reason != "StandbyConnecting";
  const bool not_starting = repair->step && repair->step->kind == StepKind::kStart;
  if (!held && !not_starting) return std::nullopt;
  const model::ReplicationSlot* slot = model::SlotFor(p, s.color);
  if (slot != nullptr && slot->active) return std::nullopt;
  return Do(StepKind::kDropSlot, s.color, p.color, "DroppingSlot",
            absl::StrCat(Name(s.color), " has not streamed from ", Name(p.color), " for ",
                         NotStreamingFor(dc, now).count(), " s (slotRetentionSeconds ",
                         dc.spec.database.slot_retention_seconds, ") and ",
                         held ? absl::StrCat("is held: ", repair->message) : "does not start",
                         "; dropping its slot on ", Name(p.color),
                         " so that it no longer pins WAL there (created again when it rejoins)"));
}

// A running standby keeps no Switchyard slot: one left there by a switch that did not happen
// (created before a fence that never came) pins the standby's WAL for good.
std::optional<Plan> DropStaleStandbySlot(const ServerState& standby) {
  if (!standby.RunningStandby()) return std::nullopt;
  for (const model::ReplicationSlot& slot : standby.slot_details) {
    if (slot.type != "physical" || slot.active || !IsSwitchyardSlot(slot.name)) continue;
    for (Color c : api::kColors) {
      if (slot.name == model::SlotName(c)) {
        return Do(StepKind::kDropSlot, c, standby.color, "DroppingSlot",
                  absl::StrCat(Name(standby.color), " is a standby but holds the slot ", slot.name,
                               " (left by a switch that did not happen): dropping it"));
      }
    }
  }
  return std::nullopt;
}

// Traffic to `d`, when it can go there.
std::optional<Plan> RouteTraffic(const api::DeploymentColor& dc, const model::World& w, Color d) {
  if (auto unseen = NginxUnseen(w.nginx, d)) return unseen;
  if (w.nginx.TrafficOn(d)) return std::nullopt;
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

// D runs as the primary: make its pg_control and data directory say so, route traffic to it,
// make O its streaming standby.
Plan DesiredIsPrimary(const api::DeploymentColor& dc, const model::World& w, Color d,
                      std::chrono::system_clock::time_point now) {
  const ServerState& ds = w.server(d);
  const ServerState& os = w.server(api::Other(d));
  // Rule: pg_control must show the running timeline. Until a checkpoint after a promotion it
  // shows the old one, and a crash then makes the new primary look older than its peer.
  if (ds.control && ds.control->checkpoint_timeline < ds.timeline) {
    return Do(StepKind::kCheckpoint, d, std::nullopt, "Checkpointing",
              absl::StrCat(Name(d), "'s pg_control still shows timeline ",
                           ds.control->checkpoint_timeline, " while it writes timeline ",
                           ds.timeline, ": checkpointing, so that a crash cannot hide its writes"));
  }
  // The running primary's directory must start it as a primary again: a fence (or any
  // standby.signal, or a stray marker) left there would bring it up read-only after a restart.
  if (ds.startup.fenced || ConfiguredAsStandby(ds)) {
    return Do(StepKind::kLiftFence, d, std::nullopt, "LiftingFence",
              absl::StrCat(Name(d),
                           " runs as the primary but its data directory would start it "
                           "as a standby (fence marker or standby.signal): lifting the "
                           "fence"));
  }
  const bool o_streams = StreamsFrom(os, ds, dc.spec);
  if (auto sync =
          ManageSyncStandby(dc.spec, ds, os.color, o_streams,
                            o_streams ? absl::StrCat(Name(os.color), " streams from it")
                                      : absl::StrCat(Name(os.color), " does not stream from it"))) {
    return *sync;
  }
  // Traffic first when it can move; a hold on traffic (nginx down, unhealthy apps) does not
  // keep O from rejoining as a standby.
  const std::optional<Plan> route = RouteTraffic(dc, w, d);
  if (route && route->step) return *route;
  const std::optional<Plan> repair = RepairStandby(dc, os, ds, now);
  if (auto drop = DropHeldSlot(dc, os, ds, repair, now)) return *drop;
  if (repair && repair->step) return *repair;
  // Rule (commits complete): a primary whose commits wait for a synchronous standby that
  // does not stream is not converged, and every hold says so (pkg/plan/README.md §17).
  const std::string waits = model::WhyCommitsWait(ds);
  auto tell = [&](Plan p) {
    if (!waits.empty()) absl::StrAppend(&p.message, "; commits on ", Name(d), " wait: ", waits);
    return p;
  };
  if (route) return tell(*route);
  if (repair) return tell(*repair);
  if (auto stale = DropStaleStandbySlot(os)) return *stale;
  if (!waits.empty()) {
    const std::string fix =
        dc.spec.database.synchronous_replication == api::SynchronousReplication::kRequired
            ? absl::StrCat(
                  "spec.database.synchronousReplication is required: they complete "
                  "once ",
                  Name(os.color), " streams again")
            : absl::StrCat(
                  "Switchyard does not change synchronous_standby_names here: set it "
                  "on ",
                  Name(d), " to what its standby satisfies (", Name(os.color),
                  " streams as application_name ", Name(os.color),
                  "), e.g. ALTER SYSTEM SET synchronous_standby_names = '", Name(os.color),
                  "'; SELECT pg_reload_conf()");
    return Hold(Phase::kDegraded, Wait::kRetry, "CommitsBlocked",
                absl::StrCat(Name(d), " is the primary but its commits do not complete: ", waits,
                             ". ", fix));
  }
  // No byte count: it changes with every write, and so would the status.
  // A consent left in place names a past incident and authorizes nothing more; say it may go.
  std::string consent;
  if (auto it = dc.metadata.annotations.find(std::string(api::kAllowDiscardAnnotation));
      it != dc.metadata.annotations.end()) {
    consent = absl::StrCat("; ", std::string(api::kAllowDiscardAnnotation), "=", it->second,
                           " names a past incident and authorizes nothing more: it may be "
                           "removed");
  }
  return Hold(Phase::kConverged, Wait::kResync, "Converged",
              absl::StrCat("traffic and primary on ", Name(d), "; ", Name(os.color), " streaming",
                           consent));
}

// The switch to `d` recorded as abandoned for the spec's current generation.
const api::AbandonedSwitch* AbandonedFor(const api::DeploymentColor& dc, Color d) {
  const std::optional<api::AbandonedSwitch>& a = dc.status.abandoned_switch;
  if (!a || a->color != Name(d) || a->generation != dc.metadata.generation) return nullptr;
  return &*a;
}

// Rule (abandoned switches, pkg/plan/README.md §19): while the switch to `d` stands abandoned
// for this generation and the other color runs as the primary again, what the switch had
// changed is put back: traffic to the primary's color (d's apps may write only through d's
// database), when its upstreams answer; then d's slot for the other color, made before the
// fence, which would pin d's WAL for the whole generation. Then it holds, saying why (and
// what it waits for meanwhile, `waiting`).
Plan WhileAbandoned(const api::DeploymentColor& dc, const World& w, Color d,
                    const std::optional<Plan>& waiting) {
  const Color o = api::Other(d);
  auto undoing = [&](Plan p) {
    p.phase = Phase::kDegraded;
    p.reason = "RevertingSwitch";
    p.message = absl::StrCat("the switch to ", Name(d), " was abandoned: ", p.message);
    return p;
  };
  if (std::optional<Plan> back = RouteTraffic(dc, w, o); back && back->step) {
    back->message = absl::StrCat(back->message, ", the primary again");
    return undoing(*back);
  }
  if (auto stale = DropStaleStandbySlot(w.server(d))) return undoing(*stale);
  const std::vector<Check> checks = Preflight(dc, w, d);
  const Check* gave_up = FirstFailure(checks);  // "not-abandoned" comes first
  if (gave_up == nullptr || gave_up->reason != "SwitchAbandoned") {
    return Hold(Phase::kFailed, Wait::kRetry, "SwitchAbandoned",
                absl::StrCat("the switch to ", Name(d), " was abandoned"));
  }
  std::string message = gave_up->message;
  if (waiting) absl::StrAppend(&message, ". Meanwhile ", waiting->message);
  return Hold(gave_up->phase, Wait::kRetry, gave_up->reason, message);
}

// O is the running primary: make D its streaming standby, check, move traffic, fence O.
Plan Switch(const api::DeploymentColor& dc, const model::World& w, Color d,
            std::chrono::system_clock::time_point now) {
  const auto& spec = dc.spec;
  const ServerState& ds = w.server(d);
  const ServerState& os = w.server(api::Other(d));
  const std::optional<Plan> repair = RepairStandby(dc, ds, os, now);
  const bool abandoned = AbandonedFor(dc, d) != nullptr;
  // Steps, and holds that need an operator, come first; a wait for D to stream does not stand
  // in for an abandoned switch: D's replay may still stand still (the very cause, and its WAL
  // receiver is then not restarted), and the status would say Progressing for ever.
  if (repair && (repair->step || repair->phase != Phase::kProgressing || !abandoned)) {
    return *repair;
  }
  if (abandoned) return WhileAbandoned(dc, w, d, repair);
  // Preflight (pkg/plan/preflight.h): nothing moves until every blocking check passes.
  if (const std::vector<Check> checks = Preflight(dc, w, d);
      const Check* failed = FirstFailure(checks)) {
    return Hold(failed->phase, Wait::kRetry, failed->reason, failed->message);
  }
  // Rule (synchronous replication, pkg/plan/README.md §17): once D is promoted, O is its only
  // possible standby, and it streams as application_name O. Managed, D gets the setting it
  // needs then while it is still a standby, where the setting has no effect yet (preferred
  // leaves it empty: O does not stream from D at first). Unmanaged, the preflight refused a
  // setting on D that O could not satisfy.
  if (auto sync = ManageSyncStandby(spec, ds, os.color, false, "before the switch")) {
    return *sync;
  }
  if (auto route = RouteTraffic(dc, w, d)) return *route;
  // Rule (slots hold the fork): O's slot is made on D while D is still a standby. There it
  // reserves WAL from D's last restartpoint, before O's shutdown checkpoint, so it keeps the
  // segment where D's new timeline forks, which O streams first when it rejoins. Made on the
  // new primary after the promotion it would reserve from past the fork.
  if (!HasSlotFor(ds, os.color)) {
    return Do(StepKind::kCreateSlot, os.color, d, "CreatingSlot",
              absl::StrCat("creating ", Name(os.color), "'s replication slot on ", Name(d),
                           " before the fence, so that it holds the WAL ", Name(os.color),
                           " needs to rejoin"));
  }
  return Do(StepKind::kFence, os.color, std::nullopt, "Fencing",
            absl::StrCat("fencing the old primary ", Name(os.color),
                         " (fence marker and standby.signal, checkpoint, fast shutdown)"));
}

// `f` is fenced and stopped and is to become the primary again: stop the other first, then
// lift the fence, when the rule allows (else nullopt: the caller looks for other ways).
std::optional<Plan> BringBack(const api::DeploymentColorSpec& spec, const ServerState& f,
                              const ServerState& other, const std::string& why) {
  const std::string why_not = WhyNotLiftFence(f, other);
  if (why_not.empty()) {
    return Do(StepKind::kLiftFence, f.color, std::nullopt, "LiftingFence",
              absl::StrCat(why, ": lifting ", Name(f.color), "'s fence (", Name(other.color),
                           " cannot be promoted meanwhile), to start it as the primary"));
  }
  if (other.Running()) {
    return Do(StepKind::kStop, other.color, std::nullopt, "ReleasingFence",
              absl::StrCat(why, ": stopping ", Where(spec, other.color), " first (", why_not,
                           "), so that it cannot be promoted while ", Name(f.color),
                           " becomes the primary again"));
  }
  return std::nullopt;
}

// Rule (abandoning a switch): a switch that has fenced the old primary O and cannot finish
// before anything is promoted (D does not catch up within catchUpTimeoutSeconds, its replay
// is paused, O left WAL unarchived past archiveTimeoutSeconds) is given up, and O, shut down
// cleanly with every write it acknowledged, becomes the primary again by the flip-back path:
// O's fence is lifted while D cannot become a primary meanwhile (WhyNotLiftFence: D runs as
// a standby nobody asked to promote over this fence and has no request pending, or is stopped
// and never left recovery; otherwise D is stopped first), then O is started. The plan carries the
// record (status. abandonedSwitch), so that the switch is not begun again for this generation of
// the spec.
Plan Abandon(const api::DeploymentColor& dc, const World& w, Color d, const std::string& reason,
             const std::string& what) {
  const Color o = api::Other(d);
  const api::AbandonedSwitch record{Name(d), dc.metadata.generation, reason, what, ""};
  std::optional<Plan> back = BringBack(dc.spec, w.server(o), w.server(d),
                                       absl::StrCat("the switch to ", Name(d), " is abandoned"));
  Plan p =
      back ? *back
           : Hold(Phase::kFailed, Wait::kRetry, reason,
                  absl::StrCat(what, "; nothing was promoted, and ", Name(o),
                               " cannot be brought back yet: set activeColor back to ", Name(o)));
  if (back) {
    p.phase = Phase::kDegraded;
    p.reason = "AbandoningSwitch";
    p.message = absl::StrCat(what, "; nothing was promoted. ", Name(o),
                             " shut down cleanly with every write it acknowledged and becomes "
                             "the primary again: ",
                             back->message);
  }
  p.abandon = record;
  return p;
}

// Nothing runs as a primary.
Plan NoPrimary(const api::DeploymentColor& dc, const model::World& w, Color d,
               std::chrono::system_clock::time_point now) {
  const auto& spec = dc.spec;
  const Color o = api::Other(d);
  const ServerState& ds = w.server(d);
  const ServerState& os = w.server(o);
  if (auto unseen = Unseen(spec, ds, Phase::kProgressing)) return *unseen;
  if (auto unseen = Unseen(spec, os, Phase::kProgressing)) return *unseen;
  // A fenced server running again was started by someone else: as a standby with no upstream
  // (the fence saw to that), so it wrote nothing. Stopped again, its pg_control proves it.
  for (const ServerState* s : {&os, &ds}) {
    if (Fenced(*s) && RoleOf(*s) == Role::kStandby) {
      return Do(StepKind::kStop, s->color, std::nullopt, "StoppingFencedServer",
                absl::StrCat(Name(s->color),
                             " is fenced but runs (read-only; started by someone else): "
                             "stopping it again"));
    }
  }
  const Role dr = RoleOf(ds);
  // The old primary was stopped cleanly and D streams: promote D once it has everything.
  // Not after the switch to D was abandoned: O's fence was lifted to start it as the primary.
  const api::AbandonedSwitch* abandoned = AbandonedFor(dc, d);
  if (abandoned == nullptr && dr == Role::kStandby && RoleOf(os) == Role::kStopped && !Fenced(os) &&
      !os.startup.standby_signal && os.control->cluster_state == kShutDown) {
    // Rule (unknown hosts): no fence while nginx's host is unknown, even of a stopped server.
    if (auto unseen = NginxUnseen(w.nginx, d)) return *unseen;
    return Do(StepKind::kFence, o, std::nullopt, "Fencing",
              absl::StrCat(Name(o),
                           " was stopped without a fence: fencing its data directory, "
                           "so that nothing starts it as a primary while ",
                           Name(d), " is promoted"));
  }
  if (const std::optional<model::Lsn> threshold = model::CleanlyFencedBehind(os, ds)) {
    const model::Lsn c = os.control->checkpoint_lsn;
    const std::string cs = model::FormatLsn(c);
    // Once the old primary is gone the standby's WAL receiver is too, and PostgreSQL 15 then
    // reports the standby's timeline only as of its last restartpoint, which may be older:
    // so the standby's timeline must not be newer than the old primary's, not equal to it.
    // But an older timeline is also what a standby reports whose own WAL went another way on
    // that timeline (an old primary that crashed after writes, rejoined, cannot stream), and
    // its replay position can be numerically past C on the wrong branch. So an older timeline
    // counts only when all the standby replayed it received by streaming in its current run,
    // past C (after a clean fence receive = replay = C + the checkpoint record's 120 bytes):
    // then it came from O, the only other server, and one cannot stream a history it
    // diverged from.
    const uint32_t ot = os.control->checkpoint_timeline;
    const bool on_o_branch =
        ds.timeline == ot || (ds.timeline < ot && StreamedAll(ds) && ds.receive_lsn > c);
    // The catch-up and archive waits run from status.fence.fencedAt, which StatusFor()
    // writes on the first pass that sees this shutdown checkpoint -- after this plan is made.
    // No record of this fence (none yet, or an earlier fence's) means the wait starts now;
    // treating it as expired declared a standby still replaying its last WAL
    // Failed/StandbyBehind on the first pass after every fence. An unreadable record still
    // counts as expired.
    const auto waited_longer_than = [&](int seconds) {
      if (!dc.status.fence || dc.status.fence->color != api::ColorName(o) ||
          dc.status.fence->checkpoint_lsn != cs) {
        return false;
      }
      std::chrono::system_clock::time_point fenced;
      return !util::ParseRfc3339(dc.status.fence->fenced_at, &fenced) ||
             now - fenced > std::chrono::seconds(seconds);
    };
    const bool caught_up = ds.system_identifier == os.control->system_identifier && on_o_branch &&
                           ds.replay_lsn >= *threshold;
    // Rule (no gap in the WAL archive): segments the old primary marked `.ready` and did not
    // archive (its archive_command failed at its shutdown) reach the archive only once it
    // runs again, or by hand; a stopped server archives nothing (pkg/observe/README.md #30).
    // D is not promoted over them silently: it waits archiveTimeoutSeconds from the fence,
    // then refuses.
    // Rule: a switch recorded as abandoned is not finished after all (the daemon died before
    // bringing O back, and D caught up meanwhile): the status said O comes back, and it does.
    if (abandoned != nullptr) return Abandon(dc, w, d, abandoned->reason, abandoned->message);
    if (caught_up && os.archive_ready > 0) {
      const std::string msg =
          absl::StrCat(os.archive_ready, " WAL segment", os.archive_ready == 1 ? "" : "s", " of ",
                       Name(o), " ", os.archive_ready == 1 ? "was" : "were",
                       " not archived before it stopped (.ready in its pg_wal/archive_status: its "
                       "archive_command failed); promoting ",
                       Name(d), " now would leave a gap in the WAL archive");
      if (!waited_longer_than(spec.database.archive_timeout_seconds)) {
        return Hold(
            Phase::kProgressing, Wait::kRetry, "ArchivePending",
            absl::StrCat(msg, ": waiting up to archiveTimeoutSeconds (",
                         spec.database.archive_timeout_seconds, " s) for them to be archived"));
      }
      return Abandon(dc, w, d, "ArchiveGap",
                     absl::StrCat(msg, " (waited archiveTimeoutSeconds, ",
                                  spec.database.archive_timeout_seconds,
                                  " s; running again, its archiver retries them)"));
    }
    if (caught_up) {
      Plan p = Do(StepKind::kPromote, d, std::nullopt, "Promoting",
                  absl::StrCat(Name(d), " replayed ", model::FormatLsn(ds.replay_lsn), ", past ",
                               Name(o), "'s shutdown checkpoint ", cs, ": promoting"));
      p.step->replayed_at_least = *threshold;
      return p;
    }
    const bool timed_out = waited_longer_than(spec.database.catch_up_timeout_seconds);
    const std::string msg = absl::StrCat(Name(d), " has replayed ", model::FormatLsn(ds.replay_lsn),
                                         " of ", Name(o), "'s WAL, which ends after ", cs);
    if (!timed_out && !ds.replay_paused) {
      return Hold(Phase::kProgressing, Wait::kPoll, "CatchingUp", msg);
    }
    if (ds.replay_paused) {
      return Abandon(dc, w, d, "ReplayPaused",
                     absl::StrCat(msg, ", and its replay was paused (pg_wal_replay_pause())"));
    }
    return Abandon(dc, w, d, "CatchUpTimedOut",
                   absl::StrCat(msg, ", and did not catch up within catchUpTimeoutSeconds (",
                                spec.database.catch_up_timeout_seconds, " s)"));
  }
  // Every other pending promotion is cancelled before anything starts as a primary.
  for (const ServerState* s : {&os, &ds}) {
    if (s->startup.promote_requested && s->Running()) {
      return CancelPromotion(spec, s->color, "nothing may be promoted now");
    }
  }
  // A fenced server becomes the primary again when it is the desired one (a flip back), when
  // it stopped without a clean shutdown during its fence (it may hold acknowledged writes
  // nobody else has: only starting it as a primary recovers them), or when the other holds
  // no data at all.
  for (const ServerState* f : {&ds, &os}) {
    if (!Fenced(*f) || RoleOf(*f) != Role::kStopped) continue;
    const ServerState& other = w.server(api::Other(f->color));
    std::string why;
    if (f->color == d) {
      why = absl::StrCat(Name(d), " is desired and was fenced");
    } else if (abandoned != nullptr && PromotionThreshold(*f)) {
      // Resumes Abandon()'s flip back after the stop of D (or a restart of the daemon).
      Plan p = Abandon(dc, w, d, abandoned->reason, abandoned->message);
      if (p.step) return p;
      continue;
    } else if (!PromotionThreshold(*f)) {
      why = absl::StrCat(Name(f->color), " did not shut down cleanly during its fence (",
                         f->control->cluster_state, ")");
    } else if (RoleOf(other) == Role::kMissing) {
      why = absl::StrCat(Name(other.color), " holds no data");
    } else if (NewestTimeline(*f) > NewestTimeline(other)) {
      why = absl::StrCat(Name(f->color), " holds a newer timeline than ", Name(other.color));
    } else {
      continue;
    }
    if (auto back = BringBack(spec, *f, other, why)) return *back;
  }
  // A server that would come up as a primary, and holds the newest data, is started.
  if (WhyNotStartAsPrimary(ds, os).empty()) {
    return Do(StepKind::kStart, d, std::nullopt, "StartingPrimary",
              absl::StrCat("starting ", Name(d), ", which holds the newest data, as the primary"));
  }
  if (WhyNotStartAsPrimary(os, ds).empty()) {
    return Do(StepKind::kStart, o, std::nullopt, "StartingPrimary",
              absl::StrCat("starting ", Name(o),
                           " (it holds the newest data) as the primary, to switch from it"));
  }
  // A stopped standby is harmless to start: it may hold WAL the other needs. A fenced one
  // stays stopped: it starts again only once lifted or configured to follow a primary. Nor is
  // one started that would be stopped again at once: the other, desired and fenced, waits to
  // be brought back, which a running server asked to promote over that fence prevents.
  for (const ServerState* s : {&ds, &os}) {
    const ServerState& peer = w.server(api::Other(s->color));
    if (peer.color == d && Fenced(peer) && peer.startup.fence_promotion_requested) continue;
    // A recovery.signal without standby.signal is no standby: started, it would promote
    // itself after an archive recovery (pkg/observe/README.md #31).
    if (RoleOf(*s) == Role::kStopped && s->startup.standby_signal && !Fenced(*s)) {
      return Do(StepKind::kStart, s->color, std::nullopt, "StartingStandby",
                absl::StrCat("starting ", Name(s->color), " as a standby"));
    }
  }
  std::string detail;
  for (const ServerState* s : {&ds, &os}) {
    if (RoleOf(*s) == Role::kStopped && s->startup.recovery_signal && !s->startup.standby_signal) {
      absl::StrAppend(&detail, "; ", Name(s->color),
                      "'s data directory holds a recovery.signal: started, it would promote "
                      "itself after an archive recovery, so Switchyard does not start it; "
                      "remove the file to have it started as it is");
    }
  }
  for (const ServerState* f : {&ds, &os}) {
    if (Fenced(*f) && RoleOf(*f) == Role::kStopped) {
      const std::string why = WhyNotLiftFence(*f, w.server(api::Other(f->color)));
      if (!why.empty()) absl::StrAppend(&detail, "; ", Name(f->color), " stays fenced: ", why);
    }
  }
  return Hold(Phase::kDegraded, Wait::kRetry, "NoPrimary",
              absl::StrCat("no primary: ", Name(d), " is ", std::string(RoleName(dr)), " and ",
                           Name(o), " is ", std::string(RoleName(RoleOf(os))), detail,
                           "; promoting a standby here would be a failover, which needs an "
                           "operator"));
}

// Everything above, in the order of pkg/plan/README.md §4.
Plan Decide(const api::DeploymentColor& dc, const model::World& w,
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
      // A split brain is Degraded also while the impostor is being stopped (the phase drives
      // the alert; Progressing would hide it for that pass).
      stop.phase = Phase::kDegraded;
      return stop;
    }
    // Only a D on the newer timeline is acted on: stopping D (the older timeline) would take
    // the desired, serving primary down, leave the writes it took stranded as "diverged", and
    // send multi-host clients to O.
    if (ot > dt) {
      return Hold(Phase::kDegraded, Wait::kRetry, "SplitBrain",
                  absl::StrCat("split brain: blue and green are both primaries; ", Name(o),
                               " is on a newer timeline than the desired ", Name(d),
                               ", so Switchyard stops neither: stop one by hand, or set "
                               "activeColor to ",
                               Name(o)));
    }
    return Hold(Phase::kDegraded, Wait::kRetry, "SplitBrain",
                "split brain: blue and green are both primaries on the same timeline; "
                "Switchyard cannot tell which is right: stop one by hand");
  }
  // A promotion request pending beside a running primary would make a second primary.
  for (Color c : {o, d}) {
    const ServerState& s = w.server(c);
    if (w.server(api::Other(c)).RunningPrimary() && s.startup.promote_requested && s.Running()) {
      return CancelPromotion(spec, c, absl::StrCat(Name(api::Other(c)), " runs as the primary"));
    }
  }
  if (ds.RunningPrimary()) return DesiredIsPrimary(dc, w, d, now);
  if (os.RunningPrimary()) return Switch(dc, w, d, now);
  return NoPrimary(dc, w, d, now);
}

}  // namespace

Plan Next(const api::DeploymentColor& dc, const model::World& w,
          std::chrono::system_clock::time_point now) {
  // Rule (unknown hosts): the paths above hold on a server they cannot see; this makes sure
  // that no step acts on an unknown host or rests on what one is, whichever path planned it.
  return CheckHostsKnown(w, Decide(dc, w, now));
}

}  // namespace sy::plan
