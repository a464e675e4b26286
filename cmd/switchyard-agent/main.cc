// switchyard-agent: does the host-local work for the controller on a PostgreSQL server's or
// nginx's machine (pkg/agent/README.md). Parses flags, installs signal handling, runs one of
// app::RunAgent, app::PinAgentEpoch, app::ShowAgent.
#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <iostream>

#include "pkg/app/agent_cmd.h"

namespace {

std::atomic<bool> g_stop{false};

// First SIGTERM/SIGINT: graceful stop (operations reach their next commit point or end);
// second: exit 1 at once.
void OnSignal(int) {
  if (g_stop.exchange(true)) std::_Exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  sy::app::AgentOptions o;
  CLI::App cli{"switchyard-agent: the controller's hands on one PostgreSQL or nginx machine"};
  cli.add_option("--config", o.config, "the agent's YAML configuration")->check(CLI::ExistingFile);
  cli.add_option("--log-level", o.log_level, "debug, info, warn or error")->capture_default_str();
  CLI::App* pin = cli.add_subcommand(
      "pin-epoch", "set the era and the lowest rev a controller needs (before the first call)");
  pin->add_option("--config", o.config, "the agent's YAML configuration")
      ->required()
      ->check(CLI::ExistingFile);
  pin->add_option("--era", o.era, "the controllers' era (their state directory's)")->required();
  pin->add_option("--epoch", o.rev, "the rev: controllers with a lower one are refused")
      ->required()
      ->check(CLI::PositiveNumber);
  pin->add_flag("--force", o.force, "lower the rev of the same era (lets refused controllers in)");
  CLI::App* show = cli.add_subcommand("show", "the era, the highest rev, operations in doubt");
  show->add_option("--config", o.config, "the agent's YAML configuration")
      ->required()
      ->check(CLI::ExistingFile);
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e) == 0 ? 0 : 2;
  }
  if (pin->parsed()) return sy::app::PinAgentEpoch(o, std::cout, std::cerr);
  if (show->parsed()) return sy::app::ShowAgent(o, std::cout, std::cerr);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
  std::signal(SIGPIPE, SIG_IGN);
  return sy::app::RunAgent(o, g_stop);
}
