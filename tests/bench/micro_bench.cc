// Google Benchmark micro-benchmarks of the pure parts a reconcile pass runs: the planner on a
// few worlds (converged, the first step of a switch, the promotion, a diverged old primary),
// the status it derives, the codec on examples/local.yaml (decode and encode, YAML and JSON),
// and, when pkg/metrics is built (SY_BENCH_METRICS), the metrics a pass updates and the
// /metrics serialization for 1, 10 and 100 resources. hack/bench.sh runs it with JSON output.
// Each planner benchmark first checks that its world yields the step it is meant to measure,
// so a planner change cannot make it measure something else silently.
#include <benchmark/benchmark.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>

#include "pkg/api/types.h"
#include "pkg/codec/codec.h"
#include "pkg/model/step.h"
#include "pkg/model/topology.h"
#include "pkg/model/world.h"
#include "pkg/plan/planner.h"
#include "pkg/plan/status.h"
#ifdef SY_BENCH_METRICS
#include "pkg/metrics/metrics.h"
#include "pkg/util/clock.h"
#endif

#ifndef SY_SOURCE_DIR
#define SY_SOURCE_DIR "."
#endif

namespace {

using sy::api::Color;
using sy::model::ServerState;
using sy::model::World;

constexpr uint64_t kSysid = 7300000000000000001ULL;
constexpr sy::model::Lsn kLsn = 0x3000148;

std::string LocalYaml() {
  std::ifstream in(std::string(SY_SOURCE_DIR) + "/examples/local.yaml");
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

const sy::api::DeploymentColor& LocalDc() {
  static const sy::api::DeploymentColor dc = [] {
    auto docs = sy::codec::DecodeManifests(LocalYaml(), "examples/local.yaml");
    if (!docs.ok() || docs->empty()) {
      std::fprintf(stderr, "micro_bench: cannot decode examples/local.yaml: %s\n",
                   std::string(docs.status().message()).c_str());
      std::abort();
    }
    return docs->front();
  }();
  return dc;
}

ServerState Primary(Color c, uint32_t timeline, Color standby) {
  ServerState s;
  s.color = c;
  s.data_directory_exists = s.postmaster_pid = s.postmaster_alive = true;
  s.control = sy::model::ControlData{"in production", kSysid, kLsn - 0x100, timeline, 0};
  s.reachable = true;
  s.system_identifier = kSysid;
  s.timeline = timeline;
  s.current_lsn = kLsn;
  s.replication.push_back({std::string(sy::api::ColorName(standby)), "streaming", kLsn});
  s.slots.push_back(sy::model::SlotName(standby));
  s.local_slots = s.slots;
  return s;
}

ServerState Standby(const sy::api::DeploymentColorSpec& spec, Color c, uint32_t timeline,
                    Color primary) {
  ServerState s;
  s.color = c;
  s.data_directory_exists = s.postmaster_pid = s.postmaster_alive = true;
  s.control = sy::model::ControlData{"in archive recovery", kSysid, kLsn - 0x100, timeline, 0};
  const int port = spec.color(primary).database.port;
  s.startup = {
      .standby_signal = true,
      .primary_conninfo = "host=127.0.0.1 port=" + std::to_string(port) +
                          " user=replicator application_name=" + std::string(sy::api::ColorName(c)),
      .primary_slot_name = sy::model::SlotName(c),
      .primary_host = "127.0.0.1",
      .primary_port = port};
  s.reachable = true;
  s.in_recovery = true;
  s.system_identifier = kSysid;
  s.timeline = timeline;
  s.receive_lsn = s.replay_lsn = kLsn;
  s.receiver = sy::model::WalReceiver{"streaming", "127.0.0.1", port, sy::model::SlotName(c)};
  return s;
}

World BaseWorld(Color primary, Color served) {
  const auto& spec = LocalDc().spec;
  World w;
  const Color standby = sy::api::Other(primary);
  w.server(primary) = Primary(primary, 1, standby);
  w.server(standby) = Standby(spec, standby, 1, primary);
  w.nginx = {.running = true, .file_color = served, .file_exists = true, .served_color = served};
  for (Color c : sy::api::kColors) {
    w.upstreams[c] = {{spec.color(c).upstreams.front(), true, ""}};
  }
  return w;
}

sy::api::DeploymentColor WithActive(Color c) {
  sy::api::DeploymentColor dc = LocalDc();
  dc.spec.active_color = c;
  return dc;
}

// Runs plan::Next on (dc, w) and checks, once, that it plans `want` (nullopt: converged).
void BenchPlan(benchmark::State& state, const sy::api::DeploymentColor& dc, const World& w,
               std::optional<sy::model::StepKind> want) {
  const auto now = std::chrono::system_clock::now();
  const sy::plan::Plan first = sy::plan::Next(dc, w, now);
  const bool as_meant = want ? first.step && first.step->kind == *want : first.done();
  if (!as_meant) {
    state.SkipWithError(
        ("the world does not plan what this benchmark measures: " + first.reason).c_str());
    return;
  }
  for (auto _ : state) {
    sy::plan::Plan p = sy::plan::Next(dc, w, now);
    benchmark::DoNotOptimize(p);
  }
}

void BM_PlanNext_Converged(benchmark::State& state) {
  BenchPlan(state, WithActive(Color::kBlue), BaseWorld(Color::kBlue, Color::kBlue), std::nullopt);
}
BENCHMARK(BM_PlanNext_Converged);

void BM_PlanNext_SwitchTraffic(benchmark::State& state) {
  BenchPlan(state, WithActive(Color::kGreen), BaseWorld(Color::kBlue, Color::kBlue),
            sy::model::StepKind::kSwitchTraffic);
}
BENCHMARK(BM_PlanNext_SwitchTraffic);

void BM_PlanNext_Promote(benchmark::State& state) {
  World w = BaseWorld(Color::kBlue, Color::kGreen);
  ServerState& blue = w.blue;
  blue.reachable = blue.postmaster_pid = blue.postmaster_alive = false;
  blue.control->cluster_state = std::string(sy::model::kShutDown);
  blue.control->checkpoint_lsn = kLsn - 0x28;
  blue.replication.clear();
  w.green.receiver.reset();
  BenchPlan(state, WithActive(Color::kGreen), w, sy::model::StepKind::kPromote);
}
BENCHMARK(BM_PlanNext_Promote);

void BM_PlanNext_DivergedRewind(benchmark::State& state) {
  // Green was promoted on timeline 2 at 0/3000000; blue, stopped, wrote past the fork.
  sy::api::DeploymentColor dc = WithActive(Color::kGreen);
  World w = BaseWorld(Color::kGreen, Color::kGreen);
  w.green = Primary(Color::kGreen, 2, Color::kBlue);
  w.green.history = {{1, 0x3000000}};
  ServerState& blue = w.blue;
  blue = ServerState{};
  blue.color = Color::kBlue;
  blue.data_directory_exists = true;
  blue.control = sy::model::ControlData{std::string(sy::model::kShutDown), kSysid, 0x3000400, 1, 0};
  blue.local_slots = {"switchyard_green"};
  dc.metadata.annotations[std::string(sy::api::kAllowDiscardAnnotation)] =
      sy::api::FormatDiscardConsent(sy::model::IncidentOf(blue));
  BenchPlan(state, dc, w, sy::model::StepKind::kRewind);
}
BENCHMARK(BM_PlanNext_DivergedRewind);

void BM_StatusFor_Converged(benchmark::State& state) {
  const sy::api::DeploymentColor dc = WithActive(Color::kBlue);
  const World w = BaseWorld(Color::kBlue, Color::kBlue);
  const auto now = std::chrono::system_clock::now();
  const sy::plan::Plan p = sy::plan::Next(dc, w, now);
  for (auto _ : state) {
    // The report is built once per pass and the status from it: both are the status's cost.
    sy::api::DeploymentColorStatus st =
        sy::plan::StatusFor(dc, w, sy::plan::PlannedReport(dc, w, p, now), now);
    benchmark::DoNotOptimize(st);
  }
}
BENCHMARK(BM_StatusFor_Converged);

void BM_Codec_DecodeYaml_LocalExample(benchmark::State& state) {
  const std::string yaml = LocalYaml();
  for (auto _ : state) {
    auto docs = sy::codec::DecodeYamlStream(yaml, "examples/local.yaml");
    benchmark::DoNotOptimize(docs);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * yaml.size()));
}
BENCHMARK(BM_Codec_DecodeYaml_LocalExample);

void BM_Codec_EncodeYaml_LocalExample(benchmark::State& state) {
  const sy::api::DeploymentColor& dc = LocalDc();
  for (auto _ : state) {
    std::string out = sy::codec::EncodeYaml(dc);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_Codec_EncodeYaml_LocalExample);

void BM_Codec_EncodeJson_LocalExample(benchmark::State& state) {
  const sy::api::DeploymentColor& dc = LocalDc();
  for (auto _ : state) {
    std::string out = sy::codec::EncodeJson(dc);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_Codec_EncodeJson_LocalExample);

void BM_Codec_DecodeJson_LocalExample(benchmark::State& state) {
  const std::string json = sy::codec::EncodeJson(LocalDc());
  for (auto _ : state) {
    auto dc = sy::codec::DecodeJson(json, "local.json");
    benchmark::DoNotOptimize(dc);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * json.size()));
}
BENCHMARK(BM_Codec_DecodeJson_LocalExample);

#ifdef SY_BENCH_METRICS
// What every pass adds to the metrics (a converged resource).
void BM_Metrics_OnPass_Converged(benchmark::State& state) {
  sy::metrics::Metrics m(sy::util::RealClock::Get(), {"bench", ""});
  const sy::api::DeploymentColor dc = WithActive(Color::kBlue);
  const World w = BaseWorld(Color::kBlue, Color::kBlue);
  const auto now = std::chrono::system_clock::now();
  sy::model::PassReport r = sy::plan::PlannedReport(dc, w, sy::plan::Next(dc, w, now), now);
  r.duration = std::chrono::milliseconds(8);
  for (auto _ : state) {
    m.OnPass(r);
  }
}
BENCHMARK(BM_Metrics_OnPass_Converged);

// GET /metrics with N converged resources (no process_* series: they read /proc).
void BM_Metrics_Scrape(benchmark::State& state) {
  sy::metrics::Metrics m(sy::util::RealClock::Get(), {"bench", ""});
  const World w = BaseWorld(Color::kBlue, Color::kBlue);
  for (int64_t i = 0; i < state.range(0); ++i) {
    sy::api::DeploymentColor dc = WithActive(Color::kBlue);
    dc.metadata.name = "shop-" + std::to_string(i);
    const auto now = std::chrono::system_clock::now();
    sy::model::PassReport r = sy::plan::PlannedReport(dc, w, sy::plan::Next(dc, w, now), now);
    r.duration = std::chrono::milliseconds(8);
    m.OnPass(r);
  }
  size_t bytes = 0;
  for (auto _ : state) {
    std::string text = m.Scrape({});
    bytes = text.size();
    benchmark::DoNotOptimize(text);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_Metrics_Scrape)->Arg(1)->Arg(10)->Arg(100);
#endif

}  // namespace

BENCHMARK_MAIN();
