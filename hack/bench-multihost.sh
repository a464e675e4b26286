#!/usr/bin/env bash
# shellcheck disable=SC2317  # the exits after the phases (which end in exit) are a safeguard
# The multi-host benchmark: the same flips on one machine and across hosts, in one run, as root.
#   (a) single host: the local stack (hack/local-up.sh) in private network and mount namespaces,
#       the daemon on it, BENCH_FLIPS flips under the ledger writer (tests/bench/writer.cc: one
#       commit every BENCH_WRITER_MS ms through the two-server connection string);
#   (b) several hosts: the multi-host stack (hack/multihost-up.sh: agents on web, dbb and dbg,
#       the controller in ctl) under its own prefix and work dir, BENCH_FLIPS flips under the
#       ledger writer running in cli;
#   (c) agent calls: the controller's switchyard_agent_request_seconds histogram over the flips,
#       per verb, and BENCH_AGENT_CALLS sequential calls from ctl with the controller's
#       certificate in one curl (GET /v1/info, and a read-only POST /v1/observe of blue's
#       database on dbb).
# Every flip is declared the same way in both (spec.activeColor applied with yardctl through the
# API) and measured the same way: total = declared -> status.lastSwitchover.finishedAt (the pass
# that saw Converged on the new color, read through the API); the write window = the longest
# gap between acknowledged commits around the flip (the ledger's acks); the acknowledged writes
# during the flip and the acknowledged writes lost (bench_writer --verify after each flip).
# Meanwhile the CPU that processes outside the benchmark used is sampled every ~3 s, as
# hack/bench.sh does. Prints Markdown tables and writes, in BENCH_OUT:
#   results.json (n / min / median / p90 / p99 / max of every figure, the histogram, the other
#   processes' CPU), results.md, samples.tsv, flips.tsv, others.tsv, logs/.
# Exits 1 when an acknowledged write was lost or a phase could not run. Every phase is bounded
# (BENCH_PHASE_TIMEOUT_S); all traffic stays in the benchmark's namespaces (the single-host
# stack's private loopback; the multi-host stack's 10.200.0.0/24, reached only from its hosts).
#
# Knobs (environment):
BENCH_FLIPS=${BENCH_FLIPS:-10}                # flips per phase
BENCH_WRITER_MS=${BENCH_WRITER_MS:-5}         # the ledger writer commits every N ms
BENCH_SETTLE_S=${BENCH_SETTLE_S:-1}           # pause after each flip
BENCH_AGENT_CALLS=${BENCH_AGENT_CALLS:-200}   # direct agent calls per verb (after one warm-up)
BENCH_PHASES=${BENCH_PHASES:-single multi}    # which phases run
BENCH_PHASE_TIMEOUT_S=${BENCH_PHASE_TIMEOUT_S:-900}  # a phase that runs longer is stopped
BENCH_FLIP_TIMEOUT_S=${BENCH_FLIP_TIMEOUT_S:-120}    # one flip's bound
BENCH_API_PORT=${BENCH_API_PORT:-19791}       # the single-host daemon's API (private loopback)
BENCH_OUT=${BENCH_OUT:-/tmp/switchyard-bench-multihost.out}
SWITCHYARD_LOCAL_DIR=${SWITCHYARD_LOCAL_DIR:-/tmp/switchyard-bench-mh-local}
SWITCHYARD_MULTIHOST_DIR=${SWITCHYARD_MULTIHOST_DIR:-/tmp/switchyard-bench-multihost}
MULTIHOST_PREFIX=${MULTIHOST_PREFIX:-syb-}    # namespace names: apart from the tests' syt-
# SWITCHYARD_BUILD_DIR (default ./build) must hold switchyard, yardctl, switchyard-agent,
# shop-app and bench_writer; nothing is built here.
#
#   hack/bench-multihost.sh                       the default run (BENCH_FLIPS=2 took ~1 min on 2 cores)
#   BENCH_FLIPS=2 hack/bench-multihost.sh         a quick look
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export BENCH_FLIPS BENCH_WRITER_MS BENCH_SETTLE_S BENCH_AGENT_CALLS BENCH_FLIP_TIMEOUT_S \
  BENCH_API_PORT SWITCHYARD_LOCAL_DIR SWITCHYARD_MULTIHOST_DIR MULTIHOST_PREFIX
export SWITCHYARD_BUILD_DIR=${SWITCHYARD_BUILD_DIR:-$root/build}
export B_OUT=$BENCH_OUT SY_IT_ARTIFACTS=$BENCH_OUT/logs

# --- the phases, each in a process of its own ------------------------------------------------
case ${1:-} in
  __single)
    export SY_IT_ISOLATE=1
    # shellcheck source=tests/integration/engine/lib.sh
    source "$root/tests/integration/engine/lib.sh"  # re-executes this script under unshare
    # shellcheck source=tests/bench/multihost-phases.sh
    source "$root/tests/bench/multihost-phases.sh"
    bench_single
    exit
    ;;
  __multi)
    export MULTIHOST_AGENTS=1 MULTIHOST_CONTROLLER=1
    # shellcheck source=tests/integration/multihost/lib.sh
    source "$root/tests/integration/multihost/lib.sh"
    # shellcheck source=tests/bench/multihost-phases.sh
    source "$root/tests/bench/multihost-phases.sh"
    bench_multi
    exit
    ;;
  "") ;;
  *)
    sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit 2
    ;;
esac

[[ $(id -u) -eq 0 ]] || { echo "bench-multihost: run as root (namespaces; PostgreSQL runs as postgres)" >&2; exit 2; }
for tool in jq curl top nsenter unshare ip; do
  command -v "$tool" >/dev/null || { echo "bench-multihost: '$tool' not found (hack/install-deps.sh)" >&2; exit 2; }
done
for bin in cmd/switchyard/switchyard cmd/yardctl/yardctl cmd/switchyard-agent/switchyard-agent \
  tests/bench/bench_writer; do
  if [[ ! -x $SWITCHYARD_BUILD_DIR/$bin ]]; then
    echo "bench-multihost: $SWITCHYARD_BUILD_DIR/$bin is missing (hack/build.sh)" >&2
    exit 2
  fi
done

blog() { printf '%s bench-multihost: %s\n' "$(date -u +%H:%M:%S)" "$*"; }

mkdir -p "$B_OUT"
rm -rf "$B_OUT"/{samples.tsv,flips.tsv,others.tsv,results.json,results.md,metrics-*.txt,agent-*,curl-*,.mine,.phase,logs}
: >"$B_OUT/samples.tsv"
: >"$B_OUT/.mine"
: >"$B_OUT/others.tsv"

# --- the CPU other processes use ---------------------------------------------------------------

# others_cpu: % of one core (as top counts) used over one second by processes that are neither
# in the benchmark's network namespaces (OUT/.mine) nor in this script's process group.
others_cpu() {
  local mine_pgid sum=0 pid pct ns pg top_out
  mine_pgid=$(ps -o pgid= -p $$ | tr -d ' ')
  top_out=$(top -b -n 2 -d 1 | awk '/^top -/ { f++ } f == 2 && $1 ~ /^[0-9]+$/ && $9 + 0 > 0 { print $1, $9 }')
  while read -r pid pct; do
    [[ -n $pid ]] || continue
    ns=$(stat -L -c %i "/proc/$pid/ns/net" 2>/dev/null) || continue
    grep -qx "$ns" "$B_OUT/.mine" 2>/dev/null && continue
    pg=$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ')
    [[ $pg == "$mine_pgid" ]] && continue
    sum=$(awk -v a="$sum" -v b="$pct" 'BEGIN { print a + b }')
  done <<<"$top_out"
  printf '%.0f' "$sum"
}

sampler() {
  local phase
  while [[ -f $B_OUT/.sampling ]]; do
    phase=$(cat "$B_OUT/.phase" 2>/dev/null || echo setup)
    printf '%s\t%s\n' "${phase:-setup}" "$(others_cpu)" >>"$B_OUT/others.tsv"
    sleep 2
  done
}
touch "$B_OUT/.sampling"
sampler &
sampler_pid=$!
cleanup() {
  rm -f "$B_OUT/.sampling"
  kill "$sampler_pid" 2>/dev/null || true
  wait "$sampler_pid" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
failed=()
for phase in $BENCH_PHASES; do
  case $phase in single | multi) ;; *) blog "unknown phase '$phase' (single multi)"; exit 2 ;; esac
  blog "phase $phase: $BENCH_FLIPS flips (logs: $SY_IT_ARTIFACTS/bench-$phase)"
  # --foreground: the phase stays in this process group (the CPU sampler counts it as ours);
  # on time-out it gets SIGTERM and its trap brings its stack down, SIGKILL 60 s later.
  timeout --foreground -k 60 "$BENCH_PHASE_TIMEOUT_S" bash "$0" "__$phase" 2>&1 |
    sed -u 's/^/  | /'
  rc=${PIPESTATUS[0]}
  ((rc == 0)) || { blog "phase $phase failed (exit $rc)"; failed+=("$phase"); }
done
cleanup

# --- the report -------------------------------------------------------------------------------
bash "$root/tests/bench/multihost-report.sh" "$B_OUT" "$load_start" || failed+=(report)
[[ ! -s $B_OUT/results.md ]] || cat "$B_OUT/results.md"
printf '\nresults: %s/results.json, %s/results.md; logs: %s\n' "$B_OUT" "$B_OUT" "$SY_IT_ARTIFACTS"
lost=$(awk -F'\t' '$1 ~ /\.lost_writes$/ { s += $3 } END { print s + 0 }' "$B_OUT/samples.tsv")
if ((lost > 0)); then
  echo "bench-multihost: $lost ACKNOWLEDGED WRITES LOST" >&2
  exit 1
fi
if ((${#failed[@]})); then
  echo "bench-multihost: failed: ${failed[*]}" >&2
  exit 1
fi
