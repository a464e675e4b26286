// switchyard: the controller daemon. Parses flags, installs signal handling, runs app::Run.
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdlib>
#include <iostream>

#include "pkg/app/app.h"
#include "pkg/app/epoch_file.h"

namespace {

std::atomic<bool> g_stop{false};

// First SIGTERM/SIGINT: graceful stop (the step in flight finishes); second: exit 1 at once.
void OnSignal(int) {
  if (g_stop.exchange(true)) std::_Exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  sy::app::Options o;
  CLI::App cli{"switchyard: declarative blue-green controller for nginx + PostgreSQL"};
  cli.add_option("--manifests", o.manifests,
                 "DeploymentColor manifest file or directory (a GitOps checkout), watched; "
                 "without it resources come from the API only");
  cli.add_option("--state-dir", o.state_dir, "where status, the last valid specs and the lock live")
      ->capture_default_str();
  cli.add_option("--listen", o.listen,
                 "HTTP address for /healthz, /readyz, /metrics and the API "
                 "(empty: none)")
      ->capture_default_str();
  cli.add_option("--tls-cert", o.tls_cert, "serve HTTPS with this PEM certificate (with --tls-key)")
      ->check(CLI::ExistingFile);
  cli.add_option("--tls-key", o.tls_key, "the PEM private key of --tls-cert")
      ->check(CLI::ExistingFile);
  cli.add_flag("--auth-reads", o.auth_reads,
               "API reads and /metrics need the bearer token too (<state-dir>/token; writes "
               "always do)");
  cli.add_option("--allowed-host", o.allowed_hosts,
                 "a name clients use in the Host header besides IP addresses and localhost "
                 "(e.g. the TLS certificate's); others are refused, against DNS rebinding");
  cli.add_flag("--once", o.once, "reconcile until every resource converged or failed, then exit");
  int once_timeout = static_cast<int>(o.once_timeout.count());
  cli.add_option("--once-timeout", once_timeout, "seconds --once waits before giving up")
      ->capture_default_str();
  int resync_ms = static_cast<int>(o.resync.count());
  cli.add_option("--resync-ms", resync_ms, "re-observe every resource this often")
      ->capture_default_str();
  cli.add_option("--workers", o.workers, "resources reconciled in parallel")->capture_default_str();
  int step_timeout = static_cast<int>(o.step_timeout.count());
  cli.add_option("--step-timeout-seconds", step_timeout,
                 "how long stopping, starting or promoting a PostgreSQL server may take before "
                 "the step gives up (it is retried with backoff)")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  cli.add_option("--agent-ca", o.agent_ca,
                 "PEM CA that switchyard-agent certificates must chain to (mutual TLS to the "
                 "agents a spec names; with --agent-cert and --agent-key)")
      ->check(CLI::ExistingFile);
  cli.add_option("--agent-cert", o.agent_cert,
                 "PEM client certificate this daemon presents to the agents")
      ->check(CLI::ExistingFile);
  cli.add_option("--agent-key", o.agent_key, "the PEM private key of --agent-cert")
      ->check(CLI::ExistingFile);
  cli.add_flag("--agent-insecure-http", o.agent_insecure_http,
               "testing only: reach agents over plain HTTP, neither side authenticated");
  cli.add_option("--log-level", o.log_level, "debug, info, warn or error")->capture_default_str();
  cli.add_option("--fault-kill-after-steps", o.kill_after_steps,
                 "testing only: SIGKILL ourselves after this many steps")
      ->group("");
  std::string epoch_state_dir = o.state_dir;
  CLI::App* epoch = cli.add_subcommand(
      "epoch",
      "print this state directory's controller epoch as one JSON line "
      "{\"era\":\"…\",\"epoch\":\"N\"} (creating it if absent), to pin agents with "
      "(switchyard-agent pin-epoch --era … --epoch N)");
  epoch->add_option("--state-dir", epoch_state_dir, "the daemon's state directory")
      ->capture_default_str();
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e) == 0 ? 0 : 2;
  }
  if (epoch->parsed()) return sy::app::PrintEpoch(epoch_state_dir, std::cout, std::cerr);
  o.once_timeout = std::chrono::seconds(once_timeout);
  o.resync = std::chrono::milliseconds(resync_ms);
  o.step_timeout = std::chrono::seconds(step_timeout);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
  std::signal(SIGPIPE, SIG_IGN);
  return sy::app::Run(o, g_stop);
}
