# shellcheck shell=bash
# shellcheck disable=SC2034,SC2154  # globals shared with run.sh and bench-lib.sh
# The rejoin phase of the benchmark: what bringing the old primary back costs as the database
# grows. For each pgbench scale of $BENCH_SCALES (database "bench", pgbench -i):
#   clean       Switchyard flips: the old primary rejoins without copying anything;
#   manual      the manual procedure, which re-clones the old primary with pg_basebackup;
#   rewind      a forced divergence (the standby promoted by hand, then pgbench writes on the
#               old primary), resolved by Switchyard with the operator's annotation
#               switchyard.dev/allow-discard-diverged-writes (the incident SplitBrain names)
#               and rejoinMethod auto: pg_rewind;
#   basebackup  the same with rejoinMethod basebackup: a re-clone.
# Figures: rejoin.s<scale>.<path>.total_ms (manifest change -> old primary streaming) and
# .rejoin_ms (first rejoin step started -> streaming); the copying steps' own ms under .steps.

# psql_do COLOR DB SQL: runs SQL, failing the benchmark with psql's message on an error.
psql_do() {
  local out
  out=$("$SY_PG_BIN/psql" -X -At -q -v ON_ERROR_STOP=1 -h "$SY_HOST" -p "${SY_PG_PORT[$1]}" \
    -U "$SY_SUPERUSER" -d "$2" -c "$3" 2>&1) || fatal "psql on $1 ($2): $3: $out"
  printf '%s' "$out"
}

replayed() { [[ $(pg "$1" postgres "SELECT pg_last_wal_replay_lsn() >= '$2'") == t ]]; }

# pgbench_init SCALE PRIMARY: a fresh database "bench" of pgbench SCALE on PRIMARY, checkpointed
# on both servers once the standby replayed all of it. Records rejoin.s<SCALE>.db_mb.
pgbench_init() {
  local scale=$1 p=$2 s lsn t0
  s=$(other_color "$p")
  psql_do "$p" postgres 'DROP DATABASE IF EXISTS bench' >/dev/null
  psql_do "$p" postgres "CREATE DATABASE bench OWNER $SY_SUPERUSER" >/dev/null
  t0=$(now_ms)
  pgbench -i -q -s "$scale" -h "$SY_HOST" -p "${SY_PG_PORT[$p]}" -U "$SY_SUPERUSER" bench \
    >"$IT_ART/pgbench-init-$scale.log" 2>&1 ||
    fatal "pgbench -i -s $scale failed: $(tail -n 5 "$IT_ART/pgbench-init-$scale.log")"
  psql_do "$p" postgres CHECKPOINT >/dev/null
  lsn=$(psql_do "$p" postgres 'SELECT pg_current_wal_lsn()')
  wait_until 600 "$s to replay $lsn" replayed "$s" "$lsn" || fatal "$s did not catch up after pgbench -i"
  psql_do "$s" postgres CHECKPOINT >/dev/null
  local mb
  mb=$(psql_do "$p" postgres "SELECT pg_database_size('bench') / 1048576")
  sample "rejoin.s$scale.db_mb" MB "$mb"
  blog "rejoin: pgbench scale $scale: database bench is $mb MB ($(($(now_ms) - t0)) ms to load)"
}

# record_rejoin PREFIX: PREFIX.rejoin_ms from the last flip's steps.
record_rejoin() {
  local first
  first=$(awk '$1 ~ /^(create-slot|configure-standby|rewind|basebackup)$/ { print $2; exit }' \
    <<<"$flip_steps")
  [[ -z $first ]] || sample "$1.rejoin_ms" ms $((flip_t1 - first))
}

# diverge PRIMARY STANDBY: promotes STANDBY by hand (a second primary on a new timeline), then
# commits $BENCH_DIVERGE_TX pgbench transactions on PRIMARY that STANDBY will never have.
diverge() {
  local p=$1 s=$2
  [[ $(psql_do "$s" postgres 'SELECT pg_promote()') == t ]] || fatal "promoting $s by hand failed"
  pgbench -n -t "${BENCH_DIVERGE_TX:-500}" -h "$SY_HOST" -p "${SY_PG_PORT[$p]}" \
    -U "$SY_SUPERUSER" bench >"$IT_ART/pgbench-diverge.log" 2>&1 ||
    fatal "pgbench on $p failed: $(tail -n 5 "$IT_ART/pgbench-diverge.log")"
}

phase_rejoin() {
  local cur=${b_flips_final:-blue} scale i to method path
  local n=${BENCH_REJOIN_N:-3} nd=${BENCH_DIVERGE_N:-2}
  b_manifest=$IT_MANIFEST
  write_manifest "$b_manifest" "$cur"
  daemon_start rejoin "$b_manifest" "$IT_WORK/state-rejoin"
  wait_until 60 "Converged on $cur" converged_on "$cur" || fatal "the controller did not converge on $cur"
  for scale in ${BENCH_SCALES-1 20}; do
    meta_load "rejoin-s$scale"
    pgbench_init "$scale" "$cur"
    for ((i = 1; i <= n; i++)); do
      to=$(other_color "$cur")
      flip_switchyard "rejoin.s$scale.clean" "$to"
      record_rejoin "rejoin.s$scale.clean"
      blog "rejoin s$scale clean $cur -> $to: $((flip_t1 - flip_t0)) ms"
      cur=$to
      sleep 0.5
      to=$(other_color "$cur")
      flip_manual "rejoin.s$scale.manual" "$cur" "$to"
      blog "rejoin s$scale manual $cur -> $to: $((flip_t1 - flip_t0)) ms"
      cur=$to
      sleep 0.5
    done
    for method in auto basebackup; do
      path=rewind
      [[ $method == basebackup ]] && path=basebackup
      for ((i = 1; i <= nd; i++)); do
        to=$(other_color "$cur")
        diverge "$cur" "$to"
        flip_switchyard "rejoin.s$scale.$path" "$to" "$cur" "$method"
        record_rejoin "rejoin.s$scale.$path"
        if ! grep -q "^$path " <<<"$flip_steps"; then
          blog "WARNING: rejoin s$scale $path: no $path step was taken: $(awk '{ printf "%s ", $1 }' <<<"$flip_steps")"
        fi
        blog "rejoin s$scale $path (diverged $cur, now $to primary): $((flip_t1 - flip_t0)) ms, $(awk -v p="$path" '$1 == p { print $4 " ms in " p }' <<<"$flip_steps")"
        cur=$to
        resume_daemon "$cur"  # the annotation is withdrawn: nothing more to do
        sleep 0.5
      done
    done
  done
  daemon_stop
  b_flips_final=$cur
}
