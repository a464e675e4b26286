// The agent families: made from what the agent clients recorded, exported at scrape time,
// absent on a single host, and valid for promtool.
#include "pkg/metrics/agent_families.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>

#include "pkg/metrics/metrics.h"
#include "tests/fakes/fake_clock.h"
#include "tests/unit/metrics/samples.h"

namespace sy::metrics {
namespace {

using prometheus::MetricType;

// Two agents: one that answers (one observation took 3 ms, one 30 ms; one submission was
// refused for a stale epoch), one that does not.
std::vector<model::AgentReport> Reports() {
  model::AgentReport up;
  up.agent = "10.200.0.21:9754";
  up.reachable = true;
  up.requests = {{{"observe", "OK"}, 2}, {{"submit", "STALE_EPOCH"}, 1}};
  model::AgentLatency observe;
  observe.buckets.assign(model::AgentLatencyBuckets().size() + 1, 0);
  observe.buckets[2] = 1;  // le 0.005
  observe.buckets[5] = 1;  // le 0.05 (above 0.025): 30 ms
  observe.count = 2;
  observe.sum_seconds = 0.033;
  up.latency["observe"] = observe;
  up.stale_epoch = 1;

  model::AgentReport down;
  down.agent = "10.200.0.22:9754";
  down.reachable = false;
  down.last_error = "agent 10.200.0.22:9754 unreachable (observe): cannot connect";
  down.requests = {{{"observe", "UNREACHABLE"}, 3}};
  model::AgentLatency slow;
  slow.buckets.assign(model::AgentLatencyBuckets().size() + 1, 0);
  slow.buckets.back() = 3;  // above the last bound
  slow.count = 3;
  slow.sum_seconds = 9;
  down.latency["observe"] = slow;
  return {up, down};
}

TEST(AgentFamiliesTest, NoAgentsNoFamilies) {
  EXPECT_TRUE(AgentFamilies({}).empty());
  fakes::FakeClock clock;
  Metrics m(clock, {"1", ""});
  EXPECT_EQ(m.Scrape({}).find("switchyard_agent"), std::string::npos);
}

TEST(AgentFamiliesTest, EachFamilyWithItsTypeLabelsAndValues) {
  const std::vector<prometheus::MetricFamily> f = AgentFamilies(Reports());
  ASSERT_EQ(f.size(), 4u);
  for (const auto& [name, type] : std::vector<std::pair<std::string, MetricType>>{
           {"switchyard_agent_up", MetricType::Gauge},
           {"switchyard_agent_requests_total", MetricType::Counter},
           {"switchyard_agent_request_seconds", MetricType::Histogram},
           {"switchyard_agent_stale_epoch_total", MetricType::Counter}}) {
    const prometheus::MetricFamily* family = FindFamily(f, name);
    ASSERT_NE(family, nullptr) << name;
    EXPECT_EQ(family->type, type) << name;
    EXPECT_GE(family->help.size(), 30u) << name;
  }
  EXPECT_EQ(Value(f, "switchyard_agent_up", {{"agent", "10.200.0.21:9754"}}), 1);
  EXPECT_EQ(Value(f, "switchyard_agent_up", {{"agent", "10.200.0.22:9754"}}), 0);
  EXPECT_EQ(Value(f, "switchyard_agent_requests_total",
                  {{"agent", "10.200.0.21:9754"}, {"verb", "observe"}, {"result", "OK"}}),
            2);
  EXPECT_EQ(Value(f, "switchyard_agent_requests_total",
                  {{"agent", "10.200.0.22:9754"}, {"verb", "observe"}, {"result", "UNREACHABLE"}}),
            3);
  EXPECT_EQ(Value(f, "switchyard_agent_stale_epoch_total", {{"agent", "10.200.0.21:9754"}}), 1);
  EXPECT_EQ(Value(f, "switchyard_agent_stale_epoch_total", {{"agent", "10.200.0.22:9754"}}), 0);

  const prometheus::ClientMetric* h = FindSeries(
      f, "switchyard_agent_request_seconds", {{"agent", "10.200.0.21:9754"}, {"verb", "observe"}});
  ASSERT_NE(h, nullptr);
  const std::vector<double>& bounds = model::AgentLatencyBuckets();
  ASSERT_EQ(h->histogram.bucket.size(), bounds.size() + 1);  // and +Inf
  EXPECT_EQ(h->histogram.bucket[1].cumulative_count, 0u);
  EXPECT_EQ(h->histogram.bucket[2].cumulative_count, 1u);
  EXPECT_EQ(h->histogram.bucket[2].upper_bound, bounds[2]);
  EXPECT_EQ(h->histogram.bucket[4].cumulative_count, 1u);
  EXPECT_EQ(h->histogram.bucket[5].cumulative_count, 2u);  // cumulative
  EXPECT_EQ(h->histogram.bucket.back().cumulative_count, 2u);
  EXPECT_EQ(h->histogram.bucket.back().upper_bound, std::numeric_limits<double>::infinity());
  EXPECT_EQ(h->histogram.sample_count, 2u);
  EXPECT_DOUBLE_EQ(h->histogram.sample_sum, 0.033);
  const prometheus::ClientMetric* slow = FindSeries(
      f, "switchyard_agent_request_seconds", {{"agent", "10.200.0.22:9754"}, {"verb", "observe"}});
  ASSERT_NE(slow, nullptr);
  EXPECT_EQ(slow->histogram.bucket[bounds.size() - 1].cumulative_count, 0u);
  EXPECT_EQ(slow->histogram.bucket.back().cumulative_count, 3u);
}

TEST(AgentFamiliesTest, TheScrapeCarriesThemAndPassesPromtool) {
  fakes::FakeClock clock;
  Metrics m(clock, {"1", ""});
  ScrapeInputs in;
  in.agents = Reports();
  const std::string text = m.Scrape(in);
  EXPECT_NE(text.find("# TYPE switchyard_agent_up gauge\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nswitchyard_agent_up{agent=\"10.200.0.22:9754\"} 0\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("switchyard_agent_request_seconds_bucket{agent=\"10.200.0.21:9754\","
                      "verb=\"observe\",le=\"+Inf\"} 2"),
            std::string::npos)
      << text;

  const char* promtool = "/usr/bin/promtool";
  if (::access(promtool, X_OK) != 0) GTEST_SKIP() << promtool << " not installed";
  char path[] = "/tmp/agent_metrics_test.XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  std::ofstream(path) << text;
  const std::string out = std::string(path) + ".out";
  const int rc = std::system(
      (std::string(promtool) + " check metrics <" + path + " >" + out + " 2>&1").c_str());
  std::ifstream report_in(out);
  const std::string report((std::istreambuf_iterator<char>(report_in)),
                           std::istreambuf_iterator<char>());
  std::remove(path);
  std::remove(out.c_str());
  EXPECT_EQ(rc, 0) << report;
  EXPECT_EQ(report, "") << "promtool lint findings";
}

}  // namespace
}  // namespace sy::metrics
