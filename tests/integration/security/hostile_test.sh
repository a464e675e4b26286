#!/usr/bin/env bash
# shellcheck disable=SC2317  # some functions are only called through check and wait_until
# Hostile clients against the real switchyard daemon on the real local stack (~2 min). Each
# attack runs for a bounded time and number of connections on 127.0.0.1 (hostile_client),
# while /healthz is asked on a fresh connection every 50 ms and a flip blue -> green -> blue
# runs through the manifest:
#   slow-headers     60 connections sending a head one byte per 500 ms, reopened when closed
#                    (the cap is 64 per client: each is cut at its 10 s deadline), then 400
#                    (over the cap: the oldest are closed for the newest)
#   slow-body        100 anonymous POSTs at a time declaring 1 MB, sending a byte per 500 ms
#   chunked-bomb     12 POSTs at a time (half with the token), up to 300 MB of chunks each
#   gzip-bomb        12 POSTs at a time (half with the token) of 1 GiB of zeros gzip'ed to 1 MB
#   header-flood     50 requests at a time of up to 100,000 header lines
#   watchers         300 watches held open
#   reconnect-storm  16 threads connecting, asking /healthz and closing, for 10 s
# (each for 5-12 s, the bombs and floods again and again)
# Checks: the daemon's peak RSS (VmHWM, reset before each attack) stays under 64 MB; /healthz
# answers every probe; each attack gets the answers the limits promise (401/413/431/429, a
# slow head cut at its deadline); the flips converge and the reconcile loop keeps passing.
# Prints a table of the figures.
set -uo pipefail
export SWITCHYARD_LOCAL_DIR=${SWITCHYARD_LOCAL_DIR:-/tmp/switchyard-it-hostile}
# shellcheck source=tests/integration/engine/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../engine/lib.sh"

HOSTILE="$SY_BUILD_DIR/tests/integration/security/hostile_client"
MAX_RSS_KB=$((64 * 1024))

it_begin hostile
[[ -x $HOSTILE ]] || fatal "$HOSTILE is missing: build it (BUILD_TARGETS=hostile_client hack/build.sh)"
command -v gzip >/dev/null || fatal "'gzip' not found"

start_daemon daemon --resync-ms 1000
converged() {
  api_json | jq -e --arg c "$1" '.status.phase == "Converged" and .status.servingColor == $c and
    .status.primaryColor == $c and .status.observedGeneration == .metadata.generation' >/dev/null
}
require "the daemon converges on blue" wait_until 30 "Converged on blue" converged blue

BOMB="$IT_WORK/bomb.gz"
head -c 1G /dev/zero | gzip -9 -c >"$BOMB" || fatal "making the gzip bomb"
it_log "gzip bomb: $(stat -c %s "$BOMB") bytes for 1 GiB of zeros"

status_kb() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$daemon_pid/status"; }
reconciles() {
  curl -fsS -m 5 "$IT_API/metrics" | awk '/^switchyard_reconcile_total/ { s += $2 } END { print s + 0 }'
}
# field LINE KEY: the value of KEY= in a hostile_client line.
field() { tr ' ' '\n' <<<"$1" | awk -F= -v k="$2" '$1 == k { print $2 }'; }

ROWS=()
PEAK_KB=0
# attack LABEL NAME ARGS...: one attack (hostile_client NAME) with its peak RSS; sets LINE;
# checks what all attacks share.
attack() {
  local name=$1 kind=$2
  shift 2
  echo 5 >"/proc/$daemon_pid/clear_refs"  # resets VmHWM: the peak of this attack alone
  LINE=$("$HOSTILE" --port "$IT_API_PORT" --attack "$kind" --token-file "$IT_STATE/token" "$@")
  local peak
  peak=$(status_kb VmHWM)
  ((peak > PEAK_KB)) && PEAK_KB=$peak
  it_log "$LINE peak_rss_kb=$peak"
  check "$name: the daemon's peak RSS ${peak} kB < $MAX_RSS_KB kB" test "$peak" -lt "$MAX_RSS_KB"
  check "$name: /healthz answered every probe ($(field "$LINE" healthz_n) probes)" \
    test "$(field "$LINE" healthz_failed)" = 0
  check "$name: the daemon is alive" sy_pid_alive "$daemon_pid"
  ROWS+=("$(printf '%-16s %8s  %-22s %8.1f %8s %7s %8s %8s %8s' "$name" "$(field "$LINE" requests)" \
    "$(field "$LINE" statuses)" "$(awk -v k="$peak" 'BEGIN { print k / 1024 }')" \
    "$(field "$LINE" healthz_n)" "$(field "$LINE" healthz_failed)" "$(field "$LINE" healthz_p50_ms)" \
    "$(field "$LINE" healthz_p99_ms)" "$(field "$LINE" healthz_max_ms)")")
}
# only_statuses LINE CODES...: every answer of the attack was one of CODES.
only_statuses() {
  local line=$1 s code
  shift
  for s in $(field "$line" statuses | tr ',' ' '); do
    code=${s%%:*}
    [[ " $* " == *" $code "* ]] || return 1
  done
}

idle_rss=$(status_kb VmRSS)
it_log "daemon RSS before the attacks: ${idle_rss} kB"
passes0=$(reconciles)
t0=$(it_ts)

set_active green  # a flip runs through the first attacks
attack slow-headers slow-headers --connections 60 --seconds 12
check "slow-headers: each slow head cut at its 10 s deadline (+ the 0.5 s pace)" \
  awk -v s="$(field "$LINE" longest_held_s)" 'BEGIN { exit !(s >= 9.5 && s <= 11.5) }'
check "slow-headers: answered 408" only_statuses "$LINE" 408
attack slow-head-flood slow-headers --connections 400 --seconds 12
check "slow-head-flood: no slow head held for longer than its 10 s deadline" \
  awk -v s="$(field "$LINE" longest_held_s)" 'BEGIN { exit !(s <= 11.5) }'
check "slow-head-flood: the server closed the slow heads itself" \
  test "$(field "$LINE" closed_by_server)" -gt 0
attack slow-body slow-body --connections 100 --seconds 5
check "slow-body: every anonymous body refused at once (401, or 429 from a full API pool)" \
  only_statuses "$LINE" 401 429
attack chunked-bomb chunked-bomb --connections 12 --seconds 5
check "chunked-bomb: 401 without the token, 413 with it" only_statuses "$LINE" 401 413
attack gzip-bomb gzip-bomb --connections 12 --seconds 5 --body-file "$BOMB"
check "gzip-bomb: 401 without the token, 413 with it" only_statuses "$LINE" 401 413
check "the flip to green converged under attack" wait_until 60 "Converged on green" converged green

set_active blue  # and another through the rest
attack header-flood header-flood --connections 50 --seconds 5
check "header-flood: every flood refused (431)" only_statuses "$LINE" 431
attack watchers watchers --connections 300 --seconds 8
check "watchers: 32 served, the rest refused at once (429)" \
  test "$(field "$LINE" statuses)" = "200:32,429:268"  # max_watches
attack reconnect-storm reconnect-storm --connections 16 --seconds 10
check "reconnect-storm: every connection answered (200, or 503 from a full health pool)" \
  only_statuses "$LINE" 200 503
check "the flip back to blue converged under attack" wait_until 60 "Converged on blue" converged blue

secs=$((($(it_ts) - t0) / 1000))
passes=$(($(reconciles) - passes0))
check "the reconcile loop kept passing: $passes passes in ${secs} s (resync 1 s)" \
  test "$passes" -ge $((secs / 2))
assert_world blue

printf '\n%-16s %8s  %-22s %8s %8s %7s %8s %8s %8s\n' attack requests statuses "peak MB" \
  "healthz" failed "p50 ms" "p99 ms" "max ms"
printf '%s\n' "${ROWS[@]}"
printf 'daemon RSS: %s kB before the attacks, %s kB after; highest peak %s kB (limit %s kB)\n' \
  "$idle_rss" "$(status_kb VmRSS)" "$PEAK_KB" "$MAX_RSS_KB"
it_end
