#!/usr/bin/env bash
# Turns the benchmark's samples into its results:
#   OUT/results.json  {meta, figures: {KEY: {unit, n, min, median, p90, max}}, ratios}
#   OUT/results.md    the headline tables (Switchyard vs manual, where the time goes, rejoin
#                     vs size, controller cost, micro-benchmarks) and every figure
#
#   tests/bench/report.sh OUT       (OUT holds samples.tsv, meta.json, load.tsv)
#
# Statistics: median of an even count is the mean of the two middle values; p90 is the
# nearest rank (ceil(0.9 n)). The benchmark reports; it asserts nothing but lost writes.
set -euo pipefail
out=${1:?usage: report.sh OUT}
samples="$out/samples.tsv"
stats="$out/stats.tsv"
[[ -s $samples ]] || { echo "report: no samples in $samples" >&2; exit 1; }

# KEY UNIT N MIN MEDIAN P90 MAX, in the order the keys first appeared.
awk -F'\t' '
  function fmt(x) {
    if (x == int(x)) return sprintf("%d", x)
    return (x >= 100 || x <= -100) ? sprintf("%.0f", x) : sprintf("%.2f", x)
  }
  $3 == "" { next }
  {
    if (!($1 in n)) { order[++k] = $1; unit[$1] = $2 }
    v[$1, ++n[$1]] = $3 + 0
  }
  END {
    for (i = 1; i <= k; i++) {
      key = order[i]; m = n[key]
      for (j = 1; j <= m; j++) a[j] = v[key, j]
      for (j = 2; j <= m; j++) {
        x = a[j]
        for (l = j - 1; l >= 1 && a[l] > x; l--) a[l + 1] = a[l]
        a[l + 1] = x
      }
      med = (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
      r = int(0.9 * m + 0.999999)
      if (r < 1) r = 1
      printf "%s\t%s\t%d\t%s\t%s\t%s\t%s\n", key, unit[key], m, fmt(a[1]), fmt(med), fmt(a[r]), fmt(a[m])
    }
  }' "$samples" >"$stats"

# get KEY FIELD: FIELD (n min median p90 max) of KEY, or "–".
declare -A S=()
while IFS=$'\t' read -r key unit n min med p90 max; do
  S[$key.unit]=$unit
  S[$key.n]=$n
  S[$key.min]=$min
  S[$key.median]=$med
  S[$key.p90]=$p90
  S[$key.max]=$max
done <"$stats"
get() { printf '%s' "${S[$1.$2]:-–}"; }
# cell KEY: "median (p90)" or "–".
cell() {
  [[ -n ${S[$1.median]:-} ]] || { printf '–'; return; }
  if [[ ${S[$1.n]} -gt 1 ]]; then printf '%s (%s)' "${S[$1.median]}" "${S[$1.p90]}"; else printf '%s' "${S[$1.median]}"; fi
}
# rate A B: A's median / B's median, 2 decimals, or "–".
rate() {
  local a=${S[$1.median]:-} b=${S[$2.median]:-}
  [[ -n $a && -n $b && $b != 0 ]] || { printf '–'; return; }
  awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b }'
}
# total KEY: the sum of KEY's samples (for counters: all flips together).
total() { awk -F'\t' -v k="$1" '$1 == k { s += $3; n++ } END { if (n) printf "%d", s; else printf "–" }' "$samples"; }

meta=$(cat "$out/meta.json" 2>/dev/null || echo '{}')
ratios=$(jq -n \
  --arg tq "$(rate flip.quiet.switchyard.total_ms flip.quiet.manual.total_ms)" \
  --arg tl "$(rate flip.load.switchyard.total_ms flip.load.manual.total_ms)" \
  --arg wq "$(rate flip.quiet.switchyard.write_gap_ms flip.quiet.manual.write_gap_ms)" \
  --arg wl "$(rate flip.load.switchyard.write_gap_ms flip.load.manual.write_gap_ms)" \
  '{total_quiet: $tq, total_load: $tl, write_window_quiet: $wq, write_window_load: $wl}
   | with_entries(.value |= (tonumber? // null))')
jq -R -s --argjson meta "$meta" --argjson ratios "$ratios" '
  split("\n") | map(select(length > 0) | split("\t")
    | {key: .[0], value: {unit: .[1], n: (.[2] | tonumber), min: (.[3] | tonumber),
                          median: (.[4] | tonumber), p90: (.[5] | tonumber), max: (.[6] | tonumber)}})
  | from_entries | {meta: $meta, ratios_switchyard_over_manual: $ratios, figures: .}' \
  "$stats" >"$out/results.json"

m() { jq -r "$1 // \"?\"" <<<"$meta"; }
loads=$(awk -F'\t' '$1 != "setup" { split($2, l, " "); printf "%s%s %s", (n++ ? ", " : ""), $1, l[1] }' \
  "$out/load.tsv" 2>/dev/null || true)
# Other people's processes (outside the benchmark's namespaces), per phase: median and max of
# the 5-second samples, in % of one core (the machine has nproc cores).
others=$(awk -F'\t' '$1 != "" && $1 != "setup" {
    if (!($1 in n)) order[++k] = $1
    v[$1, ++n[$1]] = $2 + 0
  }
  END {
    for (i = 1; i <= k; i++) {
      p = order[i]; m = n[p]
      for (j = 1; j <= m; j++) a[j] = v[p, j]
      for (j = 2; j <= m; j++) { x = a[j]; for (l = j - 1; l >= 1 && a[l] > x; l--) a[l + 1] = a[l]; a[l + 1] = x }
      med = (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
      printf "%s%s %.0f/%.0f", (i > 1 ? ", " : ""), p, med, a[m]
    }
  }' "$out/others.tsv" 2>/dev/null || true)

{
  printf '### Benchmark of %s (%s), %s\n\n' "$(m .commit)" "$(m .date)" "$(m .command)"
  printf 'Machine: %s cores, %s, %s GiB; Linux %s; PostgreSQL %s; nginx %s. ' \
    "$(m .nproc)" "$(m .cpu)" "$(m .mem_gib)" "$(m .kernel)" "$(m .postgres)" "$(m .nginx)"
  printf 'Load average (1 min, the benchmark'"'"'s own servers and clients included) at the start of each phase: %s; at the end %s. ' "$loads" "$(m .load_end)"
  [[ -z $others ]] ||
    printf 'CPU used by other processes on the machine (builds, tests), median/max %% of one core per phase: %s. ' "$others"
  printf 'Median (p90) of n runs; ms unless said otherwise.\n\n'

  if grep -q '^flip\.' "$stats"; then
  printf '#### Switchover: Switchyard vs the manual procedure\n\n'
  printf '| figure | quiet: Switchyard | quiet: manual | ratio | load: Switchyard | load: manual | ratio | target (quiet / load) |\n'
  printf '|---|---|---|---|---|---|---|---|\n'
  row() {  # LABEL SUFFIX TARGET
    printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$1" \
      "$(cell "flip.quiet.switchyard.$2")" "$(cell "flip.quiet.manual.$2")" \
      "$(rate "flip.quiet.switchyard.$2" "flip.quiet.manual.$2")" \
      "$(cell "flip.load.switchyard.$2")" "$(cell "flip.load.manual.$2")" \
      "$(rate "flip.load.switchyard.$2" "flip.load.manual.$2")" "$3"
  }
  printf '| flips (n) | %s | %s | | %s | %s | | |\n' "$(get flip.quiet.switchyard.total_ms n)" \
    "$(get flip.quiet.manual.total_ms n)" "$(get flip.load.switchyard.total_ms n)" "$(get flip.load.manual.total_ms n)"
  row "total: manifest change → old primary streaming" total_ms "≤ 500 / –"
  row "write window: longest gap between acknowledged commits (writer every $(m .writer_ms) ms)" write_gap_ms "≤ 120 / ≤ 200"
  row "write window as Switchyard's status reports it" window_status_ms ""
  row "detection: manifest written → first step logged" detect_ms "≤ 200"
  row "HTTP keep-alive (wrk, $(m .wrk_connections) conn.): socket errors per flip" http.wrk.socket_errors ""
  row "HTTP keep-alive: non-2xx per flip" http.wrk.non2xx "0"
  row "HTTP connection per request: socket errors per flip" http.cpr.socket_errors ""
  row "HTTP connection per request: non-2xx per flip" http.cpr.non2xx "0"
  printf '\nAcknowledged writes: %s, lost: **%s** (target 0); commits refused during the windows (retried by the writer): %s.\n\n' \
    "$(get flip.acked_writes median)" "$(get flip.lost_writes median)" "$(get flip.writer.refused median)"
  printf '#### Where the time goes (median of each step'"'"'s own ms)\n\n'
  printf '| Switchyard | quiet | load | | manual | quiet | load |\n|---|---|---|---|---|---|---|\n'
  sy_steps=(detect_ms steps.switch-traffic_ms steps.switch-traffic.served_after_reload_ms
    steps.fence_ms steps.fence.checkpoint_ms steps.fence.shutdown_ms fence_to_promote_ms
    steps.promote_ms steps.promote.writable_ms steps.promote.checkpoint_ms steps.create-slot_ms
    steps.configure-standby_ms steps.start_ms stream_wait_ms between_steps_ms observe_ms)
  sy_names=("detection (debounce + first observation)" "switch-traffic"
    "... of which reload → new color on new connections" "fence"
    "... of which CHECKPOINT (before writes stop)" "... of which fast shutdown (write window)"
    "fence done → promote starts (write window)" "promote" "... of which pg_promote → writable (write window)"
    "... of which CHECKPOINT after it" "create-slot" "configure-standby" "start"
    "start done → streaming seen" "between steps, all (observe + plan + status)" "one observation")
  man_steps=(steps.reload_ms "" "" steps.stop_ms "" "" steps.catch-up_ms steps.promote_ms "" ""
    steps.create-slot_ms steps.basebackup_ms steps.start_ms steps.streaming_ms steps.configure_ms total_ms)
  man_names=("nginx -s reload" "" "" "pg_ctl stop -w (write window)" "" "" "catch-up check (write window)"
    "pg_promote() (write window)" "" "" "create slot" "pg_basebackup" "pg_ctl start -w"
    "wait for streaming" "configure standby" "total")
  for i in "${!sy_steps[@]}"; do
    mq='' ml=''
    if [[ -n ${man_steps[$i]} ]]; then
      mq=$(get "flip.quiet.manual.${man_steps[$i]}" median)
      ml=$(get "flip.load.manual.${man_steps[$i]}" median)
    fi
    printf '| %s | %s | %s | | %s | %s | %s |\n' "${sy_names[$i]}" \
      "$(get "flip.quiet.switchyard.${sy_steps[$i]}" median)" "$(get "flip.load.switchyard.${sy_steps[$i]}" median)" \
      "${man_names[$i]}" "$mq" "$ml"
  done
  printf '| total | %s | %s | | | | |\n\n' "$(get flip.quiet.switchyard.total_ms median)" "$(get flip.load.switchyard.total_ms median)"
  fi

  scales=$(awk -F'\t' '$1 ~ /^rejoin\.s[0-9]+\.db_mb$/ { s = $1; sub(/^rejoin\.s/, "", s); sub(/\..*/, "", s); print s }' "$samples")
  if [[ -n $scales ]]; then
    printf '#### Rejoin vs database size (total: manifest change → old primary streaming; rejoin: first rejoin step → streaming)\n\n'
    printf '| pgbench scale | database | clean switch: total / rejoin | diverged, pg_rewind: total / rejoin / pg_rewind | diverged, rejoinMethod basebackup: total / rejoin / pg_basebackup | manual: total / pg_basebackup |\n'
    printf '|---|---|---|---|---|---|\n'
    for s in $scales; do
      p=rejoin.s$s
      printf '| %s | %s MB | %s / %s | %s / %s / %s | %s / %s / %s | %s / %s |\n' "$s" "$(get "$p.db_mb" median)" \
        "$(get "$p.clean.total_ms" median)" "$(get "$p.clean.rejoin_ms" median)" \
        "$(get "$p.rewind.total_ms" median)" "$(get "$p.rewind.rejoin_ms" median)" "$(get "$p.rewind.steps.rewind_ms" median)" \
        "$(get "$p.basebackup.total_ms" median)" "$(get "$p.basebackup.rejoin_ms" median)" "$(get "$p.basebackup.steps.basebackup_ms" median)" \
        "$(get "$p.manual.total_ms" median)" "$(get "$p.manual.steps.basebackup_ms" median)"
    done
    printf '\n'
  fi

  if [[ -n ${S[cost.resync.cpu_pct_of_core.median]:-}${S[cost.fleet.n1.rss_mb.median]:-} ]]; then
    printf '#### Controller cost\n\n| figure | value | target |\n|---|---|---|\n'
    printf '| CPU per pass of a converged resource (daemon itself), resync %s ms | %s ms | ≤ 2 ms |\n' "$(m .cost_resync_ms)" "$(cell cost.resync.cpu_ms_per_pass)"
    printf '| ... including the processes it starts (pg_controldata, for stopped servers only) | %s ms | |\n' "$(cell cost.resync.cpu_ms_per_pass_with_children)"
    printf '| wall time per pass (observe + plan + status) | %s ms | |\n' "$(cell cost.resync.wall_ms_per_pass)"
    printf '| RSS growth over %s passes | %s KB (from %s MB) | |\n' "$(get cost.rss_growth.passes median)" "$(get cost.rss_growth.kb median)" "$(get cost.rss_growth.start_mb median)"
    for n in 1 10 100; do
      [[ -n ${S[cost.fleet.n$n.rss_mb.median]:-} ]] || continue
      printf '| %s resource(s), resync %s ms: CPU incl. children / RSS / passes per s | %s %% of a core / %s MB / %s | %s |\n' "$n" \
        "$(m .fleet_resync_ms)" "$(get "cost.fleet.n$n.cpu_pct_of_core" median)" "$(get "cost.fleet.n$n.rss_mb" median)" \
        "$(get "cost.fleet.n$n.passes_per_s" median)" "$( ((n == 1)) && echo 'idle RSS ≤ 30 MB')"
    done
    printf '\n'
  fi

  if grep -q '^micro\.' "$stats"; then
    printf '#### Micro-benchmarks (Google Benchmark; time per operation over the repetitions)\n\n'
    printf '| benchmark | unit | n | min | median | p90 | max |\n|---|---|---|---|---|---|---|\n'
    awk -F'\t' '$1 ~ /^micro\./ { k = $1; sub(/^micro\./, "", k); printf "| %s | %s | %s | %s | %s | %s | %s |\n", k, $2, $3, $4, $5, $6, $7 }' "$stats"
    printf '\n%s\n\n' "$(m .micro_note)"
  fi

  printf '<details><summary>Every figure (n / min / median / p90 / max)</summary>\n\n'
  printf '| figure | unit | n | min | median | p90 | max |\n|---|---|---|---|---|---|---|\n'
  awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7 }' "$stats"
  printf '\n</details>\n'
} >"$out/results.md"
