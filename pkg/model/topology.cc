#include "pkg/model/topology.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "pkg/model/lsn.h"
#include "pkg/model/step.h"

namespace sy::model {

Role RoleOf(const ServerState& s) {
  if (!s.HostKnown()) return Role::kUnknown;  // first: whatever else was filled in
  if (s.reachable) return s.in_recovery ? Role::kStandby : Role::kPrimary;
  if (s.postmaster_alive) return Role::kUnknown;
  // Rule: unreadable is not missing. Only a directory that provably holds nothing is missing
  // (and may be cloned into); one that could not be read is left alone.
  if (!s.directory_error.empty()) return Role::kUnreadable;
  if (!s.data_directory_exists) return Role::kMissing;
  if (!s.control) return Role::kUnreadable;
  return Role::kStopped;
}

std::string_view RoleName(Role r) {
  switch (r) {
    case Role::kPrimary:
      return "primary";
    case Role::kStandby:
      return "standby";
    case Role::kStopped:
      return "stopped";
    case Role::kMissing:
      return "missing";
    case Role::kUnknown:
      return "unreachable";
    case Role::kUnreadable:
      return "unreadable";
  }
  return "?";
}

bool ConfiguredAsStandby(const ServerState& s) {
  return s.startup.standby_signal || s.startup.recovery_signal;
}

bool Fenced(const ServerState& s) { return s.startup.fenced && s.startup.standby_signal; }

bool NamesServer(const api::DeploymentColorSpec& spec, api::Color c, std::string_view host,
                 int port) {
  const api::DatabaseRef& db = spec.color(c).database;
  if (port != db.port) return false;
  return api::DatabasesShareMachine(spec) ||
         absl::AsciiStrToLower(std::string(host)) == absl::AsciiStrToLower(db.host);
}

bool ConfiguredToFollow(const ServerState& s, const api::DeploymentColorSpec& spec,
                        api::Color primary) {
  return s.startup.standby_signal &&
         NamesServer(spec, primary, s.startup.primary_host, s.startup.primary_port) &&
         s.startup.primary_slot_name == SlotName(s.color);
}

bool StreamsFrom(const ServerState& standby, const ServerState& primary,
                 const api::DeploymentColorSpec& spec) {
  if (standby.RunningStandby() == false || primary.RunningPrimary() == false) return false;
  const std::string app(api::ColorName(standby.color));
  const bool seen_by_primary = std::any_of(
      primary.replication.begin(), primary.replication.end(), [&](const model::ReplicationPeer& p) {
        return p.application_name == app && p.state == "streaming";
      });
  const std::optional<WalReceiver>& r = standby.receiver;
  const bool seen_by_standby =
      r && r->status == "streaming" &&
      (r->sender_host.empty() ? r->sender_port == spec.color(primary.color).database.port
                              : NamesServer(spec, primary.color, r->sender_host, r->sender_port));
  return seen_by_primary || seen_by_standby;
}

uint64_t LagBytes(const ServerState& standby, const ServerState& primary) {
  return primary.current_lsn > standby.replay_lsn ? primary.current_lsn - standby.replay_lsn : 0;
}

uint32_t TimelineOf(const ServerState& s) {
  if (s.reachable) return s.timeline;
  return std::max(s.control ? s.control->checkpoint_timeline : 0, s.segment_timeline);
}

uint32_t NewestTimeline(const ServerState& s) { return std::max(TimelineOf(s), s.wal_timeline); }

std::optional<model::Lsn> PromotionThreshold(const ServerState& old) {
  // A stale postmaster.pid proves nothing either way: pg_control does. A postmaster killed
  // after its shutdown checkpoint leaves one behind with "shut down"; one killed while
  // running leaves "in production" or "in archive recovery" (a server updates pg_control
  // before it accepts a write, and writes nothing as a standby).
  if (RoleOf(old) != Role::kStopped || !Fenced(old)) return std::nullopt;
  const model::ControlData& c = *old.control;
  if (c.cluster_state == kShutDown) return c.checkpoint_lsn + 1;
  // A standby stopped in the middle of its crash recovery is "shut down in recovery" too,
  // but with no minimum recovery point: how far its WAL goes is not known then.
  if (c.cluster_state == kShutDownInRecovery && c.min_recovery_end != 0) {
    return std::max(c.checkpoint_lsn + 1, c.min_recovery_end);
  }
  return std::nullopt;
}

std::optional<model::Lsn> CleanlyFencedBehind(const ServerState& old,
                                              const ServerState& successor) {
  if (RoleOf(successor) != Role::kStandby) return std::nullopt;
  return PromotionThreshold(old);
}

namespace {

// pg_control states of a server that was in recovery (a standby) when it stopped or crashed.
bool RecoveryState(std::string_view state) {
  return state == kShutDownInRecovery || state == "in archive recovery";
}

std::string Name(api::Color c) { return std::string(api::ColorName(c)); }

// Why `s`'s host is unknown, for a person; "" when it answered.
std::string UnknownHost(const ServerState& s) {
  if (s.HostKnown()) return "";
  return absl::StrCat(Name(s.color), "'s host cannot be observed (", s.host_unknown,
                      "): it may be running, stopped or promoting");
}

}  // namespace

std::string WhyNotLiftFence(const ServerState& s, const ServerState& other) {
  const std::string o = Name(other.color);
  // Rule (unknown hosts): neither may be anything but what it was seen to be.
  for (const ServerState* x : {&s, &other}) {
    if (!x->HostKnown()) return UnknownHost(*x);
  }
  if (RoleOf(s) != Role::kStopped || !Fenced(s)) {
    return Name(s.color) + " is not a stopped, fenced server";
  }
  const uint32_t mine = NewestTimeline(s);
  const uint32_t theirs = NewestTimeline(other);
  switch (RoleOf(other)) {
    case Role::kMissing:
      return "";
    case Role::kStopped:
      break;
    case Role::kStandby:
      // A running standby may stay only if it was never asked to promote over this fence
      // (the promote step records that in the marker first), has no request pending, and
      // shows no newer timeline: then nothing can make it a primary but someone else.
      if (s.startup.fence_promotion_requested) {
        return o +
               " was asked to promote over this fence; it must be stopped first, for the "
               "promotion may still be under way";
      }
      if (other.startup.promote_requested) return o + " has a pending promotion request";
      if (theirs > mine) {
        return absl::StrCat(o, " shows timeline ", theirs, ", newer than ", Name(s.color), "'s ",
                            mine);
      }
      return "";
    case Role::kUnreadable:
      return o + "'s data directory cannot be read (" + other.directory_error +
             "): it may hold a promoted primary's writes";
    default:
      return o + " runs and cannot be seen to be a standby; it must be stopped first";
  }
  if (theirs > mine) {
    return absl::StrCat(o, " holds timeline ", theirs, ", newer than ", Name(s.color), "'s ", mine,
                        ": it was promoted and may hold writes ", Name(s.color), " lacks");
  }
  if (theirs == mine && !RecoveryState(other.control->cluster_state)) {
    return absl::StrCat(o, " ran as a primary on the same timeline ", mine,
                        " (pg_control: ", other.control->cluster_state, ")");
  }
  return "";
}

std::string WhyNotStartAsPrimary(const ServerState& s, const ServerState& other) {
  const std::string o = Name(other.color);
  // Rule (unknown hosts): an unknown other server may be promoting (an operation in doubt)
  // or running as a primary; an unknown `s` may be running already.
  for (const ServerState* x : {&s, &other}) {
    if (!x->HostKnown()) return UnknownHost(*x);
  }
  if (RoleOf(s) != Role::kStopped || ConfiguredAsStandby(s) || Fenced(s)) {
    return Name(s.color) + " is not a stopped server configured to start as a primary";
  }
  const Role r = RoleOf(other);
  switch (r) {
    case Role::kMissing:
      return "";
    case Role::kPrimary:
      return o + " runs as a primary";
    case Role::kUnknown:
      return o + " runs but accepts no connections: it may be or become a primary";
    case Role::kUnreadable:
      return o + "'s data directory cannot be read (" + other.directory_error + ")";
    case Role::kStandby:
    case Role::kStopped:
      break;
  }
  if (r == Role::kStandby && other.startup.promote_requested) {
    return o + " has a pending promotion request";
  }
  const uint32_t mine = NewestTimeline(s);
  const uint32_t theirs = NewestTimeline(other);
  if (theirs != mine) {
    return theirs > mine ? absl::StrCat(o, " holds a newer timeline (", theirs, " > ", mine, ")")
                         : "";
  }
  // A peer with standby.signal starts as a standby and competes with nobody. Not one with
  // only recovery.signal: it would end its archive recovery as a primary (or not start), so
  // its WAL still counts as data the started primary must not be behind.
  if (other.startup.standby_signal) return "";
  const model::Lsn other_end =
      r == Role::kStandby ? other.replay_lsn : other.control->checkpoint_lsn;
  if (s.control->checkpoint_lsn < other_end) {
    return absl::StrCat(o, " holds more WAL on the same timeline (", model::FormatLsn(other_end),
                        " > ", model::FormatLsn(s.control->checkpoint_lsn), ")");
  }
  return "";
}

bool HasSlotFor(const ServerState& primary, api::Color standby) {
  const std::string slot = SlotName(standby);
  return std::find(primary.slots.begin(), primary.slots.end(), slot) != primary.slots.end();
}

bool StreamedAll(const ServerState& s) {
  return s.RunningStandby() && s.receive_lsn != 0 && s.receive_lsn >= s.replay_lsn;
}

namespace {

// How far `s`'s WAL reaches, as far as can be known: exact, or its last checkpoint (a server
// that did not shut down cleanly may hold WAL past it).
struct WalEnd {
  model::Lsn lsn = 0;
  bool exact = false;
};
WalEnd WalEndOf(const ServerState& s) {
  if (s.reachable) {
    return {s.in_recovery ? std::max(s.replay_lsn, s.receive_lsn) : s.current_lsn, true};
  }
  if (!s.control) return {};
  if (s.control->cluster_state == kShutDown) {
    return {s.control->checkpoint_lsn, true};  // the shutdown checkpoint record starts here
  }
  if (s.control->cluster_state == kShutDownInRecovery && s.control->min_recovery_end != 0) {
    return {std::max(s.control->checkpoint_lsn, s.control->min_recovery_end), true};
  }
  return {s.control->checkpoint_lsn, false};
}

}  // namespace

Lineage LineageOf(const ServerState& s, const ServerState& primary) {
  if (!s.control) return Lineage::kUnknown;
  const uint64_t sysid = primary.system_identifier;
  if (sysid != 0 && s.control->system_identifier != 0 && s.control->system_identifier != sysid) {
    return Lineage::kForeign;
  }
  const auto [end, exact] = WalEndOf(s);
  const uint32_t tli = TimelineOf(s);
  const uint32_t primary_tli = TimelineOf(primary);
  // Without its walreceiver, PostgreSQL 15 reports a standby's timeline from its last
  // restartpoint: one that followed the primary onto a newer timeline looks older, and past
  // the fork. When it streamed all it replayed, that came from the primary (the other
  // server), whose WAL only grows: it follows as far as the primary's WAL goes.
  if (tli < primary_tli && StreamedAll(s)) {
    return s.receive_lsn <= primary.current_lsn ? Lineage::kFollows : Lineage::kDiverged;
  }
  // Timeline IDs are not unique: a standby promoted before it ever fetched a newer timeline's
  // history file picks the same ID as a server promoted elsewhere (findNewestTimeLine() + 1).
  // Its history then names another fork, positions on "the same" timeline mean nothing, and
  // rejoining it would discard what it wrote. So `s`'s history must be the primary's (same
  // timeline) or its beginning (older timeline). An unreadable history (empty above timeline
  // 1) tells nothing either way.
  if ((tli <= 1 || !s.history.empty()) && (primary_tli <= 1 || !primary.history.empty())) {
    const bool prefix = s.history.size() <= primary.history.size() &&
                        std::equal(s.history.begin(), s.history.end(), primary.history.begin()) &&
                        (tli != primary_tli || s.history.size() == primary.history.size());
    if (!prefix) return Lineage::kDiverged;
  }
  if (tli == primary_tli) {
    const bool promoted_over = Fenced(s) && s.startup.fence_promotion_requested;
    // Rule: a server that crashed as a primary ("in production") on the very timeline another
    // server now runs as a primary did not follow it: both ran as primaries on one timeline
    // (see the clean-shutdown rule below for why that means a split brain). How far its WAL
    // goes is not known, and finding out would not help: started as a standby to replay it,
    // it would show an end below the primary's position that proves nothing on a shared
    // timeline, and "follows" would let the stream, a rewind or a re-clone overwrite writes
    // it acknowledged. (Found by an adversarial review: before this rule such a server was
    // started as a standby, then re-cloned once the primary had recycled its WAL.)
    // Not a directory with standby.signal: a copy pg_basebackup just made (its pg_control is
    // the running primary's, "in production", until it first starts) or a fenced one.
    if (!s.reachable && !s.postmaster_alive && s.control->cluster_state == kInProduction &&
        !s.startup.standby_signal && !promoted_over) {
      return Lineage::kDiverged;
    }
    if (!exact) return Lineage::kUnknown;
    // Rule: a server shut down cleanly as a primary ("shut down", not "in recovery") on the
    // very timeline another server now runs as a primary did not follow it. A completed
    // promotion starts a new timeline, so the running one became a primary without one: a
    // standby or a copy started without standby.signal, a split brain in which both
    // acknowledged writes. Positions on the shared timeline then say nothing about whose
    // writes are whose: an earlier end does not make `s`'s WAL a prefix of the primary's.
    // One exception, where positions do decide: `s` is the fenced old primary over which
    // the promotion was recorded. The promote step records it only after the other server
    // replayed `s`'s shutdown checkpoint, and a promotion killed between the removal of
    // standby.signal and its end-of-recovery record (pg_control still on the old timeline)
    // restarts by crash recovery and continues that timeline from there: `s`'s WAL is then
    // a prefix of the primary's.
    if (!s.reachable && s.control->cluster_state == kShutDown && !promoted_over) {
      return Lineage::kDiverged;
    }
    return end <= primary.current_lsn ? Lineage::kFollows : Lineage::kDiverged;
  }
  if (tli > primary_tli) return Lineage::kDiverged;
  for (const auto& fork : primary.history) {
    if (fork.timeline == tli) {
      if (!exact) return Lineage::kUnknown;
      // A clean shutdown checkpoint starts before the fork; anything at or past the fork
      // was written after the primary's timeline branched off.
      const bool ok = s.reachable || s.control->cluster_state == kShutDownInRecovery
                          ? end <= fork.switchpoint
                          : end < fork.switchpoint;
      return ok ? Lineage::kFollows : Lineage::kDiverged;
    }
  }
  return Lineage::kDiverged;  // its timeline is not an ancestor of the primary's
}

std::string_view LineageName(Lineage l) {
  switch (l) {
    case Lineage::kFollows:
      return "follows";
    case Lineage::kDiverged:
      return "diverged";
    case Lineage::kForeign:
      return "foreign";
    case Lineage::kUnknown:
      return "unknown";
  }
  return "?";
}

model::Lsn KnownWalEnd(const ServerState& s) {
  if (s.reachable) return s.in_recovery ? std::max(s.replay_lsn, s.receive_lsn) : s.current_lsn;
  if (!s.control) return 0;
  if (s.control->cluster_state == kShutDown) return s.control->checkpoint_lsn;
  if (s.control->cluster_state == kShutDownInRecovery && s.control->min_recovery_end != 0) {
    return std::max(s.control->checkpoint_lsn, s.control->min_recovery_end);
  }
  return 0;
}

bool WalRemovedFor(const ServerState& s, const ServerState& primary) {
  const model::Lsn end = KnownWalEnd(s);
  return primary.RunningPrimary() && primary.oldest_wal_lsn != 0 && end != 0 &&
         end < primary.oldest_wal_lsn;
}

const ReplicationSlot* SlotFor(const ServerState& server, api::Color standby) {
  const std::string name = SlotName(standby);
  for (const ReplicationSlot& slot : server.slot_details) {
    if (slot.name == name) return &slot;
  }
  return nullptr;
}

std::vector<std::string> LogicalSlots(const ServerState& s) {
  std::vector<std::string> out;
  for (const ReplicationSlot& slot : s.slot_details) {
    if (slot.type == "logical") out.push_back(slot.name);
  }
  return out;
}

bool LogicalSlotLossAllowed(const api::DeploymentColor& dc) {
  auto it = dc.metadata.annotations.find(std::string(api::kAllowLosingLogicalSlotsAnnotation));
  return it != dc.metadata.annotations.end() && it->second == "true";
}

api::DiscardConsent IncidentOf(const ServerState& s) {
  return {s.color, TimelineOf(s), FormatLsn(WalEndOf(s).lsn)};
}

Consent ConsentFor(const api::DeploymentColor& dc, const ServerState& s) {
  auto it = dc.metadata.annotations.find(std::string(api::kAllowDiscardAnnotation));
  if (it == dc.metadata.annotations.end()) return Consent::kNone;
  const std::optional<api::DiscardConsent> consent = api::ParseDiscardConsent(it->second);
  if (!consent || consent->color != s.color) return Consent::kNone;
  return *consent == IncidentOf(s) ? Consent::kGiven : Consent::kStale;
}

bool DiscardAllowed(const api::DeploymentColor& dc, const ServerState& s) {
  return ConsentFor(dc, s) == Consent::kGiven;
}

std::string WhyNotReplace(const api::DeploymentColor& dc, const ServerState& target,
                          const ServerState& source) {
  const std::string t = Name(target.color);
  // Rule (unknown hosts): an unknown target may hold a live database; an unknown source is
  // no primary anyone saw.
  for (const ServerState* x : {&target, &source}) {
    if (!x->HostKnown()) return UnknownHost(*x);
  }
  if (!source.RunningPrimary()) return Name(source.color) + " is not a running primary";
  if (target.reachable || target.postmaster_alive) return t + " runs";
  switch (RoleOf(target)) {
    case Role::kMissing:
      return "";
    case Role::kUnreadable:
      return t + "'s data directory cannot be read (" + target.directory_error +
             "): it may hold data nobody else has";
    default:
      break;
  }
  const Lineage lineage = LineageOf(target, source);
  // Consent covers writes of this cluster that the primary lacks, not another database.
  if (lineage == Lineage::kForeign) {
    return absl::StrCat(t, "'s data directory holds another cluster (system identifier ",
                        target.control->system_identifier, ", not ", source.system_identifier, ")");
  }
  if (DiscardAllowed(dc, target)) return "";
  if (lineage == Lineage::kFollows &&
      dc.spec.database.rejoin_method == api::RejoinMethod::kBasebackup) {
    return "";
  }
  // Redundant, and it cannot stream again: the WAL it needs is gone from the source.
  if (lineage == Lineage::kFollows && WalRemovedFor(target, source)) return "";
  return absl::StrCat(t, "'s WAL ",
                      lineage == Lineage::kFollows ? "is a prefix of the primary's, and "
                                                     "rejoinMethod is not basebackup"
                                                   : "may hold writes the primary lacks",
                      ", and ", std::string(api::kAllowDiscardAnnotation), " does not name ", t,
                      "'s incident ", api::FormatDiscardConsent(IncidentOf(target)));
}

}  // namespace sy::model
