// The real switchyard-agent binary as a child of an integration test: a configuration file
// and a state directory in a temporary directory, the epoch pinned with `pin-epoch`, the
// agent started on a free port of 127.0.0.1 and stopped (SIGTERM, then SIGKILL) when the
// object goes; and a plain-HTTP client for its verbs.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace sy::testing {

// What a response carried.
struct AgentResponse {
  int status = 0;  // 0: no response
  std::string body;
};

class AgentProcess {
 public:
  // Writes <dir>/agent.yaml (`config_tail`: the YAML after id, listen and stateDirectory:
  // tls or insecureHttp, postgres, nginx), pins era "e1" at rev 5, starts the agent and waits
  // until it listens. The agent's log goes to <dir>/agent.log.
  static absl::StatusOr<std::unique_ptr<AgentProcess>> Start(const std::string& dir,
                                                             const std::string& config_tail);
  // SIGTERM, and SIGKILL when it has not exited within 10 s.
  ~AgentProcess();
  AgentProcess(const AgentProcess&) = delete;
  AgentProcess& operator=(const AgentProcess&) = delete;

  int port() const { return port_; }
  int pid() const { return pid_; }
  const std::string& dir() const { return dir_; }

  // One request on a fresh plain-HTTP connection.
  AgentResponse Call(const std::string& method, const std::string& target,
                     const std::string& body = "",
                     std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

 private:
  AgentProcess() = default;
  std::string dir_;
  int pid_ = 0;
  int port_ = 0;
};

// The path of the switchyard-agent binary this build made.
std::string AgentBinary();

// A free TCP port on 127.0.0.1 (bound and released).
int FreePort();

}  // namespace sy::testing
