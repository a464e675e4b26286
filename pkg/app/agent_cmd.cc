#include "pkg/app/agent_cmd.h"

#include <cstdio>
#include <thread>

#include "absl/strings/str_join.h"
#include "pkg/agent/agent_config.h"
#include "pkg/agent/agent_service.h"
#include "pkg/agent/epoch_store.h"
#include "pkg/agent/journal.h"
#include "pkg/agent/local_executor.h"
#include "pkg/server/http_server.h"
#include "pkg/util/clock.h"
#include "pkg/util/log.h"

namespace sy::app {
namespace {

// The agent listens on the network for one client (its controller), whose calls are small
// and few: every limit of the transport is far below the API server's, so that clients that
// hold connections, dribble bytes or send large or compressed bodies cost it little.
server::HttpServerOptions AgentHttpOptions(const agent::AgentConfig& c) {
  server::HttpServerOptions o;
  if (!c.insecure_http) {
    o.tls_cert_file = c.tls.cert_file;
    o.tls_key_file = c.tls.key_file;
    o.tls_client_ca_file = c.tls.client_ca_file;
  }
  o.max_body_bytes = size_t{256} * 1024;  // a request carries one resource and one state
  o.head.max_head_bytes = size_t{8} * 1024;
  o.head.max_line_bytes = size_t{4} * 1024;
  o.head.max_fields = 32;
  o.head_timeout = std::chrono::milliseconds(5000);
  // An observation or a submission waits at most OperationsOptions::max_wait (2 s), then
  // does its work: the whole exchange stays well within this.
  o.request_timeout = std::chrono::milliseconds(15000);
  o.write_timeout = std::chrono::milliseconds(5000);
  o.max_waiting_connections = 128;
  o.max_waiting_per_client = 16;
  o.api_threads = 6;
  o.api_queue = 16;
  // GET /v1/info has threads of its own: a controller's liveness check never queues behind
  // observations and long polls.
  o.health_threads = 2;
  o.health_queue = 16;
  o.health_paths = {"/v1/info"};
  o.stream_threads = 1;  // the agent streams nothing
  return o;
}

absl::StatusOr<agent::AgentConfig> LoadConfig(const AgentOptions& options) {
  if (options.config.empty()) return absl::InvalidArgumentError("--config FILE is required");
  return agent::ReadAgentConfig(options.config);
}

}  // namespace

int RunAgent(const AgentOptions& options, const std::atomic<bool>& stop) {
  if (!log::SetLevel(options.log_level)) {
    log::Error("bad-flag", {{"flag", "--log-level"}, {"value", options.log_level}});
    return 2;
  }
  absl::StatusOr<agent::AgentConfig> config = LoadConfig(options);
  if (!config.ok()) {
    log::Error("bad-config", {{"error", std::string(config.status().message())}});
    return 2;
  }
  if (config->insecure_http) {
    log::Warn("insecure-http",
              {{"detail",
                "plain HTTP and no client certificates: any client that reaches the address may "
                "act as the controller; for tests only"}});
  }
  const actuate::PostgresTimeouts pg_timeouts;
  const actuate::NginxActuatorOptions nginx_options;
  agent::LocalExecutor executor(pg_timeouts, nginx_options);
  agent::AgentServiceOptions so;
  so.operations.budget = [pg_timeouts, nginx_options](model::StepKind kind) {
    return agent::StepBudget(kind, pg_timeouts, nginx_options);
  };
  so.controller_prefix = config->insecure_http ? "" : config->tls.controller_prefix;
  absl::StatusOr<std::unique_ptr<agent::AgentService>> service =
      agent::AgentService::Create(*config, executor, util::RealClock::Get(), so);
  if (!service.ok()) {
    log::Error("state-directory", {{"error", std::string(service.status().message())}});
    return 2;
  }
  agent::AgentService* s = service->get();
  server::HttpServer http([s](const server::HttpRequest& r) { return s->Handle(r); },
                          AgentHttpOptions(*config),
                          [s](const server::HttpRequest& head) { return s->Admit(head); });
  if (absl::Status started = http.Start(config->listen); !started.ok()) {
    log::Error("listen", {{"error", std::string(started.message())}});
    return 2;
  }
  const agent::AgentInfo info = s->Info();
  log::Info("agent-serving", {{"id", config->id},
                              {"listen", config->listen},
                              {"port", std::to_string(http.port())},
                              {"tls", config->insecure_http ? "off" : "mutual"},
                              {"era", info.highest.era},
                              {"rev", std::to_string(info.highest.rev)},
                              {"objects", absl::StrJoin(agent::ManagedObjects(*config), ",")},
                              {"in_doubt", absl::StrJoin(s->InDoubt(), ",")}});
  if (info.highest.rev == 0) {
    log::Warn("agent-not-pinned",
              {{"detail", "every call is refused (NO_EPOCH) until switchyard-agent pin-epoch"}});
  }
  while (!stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(50));  // signal
  log::Info("stopping", {{"reason", "signal"}});
  s->Stop();  // running operations reach their next commit point or end
  http.Stop();
  service->reset();
  log::Info("stopped");
  return 0;
}

int PinAgentEpoch(const AgentOptions& options, std::ostream& out, std::ostream& err) {
  absl::StatusOr<agent::AgentConfig> config = LoadConfig(options);
  if (!config.ok()) {
    err << "switchyard-agent pin-epoch: " << config.status().message() << "\n";
    return 2;
  }
  absl::StatusOr<std::unique_ptr<agent::EpochStore>> store =
      agent::EpochStore::Open(config->state_directory);
  if (absl::IsInvalidArgument(store.status()) && options.force) {
    // An epoch file that cannot be read: --force keeps it aside for the operator and
    // writes a new one.
    const std::string path = config->state_directory + "/epoch.json";
    if (std::rename(path.c_str(), (path + ".unreadable").c_str()) == 0) {
      out << "moved the unreadable " << path << " to " << path << ".unreadable\n";
      store = agent::EpochStore::Open(config->state_directory);
    }
  }
  if (!store.ok()) {
    err << "switchyard-agent pin-epoch: " << store.status().message() << "\n";
    return 2;
  }
  const agent::Epoch before = (*store)->Highest();
  const agent::Epoch wanted{options.era, options.rev};
  if (absl::Status s = (*store)->Pin(wanted, options.force); !s.ok()) {
    err << "switchyard-agent pin-epoch: " << s.message() << "\n";
    return absl::IsFailedPrecondition(s) ? 1 : 2;
  }
  out << "pinned " << config->state_directory << "/epoch.json to era " << wanted.era << ", rev "
      << wanted.rev;
  if (before.rev > 0) {
    out << " (was era " << before.era << ", rev " << before.rev << ")";
  } else {
    out << " (was never pinned)";
  }
  out << "\n";
  return 0;
}

int ShowAgent(const AgentOptions& options, std::ostream& out, std::ostream& err) {
  absl::StatusOr<agent::AgentConfig> config = LoadConfig(options);
  if (!config.ok()) {
    err << "switchyard-agent show: " << config.status().message() << "\n";
    return 2;
  }
  absl::StatusOr<std::unique_ptr<agent::EpochStore>> store =
      agent::EpochStore::Open(config->state_directory);
  if (!store.ok()) {
    err << "switchyard-agent show: " << store.status().message() << "\n";
    return 2;
  }
  agent::JournalOptions jo;
  jo.read_only = true;
  absl::StatusOr<std::unique_ptr<agent::Journal>> journal =
      agent::Journal::Open(config->state_directory, jo);
  if (!journal.ok()) {
    err << "switchyard-agent show: " << journal.status().message() << "\n";
    return 2;
  }
  const agent::Epoch e = (*store)->Highest();
  out << "id:          " << config->id << "\n";
  out << "state:       " << config->state_directory << "\n";
  out << "era:         " << (e.rev > 0 ? e.era : "(never pinned)") << "\n";
  out << "highest rev: " << e.rev << "\n";
  const std::vector<agent::JournalStart> open = (*journal)->Unfinished();
  out << "in doubt:    " << (open.empty() ? "none" : std::to_string(open.size())) << "\n";
  for (const agent::JournalStart& s : open) {
    out << "  " << s.op_id << "  " << model::Describe(s.step) << "  " << s.object << "  epoch "
        << agent::FormatEpoch(s.epoch) << "\n";
  }
  return 0;
}

}  // namespace sy::app
