#!/usr/bin/env bash
# shellcheck disable=SC2317  # some functions are only called through check and wait_until
# Real kubectl (the one on PATH) against the switchyard daemon, through the kubeconfig that
# `yardctl config` prints (HTTPS with a self-signed certificate: kubectl sends a bearer token
# only over TLS). On the real local stack, each command is checked for what the user sees
# and, where it changes the desired color, for the controller converging for real:
#   apply -f, get dc, get dc shop -o yaml, diff -f, get dc -w -o wide (bounded) while
#   edit (a sed EDITOR) flips to green, apply --server-side flips back to blue, the object
#   surviving kill -9 of the daemon, delete -f (nothing torn down), and 401/403.
set -uo pipefail
export SWITCHYARD_LOCAL_DIR=${SWITCHYARD_LOCAL_DIR:-/tmp/switchyard-it-kubectl}
# shellcheck source=tests/integration/engine/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../engine/lib.sh"

KUBECTL=${KUBECTL:-kubectl}
command -v "$KUBECTL" >/dev/null || {
  echo "kubectl: not found (hack/install-deps.sh installs Debian's kubernetes-client)"
  exit 1
}

it_begin kubectl

API="https://$SY_HOST:$IT_API_PORT"
export KUBECONFIG="$IT_WORK/kubeconfig"
export KUBECACHEDIR="$IT_WORK/kube-cache"  # no discovery cache from another run
kc() { "$KUBECTL" --request-timeout=20s "$@"; }
yc() { "$IT_YARDCTL" --kubeconfig "$KUBECONFIG" "$@"; }

# The daemon: the API only (no --manifests), TLS, the state dir's token.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj /CN=switchyard -addext "subjectAltName=IP:$SY_HOST" \
  -keyout "$IT_WORK/tls.key" -out "$IT_WORK/tls.crt" >/dev/null 2>&1 ||
  fatal "openssl makes a self-signed certificate"
start_api_daemon() {
  "$IT_SWITCHYARD" --state-dir "$IT_STATE" --listen "$SY_HOST:$IT_API_PORT" \
    --tls-cert "$IT_WORK/tls.crt" --tls-key "$IT_WORK/tls.key" --resync-ms 500 \
    >>"$IT_ART/daemon.log" 2>&1 </dev/null &
  daemon_pid=$!
  it_pids+=("$daemon_pid")
  wait_until 15 "the daemon to answer $API/readyz" \
    curl -fsS -m 1 --cacert "$IT_WORK/tls.crt" "$API/readyz" ||
    fatal "the daemon is ready"
}
mkdir -p "$IT_STATE"
start_api_daemon
check "the token file is created with mode 600" test "$(stat -c %a "$IT_STATE/token")" = 600
"$IT_YARDCTL" --state-dir "$IT_STATE" --server "$API" --certificate-authority "$IT_WORK/tls.crt" \
  config >"$KUBECONFIG" || fatal "yardctl config prints a kubeconfig"
pass "yardctl config wrote $KUBECONFIG"

# Manifests: blue (as the stack is) and green.
cp "$IT_MANIFEST" "$IT_WORK/blue.yaml"
sed 's/^\(  activeColor:\) *blue/\1 green/' "$IT_MANIFEST" >"$IT_WORK/green.yaml"

# converged COLOR: the API says Converged on COLOR for the current generation.
converged() {
  kc get dc shop -o json | jq -e --arg c "$1" '.status.phase == "Converged" and
    .status.servingColor == $c and .status.primaryColor == $c and
    .status.observedGeneration == .metadata.generation' >/dev/null
}

out=$(kc apply -f "$IT_WORK/blue.yaml" 2>&1)
check "kubectl apply -f: '$out'" test "$out" = "deploymentcolor.switchyard.dev/shop created"
check "the controller reports Converged on blue" wait_until 30 "Converged on blue" converged blue
assert_world blue

out=$(kc get dc 2>&1)
printf '%s\n' "$out" | sed 's/^/    | /'
check "kubectl get dc: the header" grep -Eq '^NAME +DESIRED +SERVING +PRIMARY +PHASE +DRIFT +AGE$' <<<"$out"
check "kubectl get dc: shop blue blue blue Converged" \
  grep -Eq '^shop +blue +blue +blue +Converged +none +[0-9]+s$' <<<"$out"
out=$(kc get dc shop -o yaml 2>&1)
check "kubectl get dc shop -o yaml: the spec" grep -q '^  activeColor: blue$' <<<"$out"
check "kubectl get dc shop -o yaml: the status" grep -q '^  phase: Converged$' <<<"$out"
check "kubectl get dc shop -o yaml: the source" grep -q '^  source: api$' <<<"$out"

gen=$(kc get dc shop -o jsonpath='{.metadata.generation}')
out=$(kc diff -f "$IT_WORK/green.yaml" 2>&1)
rc=$?
check "kubectl diff -f green.yaml exits 1 (got $rc)" test "$rc" -eq 1
check "kubectl diff shows -activeColor: blue +activeColor: green" \
  grep -Pzq -- '-  activeColor: blue\n\+  activeColor: green\n' <<<"$out"
check "kubectl diff changed nothing (generation $gen)" \
  test "$(kc get dc shop -o jsonpath='{.metadata.generation}')" = "$gen"
kc diff -f "$IT_WORK/blue.yaml" >/dev/null 2>&1
rc=$?
check "kubectl diff -f blue.yaml exits 0 (got $rc)" test "$rc" -eq 0

# yardctl plan: observes the real stack and says what it would do, doing nothing.
out=$(yc plan -f "$IT_WORK/green.yaml" 2>&1)
printf '%s\n' "$out" | sed 's/^/    | /'
check "yardctl plan -f green.yaml: the next step is switch-traffic green" \
  grep -q '^  next step: switch-traffic green$' <<<"$out"
out=$(yc plan -f "$IT_WORK/blue.yaml" 2>&1)
check "yardctl plan -f blue.yaml: Converged, no next step" \
  grep -Pzq 'default/shop: Converged .*\n  next step: none\n' <<<"$out"
assert_world blue

# Watch (bounded) while kubectl edit flips to green.
timeout 90 "$KUBECTL" get dc -w -o wide >"$IT_ART/watch.out" 2>&1 &
watch_pid=$!
it_pids+=("$watch_pid")
watch_started() { grep -q '^shop ' "$IT_ART/watch.out"; }
wait_until 10 "kubectl get dc -w to print shop" watch_started || fail "kubectl get dc -w lists shop"
# shellcheck disable=SC2016  # $1 is the editor script's
printf '#!/bin/sh\nsed -i "s/^  activeColor: blue$/  activeColor: green/" "$1"\n' >"$IT_WORK/editor.sh"
chmod +x "$IT_WORK/editor.sh"
t0=$(it_ts)
out=$(EDITOR="$IT_WORK/editor.sh" kc edit dc shop 2>&1)
check "kubectl edit (EDITOR=sed): '$out'" test "$out" = "deploymentcolor.switchyard.dev/shop edited"
check "yardctl wait --for=condition=Ready after the edit" \
  yc wait dc/shop --for=condition=Ready --timeout=60s
check "the controller reports Converged on green" wait_until 30 "Converged on green" converged green
it_log "edit -> Converged on green in $(($(it_ts) - t0)) ms"
assert_world green
watch_done() { grep -Eq '^shop +green +green +green +Converged' "$IT_ART/watch.out"; }
check "kubectl get dc -w shows the converged row" wait_until 10 "the watch to catch up" watch_done
stop_pid "$watch_pid" 5
sed 's/^/    | /' "$IT_ART/watch.out"
steps=$(grep ' Progressing ' "$IT_ART/watch.out" |
  grep -oE '(switch-traffic|fence|promote|create-slot|configure-standby|start|rewind|basebackup) [a-z]+' |
  sort -u)
check "kubectl get dc -w -o wide showed the steps as they happened: $(tr '\n' ';' <<<"$steps")" \
  test "$(grep -c . <<<"$steps")" -ge 3

# Server-side apply flips back to blue.
out=$(kc apply --server-side -f "$IT_WORK/blue.yaml" 2>&1)
check "kubectl apply --server-side: '$out'" \
  test "$out" = "deploymentcolor.switchyard.dev/shop serverside-applied"
check "the controller reports Converged on blue" wait_until 60 "Converged on blue" converged blue
assert_world blue

# Durable: kill -9 the daemon, start it again, the object is the same.
uid=$(kc get dc shop -o jsonpath='{.metadata.uid}')
kill -KILL "$daemon_pid"
wait "$daemon_pid" 2>/dev/null
start_api_daemon
check "after kill -9 and a restart, shop is still there (uid $uid, blue)" \
  test "$(kc get dc shop -o jsonpath='{.metadata.uid} {.spec.activeColor}')" = "$uid blue"

# Authentication, seen by a client without kubectl's help.
code() { curl -s -o /dev/null -w '%{http_code}' --cacert "$IT_WORK/tls.crt" "$@"; }
check "a write without the token is 401" \
  test "$(code -X DELETE "$API$IT_DC_PATH")" = 401
check "a write with a wrong token is 403" \
  test "$(code -X DELETE -H 'Authorization: Bearer nope' "$API$IT_DC_PATH")" = 403

out=$(kc delete -f "$IT_WORK/blue.yaml" 2>&1)
check "kubectl delete -f: '$out'" test "$out" = 'deploymentcolor.switchyard.dev "shop" deleted'
out=$(kc get dc 2>&1)
check "kubectl get dc: '$out'" test "$out" = "No resources found in default namespace."
it_log "deleting tore nothing down:"
assert_world blue

it_end
