#include "pkg/app/app.h"

#include <sys/stat.h>
#include <unistd.h>

#include <iostream>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "pkg/app/epoch_file.h"
#include "pkg/app/wiring.h"
#include "pkg/controller/controller.h"
#include "pkg/controller/server_lock.h"
#include "pkg/metrics/metrics.h"
#include "pkg/server/http_server.h"
#include "pkg/server/token.h"
#include "pkg/source/manifest_source.h"
#include "pkg/source/store.h"
#include "pkg/util/command_runner.h"
#include "pkg/util/files.h"
#include "pkg/util/log.h"
#include "pkg/util/process_limits.h"

namespace sy::app {
namespace {

// GET /metrics. The work queue, the store's keys and the agents' stats are read at scrape
// time.
server::HttpResponse ServeMetrics(metrics::Metrics& m, const controller::WorkQueue& queue,
                                  const source::Store& store, const agent::AgentStats& agents) {
  metrics::ScrapeInputs in;
  in.agents = agents.Snapshot();
  in.queue_depth = static_cast<int64_t>(queue.Depth());
  in.queue_retries_total = queue.TotalRetries();
  in.resources.emplace();
  for (const auto& dc : store.List()) in.resources->push_back(dc.Key());
  server::HttpResponse res;
  res.content_type = std::string(metrics::kContentType);
  res.body = m.Scrape(in);
  return res;
}

// Without --manifests nothing watches the files that gave objects before: they would stay
// read-only forever. They stop being managed (nothing in the world is torn down).
void ForgetFileObjects(source::Store& store) {
  for (const auto& dc : store.List()) {
    if (source::SourceFile(dc.status.source).empty()) continue;
    log::Info("unmanaged",
              {{"resource", dc.Key()}, {"reason", "no --manifests: its file is no longer read"}});
    (void)store.Remove(dc.Key());
  }
}

// How the daemon reaches agents: mutual TLS (all three files), plain HTTP for tests, or not
// at all (a spec naming agents is then refused). kInvalidArgument for a partial set.
absl::StatusOr<agent::AgentTransport> AgentTransportOf(const Options& o) {
  agent::AgentTransport t;
  const int tls = static_cast<int>(!o.agent_ca.empty()) + static_cast<int>(!o.agent_cert.empty()) +
                  static_cast<int>(!o.agent_key.empty());
  if (tls != 0 && tls != 3) {
    return absl::InvalidArgumentError(
        "--agent-ca, --agent-cert and --agent-key go together (mutual TLS to the agents)");
  }
  if (tls == 3 && o.agent_insecure_http) {
    return absl::InvalidArgumentError(
        "--agent-insecure-http contradicts --agent-ca/--agent-cert/--agent-key");
  }
  t.ca_file = o.agent_ca;
  t.cert_file = o.agent_cert;
  t.key_file = o.agent_key;
  t.insecure_http = o.agent_insecure_http;
  return t;
}

// Tells every agent the resources name this start's epoch before the first pass, so that an
// earlier daemon of this state directory is refused from now on even on machines this one
// does not act on soon. Best effort: an agent that misses it learns it from the first
// observation.
void AnnounceEpoch(agent::AgentClients& agents, const source::Store& store) {
  const std::vector<std::string> addresses = AgentsOf(store.List());
  if (addresses.empty()) return;
  for (const auto& [address, s] : agents.AnnounceAll(addresses)) {
    if (s.ok()) {
      log::Info("agent-epoch", {{"agent", address},
                                {"epoch", agent::FormatEpoch(agents.CurrentEpoch())},
                                {"outcome", "announced"}});
    } else {
      log::Warn("agent-epoch", {{"agent", address},
                                {"epoch", agent::FormatEpoch(agents.CurrentEpoch())},
                                {"outcome", "not announced"},
                                {"error", std::string(s.message())}});
    }
  }
}

}  // namespace

std::vector<std::string> AgentsOf(const std::vector<api::DeploymentColor>& resources) {
  std::set<std::string> seen;
  for (const api::DeploymentColor& dc : resources) {
    for (api::Color c : api::kColors) {
      if (!dc.spec.color(c).database.agent.empty()) seen.insert(dc.spec.color(c).database.agent);
    }
    if (!dc.spec.nginx.agent.empty()) seen.insert(dc.spec.nginx.agent);
  }
  return {seen.begin(), seen.end()};
}

int Run(const Options& o, const std::atomic<bool>& stop) {
  if (!log::SetLevel(o.log_level)) {
    std::cerr << "switchyard: --log-level " << o.log_level << ": use debug, info, warn or error\n";
    return 2;
  }
  if (o.state_dir.empty() || o.state_dir[0] != '/') {
    std::cerr << "switchyard: --state-dir must be an absolute path\n";
    return 2;
  }
  const util::Clock& clock = util::RealClock::Get();
  auto lock = controller::StateLock::Acquire(o.state_dir, clock);
  if (!lock.ok()) {
    std::cerr << "switchyard: " << lock.status().message() << "\n";
    return 2;
  }
  // Connections, watches and database sessions all take descriptors: use what is allowed.
  if (auto nofile = util::RaiseOpenFileLimit(); !nofile.ok()) {
    log::Warn("limits", {{"error", std::string(nofile.status().message())}});
  }
  source::Store store(o.state_dir, clock);
  if (absl::Status s = store.Load(); !s.ok()) {
    std::cerr << "switchyard: " << s.message() << "\n";
    return 2;
  }
  for (const source::QuarantinedFile& q : store.Quarantined()) {
    log::Error("quarantined", {{"file", q.file}, {"moved_to", q.moved_to}, {"reason", q.reason}});
  }
  util::ExecCommandRunner git_runner;
  source::GitCommitHistory history(git_runner);
  std::unique_ptr<source::ManifestSource> manifests;
  if (!o.manifests.empty()) {
    source::ManifestSourceOptions mo;
    mo.history = &history;
    mo.clock = &clock;
    manifests = std::make_unique<source::ManifestSource>(o.manifests, store, mo);
    if (absl::Status s = manifests->Sync(); !s.ok()) {
      if (absl::IsNotFound(s) || absl::IsPermissionDenied(s)) {
        std::cerr << "switchyard: " << s.message() << "\n";
        return 2;
      }
      // Invalid documents (or a tree that cannot be read now) are reported and marked; valid
      // ones (and the last valid specs of the others) stay in force.
      std::cerr << "switchyard: invalid manifests (the last valid spec of each stays in force):\n"
                << s.message() << "\n";
      if (o.once) return 1;
    }
  } else {
    ForgetFileObjects(store);
  }
  auto token = server::LoadOrCreateToken(o.state_dir + "/token");
  if (!token.ok()) {
    std::cerr << "switchyard: " << token.status().message() << "\n";
    return 2;
  }

  absl::StatusOr<agent::AgentTransport> transport = AgentTransportOf(o);
  if (!transport.ok()) {
    std::cerr << "switchyard: " << transport.status().message() << "\n";
    return 2;
  }
  if (transport->insecure_http) {
    log::Warn("agent-insecure-http",
              {{"meaning",
                "agents are reached over plain HTTP, neither side authenticated: "
                "for tests only; anyone on the network can pose as an agent"}});
  }
  // Before any agent call, and under the state directory's lock: agents refuse from now on
  // what an earlier start of this directory still sends.
  absl::StatusOr<agent::Epoch> epoch = TakeNextEpoch(o.state_dir);
  if (!epoch.ok() && transport->Configured()) {
    std::cerr << "switchyard: " << epoch.status().message() << "\n";
    return 2;
  }
  if (!epoch.ok()) {
    // Without agent flags no agent is ever called and the epoch is not needed: a state
    // directory that cannot be written (a full disk) must not stop the single-host daemon,
    // which reports its status write failures instead.
    log::Warn("epoch-not-taken", {{"error", std::string(epoch.status().message())},
                                  {"meaning", "no agent can be reached by this daemon"}});
    epoch = agent::Epoch{};
  }
  char host[256] = "";
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';

  actuate::PostgresTimeouts timeouts;
  timeouts.stop = timeouts.start = timeouts.promote = o.step_timeout;
  Wiring wiring(timeouts, AgentWiring{.transport = *std::move(transport),
                                      .epoch = *epoch,
                                      .leader = absl::StrCat(host, "/", ::getpid())});
  controller::ReconcilerOptions ro;
  ro.resync = o.resync;
  ro.kill_after_steps = o.kill_after_steps;
  metrics::Metrics metrics(clock);
  metrics.CountQuarantined(static_cast<int64_t>(store.Quarantined().size()));
  // The servers' own lock: no other resource or daemon acts on them during a pass.
  const std::string agent_locks = o.state_dir + "/server-locks";
  if (::mkdir(agent_locks.c_str(), 0700) != 0 && errno != EEXIST) {
    std::cerr << "switchyard: " << util::ErrnoStatus(errno, "creating " + agent_locks).message()
              << "\n";
    return 2;
  }
  controller::FlockServerLock server_lock(clock, controller::FlockServerLock::kDefaultRetry,
                                          agent_locks);
  controller::Reconciler reconciler(wiring.world_observer(), wiring.actuator(), store, clock, ro,
                                    &metrics, &server_lock);
  controller::WorkQueue queue(clock);
  controller::Controller ctl(store, reconciler, queue, o.resync, clock);

  std::unique_ptr<server::HttpServer> http;
  server::ApiOptions api_options;
  api_options.token = *token;
  api_options.auth_reads = o.auth_reads;
  api_options.allowed_hosts = o.allowed_hosts;
  char hostname[256] = "";
  if (::gethostname(hostname, sizeof hostname - 1) == 0 && hostname[0] != '\0') {
    api_options.allowed_hosts.emplace_back(hostname);  // http://<this machine>:9753
  }
  api_options.metrics = [&] {
    return ServeMetrics(metrics, queue, store, wiring.Agents().Stats());
  };
  server::ApiHandler api(
      store, clock, [&ctl] { return ctl.Ready(); }, api_options);
  if (!o.listen.empty()) {
    server::HttpServerOptions http_options;
    http_options.tls_cert_file = o.tls_cert;
    http_options.tls_key_file = o.tls_key;
    http_options.max_body_bytes = api_options.max_body_bytes + 1;
    http_options.stream_threads = static_cast<size_t>(api_options.max_watches);
    http = std::make_unique<server::HttpServer>(
        [&](const server::HttpRequest& r) { return api.Handle(r); }, http_options,
        [&](const server::HttpRequest& head) { return api.Admit(head); });
    if (absl::Status s = http->Start(o.listen); !s.ok()) {
      std::cerr << "switchyard: " << s.message() << "\n";
      return 2;
    }
  }
  log::Info("started", {{"manifests", o.manifests},
                        {"state_dir", o.state_dir},
                        {"listen", o.listen},
                        {"tls", o.tls_cert.empty() ? "off" : "on"},
                        {"token", o.state_dir + "/token"},
                        {"resources", std::to_string(store.List().size())},
                        {"epoch", agent::FormatEpoch(*epoch)},
                        {"pid", std::to_string(::getpid())}});

  AnnounceEpoch(wiring.Agents(), store);

  if (o.once) {
    std::string report;
    const bool ok = ctl.RunOnce(o.once_timeout, &report);
    std::cout << report;
    if (http) http->Stop();
    return ok ? 0 : 1;
  }

  std::atomic<bool> watch_stop{false};
  std::thread watcher([&] {
    if (manifests) manifests->Watch(watch_stop);
  });
  ctl.Start(o.workers);
  while (!stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(50));  // signal
  log::Info("stopping", {{"reason", "signal"}});
  watch_stop = true;
  watcher.join();
  ctl.Stop();
  if (http) http->Stop();
  log::Info("stopped");
  return 0;
}

}  // namespace sy::app
