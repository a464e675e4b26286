// yardctl: the kubectl-like CLI of Switchyard.
//   yardctl get dc [NAME] [-o table|yaml|json] [--namespace NS] [--server URL]
//   yardctl plan -f FILE          the next step the controller would take, and why
//   yardctl validate -f FILE      decode and validate manifests, changing nothing
#include <CLI/CLI.hpp>
#include <iostream>

#include "pkg/app/yardctl.h"

int main(int argc, char** argv) {
  sy::app::CtlOptions o;
  CLI::App cli{"yardctl: inspect and drive Switchyard"};
  cli.require_subcommand(1);
  cli.add_option("--server", o.server, "the switchyard daemon's address")->capture_default_str();
  cli.add_option("-n,--namespace", o.namespace_, "namespace")->capture_default_str();

  auto* get = cli.add_subcommand("get", "show DeploymentColors and their status");
  std::string kind;
  get->add_option("kind", kind, "dc | deploymentcolor | deploymentcolors")->required();
  get->add_option("name", o.name, "one resource");
  get->add_option("-o,--output", o.output, "table, yaml or json")
      ->check(CLI::IsMember({"table", "yaml", "json"}))
      ->capture_default_str();
  get->add_flag("-A,--all-namespaces", o.all_namespaces, "every namespace");

  auto* plan =
      cli.add_subcommand("plan", "observe the world and print the next step, changing nothing");
  plan->add_option("-f,--filename", o.file, "manifest file")->required();

  auto* validate = cli.add_subcommand("validate", "decode and validate manifests");
  validate->add_option("-f,--filename", o.file, "manifest file or directory")->required();

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e) == 0 ? 0 : 2;
  }
  if (get->parsed()) {
    if (kind != "dc" && kind != "deploymentcolor" && kind != "deploymentcolors") {
      std::cerr << "error: the server doesn't have a resource type \"" << kind << "\"\n";
      return 2;
    }
    return sy::app::CtlGet(o, std::cout, std::cerr);
  }
  if (plan->parsed()) return sy::app::CtlPlan(o, std::cout, std::cerr);
  return sy::app::CtlValidate(o, std::cout, std::cerr);
}
