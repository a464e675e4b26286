# shellcheck shell=bash
# shellcheck disable=SC2034  # overlaps_found and monitor_samples are read by the tests
# Part of tests/integration/engine/lib.sh, which sources it: watching for two writable
# primaries. two_primaries asks both servers once; the primary monitor asks every 50 ms in
# the background; the fast monitor samples both servers every few ms with one psql session
# each and finds overlapping primary periods afterwards (check_fast_monitor).

# primary_probe COLOR: "f|<postmaster start>" for a primary, "t|..." for a standby, "" if down.
primary_probe() {
  pg "$1" postgres "SELECT CASE WHEN pg_is_in_recovery() THEN 't' ELSE 'f' END || '|' ||
    pg_postmaster_start_time()" || true
}

# two_primaries: true (and prints evidence) if blue and green are writable primaries at the
# same time. Sound despite asking one after the other: blue is asked before and after green,
# and a postmaster that answers "primary" twice with the same start time was a primary the
# whole time in between (a primary becomes a standby only by a restart).
two_primaries() {
  local b1 g b2
  b1=$(primary_probe blue)
  [[ $b1 == f\|* ]] || return 1
  g=$(primary_probe green)
  [[ $g == f\|* ]] || return 1
  b2=$(primary_probe blue)
  [[ $b2 == "$b1" ]] || return 1
  printf 'blue primary since %s and green primary since %s, both at %s\n' \
    "${b1#f|}" "${g#f|}" "$(date -u +%H:%M:%S.%3N)"
}

# assert_not_two_primaries WHEN: a check, between steps.
assert_not_two_primaries() {
  local evidence
  if evidence=$(two_primaries); then
    fail "never two primaries ($1): $evidence"
  else
    pass "not two primaries ($1)"
  fi
}

# start_primary_monitor: polls two_primaries in the background until the test ends; any
# sighting goes to $IT_ART/two-primaries.log (checked by check_primary_monitor).
start_primary_monitor() {
  : >"$IT_ART/two-primaries.log"
  touch "$IT_WORK/monitor.on"
  (
    n=0
    while [[ -f $IT_WORK/monitor.on ]]; do
      two_primaries >>"$IT_ART/two-primaries.log" || true
      n=$((n + 1))
      echo "$n" >"$IT_ART/monitor.count"
      sleep 0.05
    done
  ) &
  monitor_pid=$!
  it_pids+=("$monitor_pid")
}
check_primary_monitor() {
  local n
  rm -f "$IT_WORK/monitor.on"
  wait_until 15 "the primary monitor to stop" it_pid_gone "$monitor_pid" || kill "$monitor_pid" 2>/dev/null
  n=$(cat "$IT_ART/monitor.count" 2>/dev/null || echo 0)
  if [[ -s $IT_ART/two-primaries.log ]]; then
    fail "never two primaries (continuous monitor, $n samples): $(head -n 3 "$IT_ART/two-primaries.log" | tr '\n' ';')"
  else
    pass "never two primaries (continuous monitor: $n samples, none saw both)"
  fi
}

# start_fast_monitor ... stop_fast_monitor, then primary_overlaps: each server is sampled
# every SY_IT_SAMPLE_S (default 0.003) seconds by one long-lived psql session (\watch) --
# which keeps sampling a server whose postmaster is frozen (its backend still runs) --
# reconnecting when the server goes away: "<server clock epoch>|<pg_is_in_recovery>|
# <postmaster start time>" per sample.
SAMPLE_SQL="SELECT extract(epoch FROM clock_timestamp()), pg_is_in_recovery(), pg_postmaster_start_time()"

sampler() {
  local c=$1
  while [[ -f $IT_WORK/monitor.on ]]; do
    printf '%s\n\\watch %s\n' "$SAMPLE_SQL" "${SY_IT_SAMPLE_S:-0.003}" |
      "${IT_CLIENT[@]}" "$SY_PG_BIN/psql" -X -At -q -h "${IT_PG_HOST[$c]}" -p "${IT_PG_PORT[$c]}" \
        -U "$SY_SUPERUSER" -d postgres >>"$IT_ART/samples-$c.log" 2>/dev/null &
    echo "$!" >"$IT_WORK/sampler-$c.pid"
    wait "$!"
    sleep 0.005
  done
}

declare -A sampler_pids
start_fast_monitor() {
  touch "$IT_WORK/monitor.on"
  local c
  for c in blue green; do
    : >"$IT_ART/samples-$c.log"
    sampler "$c" &
    sampler_pids[$c]=$!
    it_pids+=("$!")
  done
}

stop_fast_monitor() {
  rm -f "$IT_WORK/monitor.on"
  local c i pid
  for c in blue green; do
    for ((i = 0; i < 100; i++)); do
      it_pid_gone "${sampler_pids[$c]}" && break
      pid=$(cat "$IT_WORK/sampler-$c.pid" 2>/dev/null)
      # Only while it is still the sampler's psql (a pid can be reused).
      if [[ -n $pid && $(ps -o ppid= -p "$pid" 2>/dev/null | tr -d ' ') == "${sampler_pids[$c]}" ]]; then
        kill -TERM "$pid" 2>/dev/null
      fi
      sleep 0.05
    done
    wait "${sampler_pids[$c]}" 2>/dev/null
  done
}

# primary_overlaps: prints one line per overlap of a blue and a green primary period, then a
# last line "samples <blue> <green> <seconds covered>". A period is a run of samples of one
# server answering "primary" with the same postmaster start time: a primary becomes a standby
# only by a restart, so it was a primary all along between the run's first and last sample.
primary_overlaps() {
  awk -F'|' '
    function close_run(c) {
      if (open[c]) { n = ++runs[c]; s[c, n] = first[c]; e[c, n] = last[c]; open[c] = 0 }
    }
    FNR == 1 { c = FILENAME ~ /samples-blue/ ? "blue" : "green" }
    NF == 3 && $1 ~ /^[0-9]+(\.[0-9]+)?$/ {
      t = $1 + 0; count[c]++
      if (lo == "" || t < lo) lo = t
      if (t > hi) hi = t
      if ($2 == "f" && open[c] && start[c] == $3) { last[c] = t; next }
      close_run(c)
      if ($2 == "f") { open[c] = 1; first[c] = last[c] = t; start[c] = $3 }
    }
    END {
      close_run("blue"); close_run("green")
      for (i = 1; i <= runs["blue"]; i++) for (j = 1; j <= runs["green"]; j++) {
        a = s["blue", i] > s["green", j] ? s["blue", i] : s["green", j]
        b = e["blue", i] < e["green", j] ? e["blue", i] : e["green", j]
        if (a <= b) printf "overlap: blue primary %.3f..%.3f, green primary %.3f..%.3f\n",
          s["blue", i], e["blue", i], s["green", j], e["green", j]
      }
      printf "samples %d %d %.1f\n", count["blue"], count["green"], hi - lo
    }' "$IT_ART/samples-blue.log" "$IT_ART/samples-green.log"
}

# check_fast_monitor: stops the fast monitor and checks that no two primary periods
# overlapped; sets overlaps_found and monitor_samples for the test's figures.
check_fast_monitor() {
  local lines summary b g covered
  stop_fast_monitor
  mapfile -t lines < <(primary_overlaps)
  summary=${lines[-1]}
  unset 'lines[-1]'
  read -r _ b g covered <<<"$summary"
  overlaps_found=${#lines[@]}
  monitor_samples="$b blue + $g green samples over ${covered}s"
  check "the fast monitor sampled both servers ($monitor_samples)" test "$b" -gt 100 -a "$g" -gt 100
  check "never two primaries: $overlaps_found overlapping primary periods ($monitor_samples)" \
    test "$overlaps_found" -eq 0
  ((overlaps_found == 0)) || printf '    %s\n' "${lines[@]:0:5}"
}
