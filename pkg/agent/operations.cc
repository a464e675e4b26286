#include "pkg/agent/operations.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "pkg/util/log.h"

namespace sy::agent {
namespace {

using std::chrono::milliseconds;
using Steady = std::chrono::steady_clock;

// Whether the effect of an operation of `kind` that a restart interrupted shows in `seen`
// (`what` says what was seen either way). Only the kinds kept in doubt have one.
bool EffectSeen(model::StepKind kind, const Observed& seen, std::string* what) {
  if (seen.nginx) {
    const model::NginxState& n = *seen.nginx;
    *what = absl::StrCat("nginx ", n.running ? "running" : "not running", ", upstream file ",
                         n.file_exists ? "present" : "absent");
    return kind == model::StepKind::kSwitchTraffic && n.running && n.file_exists;
  }
  if (!seen.server) return false;
  const model::ServerState& s = *seen.server;
  *what = s.RunningPrimary()   ? "a running primary"
          : s.RunningStandby() ? "a running standby"
          : s.postmaster_alive ? "a live postmaster not accepting connections"
                               : "no live postmaster";
  switch (kind) {
    case model::StepKind::kPromote:
      return s.RunningPrimary();
    case model::StepKind::kStart:
      return s.reachable;
    case model::StepKind::kStop:
    case model::StepKind::kFence:
      return !s.postmaster_alive;
    default:
      return false;
  }
}

// The kinds whose interrupted effect is waited for: the controller must not plan past a
// promotion, a start or a shutdown that may still be under way. The others (files written,
// a copy, a slot, a setting) have nothing to wait for: they end as failed and the controller
// observes and plans again.
bool WaitedForAfterRestart(model::StepKind kind) {
  switch (kind) {
    case model::StepKind::kPromote:
    case model::StepKind::kStart:
    case model::StepKind::kStop:
    case model::StepKind::kFence:
    case model::StepKind::kSwitchTraffic:
      return true;
    default:
      return false;
  }
}

}  // namespace

// The commit gate of one operation: right before each irreversible act, the operation's epoch
// must still be the highest the agent accepted (and the agent not stopping). Used by the
// operation's own thread only.
class Operations::Gate final : public actuate::CommitGate {
 public:
  Gate(Operations& ops, const JournalStart& start) : ops_(ops), start_(start) {}

  absl::Status Allow(std::string_view act) override {
    bool stopping = false;
    {
      std::lock_guard<std::mutex> lock(ops_.mu_);
      stopping = ops_.stopping_;
    }
    const bool current = !stopping && ops_.epochs_.Current(start_.epoch);
    ops_.audit_.Commit(start_.op_id, start_.epoch, act, current);
    if (current) {
      // On disk before the act: after a crash, an operation that never got here provably
      // changed nothing and need not be held in doubt.
      if (absl::Status s = ops_.journal_.Acted(start_.op_id); !s.ok()) {
        refusal_ = Code::kInternal;
        return absl::InternalError(
            absl::StrCat("cannot journal the act before ", std::string(act), ": ", s.message()));
      }
      return absl::OkStatus();
    }
    if (stopping) {
      refusal_ = Code::kUnavailable;
      return absl::UnavailableError(
          absl::StrCat("the agent is stopping: stopped before ", std::string(act)));
    }
    refusal_ = Code::kStaleEpoch;
    return absl::AbortedError(
        absl::StrCat("STALE_EPOCH: epoch ", FormatEpoch(ops_.epochs_.Highest()),
                     " was accepted after this operation began under ", FormatEpoch(start_.epoch),
                     "; stopped before ", std::string(act)));
  }
  std::optional<Code> Refusal() const { return refusal_; }

 private:
  Operations& ops_;
  const JournalStart& start_;
  std::optional<Code> refusal_;
};

Operations::Operations(Executor& executor, Journal& journal, AuditLog& audit, EpochStore& epochs,
                       const util::Clock& clock, OperationsOptions options)
    : executor_(executor),
      journal_(journal),
      audit_(audit),
      epochs_(epochs),
      clock_(clock),
      options_(std::move(options)) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const JournalEntry& e : journal_.Ended()) {
    auto rec = std::make_shared<Record>();
    rec->start = e.start;
    rec->state = e.end.state;
    rec->code = e.end.code;
    rec->message = e.end.message;
    rec->detail = e.end.detail;
    ops_[e.start.op_id] = rec;
    Remember(e.start.op_id);
  }
  for (const JournalStart& s : journal_.Unfinished()) {
    auto rec = std::make_shared<Record>();
    rec->start = s;
    ops_[s.op_id] = rec;
    if (!s.acted) {
      Finish(*rec, OpState::kFailed, Code::kAborted,
             "agent restarted before the operation's first irreversible act: nothing was done");
    } else if (WaitedForAfterRestart(s.step.kind)) {
      rec->state = OpState::kInDoubt;
      rec->in_doubt_until = clock_.MonotonicNow() + milliseconds(s.budget_ms);
      objects_[s.object].in_doubt.push_back(s.op_id);
      log::Warn("operation-in-doubt", {{"op_id", s.op_id},
                                       {"step", model::Describe(s.step)},
                                       {"object", s.object},
                                       {"budget_ms", std::to_string(s.budget_ms)}});
    } else {
      Finish(*rec, OpState::kFailed, Code::kAborted,
             "agent restarted mid-operation; re-observe and plan again");
    }
  }
}

Operations::~Operations() { Stop(); }

void Operations::Stop() {
  std::vector<Worker> workers;
  {
    std::unique_lock<std::mutex> lock(mu_);
    stopping_ = true;
    changed_.notify_all();
    changed_.wait(lock, [&] { return running_ == 0; });
    workers.swap(workers_);
  }
  for (Worker& w : workers) w.thread.join();
}

std::vector<std::string> Operations::Running() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& [id, rec] : ops_) {
    if (rec->state == OpState::kRunning) out.push_back(id);
  }
  return out;
}

std::vector<std::string> Operations::InDoubt() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& [id, rec] : ops_) {
    if (rec->state == OpState::kInDoubt) out.push_back(id);
  }
  return out;
}

void Operations::Observe(const std::string& object, milliseconds wait,
                         const std::function<absl::StatusOr<Observed>()>& observe,
                         ObserveReply* reply) {
  std::unique_lock<std::mutex> lock(mu_);
  Settle(object, nullptr);
  Object& obj = objects_[object];
  const auto deadline = Steady::now() + std::clamp(wait, milliseconds(0), options_.max_wait);
  changed_.wait_until(lock, deadline, [&] { return obj.running_op.empty() && !obj.observing; });
  if (!obj.running_op.empty() || obj.observing) {
    reply->code = Code::kBusy;
    reply->message = obj.running_op.empty()
                         ? "another observation of this object took longer than the call waits"
                         : "operation " + obj.running_op + " holds this object";
    reply->running_op = obj.running_op;
    reply->in_doubt_ops = obj.in_doubt;
    return;
  }
  obj.observing = true;
  lock.unlock();
  absl::StatusOr<Observed> seen = observe();
  lock.lock();
  obj.observing = false;
  changed_.notify_all();
  if (seen.ok()) {
    reply->server = seen->server;
    reply->nginx = seen->nginx;
    Settle(object, &*seen);
  } else {
    reply->code = CodeOf(seen.status());
    reply->message = std::string(seen.status().message());
  }
  reply->in_doubt_ops = obj.in_doubt;
}

void Operations::Settle(const std::string& object, const Observed* seen) {
  Object& obj = objects_[object];
  const auto now = clock_.MonotonicNow();
  std::vector<std::string> still;
  for (const std::string& id : obj.in_doubt) {
    Record& rec = *ops_.at(id);
    std::string what = "nothing observed since the restart";
    if (seen != nullptr && EffectSeen(rec.start.step.kind, *seen, &what)) {
      Finish(rec, OpState::kDone, Code::kOk,
             "agent restarted mid-operation; its effect was seen after the restart: " + what);
    } else if (now >= rec.in_doubt_until) {
      Finish(rec, OpState::kFailed, Code::kUnavailable,
             absl::StrCat("agent restarted mid-operation; its effect was not seen within ",
                          rec.start.budget_ms, " ms of the restart: ", what));
    } else {
      still.push_back(id);
    }
  }
  obj.in_doubt = std::move(still);
}

void Operations::Finish(Record& rec, OpState state, Code code, std::string message) {
  rec.state = state;
  rec.code = code;
  rec.message = std::move(message);
  const absl::Status s =
      journal_.End(JournalEnd{rec.start.op_id, state, code, rec.message, rec.detail});
  if (!s.ok()) {
    // It stays unfinished in the journal: after a restart it is in doubt, which is safe.
    log::Error("journal-end-failed",
               {{"op_id", rec.start.op_id}, {"error", std::string(s.message())}});
  }
  audit_.OpEnd(rec.start.op_id, rec.start.epoch, state, code);
  log::Info("operation-ended", {{"op_id", rec.start.op_id},
                                {"state", std::string(OpStateName(state))},
                                {"code", std::string(CodeName(code))},
                                {"message", rec.message}});
  Remember(rec.start.op_id);
  changed_.notify_all();
}

void Operations::Remember(const std::string& op_id) {
  ended_order_.push_back(op_id);
  while (ended_order_.size() > options_.keep_ended) {
    ops_.erase(ended_order_.front());
    ended_order_.pop_front();
  }
}

void Operations::ReapThreads() {
  std::erase_if(workers_, [](Worker& w) {
    if (!*w.done) return false;
    w.thread.join();  // it has ended its work and only returns
    return true;
  });
}

int Operations::StatusOf(const Record& rec) const {
  switch (rec.state) {
    case OpState::kRunning:
    case OpState::kInDoubt:
      return 202;
    case OpState::kRefused:
      return HttpStatusOf(rec.code);
    default:
      return 200;
  }
}

void Operations::Fill(const Record& rec, OpReply* reply) const {
  reply->op_id = rec.start.op_id;
  reply->state = rec.state;
  reply->code = rec.code;
  reply->message = rec.message;
  reply->detail = rec.detail;
  const auto now = clock_.MonotonicNow();
  auto ago = [&](const std::optional<Steady::time_point>& t) -> std::optional<int64_t> {
    if (!t) return std::nullopt;
    return std::chrono::duration_cast<std::chrono::microseconds>(now - *t).count();
  };
  reply->writes_stopped_us_ago = ago(rec.writes_stopped_at);
  reply->writes_resumed_us_ago = ago(rec.writes_resumed_at);
}

int Operations::Submit(const OpRequest& r, const std::string& object, const std::string& machine,
                       OpReply* reply) {
  auto refuse = [&](std::string message) {
    reply->op_id = r.op_id;
    reply->state = OpState::kRefused;
    reply->code = Code::kBusy;
    reply->message = std::move(message);
    return HttpStatusOf(Code::kBusy);
  };
  std::unique_lock<std::mutex> lock(mu_);
  ReapThreads();
  Settle(object, nullptr);
  if (auto it = ops_.find(r.op_id); it != ops_.end()) {
    // Run at most once: a repeat (a controller that lost the reply) gets the state.
    Fill(*it->second, reply);
    return StatusOf(*it->second);
  }
  Object& obj = objects_[object];
  if (!obj.in_doubt.empty()) {
    return refuse("operation " + obj.in_doubt.front() +
                  " on this object is in doubt after the agent restarted: observe the object "
                  "(POST /v1/observe) until its effect is seen");
  }
  // An observation ends within its own bound: wait for it rather than refuse.
  const auto deadline =
      Steady::now() + std::clamp(milliseconds(r.sync_wait_ms), milliseconds(0), options_.max_wait);
  changed_.wait_until(lock, deadline, [&] { return !obj.observing || stopping_; });
  if (!obj.running_op.empty()) return refuse("operation " + obj.running_op + " holds this object");
  if (obj.observing) {
    return refuse("an observation of this object takes longer than the call waits");
  }
  if (stopping_) return refuse("the agent is stopping");
  if (running_ >= options_.max_running) {
    return refuse(absl::StrCat(running_, " operations run on this machine already (the most)"));
  }
  auto rec = std::make_shared<Record>();
  rec->start = JournalStart{r.op_id,
                            r.step,
                            machine,
                            r.object.Key(),
                            object,
                            r.epoch,
                            options_.budget ? options_.budget(r.step.kind).count() : 0};
  ops_[r.op_id] = rec;
  obj.running_op = r.op_id;
  ++running_;
  lock.unlock();
  // On disk before anything is done: after a crash the operation is known to have started.
  const absl::Status journalled = journal_.Start(rec->start);
  lock.lock();
  if (!journalled.ok()) {
    rec->state = OpState::kFailed;
    rec->code = Code::kInternal;
    rec->message =
        "cannot journal the operation (nothing was done): " + std::string(journalled.message());
    audit_.OpEnd(r.op_id, r.epoch, rec->state, rec->code);
    obj.running_op.clear();
    --running_;
    Remember(r.op_id);
    changed_.notify_all();
  } else {
    auto done = std::make_shared<bool>(false);
    workers_.push_back(Worker{std::thread([this, r, rec, done] {
                                Execute(r, rec);
                                std::lock_guard<std::mutex> l(mu_);
                                *done = true;
                              }),
                              done});
    changed_.wait_until(lock, deadline, [&] { return rec->state != OpState::kRunning; });
  }
  Fill(*rec, reply);
  return StatusOf(*rec);
}

void Operations::Execute(const OpRequest& r, const std::shared_ptr<Record>& rec) {
  Gate gate(*this, rec->start);
  actuate::StepOutcome out;
  const absl::Status s = executor_.Run(r.object, r.step, r.peer, gate, &out);
  std::lock_guard<std::mutex> lock(mu_);
  rec->detail = out.detail;
  rec->writes_stopped_at = out.writes_stopped_at;
  rec->writes_resumed_at = out.writes_resumed_at;
  const std::optional<Code> refused = s.ok() ? std::nullopt : gate.Refusal();
  Finish(*rec, s.ok() ? OpState::kDone : OpState::kFailed, refused.value_or(CodeOf(s)),
         std::string(s.message()));
  objects_[rec->start.object].running_op.clear();
  --running_;
  changed_.notify_all();
}

int Operations::Poll(const std::string& op_id, milliseconds wait, OpReply* reply) {
  std::unique_lock<std::mutex> lock(mu_);
  auto it = ops_.find(op_id);
  if (it == ops_.end()) {
    reply->op_id = op_id;
    reply->state = OpState::kRefused;
    reply->code = Code::kUnknownOp;
    reply->message = "no operation " + op_id + " (never submitted, or older than the last " +
                     std::to_string(options_.keep_ended) + " ended)";
    return HttpStatusOf(Code::kUnknownOp);
  }
  std::shared_ptr<Record> rec = it->second;
  Settle(rec->start.object, nullptr);
  const auto deadline = Steady::now() + std::clamp(wait, milliseconds(0), options_.max_wait);
  changed_.wait_until(lock, deadline, [&] {
    return rec->state != OpState::kRunning && rec->state != OpState::kInDoubt;
  });
  Fill(*rec, reply);
  return StatusOf(*rec);
}

}  // namespace sy::agent
