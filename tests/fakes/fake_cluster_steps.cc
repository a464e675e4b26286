// FakeCluster as an actuate::Actuator: every StepKind with the effects (and the refusals) of
// the real steps on PostgreSQL 15 and nginx. No step checks the planner's preconditions
// beyond what the real tools refuse: an unsafe plan has its unsafe effect, for tests to see.
#include <chrono>

#include "absl/strings/str_cat.h"
#include "pkg/model/lsn.h"
#include "pkg/model/sync_rep.h"
#include "pkg/model/topology.h"
#include "pkg/plan/planner.h"
#include "tests/fakes/fake_cluster.h"

namespace sy::fakes {
namespace {

using api::Color;
using model::StepKind;
using std::chrono::milliseconds;

// Server-side time of each step (pkg/observe/README.md #28: fast shutdown ~35 ms, promotion ~38 ms,
// start ~10 ms, a basebackup ~0.55 s), so durations measured with clock() look like the real ones.
milliseconds Duration(StepKind k) {
  switch (k) {
    case StepKind::kSwitchTraffic:
      return milliseconds(120);
    case StepKind::kFence:
      return milliseconds(40);
    case StepKind::kPromote:
      return milliseconds(40);
    case StepKind::kCheckpoint:
      return milliseconds(20);
    case StepKind::kLiftFence:
      return milliseconds(2);
    case StepKind::kStart:
      return milliseconds(10);
    case StepKind::kStop:
      return milliseconds(35);
    case StepKind::kCreateSlot:
    case StepKind::kDropSlot:
    case StepKind::kConfigureStandby:
    case StepKind::kSyncStandby:
    case StepKind::kRecordPromotion:
      return milliseconds(2);
    case StepKind::kRewind:
      return milliseconds(400);
    case StepKind::kBasebackup:
      return milliseconds(550);
  }
  return milliseconds(1);
}

std::string Name(Color c) { return std::string(api::ColorName(c)); }

}  // namespace

absl::Status FakeCluster::Run(const api::DeploymentColor& dc, const model::Step& step,
                              actuate::StepOutcome* outcome) {
  std::function<void(FakeCluster&)> before;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!before_next_step_.empty()) {
      before = std::move(before_next_step_.front());
      before_next_step_.pop_front();
    }
  }
  if (before) {
    before(*this);  // takes the lock itself, like any fault
  }
  std::lock_guard<std::mutex> l(mu_);
  action_ = model::Describe(step);
  StepRecord rec;
  rec.step = step;
  rec.at = clock_.Now();
  std::string detail;
  auto queued = fail_next_.find(step.kind);
  if (const std::string unreachable = UnreachableHostLocked(step); !unreachable.empty()) {
    rec.status = absl::UnavailableError(absl::StrCat(model::Describe(step), ": ", unreachable));
  } else if (queued != fail_next_.end() && !queued->second.empty()) {
    rec.status = queued->second.front();
    queued->second.pop_front();
  } else {
    rec.status = RunLocked(dc, step, &rec.discarded_writes, &detail);
  }
  clock_.Advance(Duration(step.kind));
  CheckPrimariesLocked();
  steps_.push_back(rec);
  if (outcome != nullptr) {
    outcome->detail = detail;
  }
  return rec.status;
}

std::string FakeCluster::UnreachableHostLocked(const model::Step& step) {
  if (step.kind == StepKind::kSwitchTraffic) return nginx_.host_unknown;
  // Where the step acts: the server holding the slot, else the target; a copy reads the source.
  const bool on_source = step.kind == StepKind::kCreateSlot || step.kind == StepKind::kDropSlot;
  const bool reads_source = step.kind == StepKind::kRewind || step.kind == StepKind::kBasebackup;
  for (Color c : {step.target, step.source.value_or(step.target)}) {
    const bool acted_on = c == step.target ? !on_source : (on_source || reads_source);
    if (acted_on && !Pg(c).host_unknown.empty()) return Pg(c).host_unknown;
  }
  return "";
}

absl::Status FakeCluster::FenceLocked(FakePostgres& t, const model::Step& step,
                                      std::string* detail) {
  const std::string who = Name(step.target);
  if (!t.Running()) {
    if (!t.has_data) {
      return absl::FailedPreconditionError(absl::StrCat("fencing ", who, ": no cluster"));
    }
    t.Fence();
    *detail = "already stopped; fenced its data directory";
    return absl::OkStatus();
  }
  if (t.unreachable || (t.frozen && t.connection_dropped)) {
    return absl::UnavailableError(absl::StrCat("fencing ", who, ": CHECKPOINT: timeout"));
  }
  if (t.mode != Mode::kPrimary) {
    return absl::FailedPreconditionError(absl::StrCat("fencing ", who, ": not a primary"));
  }
  // The real step's re-check: the other server's standby streams from it.
  const FakePostgres& standby = Pg(api::Other(step.target));
  if (!(standby.streaming && ByAddress(standby.primary_host, standby.primary_port) == &t)) {
    return absl::FailedPreconditionError(absl::StrCat("fencing ", who, ": ", Name(standby.color),
                                                      " no longer streams from it; not fencing"));
  }
  t.Fence();  // durable before anything stops
  t.Append(RecordKind::kCheckpoint, t.Timeline(), NextRecordId());
  if (t.frozen) {
    t.stop_pending = true;
    t.connection_dropped = true;
    return absl::UnavailableError(
        absl::StrCat("fencing ", who, ": still running after a fast shutdown request"));
  }
  ShutdownLocked(t);
  *detail = absl::StrCat("shut down at checkpoint ", model::FormatLsn(t.LastCheckpoint()->start),
                         " on timeline ", t.Timeline());
  return absl::OkStatus();
}

absl::Status FakeCluster::PromoteStepLocked(FakePostgres& t, const model::Step& step,
                                            std::string* detail) {
  const std::string who = Name(step.target);
  if (t.Running() && (t.unreachable || (t.frozen && t.connection_dropped))) {
    return absl::UnavailableError(absl::StrCat("promoting ", who, ": timeout"));
  }
  if (!t.Running()) {
    return absl::FailedPreconditionError(absl::StrCat("promoting ", who, ": not running"));
  }
  if (t.mode == Mode::kStandby) {
    // The real step's re-check right before pg_promote(): the old primary is stopped and
    // fenced, and this standby replayed what its pg_control proves.
    FakePostgres& old = Pg(api::Other(step.target));
    const model::ServerState o = old.Observe();
    std::optional<model::Lsn> threshold = model::PromotionThreshold(o);
    if (old.Running() || !old.fenced || !old.standby_signal || !threshold) {
      return absl::FailedPreconditionError(
          absl::StrCat("promoting ", who, ": ", Name(old.color), " is not stopped and fenced"));
    }
    const model::Lsn need = step.replayed_at_least != 0 ? step.replayed_at_least : *threshold;
    if (t.ReplayEnd() < need) {
      return absl::FailedPreconditionError(
          absl::StrCat("promoting ", who, ": has not replayed ", model::FormatLsn(need)));
    }
    old.fence_promotion_requested = true;  // recorded in the fence before pg_promote()
    t.promote_requested = true;
    if (t.frozen) {
      return absl::UnavailableError(
          absl::StrCat("promoting ", who, ": still in recovery after pg_promote()"));
    }
    PromoteLocked(t);
  }
  // The CHECKPOINT after it (also when it was promoted already).
  t.Append(RecordKind::kCheckpoint, t.Timeline(), NextRecordId());
  SyncLocked();
  *detail = absl::StrCat("primary on timeline ", t.Timeline());
  return absl::OkStatus();
}

absl::Status FakeCluster::StartStepLocked(FakePostgres& t) {
  const std::string who = Name(t.color);
  if (!t.Running() && t.has_data) {
    if (t.fenced && t.standby_signal) {
      return absl::FailedPreconditionError(absl::StrCat("starting ", who, ": fenced"));
    }
    if (!t.standby_signal) {
      // The real step's re-check before starting a primary.
      const std::string why =
          model::WhyNotStartAsPrimary(ObserveLocked(t.color), ObserveLocked(api::Other(t.color)));
      if (!why.empty()) {
        return absl::FailedPreconditionError(
            absl::StrCat("starting ", who, " as a primary: ", why));
      }
    }
  }
  return StartLocked(t);
}

absl::Status FakeCluster::LiftFenceLocked(FakePostgres& t) {
  const std::string who = Name(t.color);
  if (t.Running()) {
    if (!t.RunningPrimary()) {
      return absl::FailedPreconditionError(absl::StrCat("lifting ", who, ": not a primary"));
    }
  } else {
    const std::string why =
        model::WhyNotLiftFence(ObserveLocked(t.color), ObserveLocked(api::Other(t.color)));
    if (!why.empty()) {
      return absl::FailedPreconditionError(absl::StrCat("lifting ", who, "'s fence: ", why));
    }
  }
  t.standby_signal = false;
  t.fenced = false;
  t.fence_promotion_requested = false;
  return absl::OkStatus();
}

absl::Status FakeCluster::StopStepLocked(FakePostgres& t) {
  t.promote_requested = false;  // removed before the shutdown request
  if (t.RunningPrimary()) {
    // As the real step: a primary is stopped only beside another one, and fenced first.
    if (!Pg(api::Other(t.color)).RunningPrimary()) {
      return absl::FailedPreconditionError(
          absl::StrCat("stopping ", Name(t.color), ": it runs as the only primary"));
    }
    t.Fence();
  }
  if (t.frozen) {
    t.stop_pending = true;
    t.connection_dropped = true;
    return absl::UnavailableError(
        absl::StrCat("stopping ", Name(t.color), ": still running after a fast shutdown request"));
  }
  ShutdownLocked(t);  // pg_ctl signals the postmaster: no connection needed
  return absl::OkStatus();
}

absl::Status FakeCluster::RunLocked(const api::DeploymentColor& dc, const model::Step& step,
                                    std::vector<uint64_t>* discarded, std::string* detail) {
  const api::DeploymentColorSpec& spec = dc.spec;
  FakePostgres& t = Pg(step.target);
  const std::string who = Name(step.target);
  switch (step.kind) {
    case StepKind::kSwitchTraffic:
      return SwitchTrafficLocked(step.target);
    case StepKind::kFence:
      return FenceLocked(t, step, detail);
    case StepKind::kPromote:
      return PromoteStepLocked(t, step, detail);
    case StepKind::kCheckpoint:
      if (!t.RunningPrimary() || t.unreachable) {
        return absl::FailedPreconditionError(absl::StrCat("checkpointing ", who, ": no primary"));
      }
      t.Append(RecordKind::kCheckpoint, t.Timeline(), NextRecordId());
      SyncLocked();
      return absl::OkStatus();
    case StepKind::kLiftFence:
      return LiftFenceLocked(t);
    case StepKind::kStart:
      return StartStepLocked(t);
    case StepKind::kStop:
      return StopStepLocked(t);
    case StepKind::kCreateSlot: {
      if (!step.source) {
        return absl::InvalidArgumentError("create-slot needs a source");
      }
      FakePostgres& src = Pg(*step.source);
      if (!src.Running() || src.unreachable) {
        return absl::UnavailableError(
            absl::StrCat("creating ", who, "'s slot on ", Name(*step.source), ": cannot connect"));
      }
      src.slots.insert(model::SlotName(step.target));
      SyncLocked();
      return absl::OkStatus();
    }
    case StepKind::kDropSlot: {
      if (!step.source) {
        return absl::InvalidArgumentError("drop-slot needs a source");
      }
      FakePostgres& src = Pg(*step.source);
      if (!src.Running() || src.unreachable) {
        return absl::UnavailableError(
            absl::StrCat("dropping ", who, "'s slot on ", Name(*step.source), ": cannot connect"));
      }
      // As the real step: a slot in use (a walsender streams through it) is not dropped.
      if (t.streaming && ByAddress(t.primary_host, t.primary_port) == &src &&
          t.primary_slot == model::SlotName(t.color)) {
        return absl::FailedPreconditionError(
            absl::StrCat("dropping ", who, "'s slot on ", Name(*step.source), ": it is active"));
      }
      src.slots.erase(model::SlotName(step.target));
      SyncLocked();
      return absl::OkStatus();
    }
    case StepKind::kConfigureStandby:
      if (!step.source) {
        return absl::InvalidArgumentError("configure-standby needs a source");
      }
      if (t.Running() || !t.has_data) {
        return absl::FailedPreconditionError(
            absl::StrCat("configuring ", who, ": it must be stopped and hold a cluster"));
      }
      t.ConfigureStandbyOf(spec.color(*step.source).database.host,
                           spec.color(*step.source).database.port);
      SyncLocked();
      return absl::OkStatus();
    case StepKind::kRewind:
    case StepKind::kBasebackup:
      return CloneLocked(dc, step, discarded);
    case StepKind::kSyncStandby:
      if (!t.Running() || t.unreachable) {
        return absl::UnavailableError(
            absl::StrCat("setting ", who, "'s synchronous_standby_names: ", "not reachable"));
      }
      t.synchronous_standby_names = model::SyncStandbyNamesValue(step.source);
      return absl::OkStatus();
    case StepKind::kRecordPromotion:
      if (t.Running() || !t.fenced || !t.standby_signal) {
        return absl::FailedPreconditionError(
            absl::StrCat("recording the promotion in ", who, ": it must be stopped and fenced"));
      }
      t.fence_promotion_requested = true;
      return absl::OkStatus();
  }
  return absl::InternalError("unknown step");
}

absl::Status FakeCluster::CloneLocked(const api::DeploymentColor& dc, const model::Step& step,
                                      std::vector<uint64_t>* discarded) {
  const api::DeploymentColorSpec& spec = dc.spec;
  const std::string what = model::Describe(step);
  if (!step.source || *step.source == step.target) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": needs the other color as source"));
  }
  FakePostgres& t = Pg(step.target);
  FakePostgres& src = Pg(*step.source);
  if (t.Running()) {
    return absl::FailedPreconditionError(absl::StrCat(what, ": the target is running"));
  }
  if (!src.Running() || src.unreachable) {
    return absl::UnavailableError(absl::StrCat(what, ": cannot connect to the source"));
  }
  // The real step's re-check: the target is redundant or given up.
  const std::string why =
      model::WhyNotReplace(dc, ObserveLocked(t.color), ObserveLocked(src.color));
  if (!why.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(what, ": ", why));
  }
  const bool rewind = step.kind == StepKind::kRewind;
  if (rewind && !t.has_data) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, ": the data directory holds no cluster; a basebackup creates one"));
  }
  // PG 15's pg_rewind finishes an unclean target's crash recovery itself (single-user mode)
  // before rewinding. Its refusal of another system is FailedPrecondition in the real step
  // (nothing falls back to a copy); WhyNotReplace above refuses first.
  if (rewind && t.system_id != src.system_id) {
    return absl::FailedPreconditionError(
        absl::StrCat(what,
                     ": pg_rewind refused another cluster. Output:\n"
                     "pg_rewind: fatal: source and target clusters are from different systems"));
  }
  if (!rewind && src.RunningPrimary()) {
    src.Append(RecordKind::kCheckpoint, src.Timeline(), NextRecordId());  // -c fast
  }
  const std::set<uint64_t> before = t.has_data ? t.Writes() : std::set<uint64_t>{};
  // pg_rewind copies nothing when the target's WAL is a prefix ("no rewind required"), nor
  // when both are on one timeline: it looks for a fork between timelines and finds none.
  if (!(rewind && (t.IsPrefixOf(src) || t.Timeline() == src.Timeline()))) {
    t.CopyFrom(src);
  }
  // pg_basebackup makes a new directory (a source's slots are not copied); pg_rewind leaves
  // the target's pg_replslot as it was.
  if (!rewind) t.slots.clear();
  t.ConfigureStandbyOf(spec.color(*step.source).database.host,
                       spec.color(*step.source).database.port);
  t.control_fault = ControlFault::kNone;  // a new pg_control
  // What that pg_control says until the copy first starts: pg_basebackup copies the running
  // primary's ("in production", beside a backup_label); pg_rewind writes "in archive
  // recovery".
  t.stopped_state = rewind ? "in archive recovery" : "in production";
  const std::set<uint64_t> kept = src.Writes();
  for (uint64_t w : before) {
    if (kept.count(w) == 0) {
      discarded->push_back(w);
    }
  }
  SyncLocked();
  return absl::OkStatus();
}

absl::Status FakeCluster::SwitchTrafficLocked(Color target) {
  const std::string who = Name(target);
  // The real step renders the file, runs `nginx -t`, reloads; on failure it puts the old
  // file back, so a failure changes nothing here.
  if (nginx_.test_fails) {
    return absl::InvalidArgumentError(
        absl::StrCat("switching traffic to ", who,
                     ": nginx -t failed: [emerg] invalid upstream; the "
                     "previous upstream file was put back"));
  }
  if (!nginx_.running) {
    return absl::UnavailableError(absl::StrCat("switching traffic to ", who,
                                               ": nginx -s reload: no master process (nginx.pid)"));
  }
  nginx_.file_color = target;
  nginx_.loaded_color = target;
  if (!upstreams_healthy_[target]) {
    return absl::UnavailableError(absl::StrCat("switching traffic to ", who,
                                               ": the probe saw no answer from ", who, " (502)"));
  }
  return absl::OkStatus();
}

}  // namespace sy::fakes
