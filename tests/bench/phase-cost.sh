# shellcheck shell=bash
# shellcheck disable=SC2034,SC2154  # globals shared with run.sh and bench-lib.sh
# The controller-cost phase of the benchmark, on the converged stack:
#   1. one converged resource re-observed every $BENCH_COST_RESYNC_MS ms: CPU per pass, from
#      /proc/<pid>/stat (the daemon's own user+system time, and with its reaped children,
#      i.e. pg_controldata, which only a stopped server needs) over $BENCH_COST_WINDOWS windows of
#      $BENCH_COST_WINDOW_S s;
#   2. RSS growth over $BENCH_RSS_PASSES passes (cost_rss);
#   3. 1, 10 and 100 resources ($BENCH_FLEET), the extra ones paused and observing the same
#      stack, in a manifests directory, at the default resync period ($BENCH_FLEET_RESYNC_MS):
#      CPU (% of one core) and RSS over $BENCH_FLEET_WINDOW_S s; the 1-resource RSS is the
#      idle RSS.
# Passes are counted exactly with a uprobe on Reconciler::Pass (perf probe), else with the
# daemon's switchyard_reconcile_total (two scrapes per window); without either the per-pass
# figures are left out and only CPU per second is reported.

B_CLK_TCK=$(getconf CLK_TCK)

# cpu_ticks PID: "SELF CHILDREN" clock ticks (utime+stime, cutime+cstime) of PID.
cpu_ticks() {
  local s
  s=$(</proc/"$1"/stat)
  s=${s##*) }
  # shellcheck disable=SC2086  # split the fields
  set -- $s
  printf '%s %s' $((${12} + ${13})) $((${14} + ${15}))
}
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# probe_setup: a uprobe on sy::controller::Reconciler::Pass; sets b_probe_event, or returns 1.
probe_setup() {
  b_probe_event=''
  [[ ${BENCH_NO_UPROBE:-0} != 1 ]] || { echo "BENCH_NO_UPROBE=1" >"$IT_ART/perf-probe.log"; return 1; }
  command -v perf >/dev/null || return 1
  if [[ ! -d /sys/kernel/tracing/events ]]; then
    mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || return 1
  fi
  local sym
  sym=$(nm "$IT_SWITCHYARD" 2>/dev/null | awk '$2 ~ /^[tT]$/ && $3 ~ /^_ZN2sy10controller10Reconciler4PassE/ { print $3; exit }')
  [[ -n $sym ]] || return 1
  perf probe -q -d 'probe_switchyard:sy_pass' >/dev/null 2>&1 || true
  perf probe -q -x "$IT_SWITCHYARD" -a "sy_pass=$sym" >"$IT_ART/perf-probe.log" 2>&1 || return 1
  b_probe_event=probe_switchyard:sy_pass
}
probe_teardown() {
  [[ -z ${b_probe_event:-} ]] || perf probe -q -d "$b_probe_event" >/dev/null 2>&1 || true
}

# metrics_passes: the passes the daemon counted so far (switchyard_reconcile_total, summed over
# its labels), or nothing when it serves no /metrics.
metrics_passes() {
  curl -fsS -m 5 "$B_API/metrics" 2>/dev/null |
    awk '/^switchyard_reconcile_total[{ ]/ { s += $NF; n++ } END { if (n) printf "%d\n", s }'
}

# count_passes PID SECONDS: the passes PID runs in the next SECONDS (prints the count): by the
# uprobe, else by the daemon's own counter; without either it just sleeps and prints nothing.
count_passes() {
  if [[ -n $b_probe_event ]]; then
    perf stat -x, -e "$b_probe_event" -p "$1" -- sleep "$2" 2>&1 >/dev/null |
      awk -F, -v e="$b_probe_event" '$3 == e { print $1 }'
    return
  fi
  local m0 m1
  m0=$(metrics_passes)
  sleep "$2"
  m1=$(metrics_passes)
  [[ -z $m0 || -z $m1 ]] || echo $((m1 - m0))
}

# measure_window PID SECONDS: sets w_self_ms, w_child_ms (CPU), w_passes (or ""), w_ms (wall).
measure_window() {
  local pid=$1 secs=$2 c0 c1 t0 t1
  c0=$(cpu_ticks "$pid")
  t0=$(now_ms)
  w_passes=$(count_passes "$pid" "$secs")
  t1=$(now_ms)
  c1=$(cpu_ticks "$pid")
  w_ms=$((t1 - t0))
  w_self_ms=$(((${c1% *} - ${c0% *}) * 1000 / B_CLK_TCK))
  w_child_ms=$(((${c1#* } - ${c0#* }) * 1000 / B_CLK_TCK))
}

# ratio A B [DIGITS]: A / B as a decimal.
ratio() { awk -v a="$1" -v b="$2" -v d="${3:-3}" 'BEGIN { if (b == 0) print ""; else printf "%.*f\n", d, a / b }'; }

cost_resync() {
  local cur=$1 dir=$IT_WORK/cost-resync i resync=${BENCH_COST_RESYNC_MS:-10}
  mkdir -p "$dir"
  write_manifest "$dir/shop.yaml" "$cur"
  b_manifest="$dir/shop.yaml"
  daemon_start cost-resync "$dir" "$IT_WORK/state-cost-resync" --resync-ms "$resync"
  wait_until 60 "Converged on $cur" converged_on "$cur" || fatal "the controller did not converge on $cur"
  sleep 2
  for ((i = 1; i <= ${BENCH_COST_WINDOWS:-5}; i++)); do
    measure_window "$b_daemon_pid" "${BENCH_COST_WINDOW_S:-2}"
    sample cost.resync.cpu_pct_of_core % "$(ratio $((w_self_ms * 100)) "$w_ms" 2)"
    if [[ -n $w_passes && $w_passes -gt 0 ]]; then
      sample cost.resync.passes_per_s count "$(ratio $((w_passes * 1000)) "$w_ms" 1)"
      sample cost.resync.cpu_ms_per_pass ms "$(ratio "$w_self_ms" "$w_passes")"
      sample cost.resync.cpu_ms_per_pass_with_children ms "$(ratio $((w_self_ms + w_child_ms)) "$w_passes")"
      # A pass is requeued `resync` after it ends: the period minus that is the pass itself.
      sample cost.resync.wall_ms_per_pass ms "$(ratio $((w_ms - w_passes * resync)) "$w_passes" 2)"
    fi
  done
  blog "cost: converged resync every $resync ms: ${w_passes:-?} passes in ${w_ms} ms, ${w_self_ms} ms CPU (+${w_child_ms} ms in children)"
  daemon_stop
}

# cost_rss COLOR: RSS growth over $BENCH_RSS_PASSES passes. To get there in well under a
# minute, $BENCH_RSS_RESOURCES resources (one active, the others paused, all observing the
# stack) are re-observed every millisecond by as many workers: a leak per pass shows all the
# same.
cost_rss() {
  local cur=$1 want=${BENCH_RSS_PASSES:-10000} r=${BENCH_RSS_RESOURCES:-4} dir passes=0 rss0 rss1 perf_pid
  ((want > 0)) || return 0
  dir=$(fleet_dir "$r" "$cur")
  daemon_start cost-rss "$dir" "$IT_WORK/state-cost-rss" --resync-ms 1 --workers "$r"
  wait_until 60 "Converged on $cur" converged_on "$cur" || fatal "the controller did not converge on $cur"
  count_passes "$b_daemon_pid" 3 >/dev/null  # warm-up: caches, connections, allocator
  rss0=$(rss_kb "$b_daemon_pid")
  local m0=''
  perf_pid=''
  if [[ -n $b_probe_event ]]; then
    perf stat -x, -I 1000 -e "$b_probe_event" -p "$b_daemon_pid" -o "$IT_ART/rss-passes.csv" &
    perf_pid=$!
    it_pids+=("$perf_pid")
  else
    m0=$(metrics_passes)
    if [[ -z $m0 ]]; then
      blog "cost: RSS growth skipped: neither a uprobe nor /metrics counts the passes"
      daemon_stop
      return 0
    fi
  fi
  local deadline=$((SECONDS + ${BENCH_RSS_MAX_S:-300})) t0
  t0=$(now_ms)
  : >"$IT_ART/rss-series.tsv"
  while ((passes < want && SECONDS < deadline)); do
    sleep 1
    if [[ -n $perf_pid ]]; then
      passes=$(awk -F, -v e="$b_probe_event" '$4 == e { n += $2 } END { print n + 0 }' "$IT_ART/rss-passes.csv")
    else
      passes=$(($(metrics_passes) - m0))
    fi
    printf '%s\t%s\n' "$passes" "$(rss_kb "$b_daemon_pid")" >>"$IT_ART/rss-series.tsv"
  done
  if [[ -n $perf_pid ]]; then
    kill -INT "$perf_pid" 2>/dev/null || true
    wait "$perf_pid" 2>/dev/null || true
  fi
  rss1=$(rss_kb "$b_daemon_pid")
  sample cost.rss_growth.passes count "$passes"
  sample cost.rss_growth.kb KB $((rss1 - rss0))
  sample cost.rss_growth.start_mb MB "$(ratio "$rss0" 1024 1)"
  blog "cost: RSS $rss0 KB -> $rss1 KB over $passes passes of $r resources ($(($(now_ms) - t0)) ms)"
  daemon_stop
}

# fleet_dir N COLOR: a manifests directory with shop (active) and N-1 paused copies.
fleet_dir() {
  local n=$1 cur=$2 dir=$IT_WORK/cost-fleet-$1 i
  rm -rf "$dir"
  mkdir -p "$dir"
  manifest_text "$cur" >"$dir/shop.yaml"
  for ((i = 2; i <= n; i++)); do
    manifest_text "$cur" true '' auto "$(printf 'shop-%03d' "$i")" >"$dir/$(printf 'shop-%03d' "$i").yaml"
  done
  printf '%s' "$dir"
}

objects_observed() { (($(find "$b_state_dir/objects" -name '*.json' 2>/dev/null | wc -l) >= $1)); }

cost_fleet() {
  local cur=$1 n dir
  for n in ${BENCH_FLEET-1 10 100}; do
    dir=$(fleet_dir "$n" "$cur")
    daemon_start "cost-fleet-$n" "$dir" "$IT_WORK/state-fleet-$n" --resync-ms "${BENCH_FLEET_RESYNC_MS:-10000}"
    wait_until 60 "Converged on $cur" converged_on "$cur" || fatal "the controller did not converge on $cur ($n resources)"
    wait_until 120 "all $n resources observed" objects_observed "$n" || fatal "not every resource was observed ($n resources)"
    sleep 3  # past the start-up burst (every resource observed at once)
    measure_window "$b_daemon_pid" "${BENCH_FLEET_WINDOW_S:-20}"
    sample "cost.fleet.n$n.cpu_pct_of_core" % "$(ratio $(((w_self_ms + w_child_ms) * 100)) "$w_ms" 2)"
    sample "cost.fleet.n$n.rss_mb" MB "$(ratio "$(rss_kb "$b_daemon_pid")" 1024 1)"
    [[ -z $w_passes ]] || sample "cost.fleet.n$n.passes_per_s" count "$(ratio $((w_passes * 1000)) "$w_ms" 1)"
    blog "cost: $n resources: $((w_self_ms + w_child_ms)) ms CPU (incl. children) in $w_ms ms, ${w_passes:-?} passes, RSS $(rss_kb "$b_daemon_pid") KB"
    daemon_stop
  done
}

phase_cost() {
  local cur=${b_flips_final:-blue}
  meta_load cost
  if probe_setup; then
    blog "cost: passes counted by the uprobe $b_probe_event"
  else
    blog "cost: no uprobe on Reconciler::Pass ($(tail -n 1 "$IT_ART/perf-probe.log" 2>/dev/null || echo 'perf probe unavailable')); passes counted by switchyard_reconcile_total if /metrics serves it"
  fi
  cost_resync "$cur"
  cost_rss "$cur"
  cost_fleet "$cur"
  probe_teardown
}
