#!/usr/bin/env bash
# Integration test of the real local stack: hack/local-up.sh, then checks against the running
# PostgreSQL servers, apps and nginx, a second local-up, and hack/local-down.sh.
# Runs as root (PostgreSQL runs as the postgres OS user). Uses the fixed ports
# 15433 15434 18080 18081 18082, which must be free: CTest runs it RUN_SERIAL.
#
# Environment: SWITCHYARD_BUILD_DIR (where shop-app is built), SWITCHYARD_LOCAL_DIR (the
# stack's work dir; default /tmp/switchyard-it-stack, deleted at the end).
set -euo pipefail

export SWITCHYARD_LOCAL_DIR=${SWITCHYARD_LOCAL_DIR:-/tmp/switchyard-it-stack}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=hack/lib/local-stack.sh
source "$root/hack/lib/local-stack.sh"
SY_LOG_PREFIX=local_stack_test

failures=0
pass() { printf 'PASS: %s\n' "$*"; }
fail() {
  printf 'FAIL: %s\n' "$*"
  failures=$((failures + 1))
}
# check DESCRIPTION COMMAND...: PASS or FAIL by the command's exit status.
check() {
  local what=$1
  shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}

# Whatever happens, leave no stack behind (local-down is idempotent).
cleanup() {
  local rc=$?
  "$root/hack/local-down.sh" --purge >/dev/null 2>&1 || {
    echo "local_stack_test: cleanup: local-down failed; what still listens:" >&2
    ss -ltnp | grep -E ":($(IFS='|'; echo "${SY_PORTS[*]}")) " >&2 || true
  }
  exit "$rc"
}

psql_at() {  # psql_at PORT DB SQL
  "$SY_PG_BIN/psql" -X -At -h "$SY_HOST" -p "$1" -U "$SY_SUPERUSER" -d "$2" -c "$3"
}

precheck_ports() {
  local port busy=0
  for port in "${SY_PORTS[@]}"; do
    if sy_port_listening "$port"; then
      echo "FAIL: port $port is already in use by $(sy_port_owner "$port"); the test needs it free"
      busy=1
    fi
  done
  ((busy == 0)) || exit 1
}

# Every pid of the stack: the apps, nginx's master and workers, each postmaster and its
# children. Recorded while it runs, to prove afterwards that none survived local-down.
stack_pids() {
  local pid
  for pid in "$(sy_nginx_pid)" "$(sy_app_pid blue)" "$(sy_app_pid green)" \
    "$(sy_pg_pid blue)" "$(sy_pg_pid green)"; do
    [[ -n $pid ]] || continue
    echo "$pid"
    pgrep -P "$pid" || true
  done
}

# Polls up to 5 s for the order ID to be visible on green (replication is asynchronous).
order_on_green() {
  local id=$1 deadline=$((SECONDS + 5))
  while ((SECONDS < deadline)); do
    [[ $(psql_at "${SY_PG_PORT[green]}" "$SY_DATABASE" "SELECT count(*) FROM orders WHERE id = $id" 2>/dev/null) == 1 ]] &&
      return 0
    sleep 0.1
  done
  return 1
}

main() {
  [[ $(id -u) -eq 0 ]] || { echo "FAIL: must run as root"; exit 1; }
  precheck_ports
  trap cleanup EXIT
  trap 'exit 130' INT TERM  # so that the EXIT trap runs when CTest or a user stops the test
  "$root/hack/local-down.sh" --purge >/dev/null  # a leftover of an earlier, killed run

  local t0 t1 out
  t0=$(date +%s%3N)
  if ! out=$("$root/hack/local-up.sh" 2>&1); then
    printf '%s\n' "$out"
    fail "local-up brings the stack up"
    exit 1
  fi
  t1=$(date +%s%3N)
  printf '%s\n' "$out"
  pass "local-up brings the stack up ($((t1 - t0)) ms)"

  check "blue (15433) is a primary" \
    test "$(psql_at "${SY_PG_PORT[blue]}" postgres 'SELECT pg_is_in_recovery()')" = f
  check "green (15434) is a standby" \
    test "$(psql_at "${SY_PG_PORT[green]}" postgres 'SELECT pg_is_in_recovery()')" = t
  check "green streams from blue (pg_stat_replication: green|streaming)" \
    test "$(psql_at "${SY_PG_PORT[blue]}" postgres \
      "SELECT application_name || '|' || state FROM pg_stat_replication")" = "green|streaming"
  check "green uses slot switchyard_green on blue" \
    test "$(psql_at "${SY_PG_PORT[blue]}" postgres \
      "SELECT active FROM pg_replication_slots WHERE slot_name = 'switchyard_green'")" = t

  local headers body
  headers=$(curl -fsS -m 5 -D - -o /dev/null "http://$SY_HOST:$SY_NGINX_PORT/" | tr -d '\r') || true
  body=$(curl -fsS -m 5 "http://$SY_HOST:$SY_NGINX_PORT/") || true
  check "nginx on 18080 answers with header X-Switchyard-Color: blue" \
    grep -qix 'x-switchyard-color: blue' <<<"$headers"
  check "nginx on 18080 answers body 'blue'" test "$body" = blue
  check "the upstream file is Switchyard's rendering for blue" \
    grep -qx '# Managed by Switchyard (default/shop): traffic goes to blue. Do not edit: it is rewritten.' \
    "$SY_UPSTREAM_FILE"

  local response status id
  response=$(curl -sS -m 10 -w '\n%{http_code}' -X POST \
    "http://$SY_HOST:$SY_NGINX_PORT/orders?note=local_stack_test") || true
  status=${response##*$'\n'}
  id=$(sed -n 's/.*"id":\([0-9]*\).*/\1/p' <<<"$response")
  if [[ $status == 201 && -n $id && $response == *'"color":"blue"'* ]]; then
    pass "POST /orders through nginx commits order $id on blue"
    check "order $id is visible on green" order_on_green "$id"
  else
    fail "POST /orders through nginx: got '${response//$'\n'/ }'"
  fi

  if out=$("$root/hack/local-up.sh" 2>&1); then
    pass "local-up a second time succeeds"
    check "the second local-up reports all five pieces already running" \
      test "$(grep -c 'already running' <<<"$out")" -eq 5
    check "the second local-up started nothing" test "$(grep -c 'started (pid' <<<"$out")" -eq 0
  else
    printf '%s\n' "$out"
    fail "local-up a second time succeeds"
  fi

  local pids
  pids=$(stack_pids)
  if "$root/hack/local-down.sh"; then pass "local-down succeeds"; else fail "local-down succeeds"; fi
  check "nothing listens on ${SY_PORTS[*]}" sy_ports_free
  local pid left=()
  for pid in $pids; do
    if sy_pid_alive "$pid"; then
      left+=("$pid")
    fi
  done
  if ((${#left[@]} == 0)); then
    pass "no process of the stack remains ($(wc -w <<<"$pids") recorded)"
  else
    fail "processes of the stack remain: $(ps -o pid=,args= -p "${left[*]// /,}" 2>/dev/null | tr '\n' ';')"
  fi
  out=$("$root/hack/local-down.sh" 2>&1) || fail "local-down a second time succeeds"
  check "local-down a second time says nothing is running" grep -q 'nothing is running' <<<"$out"

  if ((failures)); then
    echo "FAIL: local_stack_test: $failures check(s) failed"
    exit 1
  fi
  echo "PASS: local_stack_test"
}

main "$@"
