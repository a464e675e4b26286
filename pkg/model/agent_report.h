// What the controller saw of its calls to each switchyard-agent, as plain data: whether the
// agent answered, the requests by verb and result, their latency and the refusals by epoch.
// The agent clients (pkg/agent) keep it; the metrics (pkg/metrics) read it at scrape time, as
// they read the work queue's depth, so that neither package knows the other.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace sy::model {

// Upper bounds, in seconds, of the latency buckets of one request to an agent: from a
// kept-alive observation on a LAN (about 1 ms) to a long poll held for its whole slice (2 s).
const std::vector<double>& AgentLatencyBuckets();

struct AgentLatency {
  // Requests per bucket of AgentLatencyBuckets() (not cumulative), and one more for those
  // above the last bound.
  std::vector<uint64_t> buckets;
  uint64_t count = 0;
  double sum_seconds = 0;
  bool operator==(const AgentLatency&) const = default;
};

struct AgentReport {
  std::string agent;  // "host:port", as the spec names it
  // The last request got an answer (any answer, a refusal included); false after a request
  // that could not be sent or got none in time.
  bool reachable = false;
  std::string last_error;  // the last request's failure ("" once a request succeeds)
  // Requests by (verb, result): verbs info, epoch, observe, submit, poll; results the code
  // the agent answered (OK, STALE_EPOCH, ...), UNREACHABLE or BAD_REPLY.
  std::map<std::pair<std::string, std::string>, int64_t> requests;
  std::map<std::string, AgentLatency> latency;  // by verb
  int64_t stale_epoch = 0;  // refusals because a newer controller announced itself
  bool operator==(const AgentReport&) const = default;
};

}  // namespace sy::model
