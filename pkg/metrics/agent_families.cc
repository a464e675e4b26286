#include "pkg/metrics/agent_families.h"

#include <limits>
#include <string>

namespace sy::metrics {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

ClientMetric Series(std::vector<ClientMetric::Label> labels) {
  ClientMetric m;
  m.label = std::move(labels);
  return m;
}

}  // namespace

std::vector<MetricFamily> AgentFamilies(const std::vector<model::AgentReport>& agents) {
  if (agents.empty()) return {};
  MetricFamily up{"switchyard_agent_up",
                  "1 while the last request to the switchyard-agent got an answer (a refusal "
                  "included), 0 after one that could not be sent or got no answer in time: the "
                  "machine's facts are then unknown and every step that depends on them waits.",
                  MetricType::Gauge,
                  {}};
  MetricFamily requests{"switchyard_agent_requests_total",
                        "Requests to the switchyard-agent by verb (info, epoch, observe, submit, "
                        "poll) and result: the code it answered (OK, STALE_EPOCH, BUSY, ...), "
                        "UNREACHABLE (no answer in time) or BAD_REPLY (an answer outside the "
                        "protocol).",
                        MetricType::Counter,
                        {}};
  MetricFamily seconds{"switchyard_agent_request_seconds",
                       "Duration of one request to the switchyard-agent, by verb, answered or "
                       "not (a poll may be held for up to its slice).",
                       MetricType::Histogram,
                       {}};
  MetricFamily stale{"switchyard_agent_stale_epoch_total",
                     "Requests the switchyard-agent refused because a newer controller "
                     "announced itself (STALE_EPOCH): this controller was replaced and may "
                     "not act on that machine any more.",
                     MetricType::Counter,
                     {}};
  const std::vector<double>& bounds = model::AgentLatencyBuckets();
  for (const model::AgentReport& a : agents) {
    ClientMetric u = Series({{"agent", a.agent}});
    u.gauge.value = a.reachable ? 1 : 0;
    up.metric.push_back(std::move(u));
    for (const auto& [verb_result, count] : a.requests) {
      ClientMetric r =
          Series({{"agent", a.agent}, {"verb", verb_result.first}, {"result", verb_result.second}});
      r.counter.value = static_cast<double>(count);
      requests.metric.push_back(std::move(r));
    }
    for (const auto& [verb, latency] : a.latency) {
      ClientMetric h = Series({{"agent", a.agent}, {"verb", verb}});
      h.histogram.sample_count = latency.count;
      h.histogram.sample_sum = latency.sum_seconds;
      uint64_t cumulative = 0;
      for (size_t i = 0; i <= bounds.size(); ++i) {
        if (i < latency.buckets.size()) cumulative += latency.buckets[i];
        h.histogram.bucket.push_back(
            {cumulative, i < bounds.size() ? bounds[i] : std::numeric_limits<double>::infinity()});
      }
      seconds.metric.push_back(std::move(h));
    }
    ClientMetric s = Series({{"agent", a.agent}});
    s.counter.value = static_cast<double>(a.stale_epoch);
    stale.metric.push_back(std::move(s));
  }
  return {std::move(up), std::move(requests), std::move(seconds), std::move(stale)};
}

}  // namespace sy::metrics
