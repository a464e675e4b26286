#include "pkg/agent/agent_actuator.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "pkg/util/log.h"
#include "pkg/util/status_macros.h"

namespace sy::agent {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

bool Ended(OpState s) {
  return s == OpState::kDone || s == OpState::kFailed || s == OpState::kRefused;
}

bool Deposing(Code c) { return c == Code::kStaleEpoch || c == Code::kEraMismatch; }

const std::string& AgentOf(const api::DeploymentColorSpec& spec, Machine m) {
  return m.nginx ? spec.nginx.agent : spec.color(m.color).database.agent;
}

void LogDeposed(const std::string& agent, const std::string& op_id, const std::string& error) {
  log::Error("agent-refused-epoch",
             {{"agent", agent},
              {"op", op_id},
              {"error", error},
              {"meaning", "another controller directs this machine: this one acts no more"}});
}

}  // namespace

milliseconds AgentActuator::BudgetOf(model::StepKind kind) const {
  const actuate::PostgresTimeouts& t = options_.timeouts;
  milliseconds budget = t.stop;  // slots, configuration, checkpoints, lifting a fence
  switch (kind) {
    case model::StepKind::kSwitchTraffic:
      // `nginx -t`, `nginx -s reload`, then the probe and the old workers.
      budget = options_.nginx.reload_timeout + 2 * options_.nginx.command_timeout;
      break;
    case model::StepKind::kFence:
    case model::StepKind::kStop:
      budget = t.stop;
      break;
    case model::StepKind::kStart:
      budget = t.start;
      break;
    case model::StepKind::kPromote:
      budget = t.promote;
      break;
    case model::StepKind::kRewind:
    case model::StepKind::kBasebackup:
      budget = t.copy;
      break;
    default:
      break;
  }
  return budget + options_.margin;
}

std::optional<std::string> AgentActuator::PendingOp(const api::DeploymentColor& dc,
                                                    Machine machine) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = pending_.find(absl::StrCat(dc.metadata.uid, "/", MachineName(machine)));
  if (it == pending_.end()) return std::nullopt;
  return it->second.request.op_id;
}

void AgentActuator::Forget(const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  pending_.erase(key);
}

absl::StatusOr<OpRequest> AgentActuator::NewRequest(const api::DeploymentColor& dc,
                                                    const model::Step& step, Machine machine) {
  OpRequest r;
  r.epoch = clients_->CurrentEpoch();
  r.leader = clients_->Leader();
  r.object = dc;
  r.step = step;
  if (NeedsPeer(step.kind)) {
    // The agent re-checks the other database right before the irreversible act, on facts
    // taken now: the plan's are a pass old.
    const Machine other{.nginx = false, .color = api::Other(machine.color)};
    const std::string context =
        absl::StrCat("cannot re-check ", MachineName(other), " before ", model::Describe(step));
    absl::StatusOr<model::ServerState> peer = observer_.ObserveResource(dc, other.color);
    if (!peer.ok()) return util::Annotate(peer.status(), context);
    if (!peer->host_unknown.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(context, ": ", peer->host_unknown));
    }
    r.peer = *std::move(peer);
  }
  int64_t seq = 0;
  {
    std::lock_guard<std::mutex> l(mu_);
    seq = ++seq_[dc.metadata.uid];
  }
  r.op_id =
      absl::StrCat(r.epoch.era, ".", r.epoch.rev, ".", dc.metadata.uid, ".", dc.metadata.generation,
                   ".", seq, ".", std::string(model::StepKindName(step.kind)), ".",
                   std::string(api::ColorName(step.target)));
  return r;
}

absl::Status AgentActuator::Resolved(const Pending& pending, const Received<OpReply>& r,
                                     actuate::StepOutcome* outcome) const {
  const OpReply& op = r.reply;
  if (outcome != nullptr) {
    outcome->detail = op.detail;
    // The agent measured how long before its reply each end happened; the machines' clocks
    // are not compared.
    if (op.writes_stopped_us_ago) {
      outcome->writes_stopped_at = r.at - std::chrono::microseconds(*op.writes_stopped_us_ago);
    }
    if (op.writes_resumed_us_ago) {
      outcome->writes_resumed_at = r.at - std::chrono::microseconds(*op.writes_resumed_us_ago);
    }
  }
  if (op.state == OpState::kDone && op.code == Code::kOk) return absl::OkStatus();
  const Code code = op.code == Code::kOk ? Code::kInternal : op.code;
  std::string message =
      absl::StrCat(model::Describe(pending.request.step), " on agent ", pending.agent, ": ",
                   std::string(CodeName(code)), ": ", op.message);
  if (Deposing(code)) {
    LogDeposed(pending.agent, op.op_id, message);
    absl::StrAppend(&message, " (a newer controller took over: this one takes no step)");
  }
  return absl::Status(StatusCodeOf(code), message);
}

absl::Status AgentActuator::Drive(AgentClient& client, const std::string& key,
                                  const Pending& pending, bool submit,
                                  std::chrono::steady_clock::time_point deadline,
                                  actuate::StepOutcome* outcome) {
  const std::string& id = pending.request.op_id;
  auto unknown = [&](const std::string& why) {
    return absl::UnavailableError(
        absl::StrCat("operation ", id, " on agent ", pending.agent, ": outcome unknown: ", why));
  };
  auto slice = [&] {
    const auto left = duration_cast<milliseconds>(deadline - clock_.MonotonicNow());
    return std::clamp(left, milliseconds(0), client.PollSlice());
  };
  absl::StatusOr<Received<OpReply>> r =
      submit ? client.SubmitOp(pending.request) : client.PollOp(id, slice());
  if (!submit && !r.ok() && AgentCodeOf(r.status()) == Code::kUnknownOp) {
    // The agent never saw it (the submission was lost), or sees it only now: the same id
    // again runs it at most once either way, whereas a new id could run it twice.
    log::Warn("agent-op-resubmitted", {{"agent", pending.agent}, {"op", id}});
    r = client.SubmitOp(pending.request);
    submit = true;
  }
  for (;;) {
    if (!r.ok()) {
      const std::optional<Code> code = AgentCodeOf(r.status());
      // A refused submission changed nothing on the machine: its outcome is known.
      if (submit && code && *code != Code::kUnknownOp) {
        Forget(key);
        if (Deposing(*code)) {
          LogDeposed(pending.agent, id, std::string(r.status().message()));
          return absl::Status(r.status().code(),
                              absl::StrCat(r.status().message(),
                                           " (a newer controller took over: this one takes "
                                           "no step)"));
        }
        return r.status();
      }
      return unknown(std::string(r.status().message()));
    }
    if (r->reply.op_id != id) {
      return unknown(absl::StrCat("the agent answered about operation ", r->reply.op_id));
    }
    if (Ended(r->reply.state)) {
      Forget(key);
      return Resolved(pending, *r, outcome);
    }
    if (r->reply.state == OpState::kInDoubt) {
      return unknown("in doubt on the agent (it restarted during the operation)");
    }
    if (clock_.MonotonicNow() >= deadline) {
      return unknown("still running when its time was up");
    }
    r = client.PollOp(id, slice());
    submit = false;
  }
}

absl::Status AgentActuator::Run(const api::DeploymentColor& dc, const model::Step& step,
                                actuate::StepOutcome* outcome) {
  const Machine machine = MachineOf(step);
  const std::string& address = AgentOf(dc.spec, machine);
  if (address.empty()) return local_.Run(dc, step, outcome);
  if (clients_ == nullptr) return absl::InvalidArgumentError(kNoAgentTransport);
  SY_ASSIGN_OR_RETURN(AgentClient * client, clients_->For(address));
  const std::string key = absl::StrCat(dc.metadata.uid, "/", MachineName(machine));
  std::optional<Pending> pending;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (auto it = pending_.find(key); it != pending_.end()) pending = it->second;
  }
  if (pending) {
    // The plan asks for the very step whose outcome is unknown: waiting for that operation
    // is this step.
    if (pending->request.step == step) {
      return Drive(*client, key, *pending, /*submit=*/false,
                   clock_.MonotonicNow() + BudgetOf(step.kind), outcome);
    }
    absl::Status s = Drive(*client, key, *pending, /*submit=*/false,
                           clock_.MonotonicNow() + client->PollSlice(), nullptr);
    if (PendingOp(dc, machine)) return s;  // still unknown
    log::Info("agent-op-resolved", {{"resource", dc.Key()},
                                    {"agent", address},
                                    {"op", pending->request.op_id},
                                    {"result", s.ok() ? "ok" : std::string(s.message())}});
    // It ended after this pass observed the machine, or never ran before: the plan did not
    // see its effect.
    return absl::UnavailableError(
        absl::StrCat("operation ", pending->request.op_id, " on agent ", address, " ended (",
                     s.ok() ? "done" : s.message(), "): ", MachineName(machine),
                     " is observed again before ", model::Describe(step)));
  }
  // The request first: it carries the other database observed now, which must allow it.
  SY_ASSIGN_OR_RETURN(OpRequest request, NewRequest(dc, step, machine));
  if (step.kind == model::StepKind::kPromote) {
    // Rule (a flip back during a promotion): the fenced old primary's directory records that
    // this promotion was asked for before pg_promote() is sent, so that a flip back stops the
    // promoted server before it lifts the fence, even after this operation's outcome is
    // forgotten. On one machine the promote step writes it; here the directory is on the old
    // primary's machine, so its agent writes it first, and nothing is promoted without it.
    const model::Step record{.kind = model::StepKind::kRecordPromotion,
                             .target = api::Other(step.target),
                             .source = step.target};
    if (absl::Status s = Run(dc, record, nullptr); !s.ok()) {
      return absl::Status(
          s.code(), absl::StrCat("not promoting ", std::string(api::ColorName(step.target)), ": ",
                                 s.message()));
    }
  }
  request.sync_wait_ms = client->PollSlice().count();
  const Pending p{address, std::move(request)};
  {
    // Pending from before it is sent: an answer that never comes leaves it so.
    std::lock_guard<std::mutex> l(mu_);
    pending_[key] = p;
  }
  return Drive(*client, key, p, /*submit=*/true, clock_.MonotonicNow() + BudgetOf(step.kind),
               outcome);
}

}  // namespace sy::agent
