// yardctl's commands, as functions of their options and streams (testable without a process).
// Each returns the exit code: 0 ok; 1 failure (message on err: the server's answer, an
// unreachable server, an invalid manifest, a timeout); 2 usage error. `diff` returns 0 when
// nothing differs, 1 when something does, 2 on errors, like kubectl diff. `check` returns 0
// when a switch would go ahead, 1 when it would not, 2 on errors (see CtlCheck).
#pragma once

#include <chrono>
#include <iostream>
#include <istream>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "pkg/api/types.h"
#include "pkg/model/world.h"
#include "pkg/util/clock.h"

namespace sy::app {

struct CtlOptions {
  // Where the daemon is and how to authenticate. Flags win over the kubeconfig, which wins
  // over the defaults: http://127.0.0.1:9753 and the token in <state_dir>/token.
  std::string server;      // --server URL
  std::string kubeconfig;  // --kubeconfig FILE (its current context)
  std::string state_dir = "/var/lib/switchyard";
  std::string token_file;  // --token-file (default <state_dir>/token)
  std::string ca_file;     // --certificate-authority PEM file, for https
  bool insecure = false;   // --insecure-skip-tls-verify
  std::string namespace_;  // -n; "" : the kubeconfig's, else "default"
  bool all_namespaces = false;

  std::vector<std::string> names;  // resources named on the command line
  std::string output = "table";    // get: table, wide, yaml, json, name
  std::vector<std::string> files;  // -f FILE|DIR|- (repeatable)
  bool watch = false;              // get -w
  // get -w: stop after this long (0: until interrupted); wait: give up after this long.
  std::chrono::milliseconds timeout{0};
  std::string for_condition;  // wait --for=condition=Ready[=True|False]
  bool dry_run = false;       // apply/delete --dry-run=server: the server checks, stores nothing
  bool ignore_not_found = false;
  std::optional<api::Color> to;  // check --to: the color to check a switch to
  std::istream* in = &std::cin;  // for -f -
};

int CtlApply(const CtlOptions& o, std::ostream& out, std::ostream& err);
int CtlGet(const CtlOptions& o, std::ostream& out, std::ostream& err);
int CtlDiff(const CtlOptions& o, std::ostream& out, std::ostream& err);
int CtlDelete(const CtlOptions& o, std::ostream& out, std::ostream& err);
int CtlWait(const CtlOptions& o, std::ostream& out, std::ostream& err);
// pause / resume: sets spec.paused of each named resource.
int CtlSetPaused(const CtlOptions& o, bool paused, std::ostream& out, std::ostream& err);
// Prints a kubeconfig (server, token, certificate authority) for kubectl.
int CtlConfig(const CtlOptions& o, std::ostream& out, std::ostream& err);
int CtlPlan(const CtlOptions& o, std::ostream& out, std::ostream& err);
int CtlValidate(const CtlOptions& o, std::ostream& out, std::ostream& err);

// check -f FILE [--to COLOR]: for each resource of the manifests, observes the world as `plan`
// does and prints the preflight of a switch (plan::Preflight: every check with what was
// observed and its limit, the message of each that fails) and the steps it would take
// (plan::SwitchSteps), changing nothing. The switch checked goes to spec.activeColor when that
// color is not the running primary, else to the other color (the next flip); `to` overrides.
// Exit code, the worst over the resources: 0 a switch would go ahead (the primary is known,
// no blocking check fails; warnings may); 1 it would not, or not yet (a blocking check fails,
// no server or both run as the primary, the target already is, or the controller would hold
// or first make the target a streaming standby); 2 an error (no, unreadable or invalid
// manifest, a world that cannot be observed).
int CtlCheck(const CtlOptions& o, std::ostream& out, std::ostream& err);

// The report of `check` for one resource and the world observed for it, at `now` (the
// planner's clock); `to` as CtlOptions::to. Returns 0 or 1 as CtlCheck. Pure: no I/O but `out`.
int RenderCheck(const api::DeploymentColor& dc, const model::World& world,
                std::optional<api::Color> to, std::chrono::system_clock::time_point now,
                std::ostream& out);

// What `yardctl certs` mints (see CtlCerts).
struct CertsOptions {
  std::string dir;                       // --dir: where the files go (made 0700)
  std::string cluster;                   // --cluster; "": the existing CA's, else "local"
  std::vector<std::string> controllers;  // --controller ID (repeatable)
  std::vector<std::string> agents;       // --agent NAME=ADDRESS[:PORT] (repeatable)
  // --days: how long the certificates are valid. 825 days is the longest that Apple's TLS
  // clients accept for a server certificate, and the CA/Browser Forum's former limit.
  int days = 825;
  bool force = false;  // --force: replace existing leaf files, and a CA that cannot sign
  const util::Clock* clock = &util::RealClock::Get();
};

// certs: writes into `dir` a private CA (ca.crt, ca.key: made on the first run, reused on
// later ones) and, signed by it, a client certificate and key per controller
// (controller-<ID>.crt/.key, URI switchyard://<cluster>/controller/<ID>) and a server
// certificate and key per agent (agent-<NAME>.crt/.key, IP or DNS = ADDRESS), then prints
// which file goes to which machine and the settings that use them (pkg/app/certs.h says
// what the certificates hold). Keys are written 0600, certificates 0644, each atomically.
// Exit code 0; 1 when a file is in the way (an existing leaf without --force; a CA that
// cannot sign, or half of one, without --force; a CA of another cluster: then nothing is
// written) or cannot be read or written; 2 for a usage error (a bad name or address, a name
// given twice, --days out of range).
int CtlCerts(const CertsOptions& o, std::ostream& out, std::ostream& err);

// Reads "dc NAME...", "deploymentcolor(s)[.switchyard.dev] NAME..." and "dc/NAME" arguments
// into names; with `kind_optional`, bare names too. False (message on err) for another kind.
bool ParseTargets(const std::vector<std::string>& args, bool kind_optional,
                  std::vector<std::string>* names, std::ostream& err);

// A line-based unified diff of `a` and `b` (3 lines of context), "" when they are equal.
std::string UnifiedDiff(const std::string& a, const std::string& b, const std::string& a_label,
                        const std::string& b_label);

}  // namespace sy::app
