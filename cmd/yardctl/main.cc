// yardctl: the kubectl-like CLI of Switchyard.
//   yardctl apply -f FILE|DIR|-          create or update (server-side apply)
//   yardctl get dc [NAME] [-o table|wide|yaml|json|name] [-w] [-A]
//   yardctl diff -f FILE|DIR|-           exit 0: same, 1: different, 2: error
//   yardctl delete dc NAME... | -f FILE  stop managing (nothing is torn down)
//   yardctl wait dc/NAME --for=condition=Ready [--timeout=60s]
//   yardctl pause dc/NAME | resume dc/NAME
//   yardctl config                       a kubeconfig (server, token) for kubectl
//   yardctl plan -f FILE                 the next step the controller would take, and why
//   yardctl check -f FILE [--to COLOR]   the preflight and steps of a switch (exit 0 / 1 / 2)
//   yardctl validate -f FILE|DIR         decode and validate manifests, changing nothing
//   yardctl certs --dir DIR [--controller ID] [--agent NAME=ADDRESS]
//                                        a private CA and the controller-agent mTLS certificates
#include <CLI/CLI.hpp>
#include <iostream>

#include "absl/time/time.h"
#include "pkg/app/certs.h"
#include "pkg/app/yardctl.h"

namespace {

// "30s", "2m", "1500ms", "1h30m"; a bare number is seconds.
bool ParseTimeout(const std::string& s, std::chrono::milliseconds* out) {
  absl::Duration d;
  if (!absl::ParseDuration(s, &d)) {
    int64_t secs = 0;
    try {
      size_t used = 0;
      secs = std::stoll(s, &used);
      if (used != s.size()) return false;
    } catch (...) {
      return false;
    }
    d = absl::Seconds(secs);
  }
  if (d < absl::ZeroDuration()) return false;
  *out = std::chrono::milliseconds(absl::ToInt64Milliseconds(d));
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  sy::app::CtlOptions o;
  CLI::App cli{"yardctl: drive Switchyard like kubectl drives Kubernetes"};
  cli.require_subcommand(1);
  cli.add_option("--server", o.server,
                 "the daemon's URL (default: the kubeconfig's, else http://127.0.0.1:9753)");
  cli.add_option("--kubeconfig", o.kubeconfig, "take server, token and CA from this kubeconfig");
  cli.add_option("--state-dir", o.state_dir, "the daemon's state directory (where its token is)")
      ->capture_default_str();
  cli.add_option("--token-file", o.token_file, "the bearer token (default: <state-dir>/token)");
  cli.add_option("--certificate-authority", o.ca_file, "PEM certificate to trust for https");
  cli.add_flag("--insecure-skip-tls-verify", o.insecure, "do not verify the server's certificate");
  cli.add_option("-n,--namespace", o.namespace_,
                 "namespace (default: the kubeconfig's, else default)");
  std::vector<std::string> args;
  std::string timeout;
  std::string dry_run = "none";
  auto dry_run_flag = [&](CLI::App* c) {
    c->add_option("--dry-run", dry_run, "server: the server checks everything and stores nothing")
        ->check(CLI::IsMember({"none", "server"}));
  };

  auto* apply = cli.add_subcommand("apply", "create or update resources from manifests");
  apply->add_option("-f,--filename", o.files, "manifest file, directory or - (stdin)")->required();
  dry_run_flag(apply);

  auto* get = cli.add_subcommand("get", "show DeploymentColors and their status");
  get->add_option("args", args, "dc [NAME...] or dc/NAME")->required();
  get->add_option("-o,--output", o.output, "table, wide, yaml, json or name")
      ->check(CLI::IsMember({"table", "wide", "yaml", "json", "name"}))
      ->capture_default_str();
  get->add_flag("-w,--watch", o.watch, "after listing, print every change as it happens");
  get->add_flag("-A,--all-namespaces", o.all_namespaces, "every namespace");
  get->add_option("--timeout", timeout, "with -w: stop after this long (e.g. 30s)");

  auto* diff = cli.add_subcommand("diff", "show what apply would change (exit 1 if anything)");
  diff->add_option("-f,--filename", o.files, "manifest file, directory or - (stdin)")->required();

  auto* del = cli.add_subcommand("delete", "stop managing resources (nothing is torn down)");
  del->add_option("args", args, "dc NAME... or dc/NAME");
  del->add_option("-f,--filename", o.files, "the resources of these manifests");
  del->add_flag("--ignore-not-found", o.ignore_not_found, "a missing resource is no error");
  dry_run_flag(del);

  auto* wait = cli.add_subcommand("wait", "wait until a condition holds");
  wait->add_option("args", args, "dc/NAME, dc NAME or NAME")->required();
  wait->add_option("--for", o.for_condition, "condition=Ready, condition=Ready=False, ...")
      ->required();
  wait->add_option("--timeout", timeout, "give up after this long (default 30s)");

  auto* pause = cli.add_subcommand("pause", "observe and report only (spec.paused: true)");
  pause->add_option("args", args, "dc/NAME, dc NAME or NAME")->required();
  auto* resume = cli.add_subcommand("resume", "act again (spec.paused: false)");
  resume->add_option("args", args, "dc/NAME, dc NAME or NAME")->required();

  cli.add_subcommand("config", "print a kubeconfig for kubectl (server, token, CA)");

  auto* plan =
      cli.add_subcommand("plan", "observe the world and print the next step, changing nothing");
  plan->add_option("-f,--filename", o.files, "manifest file, directory or -")->required();

  auto* check = cli.add_subcommand(
      "check", "observe the world and print the checks and steps of a switch, changing nothing");
  check->add_option("-f,--filename", o.files, "manifest file, directory or -")->required();
  std::string to;
  check
      ->add_option("--to", to,
                   "the color to check a switch to (default: spec.activeColor unless it is "
                   "already the primary, else the other color)")
      ->check(CLI::IsMember({"blue", "green"}));
  check->footer(
      "Exit codes:\n"
      "  0  the switch would go ahead: the primary is known and no blocking check fails\n"
      "     (warnings, marked !, may)\n"
      "  1  it would not, or not yet: a check marked ✗ fails, no server or both run as\n"
      "     the primary, or the controller would hold or first make the target a streaming\n"
      "     standby\n"
      "  2  an error: a missing, unreadable or invalid manifest, a usage error, a world that\n"
      "     cannot be observed");

  auto* validate = cli.add_subcommand("validate", "decode and validate manifests");
  validate->add_option("-f,--filename", o.files, "manifest file, directory or -")->required();

  sy::app::CertsOptions c;
  auto* certs = cli.add_subcommand(
      "certs", "mint a private CA and the mutual-TLS certificates of controllers and agents");
  certs->add_option("--dir", c.dir, "where the files go (made 0700; its CA is reused)")->required();
  certs->add_option("--cluster", c.cluster,
                    "the cluster the controllers belong to (default: the CA's, else local)");
  certs->add_option("--controller", c.controllers,
                    "a controller's ID: controller-ID.crt/.key, a client certificate naming "
                    "switchyard://CLUSTER/controller/ID (repeatable)");
  certs->add_option("--agent", c.agents,
                    "NAME=ADDRESS[:PORT], ADDRESS an IP address or DNS name: agent-NAME.crt/.key, "
                    "a server certificate for ADDRESS (repeatable)");
  certs->add_option("--days", c.days, "how long the certificates are valid")
      ->check(CLI::Range(1, sy::app::certs::kMaxDays))
      ->capture_default_str();
  certs->add_flag("--force", c.force,
                  "replace existing certificates and keys, and a CA that cannot sign");

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = cli.exit(e);
    return rc == 0 ? 0 : 2;
  }
  if (!timeout.empty() && !ParseTimeout(timeout, &o.timeout)) {
    std::cerr << "error: --timeout " << timeout << ": use a duration such as 30s or 2m\n";
    return 2;
  }
  o.dry_run = dry_run == "server";
  if (!to.empty()) o.to = sy::api::ParseColor(to);
  const bool kind_optional = wait->parsed() || pause->parsed() || resume->parsed();
  if (!args.empty() && !sy::app::ParseTargets(args, kind_optional, &o.names, std::cerr)) return 2;
  std::ostream& out = std::cout;
  std::ostream& err = std::cerr;
  if (apply->parsed()) return sy::app::CtlApply(o, out, err);
  if (get->parsed()) return sy::app::CtlGet(o, out, err);
  if (diff->parsed()) return sy::app::CtlDiff(o, out, err);
  if (del->parsed()) return sy::app::CtlDelete(o, out, err);
  if (wait->parsed()) return sy::app::CtlWait(o, out, err);
  if (pause->parsed()) return sy::app::CtlSetPaused(o, true, out, err);
  if (resume->parsed()) return sy::app::CtlSetPaused(o, false, out, err);
  if (plan->parsed()) return sy::app::CtlPlan(o, out, err);
  if (check->parsed()) return sy::app::CtlCheck(o, out, err);
  if (validate->parsed()) return sy::app::CtlValidate(o, out, err);
  if (certs->parsed()) return sy::app::CtlCerts(c, out, err);
  return sy::app::CtlConfig(o, out, err);
}
