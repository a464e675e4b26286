// Runs each step on the machine it changes (MachineOf): through that machine's
// switchyard-agent when the spec names one, else through the local actuator, so that a
// resource without agents is changed as before.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "pkg/actuate/actuator.h"
#include "pkg/actuate/nginx_actuator.h"
#include "pkg/actuate/postgres_actuator.h"
#include "pkg/agent/agent_client.h"
#include "pkg/agent/agent_observer.h"
#include "pkg/util/clock.h"

namespace sy::agent {

struct AgentActuatorOptions {
  // The step timeouts the daemon runs with (--step-timeout-seconds): how long an operation
  // is waited for before its outcome is taken as unknown.
  actuate::PostgresTimeouts timeouts;
  actuate::NginxActuatorOptions nginx;
  // What the agent may take beyond a step's own timeout to report it (its journal, a reply
  // crossing the network).
  std::chrono::milliseconds margin{5000};
};

// A step sent to an agent is an operation (pkg/agent/README.md "Operations") with the id
// <era>.<rev>.<uid>.<generation>.<seq>.<step>.<color> (seq counts this daemon's operations
// per resource). It is submitted, then polled in slices until it ends or its time is up.
//
// Safety rule: an operation whose outcome is unknown (no answer, or still running when its
// time is up) stays *pending* on its machine. Until the agent reports how it ended, every Run
// of a step on that machine asks about that same id first (submitting the same request again
// when the agent never saw it: the agent runs an id at most once) and sends nothing else
// there: kUnavailable "operation <id> on <agent>: outcome unknown". A pending operation that
// turns out to have ended was not seen by the plan this Run serves, so that step is not sent
// either; the next pass observes first. Pending operations live in memory: a restarted daemon
// learns of a running one from the agent's observation (running or in doubt).
//
// Steps that re-check the other database right before their irreversible act (NeedsPeer)
// carry that database's observation, taken through its agent right before the request; when
// it cannot be had, kFailedPrecondition "cannot re-check <other>: ..." and nothing is sent.
//
// Codes: the step's own (StatusCodeOf the agent's code); kPermissionDenied when the agent
// refuses this controller's epoch (a newer one took over: nothing will be sent by this one
// again); kUnavailable while an outcome is unknown; kInvalidArgument when the daemon cannot
// reach agents (kNoAgentTransport). The write window's ends are placed on the controller's
// clock from the moment the reply arrived.
//
// Thread-safe: workers run steps of different resources at once; one resource's steps come
// one at a time.
class AgentActuator final : public actuate::Actuator {
 public:
  // `clients` (null: agents cannot be reached), `observer` (for the peers), `local` and
  // `clock` must outlive this object.
  AgentActuator(AgentClients* clients, AgentObserver& observer, actuate::Actuator& local,
                const util::Clock& clock, AgentActuatorOptions options = {})
      : clients_(clients), observer_(observer), local_(local), clock_(clock), options_(options) {}

  absl::Status Run(const api::DeploymentColor& dc, const model::Step& step,
                   actuate::StepOutcome* outcome) override;

  // The operation whose outcome is unknown on `machine` of `dc`, if any.
  std::optional<std::string> PendingOp(const api::DeploymentColor& dc, Machine machine) const;

  // How long an operation of `kind` is waited for.
  std::chrono::milliseconds BudgetOf(model::StepKind kind) const;

 private:
  struct Pending {
    std::string agent;
    OpRequest request;
  };

  absl::StatusOr<OpRequest> NewRequest(const api::DeploymentColor& dc, const model::Step& step,
                                       Machine machine);
  // Waits for `pending`'s operation until it ends or `deadline`; `submit`: send it first
  // (else poll it, and send it again if the agent does not know it). Clears the machine's
  // pending entry once the outcome is known.
  absl::Status Drive(AgentClient& client, const std::string& key, const Pending& pending,
                     bool submit, std::chrono::steady_clock::time_point deadline,
                     actuate::StepOutcome* outcome);
  absl::Status Resolved(const Pending& pending, const Received<OpReply>& r,
                        actuate::StepOutcome* outcome) const;
  void Forget(const std::string& key);

  AgentClients* const clients_;
  AgentObserver& observer_;
  actuate::Actuator& local_;
  const util::Clock& clock_;
  const AgentActuatorOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, Pending> pending_;  // by resource uid and machine
  std::map<std::string, int64_t> seq_;      // by resource uid
};

}  // namespace sy::agent
