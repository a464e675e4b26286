# shellcheck shell=bash
# shellcheck disable=SC2034,SC2154  # globals shared with run.sh and bench-lib.sh
# The flips phase of the benchmark: Switchyard and the manual procedure switch the live color
# back and forth, alternately (so machine noise hits both alike, and both go both ways), first
# quiet, then under load. Throughout, the external writer commits every $BENCH_WRITER_MS ms
# through the multi-host connection string; around every flip the connection-per-request
# client runs, and under load wrk with $BENCH_WRK_CONNECTIONS keep-alive connections.
# Figures: flip.<quiet|load>.<switchyard|manual>.*; at the end every acknowledged commit is
# checked on the final primary (flip.lost_writes must be 0).

# measured_flip KIND MODE LOAD FROM TO: one flip with the clients around it; records the
# writer's longest gap (KIND's write window) and the HTTP counters.
measured_flip() {
  local kind=$1 mode=$2 load=$3 from=$4 to=$5
  local prefix="flip.$mode.$kind"
  clients_start "$load"
  sleep "$( ((load)) && echo 1 || echo 0.3)"  # wrk connected and busy before the flip
  if [[ $kind == switchyard ]]; then
    flip_switchyard "$prefix" "$to"
  else
    flip_manual "$prefix" "$from" "$to"
  fi
  sleep 0.2
  clients_stop "$prefix"
  wait_until 20 "an acknowledged commit after the flip" acked_after "$flip_t1" ||
    fatal "$prefix: the writer commits nothing after the flip to $to ($(tail -n 2 "$IT_ART/writer.err"))"
  local gap
  gap=$(longest_gap "$flip_t0" "$flip_t1")
  sample "$prefix.write_gap_ms" ms "$gap"
  blog "$prefix $from -> $to: $((flip_t1 - flip_t0)) ms to converged, write gap $gap ms"
  sleep "${BENCH_SETTLE_S:-1}"
}

phase_flips() {
  local n=${BENCH_FLIPS:-10} modes=(quiet) mode load i cur=blue other
  ((${BENCH_LOAD:-1})) && modes+=(load)
  b_manifest=$IT_MANIFEST
  write_manifest "$b_manifest" blue
  daemon_start flips "$b_manifest" "$IT_WORK/state-flips"
  wait_until 60 "Converged on blue" converged_on blue || fatal "the controller did not converge on blue"
  writer_start
  for mode in "${modes[@]}"; do
    load=0
    [[ $mode == load ]] && load=1
    meta_load "flips-$mode"
    blog "flips, $mode: $n by Switchyard and $n by the manual procedure, alternately"
    for ((i = 1; i <= n; i++)); do
      other=$(other_color "$cur")
      # Odd rounds: Switchyard first; even rounds: the manual procedure first.
      if ((i % 2)); then
        measured_flip switchyard "$mode" "$load" "$cur" "$other"
        measured_flip manual "$mode" "$load" "$other" "$cur"
      else
        measured_flip manual "$mode" "$load" "$cur" "$other"
        measured_flip switchyard "$mode" "$load" "$other" "$cur"
      fi
    done
  done
  writer_stop
  local w
  w=$(tail -n 1 "$IT_ART/writer.out")
  sample flip.writer.refused count "$(jq '.failed + .connect_failures' <<<"$w")"
  verify_writes "$cur" flip
  daemon_stop
  b_flips_final=$cur
}
