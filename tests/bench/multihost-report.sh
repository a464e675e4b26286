#!/usr/bin/env bash
# The report of hack/bench-multihost.sh: OUT/results.md (Markdown tables) and OUT/results.json
# from OUT/samples.tsv ("KEY<TAB>UNIT<TAB>VALUE"), OUT/others.tsv ("PHASE<TAB>% of a core") and
# the controller's /metrics before and after the flips (OUT/metrics-{before,after}.txt).
#
#   tests/bench/multihost-report.sh OUT [LOAD_AT_START]
#
# Statistics as tests/bench/report.sh: the median of an even count is the mean of the two
# middle values, p90 and p99 are nearest ranks. Histogram quantiles are interpolated linearly
# within a bucket (as Prometheus' histogram_quantile).
set -euo pipefail
out=${1:?usage: multihost-report.sh OUT [LOAD_AT_START]}
load_start=${2:-}
samples="$out/samples.tsv"
[[ -s $samples ]] || { echo "multihost-report: no samples in $samples" >&2; exit 1; }

# KEY UNIT N MIN MEDIAN P90 P99 MAX, in the order the keys first appeared.
awk -F'\t' '
  function fmt(x) { return (x == int(x)) ? sprintf("%d", x) : ((x >= 100) ? sprintf("%.0f", x) : sprintf("%.2f", x)) }
  function rank(q, m,   r) { r = int(q * m + 0.999999); return r < 1 ? 1 : r }
  $3 == "" { next }
  {
    if (!($1 in n)) { order[++k] = $1; unit[$1] = $2 }
    v[$1, ++n[$1]] = $3 + 0
  }
  END {
    for (i = 1; i <= k; i++) {
      key = order[i]; m = n[key]
      for (j = 1; j <= m; j++) a[j] = v[key, j]
      for (j = 2; j <= m; j++) { x = a[j]; for (l = j - 1; l >= 1 && a[l] > x; l--) a[l + 1] = a[l]; a[l + 1] = x }
      med = (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
      printf "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", key, unit[key], m, fmt(a[1]), fmt(med),
        fmt(a[rank(0.9, m)]), fmt(a[rank(0.99, m)]), fmt(a[m])
    }
  }' "$samples" >"$out/stats.tsv"

declare -A S=()
while IFS=$'\t' read -r key _unit n min med p90 p99 max; do
  S[$key.n]=$n S[$key.min]=$min S[$key.median]=$med S[$key.p90]=$p90 S[$key.p99]=$p99 S[$key.max]=$max
done <"$out/stats.tsv"
get() { printf '%s' "${S[$1.$2]:-–}"; }
cell() { [[ -n ${S[$1.median]:-} ]] && printf '%s (%s)' "${S[$1.median]}" "${S[$1.p90]}" || printf '–'; }
total() { awk -F'\t' -v k="$1" '$1 == k { s += $3; n++ } END { if (n) printf "%d", s; else printf "–" }' "$samples"; }

# The controller's histogram over the flips (after - before), summed over the agents, per
# verb: VERB COUNT MEAN_MS P50_MS P99_MS.
histogram() {
  [[ -s $out/metrics-after.txt ]] || return 0
  awk '
    function labels(s, name,   r) { r = s; if (!match(r, name "=\"[^\"]*\"")) return ""; r = substr(r, RSTART, RLENGTH); sub(/^[^"]*"/, "", r); sub(/"$/, "", r); return r }
    /^switchyard_agent_request_seconds_(bucket|sum|count)\{/ {
      sign = (FILENAME ~ /before/) ? -1 : 1
      verb = labels($0, "verb"); val = $NF + 0
      if ($0 ~ /_bucket\{/) { le = labels($0, "le"); b[verb, le] += sign * val; les[le] = 1; verbs[verb] = 1 }
      else if ($0 ~ /_sum\{/) sum[verb] += sign * val
      else cnt[verb] += sign * val
    }
    function q(verb, p,   i, r, prev, prevle, le, c) {
      r = p * cnt[verb]; prev = 0; prevle = 0
      for (i = 1; i <= nl; i++) {
        le = sl[i]; c = b[verb, le]
        if (c >= r) {
          if (le == "+Inf") return prevle * 1000
          return (prevle + (le - prevle) * ((c > prev) ? (r - prev) / (c - prev) : 0)) * 1000
        }
        prev = c; if (le != "+Inf") prevle = le
      }
      return prevle * 1000
    }
    END {
      for (le in les) if (le != "+Inf") sl[++nl] = le + 0
      for (i = 2; i <= nl; i++) { x = sl[i]; for (j = i - 1; j >= 1 && sl[j] > x; j--) sl[j + 1] = sl[j]; sl[j + 1] = x }
      for (i = 1; i <= nl; i++) sl[i] = sprintf("%g", sl[i])
      # the bucket keys as the exposition writes them
      for (i = 1; i <= nl; i++) for (le in les) if (le != "+Inf" && le + 0 == sl[i] + 0) sl[i] = le
      sl[++nl] = "+Inf"
      for (verb in verbs) if (cnt[verb] > 0)
        printf "%s\t%d\t%.2f\t%.2f\t%.2f\n", verb, cnt[verb], sum[verb] / cnt[verb] * 1000, q(verb, 0.5), q(verb, 0.99)
    }' "$out/metrics-before.txt" "$out/metrics-after.txt" | sort
}
histogram >"$out/histogram.tsv"

# The other processes' CPU per phase: PHASE MEDIAN MAX N.
awk -F'\t' '$1 != "" {
    if (!($1 in n)) order[++k] = $1
    v[$1, ++n[$1]] = $2 + 0
  }
  END {
    for (i = 1; i <= k; i++) {
      p = order[i]; m = n[p]
      for (j = 1; j <= m; j++) a[j] = v[p, j]
      for (j = 2; j <= m; j++) { x = a[j]; for (l = j - 1; l >= 1 && a[l] > x; l--) a[l + 1] = a[l]; a[l + 1] = x }
      printf "%s\t%.0f\t%.0f\t%d\n", p, (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2, a[m], m
    }
  }' "$out/others.tsv" 2>/dev/null >"$out/others-stats.tsv" || true

# Targets: the multi-host write window within 15 ms of the single-host one (medians); an agent
# call's p50 at most 1.5 ms (the direct GET /v1/info from ctl).
verdict() { if [[ $1 == – || $2 == – ]]; then echo "not measured"; elif awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; then echo met; else echo "NOT met"; fi; }
ws=$(get single.write_gap_ms median)
wm=$(get multi.write_gap_ms median)
wlimit=–
[[ $ws == – ]] || wlimit=$((ws + 15))
window_verdict=$(verdict "$wm" "$wlimit")
call_verdict=$(verdict "$(get agent.direct.info.ms median)" 1.5)
commit=$(git -C "$(dirname "$0")/../.." rev-parse --short HEAD 2>/dev/null || echo unknown)
pg=$( (/usr/lib/postgresql/15/bin/postgres --version 2>/dev/null || echo '? ?') | awk '{ print $3 }')

{
  printf '### Multi-host benchmark of %s (%s), hack/bench-multihost.sh, BENCH_FLIPS=%s\n\n' \
    "$commit" "$(date -u +%Y-%m-%dT%H:%MZ)" "$(get single.total_ms n)/$(get multi.total_ms n)"
  printf 'Machine: %s cores, %s; PostgreSQL %s. Load average at the start: %s, at the end: %s. ' \
    "$(nproc)" "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" "$pg" \
    "${load_start:-?}" "$(cut -d' ' -f1-3 /proc/loadavg)"
  printf 'Writer: one commit every %s ms. Median (p90) over the flips; ms unless said otherwise.\n\n' "${BENCH_WRITER_MS:-5}"
  printf '#### Flips: one host vs several hosts (agents)\n\n'
  printf '| figure | single host | several hosts | target |\n|---|---|---|---|\n'
  printf '| flips (n) | %s | %s | |\n' "$(get single.total_ms n)" "$(get multi.total_ms n)"
  printf '| total: declared (yardctl apply) → Converged on the new color (status.lastSwitchover.finishedAt) | %s | %s | |\n' \
    "$(cell single.total_ms)" "$(cell multi.total_ms)"
  printf '| ... → Converged read through the API (polled every 50 ms) | %s | %s | |\n' "$(cell single.seen_ms)" "$(cell multi.seen_ms)"
  printf '| write window: longest gap between acknowledged commits | %s | %s | several ≤ single + 15 (≤ %s): %s |\n' \
    "$(cell single.write_gap_ms)" "$(cell multi.write_gap_ms)" "$wlimit" "$window_verdict"
  printf '| write window as the status reports it (writeUnavailableMs) | %s | %s | |\n' \
    "$(cell single.window_status_ms)" "$(cell multi.window_status_ms)"
  printf '| acknowledged writes during a flip | %s | %s | |\n' "$(cell single.acked_writes)" "$(cell multi.acked_writes)"
  printf '| acknowledged writes, whole phase | %s | %s | |\n' "$(total single.writer.acked_total)" "$(total multi.writer.acked_total)"
  printf '| acknowledged writes lost, all flips | **%s** | **%s** | 0 |\n' "$(total single.lost_writes)" "$(total multi.lost_writes)"
  printf '| commits refused or not connected (retried by the writer) | %s | %s | |\n\n' \
    "$(total single.writer.refused)" "$(total multi.writer.refused)"

  printf '#### Agent calls\n\n'
  if [[ -s $out/histogram.tsv ]]; then
    # shellcheck disable=SC2016  # backquotes for Markdown
    printf 'The controller'"'"'s `switchyard_agent_request_seconds` over the several-hosts flips (all three agents; p50/p99 interpolated within the buckets 1, 2.5, 5, 10, 25 ms, ...):\n\n'
    printf '| verb | requests | mean | p50 | p99 |\n|---|---|---|---|---|\n'
    awk -F'\t' '{ printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5 }' "$out/histogram.tsv"
    printf '\n'
  fi
  printf 'Direct calls from ctl to the agent on dbb with the controller'"'"'s certificate, %s sequential requests in one curl after one warm-up (a connection is reused while the agent keeps it open):\n\n' \
    "$(get agent.direct.info.ms n)"
  printf '| call | p50 | p90 | p99 | max | first call (TCP + TLS handshake) | new connections after it | p50 / p99 on a reused connection | target |\n|---|---|---|---|---|---|---|---|---|\n'
  for c in info observe; do
    printf '| %s | %s | %s | %s | %s | %s | %s | %s / %s | %s |\n' \
      "$([[ $c == info ]] && echo 'GET /v1/info' || echo 'POST /v1/observe (blue, read-only)')" \
      "$(get "agent.direct.$c.ms" median)" "$(get "agent.direct.$c.ms" p90)" "$(get "agent.direct.$c.ms" p99)" \
      "$(get "agent.direct.$c.ms" max)" "$(get "agent.direct.$c.first_ms" median)" "$(get "agent.direct.$c.reconnects" median)" \
      "$(get "agent.direct.$c.ms_reused" median)" "$(get "agent.direct.$c.ms_reused" p99)" \
      "$([[ $c == info ]] && echo "p50 ≤ 1.5: $call_verdict")"
  done
  printf '\n#### CPU used by other processes (outside the benchmark; %% of one core, median / max of samples over 1 s every ~3 s)\n\n'
  printf '| phase | median | max | samples |\n|---|---|---|---|\n'
  awk -F'\t' '{ printf "| %s | %s | %s | %s |\n", $1, $2, $3, $4 }' "$out/others-stats.tsv"
  if [[ -s $out/flips.tsv ]]; then
    printf '\n<details><summary>Every flip</summary>\n\n'
    printf '| phase | flip | to | total | Converged read | write window | acknowledged writes lost |\n|---|---|---|---|---|---|---|\n'
    awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7 }' "$out/flips.tsv"
    printf '\n</details>\n'
  fi
  printf '\n<details><summary>Every figure (n / min / median / p90 / p99 / max)</summary>\n\n'
  printf '| figure | unit | n | min | median | p90 | p99 | max |\n|---|---|---|---|---|---|---|---|\n'
  awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8 }' "$out/stats.tsv"
  printf '\n</details>\n'
} >"$out/results.md"

jq -n --rawfile stats "$out/stats.tsv" --rawfile hist "$out/histogram.tsv" \
  --rawfile others "$out/others-stats.tsv" --arg commit "$commit" --arg date "$(date -u +%Y-%m-%dT%H:%MZ)" \
  --arg nproc "$(nproc)" --arg load_start "$load_start" --arg load_end "$(cut -d' ' -f1-3 /proc/loadavg)" \
  --arg flips "${BENCH_FLIPS:-10}" --arg writer_ms "${BENCH_WRITER_MS:-5}" \
  --arg window_target "$window_verdict" --arg call_target "$call_verdict" '
  def rows($t): $t | split("\n") | map(select(length > 0) | split("\t"));
  {meta: {commit: $commit, date: $date, nproc: $nproc, load_start: $load_start, load_end: $load_end,
          flips: $flips, writer_ms: $writer_ms, command: "hack/bench-multihost.sh"},
   targets: {write_window_multi_le_single_plus_15ms: $window_target, agent_call_p50_le_1_5ms: $call_target},
   figures: (rows($stats) | map({key: .[0], value: {unit: .[1], n: (.[2] | tonumber), min: (.[3] | tonumber),
     median: (.[4] | tonumber), p90: (.[5] | tonumber), p99: (.[6] | tonumber), max: (.[7] | tonumber)}}) | from_entries),
   agent_request_seconds_during_flips: (rows($hist) | map({key: .[0], value: {requests: (.[1] | tonumber),
     mean_ms: (.[2] | tonumber), p50_ms: (.[3] | tonumber), p99_ms: (.[4] | tonumber)}}) | from_entries),
   other_processes_cpu_pct_of_core: (rows($others) | map({key: .[0], value: {median: (.[1] | tonumber),
     max: (.[2] | tonumber), samples: (.[3] | tonumber)}}) | from_entries)}' >"$out/results.json"
