#include "pkg/agent/agent_observer.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "pkg/util/log.h"

namespace sy::agent {
namespace {

// How long an observation may wait for an operation on the object to end before the agent
// answers BUSY: well within the read timeout.
constexpr int64_t kObserveWaitMs = 1000;

// Refusals that mean another controller directs the machine: this one must stop acting.
bool Deposed(const absl::Status& s) {
  const std::optional<Code> code = AgentCodeOf(s);
  return code == Code::kStaleEpoch || code == Code::kEraMismatch;
}

}  // namespace

absl::StatusOr<ObserveReply> AgentObserver::Ask(const api::DeploymentColor& dc,
                                                const std::string& address, Machine machine,
                                                std::string* unknown) {
  if (clients_ == nullptr) return absl::InvalidArgumentError(kNoAgentTransport);
  absl::StatusOr<AgentClient*> client = clients_->For(address);
  if (!client.ok()) return client.status();
  ObserveRequest request{.epoch = clients_->CurrentEpoch(),
                         .leader = clients_->Leader(),
                         .readonly = false,
                         .object = dc,
                         .machine = machine,
                         .wait_ms = kObserveWaitMs};
  absl::StatusOr<ObserveReply> reply = (*client)->Observe(request);
  if (!reply.ok()) {
    if (Deposed(reply.status())) {
      log::Error("agent-refused-epoch",
                 {{"resource", dc.Key()},
                  {"agent", address},
                  {"epoch", FormatEpoch(clients_->CurrentEpoch())},
                  {"error", std::string(reply.status().message())},
                  {"meaning", "another controller directs this machine: this one acts no more"}});
      return absl::PermissionDeniedError(
          absl::StrCat("observing ", MachineName(machine), ": ", reply.status().message(),
                       " (this controller's epoch ", FormatEpoch(clients_->CurrentEpoch()),
                       " was superseded: it takes no step)"));
    }
    *unknown = std::string(reply.status().message());
    return reply;
  }
  // An operation that has not ended leaves the machine between two states: what it shows now
  // may be undone or completed a moment later.
  if (!reply->running_op.empty()) {
    *unknown = absl::StrCat("operation ", reply->running_op, " running on agent ", address);
  } else if (!reply->in_doubt_ops.empty()) {
    *unknown =
        absl::StrCat("operation ", absl::StrJoin(reply->in_doubt_ops, ", "), " in doubt on agent ",
                     address, " (it restarted during the operation; its effect is not settled)");
  }
  return reply;
}

absl::StatusOr<model::ServerState> AgentObserver::ObserveResource(const api::DeploymentColor& dc,
                                                                  api::Color color) {
  const std::string& address = dc.spec.color(color).database.agent;
  if (address.empty()) return local_postgres_.ObserveResource(dc, color);
  std::string unknown;
  absl::StatusOr<ObserveReply> reply =
      Ask(dc, address, Machine{.nginx = false, .color = color}, &unknown);
  if (!reply.ok() && unknown.empty()) return reply.status();
  if (unknown.empty() && !reply->server) {
    unknown = absl::StrCat("agent ", address, " answered without the facts of ",
                           std::string(api::ColorName(color)), "'s database");
  }
  if (unknown.empty() && !reply->server->host_unknown.empty()) {
    unknown = absl::StrCat("agent ", address, ": ", reply->server->host_unknown);
  }
  model::ServerState s;
  s.color = color;
  if (!unknown.empty()) {
    s.host_unknown = std::move(unknown);
    return s;
  }
  s = *reply->server;
  s.color = color;  // the machine asked about, whatever the reply says
  return s;
}

absl::StatusOr<model::NginxState> AgentObserver::ObserveResource(const api::DeploymentColor& dc) {
  const std::string& address = dc.spec.nginx.agent;
  if (address.empty()) return local_nginx_.ObserveResource(dc);
  std::string unknown;
  absl::StatusOr<ObserveReply> reply = Ask(dc, address, Machine{.nginx = true}, &unknown);
  if (!reply.ok() && unknown.empty()) return reply.status();
  if (unknown.empty() && !reply->nginx) {
    unknown = absl::StrCat("agent ", address, " answered without nginx's facts");
  }
  if (unknown.empty() && !reply->nginx->host_unknown.empty()) {
    unknown = absl::StrCat("agent ", address, ": ", reply->nginx->host_unknown);
  }
  if (!unknown.empty()) return model::NginxState{.host_unknown = std::move(unknown)};
  return *reply->nginx;
}

absl::StatusOr<model::ServerState> AgentObserver::Observe(const api::DeploymentColorSpec& spec,
                                                          api::Color color) {
  api::DeploymentColor dc;
  dc.spec = spec;
  return ObserveResource(dc, color);
}

absl::StatusOr<model::NginxState> AgentObserver::Observe(const api::DeploymentColorSpec& spec) {
  api::DeploymentColor dc;
  dc.spec = spec;
  return ObserveResource(dc);
}

}  // namespace sy::agent
