// switchyard-agent's request handler: every verb of pkg/agent/README.md over HttpServer
// (pkg/server/http_server.h), with the epoch rules, the allowlist of the configuration, and
// the operations (operations.h) behind them.
//   GET  /v1/info                 identity, epoch, managed objects, operations running or in doubt
//   POST /v1/epoch                a controller announces itself (raises the rev)
//   POST /v1/observe              the facts of one machine for a resource
//   POST /v1/ops                  run one step, idempotent by op_id
//   GET  /v1/ops/<op_id>?wait_ms= an operation's state (long poll, bounded)
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "pkg/agent/agent_config.h"
#include "pkg/agent/audit.h"
#include "pkg/agent/epoch_store.h"
#include "pkg/agent/executor.h"
#include "pkg/agent/journal.h"
#include "pkg/agent/operations.h"
#include "pkg/agent/protocol.h"
#include "pkg/server/api_handler.h"
#include "pkg/util/clock.h"

namespace sy::agent {

struct AgentServiceOptions {
  std::string version;  // "" : the build's
  OperationsOptions operations;
  JournalOptions journal;
  uint64_t audit_rotate_bytes = uint64_t{64} << 20;
  // Whether a database host named in a request is this machine (observe::CheckLocalHost).
  LocalHostCheck check_local_host = nullptr;
  // Admission requires a client certificate URI name starting with this (mutual TLS); ""
  // accepts any client (plain HTTP, for tests).
  std::string controller_prefix;
};

// Thread-safe: Handle() and Admit() are called on the HTTP server's workers.
class AgentService {
 public:
  // Opens the state directory (epoch, journal, audit log). `executor` and `clock` must
  // outlive the service. Errors name the file.
  static absl::StatusOr<std::unique_ptr<AgentService>> Create(const AgentConfig& config,
                                                              Executor& executor,
                                                              const util::Clock& clock,
                                                              AgentServiceOptions options);
  ~AgentService();
  AgentService(const AgentService&) = delete;
  AgentService& operator=(const AgentService&) = delete;

  server::HttpResponse Handle(const server::HttpRequest& r);
  // Before the body is read: 403 without a controller certificate (when required), 404/405
  // for a path or method that is no verb.
  std::optional<server::HttpResponse> Admit(const server::HttpRequest& head) const;

  // Operations refuse at their next commit point from now on; returns once none runs.
  void Stop();

  AgentInfo Info() const;
  std::vector<std::string> InDoubt() const { return operations_->InDoubt(); }

 private:
  AgentService(AgentConfig config, const util::Clock& clock, AgentServiceOptions options)
      : config_(std::move(config)), clock_(clock), options_(std::move(options)) {}

  server::HttpResponse GetInfo();
  server::HttpResponse PostEpoch(const server::HttpRequest& r);
  server::HttpResponse PostObserve(const server::HttpRequest& r);
  server::HttpResponse PostOps(const server::HttpRequest& r);
  server::HttpResponse GetOp(const std::string& op_id, const server::HttpRequest& r);
  server::HttpResponse Error(int status, Code code, const std::string& message) const;

  const AgentConfig config_;
  const util::Clock& clock_;
  const AgentServiceOptions options_;
  std::unique_ptr<EpochStore> epochs_;
  std::unique_ptr<Journal> journal_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<Operations> operations_;
  Executor* executor_ = nullptr;
};

}  // namespace sy::agent
