// switchyard-agent's commands, behind cmd/switchyard-agent/main.cc: serve (the agent on its
// machine), pin-epoch (an operator sets the era and floor rev) and show (what the state
// directory holds).
#pragma once

#include <atomic>
#include <cstdint>
#include <ostream>
#include <string>

namespace sy::app {

struct AgentOptions {
  std::string config;  // --config FILE
  std::string log_level = "info";
  // pin-epoch
  std::string era;
  int64_t rev = 0;
  bool force = false;
};

// Serves until `stop` is set, then lets running operations reach their next commit point or
// end. Returns 0, or 2 for a bad configuration or a start-up error (named on stderr).
int RunAgent(const AgentOptions& options, const std::atomic<bool>& stop);

// Writes the era and rev to the state directory's epoch file; refuses to lower the rev of
// the same era unless options.force. Prints what it did to `out`. Returns 0, 1 refused, 2
// error.
int PinAgentEpoch(const AgentOptions& options, std::ostream& out, std::ostream& err);

// Prints the era, the highest rev and the operations in doubt. Returns 0 or 2.
int ShowAgent(const AgentOptions& options, std::ostream& out, std::ostream& err);

}  // namespace sy::app
