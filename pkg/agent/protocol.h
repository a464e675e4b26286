// The wire protocol between the controller and `switchyard-agent`, the process that does the
// host-local work on a PostgreSQL server's machine or nginx's machine: the messages, their
// JSON, the result codes, and which machine each step runs on. pkg/agent/README.md describes
// the protocol as a whole (verbs, fencing by epoch, operation ids, the journal); this file is
// its vocabulary, shared by the agent (agent_service.h) and the controller's adapters
// (agent_client.h).
//
// Decoding is strict: a missing required field, a wrong type or an unknown enum value is
// kInvalidArgument naming the field; unknown fields are ignored (a newer peer may add some).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "pkg/api/types.h"
#include "pkg/model/step.h"
#include "pkg/model/world.h"

namespace sy::agent {

inline constexpr int kDefaultPort = 9754;

// The controller's proof of authority. `era` names one line of controllers (a state
// directory, later an etcd cluster): the agent is pinned to one era and refuses others.
// Within an era `rev` only grows: each controller start (each election) takes a higher one.
// An agent refuses a call whose rev is lower than the highest it has seen, so a controller
// that was replaced can no longer act on the machine.
struct Epoch {
  std::string era;
  int64_t rev = 0;
  bool operator==(const Epoch&) const = default;
};
std::string FormatEpoch(const Epoch& e);  // "3f2a…:7"

// Result codes. The first six are the step codes of actuate::Actuator; the others are the
// agent's refusals, which change nothing on the machine.
enum class Code {
  kOk,
  kUnavailable,         // a server or program unreachable, a wait timed out: retry
  kFailedPrecondition,  // the world is not as the step requires: re-observe
  kAborted,             // this way cannot work (pg_rewind failed; an undone copy)
  kInvalidArgument,     // misconfiguration, a malformed request
  kInternal,
  kStaleEpoch,   // the request's epoch is lower than one the agent has seen
  kEraMismatch,  // the request's era is not the one the agent is pinned to
  kNoEpoch,      // the agent has never been pinned (switchyard-agent pin-epoch)
  kBusy,         // another operation holds the object longer than the request could wait
  kNotManaged,   // the request names a directory or program the agent's configuration lacks
  kUnknownOp,    // no operation with that id
};
std::string_view CodeName(Code c);  // "OK", "STALE_EPOCH", ...
std::optional<Code> ParseCode(std::string_view s);
// The HTTP status an agent answers with for a refusal (409, 412, 422, 404), or 200.
int HttpStatusOf(Code c);
// For the controller: the absl code a step reports (a refusal by epoch is kAborted: this
// controller may not act; NOT_MANAGED is kInvalidArgument: a configuration to fix).
absl::StatusCode StatusCodeOf(Code c);
// For the agent: the code of a step's status.
Code CodeOf(const absl::Status& s);

// What an agent says of itself in every reply.
struct AgentInfo {
  std::string id;
  std::string version;
  Epoch highest;  // its era and the highest rev it has accepted (rev 0, era "": never pinned)
  bool operator==(const AgentInfo&) const = default;
};

// Where a step runs: on nginx's machine, or on the machine of one color's database.
struct Machine {
  bool nginx = false;
  api::Color color = api::Color::kBlue;  // when !nginx
  bool operator==(const Machine&) const = default;
};
// switch-traffic: nginx's; create-slot and drop-slot: the source's (the slot lives on the
// server the standby follows); every other step: its target's.
Machine MachineOf(const model::Step& step);
std::string MachineName(const Machine& m);  // "nginx", "blue's database"

// The steps that re-check the other database right before their irreversible act (the other
// is stopped and fenced before a promotion, cannot be a primary before a start as primary or
// a lift of the fence, is the primary to copy from): the controller observes the other
// database through its agent right before sending the step and passes that observation.
bool NeedsPeer(model::StepKind kind);

// The object a request is about: the resource (its spec says which directories and programs)
// and, for a database, the color whose server it is.
struct ObjectRef {
  std::string key;  // "default/shop"
  std::string uid;
  int64_t generation = 0;
  bool operator==(const ObjectRef&) const = default;
};
ObjectRef RefOf(const api::DeploymentColor& dc);

// POST /v1/epoch: a controller announces itself; the agent persists a higher rev before it
// answers.
struct EpochRequest {
  Epoch epoch;
  std::string leader;  // who sends it, for the audit log only
};

// POST /v1/observe: the facts of one machine for a resource.
struct ObserveRequest {
  Epoch epoch;
  std::string leader;
  // A read-only call (yardctl diagnostics) does not raise the agent's epoch and is not
  // refused for a lower one.
  bool readonly = false;
  api::DeploymentColor object;
  Machine machine;
  // How long the call may wait for an operation that holds the object (then BUSY).
  int64_t wait_ms = 1000;
};
struct ObserveReply {
  AgentInfo agent;
  Code code = Code::kOk;
  std::string message;
  std::optional<model::ServerState> server;  // a database machine
  std::optional<model::NginxState> nginx;    // nginx's machine
  // Operations on the object that have not ended: one running now, and ones the agent found
  // started but not ended in its journal after a restart (their effect is unknown). Either
  // makes the controller treat the machine as unknown.
  std::string running_op;
  std::vector<std::string> in_doubt_ops;
};

// POST /v1/ops: run one step. Idempotent by op_id: the agent runs an id at most once and
// answers a repeated submission with that operation's state.
struct OpRequest {
  Epoch epoch;
  std::string leader;
  std::string op_id;
  api::DeploymentColor object;
  model::Step step;
  // The other database observed right before this request (NeedsPeer).
  std::optional<model::ServerState> peer;
  // How long the submission may block before it answers `running` (then poll
  // GET /v1/ops/<id>?wait_ms=).
  int64_t sync_wait_ms = 1500;
};

enum class OpState { kRunning, kDone, kFailed, kRefused, kInDoubt };
std::string_view OpStateName(OpState s);  // "running", "done", ...

struct OpReply {
  AgentInfo agent;
  std::string op_id;
  OpState state = OpState::kRunning;
  Code code = Code::kOk;
  std::string message;
  std::string detail;  // actuate::StepOutcome::detail
  // The write window's ends, as durations measured on the agent's clock between the event
  // and this reply (the machines' clocks are not compared): the controller anchors them on
  // its own clock when the reply arrives.
  std::optional<int64_t> writes_stopped_us_ago;
  std::optional<int64_t> writes_resumed_us_ago;
};

// The reply to a refused or failed request that is not about an operation (observe, epoch,
// or any error before a request could be decoded).
struct ErrorReply {
  AgentInfo agent;
  Code code = Code::kInternal;
  std::string message;
};

// --- JSON ---
std::string EncodeEpochRequest(const EpochRequest& r);
absl::StatusOr<EpochRequest> DecodeEpochRequest(std::string_view json);
std::string EncodeObserveRequest(const ObserveRequest& r);
absl::StatusOr<ObserveRequest> DecodeObserveRequest(std::string_view json);
std::string EncodeObserveReply(const ObserveReply& r);
absl::StatusOr<ObserveReply> DecodeObserveReply(std::string_view json);
std::string EncodeOpRequest(const OpRequest& r);
absl::StatusOr<OpRequest> DecodeOpRequest(std::string_view json);
std::string EncodeOpReply(const OpReply& r);
absl::StatusOr<OpReply> DecodeOpReply(std::string_view json);
std::string EncodeErrorReply(const ErrorReply& r);
absl::StatusOr<ErrorReply> DecodeErrorReply(std::string_view json);
std::string EncodeAgentInfo(const AgentInfo& a);
absl::StatusOr<AgentInfo> DecodeAgentInfo(std::string_view json);

// The observed states alone (the journal and tests use them too).
std::string EncodeServerState(const model::ServerState& s);
absl::StatusOr<model::ServerState> DecodeServerState(std::string_view json);
std::string EncodeNginxState(const model::NginxState& s);
absl::StatusOr<model::NginxState> DecodeNginxState(std::string_view json);

}  // namespace sy::agent
