# shellcheck shell=bash
# Part of tests/integration/engine/lib.sh, which sources it: PostgreSQL on the stack, as a
# test (or a second actor) sees and handles it: psql as the superuser, the role and
# replication of a server, and what an operator or a crash does to it (pg_ctl start and
# stop, SIGKILL of every process).

# pg COLOR DB SQL: one value (psql -At) from COLOR's server, as the superuser.
pg() {
  "${IT_CLIENT[@]}" "$SY_PG_BIN/psql" -X -At -q -v ON_ERROR_STOP=1 -h "${IT_PG_HOST[$1]}" \
    -p "${IT_PG_PORT[$1]}" -U "$SY_SUPERUSER" -d "$2" -c "$3" 2>/dev/null
}

# in_recovery COLOR: t (standby), f (primary) or nothing (not answering).
in_recovery() { pg "$1" postgres 'SELECT pg_is_in_recovery()' || true; }

# streaming PRIMARY STANDBY: PRIMARY's pg_stat_replication shows STANDBY streaming.
streaming() {
  [[ $(pg "$1" postgres "SELECT state FROM pg_stat_replication WHERE application_name = '$2'") == streaming ]]
}

# stop_pg COLOR: a fast shutdown as the stack does it (pg_ctl as postgres), waiting.
stop_pg() {
  sy_as_postgres "$SY_PG_BIN/pg_ctl" -D "$(sy_pg_datadir "$1")" -m fast -w -t 60 stop >/dev/null
}

# pg_ctl_start COLOR: what an operator, systemd or a boot script does: pg_ctl start of COLOR's
# data directory as it is configured, as the postgres user, waiting (a second actor).
pg_ctl_start() {
  sy_as_postgres "$SY_PG_BIN/pg_ctl" -D "$(sy_pg_datadir "$1")" -l "$(sy_pg_logfile "$1")" \
    -o "-c port=${SY_PG_PORT[$1]} -c listen_addresses=$SY_HOST" -w -t 30 start >/dev/null 2>&1
}

# pg_aux_pid COLOR NAME: the pid of one of COLOR's server processes by its title
# (checkpointer, walreceiver, startup, ...), or nothing.
pg_aux_pid() {
  local pm
  pm=$(sy_pg_pid "$1")
  [[ -n $pm ]] || return 0
  pgrep -P "$pm" -f "postgres: .*$2" | head -n 1
}

# crash_pg COLOR: kill -9 of COLOR's postmaster and every process of it (a machine crash
# of that server), waiting until they are gone.
crash_pg() {
  local pm pids
  pm=$(sy_pg_pid "$1")
  [[ -n $pm ]] || return 0
  pids="$pm $(pgrep -P "$pm" | tr '\n' ' ')"
  # shellcheck disable=SC2086  # a list of pids
  kill -KILL $pids 2>/dev/null || true
  for pid in $pids; do
    wait_until 10 "pid $pid to die" it_pid_gone "$pid" || true
  done
}

# own_writes COLOR FROM TO: inserts orders FROM..TO noted "COLOR-only-N" straight into COLOR
# (a server running as a second primary), each acknowledged or the test stops.
own_writes() {
  local i
  for i in $(seq "$2" "$3"); do
    pg "$1" shop "INSERT INTO orders (color, note) VALUES ('$1', '$1-only-$i')" >/dev/null ||
      fatal "insert $i on $1"
  done
}
