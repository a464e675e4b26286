// The controller's client of switchyard-agent (pkg/agent/README.md): one per agent address,
// speaking the verbs of protocol.h over HTTPS with mutual TLS, every exchange bounded, and
// every request recorded in AgentStats. cpp-httplib stays behind this file.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "pkg/agent/agent_stats.h"
#include "pkg/agent/protocol.h"
#include "pkg/util/clock.h"

namespace sy::agent {

// How the controller reaches its agents: the daemon's --agent-ca, --agent-cert, --agent-key,
// or --agent-insecure-http.
struct AgentTransport {
  std::string ca_file;    // PEM: the CA the agents' certificates must chain to
  std::string cert_file;  // PEM: the controller's client certificate (and chain)
  std::string key_file;   // PEM: its private key
  // Tests only: plain HTTP, no authentication either way. An impostor on the network could
  // then report a running primary as stopped.
  bool insecure_http = false;
  // Every exchange is bounded: a machine that does not answer costs a pass this long, not
  // TCP's minutes. A long operation is polled in slices shorter than the read timeout.
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds read_timeout{2000};

  // Whether agents can be reached at all (either TLS or the test flag).
  bool Configured() const { return insecure_http || !cert_file.empty(); }
};

// A reply, with the moment it arrived on the controller's monotonic clock: the agent reports
// the write window's ends as durations before its reply, anchored here.
template <typename Reply>
struct Received {
  Reply reply;
  std::chrono::steady_clock::time_point at;
  int http_status = 0;  // 200: the operation ended; 202: it runs
};

// The code an agent answered a refused request with (STALE_EPOCH, UNKNOWN_OP, ...), carried
// by the status AgentClient returns for it; nullopt for any other status (the request may not
// have reached the agent, or its answer was lost: the outcome is unknown).
std::optional<Code> AgentCodeOf(const absl::Status& s);

// Thread-safe: concurrent requests each take a kept-alive connection of their own from a
// small pool (one connection would serialize an observation behind a long poll).
//
// Every method returns:
//   kUnavailable "agent <address> unreachable (<verb>): <what failed>" when the request could
//     not be sent or no answer came within the timeouts;
//   the agent's refusal: the status code StatusCodeOf(code) and message
//     "agent <address> refused <verb>: <CODE>: <its message>", AgentCodeOf() giving the code;
//   kInternal "agent <address> answered <verb> with ..." for an answer that is not the
//     protocol's.
class AgentClient {
 public:
  // `address` is "host:port" ("[v6]:port"); `stats` and `clock` must outlive the client.
  // kInvalidArgument for an address that is none, or TLS files that cannot be loaded.
  static absl::StatusOr<std::unique_ptr<AgentClient>> Create(const std::string& address,
                                                             const AgentTransport& transport,
                                                             AgentStats& stats,
                                                             const util::Clock& clock);
  ~AgentClient();
  AgentClient(const AgentClient&) = delete;
  AgentClient& operator=(const AgentClient&) = delete;

  // GET /v1/info.
  absl::StatusOr<AgentInfo> Info();
  // POST /v1/epoch: the agent persists a higher rev before it answers; a lower one is refused
  // (STALE_EPOCH).
  absl::Status AnnounceEpoch(const EpochRequest& request);
  // POST /v1/observe. A reply whose code is not OK is returned as that refusal.
  absl::StatusOr<ObserveReply> Observe(const ObserveRequest& request);
  // POST /v1/ops: 200 (ended) or 202 (still running after request.sync_wait_ms).
  absl::StatusOr<Received<OpReply>> SubmitOp(const OpRequest& request);
  // GET /v1/ops/<op_id>?wait_ms=: the agent holds the request until the operation ends or
  // `wait` passes (clamped to PollSlice()). An id the agent does not know: UNKNOWN_OP.
  absl::StatusOr<Received<OpReply>> PollOp(const std::string& op_id,
                                           std::chrono::milliseconds wait);

  // The longest an agent may hold a request (a submission's sync wait, a poll's wait) and
  // still answer within the read timeout.
  std::chrono::milliseconds PollSlice() const;
  const std::string& Address() const { return address_; }

  struct Impl;

 private:
  AgentClient(std::string address, std::unique_ptr<Impl> impl);
  std::string address_;
  std::unique_ptr<Impl> impl_;
};

// The controller's agents: a client per address (made on first use), the controller's
// epoch and name, and the stats of every request. Thread-safe.
class AgentClients {
 public:
  // `clock` must outlive this object. `leader` names this controller in the agents' audit
  // logs.
  AgentClients(AgentTransport transport, Epoch epoch, std::string leader, const util::Clock& clock);
  ~AgentClients();

  // The client of `address`. kInvalidArgument when the daemon has no way to reach agents
  // (neither TLS files nor --agent-insecure-http), or as AgentClient::Create.
  absl::StatusOr<AgentClient*> For(const std::string& address);

  // Announces the epoch to every address at once (POST /v1/epoch, one thread each), each
  // bounded by the connect timeout and one second of reading; waits for all. Best effort:
  // an agent that does not answer learns the epoch from the first observation. Returns the
  // result per address.
  std::map<std::string, absl::Status> AnnounceAll(const std::vector<std::string>& addresses);

  const Epoch& CurrentEpoch() const { return epoch_; }
  const std::string& Leader() const { return leader_; }
  const AgentTransport& Transport() const { return transport_; }
  AgentStats& Stats() { return stats_; }

 private:
  const AgentTransport transport_;
  const Epoch epoch_;
  const std::string leader_;
  const util::Clock& clock_;
  AgentStats stats_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<AgentClient>> clients_;
};

// The message of a spec naming agents on a daemon started without a way to reach them.
inline constexpr char kNoAgentTransport[] =
    "spec names agents but the daemon has no --agent-cert/--agent-key/--agent-ca";

}  // namespace sy::agent
