// The controller's record of its requests to agents (model::AgentReport per agent): what the
// metrics export and what an operator reads when an agent is unreachable.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "pkg/model/agent_report.h"

namespace sy::agent {

// Thread-safe: every client records into one instance from the pass and announce threads;
// the metrics read it from an HTTP thread.
class AgentStats {
 public:
  // One request to `agent`: its verb ("observe"), its result (a code name, kUnreachable or
  // kBadReply), how long it took, whether the agent answered at all, and the failure ("" for
  // a success).
  void Record(const std::string& agent, std::string_view verb, std::string_view result,
              std::chrono::nanoseconds latency, bool answered, const std::string& error);

  // Every agent recorded so far, by address.
  std::vector<model::AgentReport> Snapshot() const;
  // One agent (an empty report, unreachable, when none was recorded).
  model::AgentReport Of(const std::string& agent) const;

  static constexpr std::string_view kUnreachable = "UNREACHABLE";
  static constexpr std::string_view kBadReply = "BAD_REPLY";

 private:
  mutable std::mutex mu_;
  std::map<std::string, model::AgentReport> agents_;
};

}  // namespace sy::agent
