// yardctl's commands, as functions of their options and streams (testable without a process).
// Each returns the exit code: 0 ok; 1 failure (message on err: the server's answer, an
// unreachable server, an invalid manifest, a timeout); 2 usage error. `diff` returns 0 when
// nothing differs, 1 when something does, 2 on errors, like kubectl diff.
#pragma once

#include <chrono>
#include <iostream>
#include <istream>
#include <ostream>
#include <string>
#include <vector>

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

// Reads "dc NAME...", "deploymentcolor(s)[.switchyard.dev] NAME..." and "dc/NAME" arguments
// into names; with `kind_optional`, bare names too. False (message on err) for another kind.
bool ParseTargets(const std::vector<std::string>& args, bool kind_optional,
                  std::vector<std::string>* names, std::ostream& err);

// A line-based unified diff of `a` and `b` (3 lines of context), "" when they are equal.
std::string UnifiedDiff(const std::string& a, const std::string& b, const std::string& a_label,
                        const std::string& b_label);

}  // namespace sy::app
