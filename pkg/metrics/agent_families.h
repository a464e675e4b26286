// The families of the controller's requests to switchyard-agents, made at scrape time from
// what the agent clients recorded (model::AgentReport): whether each agent answers, its
// requests by verb and result, their latency, and its refusals of this controller's epoch.
#pragma once

#include <vector>

#include "pkg/model/agent_report.h"
#include "prometheus/metric_family.h"

namespace sy::metrics {

// switchyard_agent_up{agent}, switchyard_agent_requests_total{agent,verb,result},
// switchyard_agent_request_seconds{agent,verb} (buckets model::AgentLatencyBuckets()) and
// switchyard_agent_stale_epoch_total{agent}. No families when there are no agents: a
// single-host daemon exports nothing about agents. `agent` is an address a spec names;
// `verb` is one of info, epoch, observe, submit, poll; `result` a protocol code
// (agent::CodeName), UNREACHABLE or BAD_REPLY.
std::vector<prometheus::MetricFamily> AgentFamilies(const std::vector<model::AgentReport>& agents);

}  // namespace sy::metrics
