// FakeCluster as an actuate::Actuator: every StepKind with the effects (and the refusals) of
// the real steps on PostgreSQL 15 and nginx. No step checks the planner's preconditions
// beyond what the real tools refuse: an unsafe plan has its unsafe effect, for tests to see.
#include <chrono>

#include "absl/strings/str_cat.h"
#include "pkg/observe/lsn.h"
#include "tests/fakes/fake_cluster.h"

namespace sy::fakes {
namespace {

using api::Color;
using plan::StepKind;
using std::chrono::milliseconds;

// Server-side time of each step (FIELD-NOTES: fast shutdown ~35 ms, promotion ~38 ms, start
// ~10 ms, a basebackup ~0.55 s), so durations measured with clock() look like the real ones.
milliseconds Duration(StepKind k) {
  switch (k) {
    case StepKind::kSwitchTraffic:
      return milliseconds(120);
    case StepKind::kFence:
      return milliseconds(40);
    case StepKind::kPromote:
      return milliseconds(40);
    case StepKind::kStart:
      return milliseconds(10);
    case StepKind::kStop:
      return milliseconds(35);
    case StepKind::kCreateSlot:
    case StepKind::kConfigureStandby:
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

absl::Status FakeCluster::Run(const api::DeploymentColor& dc, const plan::Step& step,
                              actuate::StepOutcome* outcome) {
  const api::DeploymentColorSpec& spec = dc.spec;
  std::lock_guard<std::mutex> l(mu_);
  StepRecord rec;
  rec.step = step;
  rec.at = clock_.Now();
  const bool two_before = blue_.RunningPrimary() && green_.RunningPrimary();
  std::string detail;
  auto queued = fail_next_.find(step.kind);
  if (queued != fail_next_.end() && !queued->second.empty()) {
    rec.status = queued->second.front();
    queued->second.pop_front();
  } else {
    rec.status = RunLocked(spec, step, &rec.discarded_writes, &detail);
  }
  clock_.Advance(Duration(step.kind));
  if (blue_.RunningPrimary() && green_.RunningPrimary() && !two_before) {
    violations_.push_back(absl::StrCat(plan::Describe(step), " left two running primaries"));
  }
  steps_.push_back(rec);
  if (outcome != nullptr) {
    outcome->detail = detail;
  }
  return rec.status;
}

absl::Status FakeCluster::RunLocked(const api::DeploymentColorSpec& spec, const plan::Step& step,
                                    std::vector<uint64_t>* discarded, std::string* detail) {
  FakePostgres& t = Pg(step.target);
  const std::string who = Name(step.target);
  switch (step.kind) {
    case StepKind::kSwitchTraffic:
      return SwitchTrafficLocked(step.target);
    case StepKind::kFence:
      if (!t.Running()) {
        *detail = "already stopped";
        return absl::OkStatus();
      }
      if (t.unreachable) {
        return absl::UnavailableError(absl::StrCat("fencing ", who, ": CHECKPOINT: timeout"));
      }
      if (t.mode != Mode::kPrimary) {
        return absl::FailedPreconditionError(absl::StrCat("fencing ", who, ": not a primary"));
      }
      t.Append(RecordKind::kCheckpoint, t.Timeline(), NextRecordId());
      ShutdownLocked(t);
      *detail =
          absl::StrCat("shut down at checkpoint ", observe::FormatLsn(t.LastCheckpoint()->start),
                       " on timeline ", t.Timeline());
      return absl::OkStatus();
    case StepKind::kPromote:
      if (t.Running() && t.unreachable) {
        return absl::UnavailableError(absl::StrCat("promoting ", who, ": timeout"));
      }
      if (t.mode == Mode::kPrimary) {
        return absl::OkStatus();
      }
      if (t.mode != Mode::kStandby) {
        return absl::FailedPreconditionError(absl::StrCat("promoting ", who, ": not running"));
      }
      PromoteLocked(t);
      *detail = absl::StrCat("primary on timeline ", t.Timeline());
      return absl::OkStatus();
    case StepKind::kStart:
      return StartLocked(t);
    case StepKind::kStop:
      ShutdownLocked(t);  // pg_ctl signals the postmaster: no connection needed
      return absl::OkStatus();
    case StepKind::kCreateSlot: {
      if (!step.source) {
        return absl::InvalidArgumentError("create-slot needs a source");
      }
      FakePostgres& src = Pg(*step.source);
      if (!src.Running() || src.unreachable) {
        return absl::UnavailableError(
            absl::StrCat("creating ", who, "'s slot on ", Name(*step.source), ": cannot connect"));
      }
      src.slots.insert(plan::SlotName(step.target));
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
      t.ConfigureStandbyOf(spec.color(*step.source).database.port);
      SyncLocked();
      return absl::OkStatus();
    case StepKind::kRewind:
    case StepKind::kBasebackup:
      return CloneLocked(spec, step, discarded);
  }
  return absl::InternalError("unknown step");
}

absl::Status FakeCluster::CloneLocked(const api::DeploymentColorSpec& spec, const plan::Step& step,
                                      std::vector<uint64_t>* discarded) {
  const std::string what = plan::Describe(step);
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
  bool rewind = step.kind == StepKind::kRewind;
  if (rewind && !t.has_data) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, ": the data directory holds no cluster; a basebackup creates one"));
  }
  // PG 15's pg_rewind finishes an unclean target's crash recovery itself (single-user mode)
  // before rewinding. When it fails outright (another system here), the real actuator
  // (DispatchActuator) falls back to a basebackup; so does this one.
  if (rewind && t.system_id != src.system_id) {
    rewind = false;
  }
  if (!rewind && src.RunningPrimary()) {
    src.Append(RecordKind::kCheckpoint, src.Timeline(), NextRecordId());  // -c fast
  }
  const std::set<uint64_t> before = t.has_data ? t.Writes() : std::set<uint64_t>{};
  if (!(rewind && t.IsPrefixOf(src))) {  // else pg_rewind: "no rewind required"
    t.CopyFrom(src);
  }
  t.ConfigureStandbyOf(spec.color(*step.source).database.port);
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
