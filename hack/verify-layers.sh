#!/usr/bin/env bash
# Checks the layering of pkg/: a package includes headers only of the packages it may depend
# on. Dependencies point downward; nothing below knows what is above it. The rules (the
# packages each may include besides itself; the same rules are in the README's "Layout"):
# Run by hack/test.sh; exit 1 with each offending file:line and include when a rule breaks.
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A allowed=(
  [util]=""                        # logging, clock, status macros, command runner, files
  [api]="util"                     # the resource and its validation
  [codec]="api util"               # YAML/JSON to and from the resource
  [model]="api util"               # world snapshot, LSN, step, topology, safety predicates,
                                   # the observer interfaces
  [host]="model api util"          # the servers' machines: PostgreSQL client, data
                                   # directories, processes (interfaces, local implementations)
  [observe]="host model api util"  # reads the world (PostgreSQL, nginx, upstreams)
  [plan]="model api util"          # the pure planner and status: no I/O
  [actuate]="host model api util"  # one step; never plan or observe (the rules it re-checks
                                   # and the observers it re-checks through are in model)
  [source]="codec api util"        # the store and the GitOps manifest source
  [controller]="plan actuate observe source model api util"  # the reconcile loop
  [metrics]="model api util"       # Prometheus exposition of model::PassReport
  [server]="source codec api util" # the Kubernetes-shaped HTTP API
  [agent]="server actuate observe host model codec api util"  # switchyard-agent and the
                                   # controller's side of its protocol
  [app]="*"                        # the composition root: flags, wiring, yardctl
)

bad=0
for dir in pkg/*/; do
  pkg=$(basename "$dir")
  if [[ -z ${allowed[$pkg]+set} ]]; then
    echo "verify-layers: pkg/$pkg has no rule: add one to hack/verify-layers.sh and the README" >&2
    bad=1
    continue
  fi
  rule=${allowed[$pkg]}
  [[ $rule == "*" ]] && continue
  while IFS=: read -r file line text; do
    dep=${text#*\"pkg/}
    dep=${dep%%/*}
    [[ $dep == "$pkg" ]] && continue
    if [[ " $rule " != *" $dep "* ]]; then
      echo "verify-layers: $file:$line: pkg/$pkg may not include pkg/$dep: $text" >&2
      bad=1
    fi
  done < <(grep -rn --include='*.h' --include='*.cc' '^[[:space:]]*#[[:space:]]*include[[:space:]]*"pkg/' "$dir" || true)
done
if ((bad)); then
  echo "verify-layers: FAILED (rules at the top of hack/verify-layers.sh)" >&2
  exit 1
fi
echo "verify-layers: pkg/ follows its layering"
