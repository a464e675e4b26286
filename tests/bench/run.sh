#!/usr/bin/env bash
# The benchmark driver; hack/bench.sh builds what it needs and runs it (the knobs are
# documented there). Brings the local stack up in its own SWITCHYARD_LOCAL_DIR (by default in
# private network and mount namespaces, so that nobody else's stack on the machine shares its
# ports), runs the phases, writes $BENCH_OUT/results.{json,md} and prints the Markdown. Exits
# non-zero when an acknowledged write was lost or a phase could not run.
#
# Phases ($BENCH_PHASES, default "micro cost flips rejoin"):
#   micro   Google Benchmark micro-benchmarks (tests/bench/micro_bench.cc)
#   cost    controller cost (phase-cost.sh)
#   flips   Switchyard vs the manual procedure, quiet and under load (phase-flips.sh)
#   rejoin  rejoin cost vs database size (phase-rejoin.sh)
# shellcheck disable=SC2317  # phase_* and the trap handler are called indirectly
set -uo pipefail
export SWITCHYARD_LOCAL_DIR=${SWITCHYARD_LOCAL_DIR:-/tmp/switchyard-bench}
export SY_IT_ISOLATE=${SY_IT_ISOLATE:-1}
export BENCH_OUT=${BENCH_OUT:-${SWITCHYARD_BUILD_DIR:-$(pwd)/build-bench}/bench-results}
export SY_IT_ARTIFACTS=$BENCH_OUT
# shellcheck source=tests/integration/engine/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../integration/engine/lib.sh"
B_OUT=$BENCH_OUT
# shellcheck source=tests/bench/bench-lib.sh
source "$IT_ROOT/tests/bench/bench-lib.sh"
# shellcheck source=tests/bench/phase-cost.sh
source "$IT_ROOT/tests/bench/phase-cost.sh"
# shellcheck source=tests/bench/phase-flips.sh
source "$IT_ROOT/tests/bench/phase-flips.sh"
# shellcheck source=tests/bench/phase-rejoin.sh
source "$IT_ROOT/tests/bench/phase-rejoin.sh"

phase_micro() {
  local bin="$B_BIN/micro_bench"
  if [[ ! -x $bin ]]; then
    blog "micro: $bin is not built (Google Benchmark missing): skipped"
    return
  fi
  meta_load micro
  "$bin" --benchmark_repetitions="${BENCH_MICRO_REPS:-5}" \
    --benchmark_min_time="${BENCH_MICRO_MIN_TIME:-0.2}" --benchmark_out="$B_OUT/micro.json" \
    --benchmark_out_format=json >"$IT_ART/micro.out" 2>&1 || fatal "micro_bench failed: $(tail -n 5 "$IT_ART/micro.out")"
  jq -r '.benchmarks[] | select(.run_type == "iteration" and (.error_occurred | not))
    | [.run_name, .time_unit, .cpu_time] | @tsv' "$B_OUT/micro.json" |
    while IFS=$'\t' read -r name unit t; do sample "micro.$name" "$unit" "$t"; done
  local skipped
  skipped=$(jq -r '.benchmarks[] | select(.error_occurred) | "\(.name): \(.error_message)"' "$B_OUT/micro.json" | sort -u)
  [[ -z $skipped ]] || fail "micro-benchmarks that do not measure what they should: $skipped"
}

write_meta() {
  local commit=${BENCH_COMMIT:-}
  if [[ -z $commit ]]; then
    commit=$(git -C "$IT_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
    git -C "$IT_ROOT" diff --quiet HEAD -- pkg cmd 2>/dev/null || commit="$commit + uncommitted changes in pkg/ or cmd/"
  fi
  local micro_note=''
  if [[ -s $B_OUT/micro.json ]] && ! grep -q BM_Metrics "$B_OUT/micro.json"; then
    micro_note='Metrics serialization: not measured (micro_bench was built without pkg/metrics).'
  fi
  jq -n \
    --arg commit "$commit" --arg date "$(date -u +%Y-%m-%dT%H:%MZ)" \
    --arg command "${BENCH_COMMAND:-hack/bench.sh}" \
    --arg nproc "$(nproc)" --arg cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" \
    --arg mem_gib "$(awk '/^MemTotal:/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo)" \
    --arg kernel "$(uname -r)" \
    --arg postgres "$("$SY_PG_BIN/postgres" --version | awk '{ print $3 }')" \
    --arg nginx "$("$SY_NGINX" -v 2>&1 | sed 's#.*nginx/##')" \
    --arg load_start "$(cut -d' ' -f1-3 /proc/loadavg)" --arg load_end "${1:-}" \
    --arg writer_ms "${BENCH_WRITER_MS:-5}" --arg wrk_connections "${BENCH_WRK_CONNECTIONS:-50}" \
    --arg cost_resync_ms "${BENCH_COST_RESYNC_MS:-10}" --arg fleet_resync_ms "${BENCH_FLEET_RESYNC_MS:-10000}" \
    --arg flips "${BENCH_FLIPS:-10}" --arg load "${BENCH_LOAD:-1}" --arg scales "${BENCH_SCALES-1 20}" \
    --arg phases "$B_PHASES" --arg micro_note "$micro_note" \
    --arg isolated "${SY_IT_ISOLATED:-0}" \
    '{commit: $commit, date: $date, command: $command, nproc: $nproc, cpu: $cpu, mem_gib: $mem_gib,
      kernel: $kernel, postgres: $postgres, nginx: $nginx, load_start: $load_start,
      load_end: $load_end, writer_ms: $writer_ms, wrk_connections: $wrk_connections,
      cost_resync_ms: $cost_resync_ms, fleet_resync_ms: $fleet_resync_ms, flips: $flips,
      load: $load, scales: $scales, phases: $phases, micro_note: $micro_note,
      private_namespaces: ($isolated == "1")}' >"$B_OUT/meta.json"
}

bench_report() {
  [[ -s $B_SAMPLES ]] || return 0
  write_meta "$(cut -d' ' -f1-3 /proc/loadavg)"
  if bash "$IT_ROOT/tests/bench/report.sh" "$B_OUT"; then
    printf '\n'
    cat "$B_OUT/results.md"
    printf '\nresults: %s/results.json, %s/results.md; logs: %s\n' "$B_OUT" "$B_OUT" "$IT_ART"
  else
    fail "tests/bench/report.sh could not make the report"
  fi
}

bench_cleanup() {
  local rc=$?
  rm -f "$B_OUT/.phase"
  probe_teardown
  if ((!b_reported)); then
    b_reported=1
    bench_report
  fi
  (exit "$rc")
  it_cleanup
}

B_PHASES=${BENCH_PHASES:-micro cost flips rejoin}
b_reported=0
mkdir -p "$B_OUT"
rm -f "$B_OUT"/{samples.tsv,stats.tsv,flips.tsv,load.tsv,others.tsv,results.json,results.md,micro.json}
: >"$B_SAMPLES"
it_begin bench
trap bench_cleanup EXIT
command -v wrk >/dev/null || fatal "wrk not found (hack/install-deps.sh installs it)"
command -v pgbench >/dev/null || fatal "pgbench not found (postgresql-client-15)"
for tool in "$B_WRITER" "$B_HTTP_CLIENT"; do
  [[ -x $tool ]] || fatal "$tool is missing: hack/bench.sh builds it"
done
psql_setup() {
  "$SY_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SY_HOST" -p "${SY_PG_PORT[blue]}" \
    -U "$SY_SUPERUSER" -d "$SY_DATABASE" -c \
    'CREATE TABLE IF NOT EXISTS bench_writes (id bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())'
}
psql_setup || fatal "creating table bench_writes on blue"
blog "stack up in $SY_DIR$( ((${SY_IT_ISOLATED:-0})) && echo ' (private network namespace)'); phases: $B_PHASES; results in $B_OUT"
write_meta
meta_load setup
others_start

for phase in $B_PHASES; do
  case $phase in
    micro | cost | flips | rejoin) "phase_$phase" ;;
    *) fatal "unknown phase '$phase' in BENCH_PHASES (micro cost flips rejoin)" ;;
  esac
done
rm -f "$B_OUT/.phase"
b_reported=1
bench_report
it_end
