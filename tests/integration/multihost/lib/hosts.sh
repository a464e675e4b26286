# shellcheck shell=bash
# Part of tests/integration/multihost/lib.sh, which sources it after the engine's lib/pg.sh:
# PostgreSQL as its own host sees and handles it. The engine's stop_pg, pg_ctl_start,
# pg_aux_pid and crash_pg act on the local machine; here the same names act in the color's
# database host (dbb for blue, dbg for green), with the host's pids.

pg_host() { printf '%s' "${MH_DB_HOST[$1]}"; }

# host_psql HOST DB SQL: one value (psql -At) from HOST's server, as the superuser, from cli.
host_psql() {
  mh_client cli "$SY_PG_BIN/psql" -X -At -q -v ON_ERROR_STOP=1 -h "${MH_ADDR[$1]}" \
    -p "$MH_PG_PORT" -U "$SY_SUPERUSER" -d "$2" -c "$3" 2>/dev/null
}

# stop_pg COLOR: a fast shutdown (pg_ctl in the host, as postgres), waiting.
stop_pg() {
  mh_as_postgres "$(pg_host "$1")" "$SY_PG_BIN/pg_ctl" -D "$MH_PG_DATADIR" -m fast -w -t 60 stop >/dev/null
}

# pg_ctl_start COLOR: what an operator or a boot script on the host does: pg_ctl start of the
# data directory as it is configured, waiting (a second actor).
pg_ctl_start() {
  local host
  host=$(pg_host "$1")
  mh_as_postgres "$host" "$SY_PG_BIN/pg_ctl" -D "$MH_PG_DATADIR" -l "$MH_PG_DATADIR.log" \
    -o "-c port=$MH_PG_PORT -c listen_addresses=${MH_ADDR[$host]}" -w -t 30 start >/dev/null 2>&1
}

# pg_aux_pid COLOR NAME: the pid (as the host numbers it) of one of COLOR's server processes
# by its title (checkpointer, walreceiver, startup, ...), or nothing.
pg_aux_pid() {
  local host pm
  host=$(pg_host "$1")
  pm=$(mh_pg_pid "$host")
  [[ -n $pm ]] || return 0
  mh_exec "$host" pgrep -P "$pm" -f "postgres: .*$2" | head -n 1
}

# crash_pg COLOR: kill -9 of COLOR's postmaster and every process of it, in its host (the
# host itself stays up), waiting until they are gone.
crash_pg() {
  local host pm
  host=$(pg_host "$1")
  pm=$(mh_pg_pid "$host")
  [[ -n $pm ]] || return 0
  # shellcheck disable=SC2016  # expanded in the host
  mh_exec "$host" bash -c 'pids="$1 $(pgrep -P "$1" | tr "\n" " ")"
    kill -KILL $pids 2>/dev/null
    for _ in $(seq 100); do
      alive=0
      for p in $pids; do [[ -e /proc/$p && $(cut -d" " -f3 /proc/$p/stat) != Z ]] && alive=1; done
      ((alive)) || exit 0
      sleep 0.05
    done
    exit 1' crash "$pm" || fail "crash_pg $1: processes of postmaster $pm in $host survive SIGKILL"
}

# mh_power_on HOST...: brings powered-off hosts back with their servers (hack/multihost-up.sh
# is idempotent: what runs is left alone).
mh_power_on() {
  "$IT_ROOT/hack/multihost-up.sh" >"$IT_ART/multihost-up-again.log" 2>&1 || {
    sed 's/^/    | /' "$IT_ART/multihost-up-again.log"
    fatal "hack/multihost-up.sh brings $* back"
  }
}
