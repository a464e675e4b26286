// The composition root: the only place real implementations (libpqxx, nginx, processes,
// HTTP) are built and wired to the controller.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "pkg/api/types.h"

namespace sy::app {

struct Options {
  std::string manifests;  // --manifests FILE|DIR ("": resources come from the API only)
  std::string state_dir = "/var/lib/switchyard";
  std::string listen = "127.0.0.1:9753";  // "" disables the HTTP endpoint
  std::string tls_cert;                   // --tls-cert and --tls-key: serve HTTPS
  std::string tls_key;
  bool auth_reads = false;  // --auth-reads: reads need the token too (writes always do)
  // --allowed-host: Host header names accepted besides IP addresses and localhost.
  std::vector<std::string> allowed_hosts;
  bool once = false;
  std::chrono::seconds once_timeout{300};
  std::chrono::milliseconds resync{10000};
  int workers = 2;
  // How long a stop, start or promotion of a PostgreSQL server may take before the step
  // gives up (and is retried with backoff).
  std::chrono::seconds step_timeout{60};
  // Mutual TLS to switchyard-agent (all three or none): the CA the agents' certificates
  // chain to, and this daemon's client certificate and key.
  std::string agent_ca;
  std::string agent_cert;
  std::string agent_key;
  // Tests only: agents over plain HTTP, neither side authenticated.
  bool agent_insecure_http = false;
  std::string log_level = "info";
  int kill_after_steps = 0;  // fault injection for crash tests (hidden flag)
};

// Runs the daemon until `stop` is set (or, with --once, until every resource settled).
// Returns the process exit code: 0 success; 1 a resource failed or did not converge in time
// (--once); 2 bad flags or start-up error (message on stderr).
int Run(const Options& options, const std::atomic<bool>& stop);

// The agent addresses the resources' specs name (databases and nginx), each once.
std::vector<std::string> AgentsOf(const std::vector<api::DeploymentColor>& resources);

}  // namespace sy::app
