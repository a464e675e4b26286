#!/usr/bin/env bash
# The benchmark: Switchyard's switchover against the manual procedure, in the same run, on the
# real local stack (PostgreSQL 15 blue and green, the shop app twice, nginx), as root.
# Builds what it needs into build-bench/, brings up its own stack (SWITCHYARD_LOCAL_DIR,
# default /tmp/switchyard-bench, in private network and mount namespaces), runs the phases of
# tests/bench/run.sh, prints a Markdown table and writes, in $BENCH_OUT:
#   results.json  per figure n / min / median / p90 / max (+ machine, knobs, ratios)
#   results.md    the tables;   samples.tsv  every sample;   bench/  the logs of the run
# The benchmark reports; it fails (exit 1) only when an acknowledged write was lost or a phase
# could not run. About 5 minutes with the defaults on a 2-core machine.
#
# Knobs (environment):
#   BENCH_PHASES="micro cost flips rejoin"  which phases to run
#   BENCH_FLIPS=10            flips per mode by Switchyard, and as many by the manual procedure
#   BENCH_LOAD=1              also flip under load (0: quiet only)
#   BENCH_WRK_CONNECTIONS=50  wrk's keep-alive connections through nginx under load
#   BENCH_WRITER_MS=5         the external writer commits every N ms
#   BENCH_SETTLE_S=1          pause after each flip
#   BENCH_SCALES="1 20"       pgbench scales of the rejoin phase ("1 20 100" for more; "" none)
#   BENCH_REJOIN_N=3          clean Switchyard flips and manual switches per scale
#   BENCH_DIVERGE_N=2         forced divergences per scale and path (pg_rewind, pg_basebackup)
#   BENCH_DIVERGE_TX=500      pgbench transactions written on the diverging old primary
#   BENCH_COST_RESYNC_MS=10   resync period for the CPU-per-pass measurement
#   BENCH_COST_WINDOWS=5 BENCH_COST_WINDOW_S=2    its measurement windows
#   BENCH_RSS_PASSES=10000    passes for the RSS growth figure (0: skip)
#   BENCH_FLEET="1 10 100" BENCH_FLEET_RESYNC_MS=10000 BENCH_FLEET_WINDOW_S=20   fleet cost
#   BENCH_MICRO_REPS=5 BENCH_MICRO_MIN_TIME=0.2   Google Benchmark repetitions, seconds each
#   BENCH_OUT=build-bench/bench-results   where the results go
#   SY_IT_ISOLATE=1           0: use the machine's loopback (waits for the stack's ports)
#   SY_IT_KEEP=1              leave the stack up afterwards
#   BENCH_SKIP_BUILD=1        do not build (use what build-bench/ holds)
#   BENCH_CMAKE_ARGS="..."    extra cmake configure arguments (e.g. -DSY_DEPS_DIR=...)
#   BENCH_COMMIT=...          what the report names as the code measured (default: git HEAD)
#
# Examples:
#   hack/bench.sh                                  the default run (~5 min)
#   BENCH_FLIPS=30 BENCH_SCALES="1 20 100" hack/bench.sh     more samples, a bigger database
#   BENCH_PHASES=flips BENCH_LOAD=0 BENCH_FLIPS=4 hack/bench.sh   a quick look
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
[[ $(id -u) -eq 0 ]] || { echo "bench: run as root (PostgreSQL runs as the postgres OS user)" >&2; exit 2; }
export SWITCHYARD_BUILD_DIR=${SWITCHYARD_BUILD_DIR:-$root/build-bench}
export SWITCHYARD_LOCAL_DIR=${SWITCHYARD_LOCAL_DIR:-/tmp/switchyard-bench}
export BENCH_OUT=${BENCH_OUT:-$SWITCHYARD_BUILD_DIR/bench-results}
export BENCH_COMMAND="${BENCH_COMMAND:-hack/bench.sh}"

for tool in wrk pgbench jq curl; do
  command -v "$tool" >/dev/null || { echo "bench: '$tool' not found: run hack/install-deps.sh" >&2; exit 2; }
done
if ! command -v perf >/dev/null; then
  # Only the per-pass figures of the controller cost need it (a uprobe counts the passes).
  echo "bench: perf not found; installing linux-perf (per-pass cost figures need it)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends linux-perf \
    >/dev/null 2>&1 || echo "bench: linux-perf could not be installed: per-pass figures are left out"
fi

if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
  echo "bench: building into $SWITCHYARD_BUILD_DIR"
  read -r -a cmake_args <<<"${BENCH_CMAKE_ARGS:-}"
  BUILD_TARGETS="switchyard yardctl shop-app bench_writer bench_http_client micro_bench" \
    bash hack/build.sh "${cmake_args[@]}"
fi

exec bash tests/bench/run.sh
