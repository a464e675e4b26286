#include "pkg/agent/agent_stats.h"

#include <algorithm>

#include "pkg/agent/protocol.h"

namespace sy::agent {

void AgentStats::Record(const std::string& agent, std::string_view verb, std::string_view result,
                        std::chrono::nanoseconds latency, bool answered, const std::string& error) {
  const std::vector<double>& bounds = model::AgentLatencyBuckets();
  const double seconds = std::chrono::duration<double>(latency).count();
  const size_t bucket =
      static_cast<size_t>(std::lower_bound(bounds.begin(), bounds.end(), seconds) - bounds.begin());
  std::lock_guard<std::mutex> l(mu_);
  model::AgentReport& r = agents_[agent];
  r.agent = agent;
  r.reachable = answered;
  r.last_error = error;
  ++r.requests[{std::string(verb), std::string(result)}];
  model::AgentLatency& lat = r.latency[std::string(verb)];
  lat.buckets.resize(bounds.size() + 1);
  ++lat.buckets[bucket];
  ++lat.count;
  lat.sum_seconds += seconds;
  if (result == CodeName(Code::kStaleEpoch)) ++r.stale_epoch;
}

std::vector<model::AgentReport> AgentStats::Snapshot() const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<model::AgentReport> out;
  out.reserve(agents_.size());
  for (const auto& [address, report] : agents_) out.push_back(report);
  return out;
}

model::AgentReport AgentStats::Of(const std::string& agent) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = agents_.find(agent);
  if (it != agents_.end()) return it->second;
  model::AgentReport none;
  none.agent = agent;
  return none;
}

}  // namespace sy::agent
