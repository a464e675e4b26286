# shellcheck shell=bash
# shellcheck disable=SC2154,SC2034  # summary, primary, standby and serving are multihost-up.sh's
# shellcheck disable=SC2004  # summary is an associative array (multihost-up.sh's): [pg-$c] is a key
# Part of hack/multihost-up.sh, which sources it after hack/lib/multihost.sh: PostgreSQL on
# dbb (blue) and dbg (green), the shop app on appb and appg, nginx on web. Each server runs in
# its host (mh_exec); each check is made as a client from cli (mh_client). Idempotent like
# hack/local-up.sh: what runs is left alone, and a stack whose roles a controller switched
# (green primary, blue standby, traffic on green) is accepted as it is.

# --- PostgreSQL -----------------------------------------------------------------------------

# mh_psql HOST PSQL-ARGS...: psql from cli to HOST's server.
mh_psql() {
  local host=$1
  shift
  mh_client cli "$SY_PG_BIN/psql" -X -h "${MH_ADDR[$host]}" -p "$MH_PG_PORT" "$@"
}

# mh_as_postgres HOST COMMAND...: a PostgreSQL tool in HOST as the postgres OS user.
mh_as_postgres() {
  local host=$1
  shift
  mh_exec "$host" runuser -u "$SY_OS_USER" -- "$@"
}

mh_pg_log() { mh_path "$1" "$MH_PG_DATADIR.log"; }  # the server's log (<data dir>.log)
mh_pg_initialized() { [[ -f "$(mh_path "$1" "$MH_PG_DATADIR")/PG_VERSION" ]]; }
mh_pg_is_standby_dir() { [[ -f "$(mh_path "$1" "$MH_PG_DATADIR")/standby.signal" ]]; }

# mh_pg_pid HOST: the postmaster's pid (as HOST numbers it) if one runs in the data dir.
mh_pg_pid() {
  local pidfile
  pidfile="$(mh_path "$1" "$MH_PG_DATADIR")/postmaster.pid"
  [[ -f $pidfile ]] || return 0
  mh_as_postgres "$1" "$SY_PG_BIN/pg_ctl" -D "$MH_PG_DATADIR" status >/dev/null 2>&1 || return 0
  head -n 1 "$pidfile"
}

# mh_make_pg_dir HOST: /srv/switchyard/pg (postgres, 0750) and the server's log.
mh_make_pg_dir() {
  local host=$1
  install -d -o "$SY_OS_USER" -g "$SY_OS_USER" -m 0750 "$(mh_path "$host" "$MH_SRV/pg")"
  install -o "$SY_OS_USER" -g "$SY_OS_USER" -m 0640 /dev/null "$(mh_pg_log "$host").new"
  [[ -f $(mh_pg_log "$host") ]] || mv "$(mh_pg_log "$host").new" "$(mh_pg_log "$host")"
  rm -f "$(mh_pg_log "$host").new"
}

mh_init_blue() {
  local datadir
  datadir=$(mh_path dbb "$MH_PG_DATADIR")
  if mh_pg_initialized dbg; then
    sy_die "PostgreSQL blue (dbb): $MH_PG_DATADIR is empty but green's (dbg) holds a cluster;" \
      "not making a second, unrelated primary (start over with hack/multihost-down.sh --purge)"
  fi
  rm -rf "$datadir"
  sy_log "PostgreSQL blue: initdb $MH_PG_DATADIR in dbb"
  mh_as_postgres dbb "$SY_PG_BIN/initdb" -D "$MH_PG_DATADIR" -U postgres --no-locale -E UTF8 \
    --auth-local=trust --auth-host=trust >>"$(mh_pg_log dbb)" 2>&1 ||
    sy_fail "PostgreSQL blue" "$(mh_pg_log dbb)" "initdb failed"
  sy_pg_write_config "$datadir" "$MH_CIDR"
}

# mh_start_pg HOST COLOR: starts HOST's server on its address and port 5432 unless it runs;
# waits until it accepts connections from cli.
mh_start_pg() {
  local host=$1 color=$2 pid
  pid=$(mh_pg_pid "$host")
  if [[ -n $pid ]]; then
    summary[pg-$color]="already running (pid $pid in $host)"
  else
    sy_log "PostgreSQL $color: starting in $host on ${MH_ADDR[$host]}:$MH_PG_PORT"
    mh_as_postgres "$host" "$SY_PG_BIN/pg_ctl" -D "$MH_PG_DATADIR" -l "$MH_PG_DATADIR.log" \
      -o "-c port=$MH_PG_PORT -c listen_addresses=${MH_ADDR[$host]}" -w -t 60 start >/dev/null ||
      sy_fail "PostgreSQL $color" "$(mh_pg_log "$host")" "pg_ctl start failed"
    summary[pg-$color]="started (pid $(mh_pg_pid "$host") in $host)"
  fi
  sy_wait_for 30 "PostgreSQL $color to accept connections from cli" \
    mh_client cli "$SY_PG_BIN/pg_isready" -q -h "${MH_ADDR[$host]}" -p "$MH_PG_PORT" -U postgres -d postgres ||
    sy_fail "PostgreSQL $color" "$(mh_pg_log "$host")" "not accepting connections on ${MH_ADDR[$host]}"
}

# mh_in_recovery HOST: t (standby) or f (primary).
mh_in_recovery() { mh_psql "$1" -At -U postgres -d postgres -c 'SELECT pg_is_in_recovery()'; }

# Roles, database, table and green's slot on blue (idempotent statements).
mh_bootstrap_blue() {
  local -x PGOPTIONS='-c client_min_messages=warning'
  sy_bootstrap_sql | mh_psql dbb -q -v ON_ERROR_STOP=1 -U postgres -d postgres >/dev/null ||
    sy_fail "PostgreSQL blue" "$(mh_pg_log dbb)" "bootstrap SQL failed"
  sy_orders_sql | mh_psql dbb -q -v ON_ERROR_STOP=1 -U "$SY_SUPERUSER" -d "$SY_DATABASE" \
    >/dev/null || sy_fail "PostgreSQL blue" "$(mh_pg_log dbb)" "creating table orders failed"
}

# green's data dir: pg_basebackup run in dbg from blue's address, then Switchyard's standby
# configuration (primary_conninfo host=10.200.0.21 port=5432, slot switchyard_green).
mh_clone_green() {
  local datadir
  datadir=$(mh_path dbg "$MH_PG_DATADIR")
  rm -rf "$datadir"  # a dir without PG_VERSION is a clone that did not finish
  sy_log "PostgreSQL green: pg_basebackup in dbg from ${MH_ADDR[dbb]}:$MH_PG_PORT"
  mh_as_postgres dbg "$SY_PG_BIN/pg_basebackup" -h "${MH_ADDR[dbb]}" -p "$MH_PG_PORT" \
    -U "$SY_REPLICATION_USER" -D "$MH_PG_DATADIR" -c fast -X stream >>"$(mh_pg_log dbg)" 2>&1 ||
    sy_fail "PostgreSQL green" "$(mh_pg_log dbg)" "pg_basebackup from blue failed"
  sy_configure_standby "$datadir" green "${MH_ADDR[dbb]}" "$MH_PG_PORT"
}

# mh_streaming PRIMARY-HOST STANDBY-HOST COLOR: PRIMARY's pg_stat_replication shows COLOR
# streaming from STANDBY-HOST's address.
mh_streaming() {
  local state
  state=$(mh_psql "$1" -At -U postgres -d postgres -c "SELECT state || ' ' || host(client_addr)
    FROM pg_stat_replication WHERE application_name = '$3'") || return 1
  [[ $state == "streaming ${MH_ADDR[$2]}" ]]
}

mh_up_postgres() {
  mh_make_pg_dir dbb
  mh_make_pg_dir dbg
  mh_pg_initialized dbb || mh_init_blue
  if ! mh_pg_initialized dbg; then
    mh_start_pg dbb blue
    [[ $(mh_in_recovery dbb) == f ]] ||
      sy_die "PostgreSQL green: data dir missing and blue is not a primary to clone from"
    mh_bootstrap_blue
    mh_clone_green
  fi
  # The primary first: a standby started before it waits before it tries again.
  local color host standbys=()
  for color in "${SY_COLORS[@]}"; do
    host=${MH_DB_HOST[$color]}
    if mh_pg_is_standby_dir "$host"; then standbys+=("$color"); else mh_start_pg "$host" "$color"; fi
  done
  for color in "${standbys[@]}"; do
    mh_start_pg "${MH_DB_HOST[$color]}" "$color"
  done
  [[ $(mh_in_recovery dbb) != f ]] || mh_bootstrap_blue

  local blue_standby green_standby
  blue_standby=$(mh_in_recovery dbb)
  green_standby=$(mh_in_recovery dbg)
  if [[ $blue_standby == f && $green_standby == f ]]; then
    sy_die "PostgreSQL: blue and green are BOTH primaries (split brain); fix it before use"
  elif [[ $blue_standby == t && $green_standby == t ]]; then
    sy_die "PostgreSQL: neither blue nor green is a primary (a switchover in progress?)"
  fi
  if [[ $blue_standby == f ]]; then primary=blue standby=green; else primary=green standby=blue; fi
  local ph=${MH_DB_HOST[$primary]} sh=${MH_DB_HOST[$standby]}
  sy_wait_for 30 "$standby to stream from $primary" mh_streaming "$ph" "$sh" "$standby" ||
    sy_fail "PostgreSQL $standby" "$(mh_pg_log "$sh")" "not streaming from $primary"
}

# --- shop apps ------------------------------------------------------------------------------

MH_APP_PIDFILE="$MH_SRV/app/shop-app.pid"

mh_app_pid() { mh_daemon_pid "${MH_APP_HOST[$1]}" "$MH_APP_PIDFILE" shop-app "--color $1"; }
mh_app_healthy() {
  mh_client cli curl -fsS -m 2 -o /dev/null "http://${MH_ADDR[${MH_APP_HOST[$1]}]}:$MH_APP_PORT/healthz"
}

mh_start_app() {
  local color=$1 host=${MH_APP_HOST[$1]} pid
  pid=$(mh_app_pid "$color")
  if [[ -n $pid ]]; then
    summary[app-$color]="already running (pid $pid in $host)"
  else
    install -d -m 0755 "$(mh_path "$host" "$MH_SRV/app")"
    mh_spawn "$host" "$MH_APP_PIDFILE" "$MH_LOGS/app-$host.log" \
      "$SY_SHOP_APP" --color "$color" --listen "${MH_ADDR[$host]}:$MH_APP_PORT" \
      --db "$MH_APP_CONNINFO" --fail-file "$MH_SRV/app/fail"
    summary[app-$color]=started
  fi
  sy_wait_for 10 "shop app $color to answer /healthz" mh_app_healthy "$color" ||
    sy_fail "shop app $color" "$MH_LOGS/app-$host.log" "not answering on ${MH_ADDR[$host]}:$MH_APP_PORT"
  [[ ${summary[app-$color]} != started ]] || summary[app-$color]="started (pid $(mh_app_pid "$color") in $host)"
}

# --- nginx ----------------------------------------------------------------------------------

# mh_nginx ARGS...: nginx in web with the flags it needs to find its own files.
mh_nginx() {
  mh_exec web "$SY_NGINX" -p "$MH_NGINX_DIR" -e "$MH_NGINX_DIR/error.log" \
    -c "$MH_NGINX_DIR/nginx.conf" "$@"
}
mh_nginx_pid() { mh_daemon_pid web "$MH_NGINX_DIR/nginx.pid" "nginx: master process" "$MH_NGINX_DIR/nginx.conf"; }

# mh_upstream_color: the color the upstream file in web sends traffic to, or nothing.
mh_upstream_color() {
  local color file
  file=$(mh_path web "$MH_UPSTREAM_FILE")
  for color in "${SY_COLORS[@]}"; do
    if grep -Eq "^[[:space:]]*server[[:space:]]+${MH_ADDR[${MH_APP_HOST[$color]}]}:$MH_APP_PORT;" "$file"; then
      printf '%s' "$color"
      return
    fi
  done
}

# mh_served_color: the color nginx answers with (X-Switchyard-Color), asked from cli.
mh_served_color() {
  mh_client cli curl -fsS -m 2 -o /dev/null -w '%header{x-switchyard-color}' "$MH_NGINX_URL/"
}
mh_nginx_serves() { [[ $(mh_served_color 2>/dev/null) == "$1" ]]; }

mh_up_nginx() {
  local dir conf_changed=0 pid expected error_log
  dir=$(mh_path web "$MH_NGINX_DIR")
  error_log="$dir/error.log"
  install -d -m 0755 "$dir/switchyard" "$dir/tmp"
  if sy_render_nginx_conf "$MH_NGINX_DIR" "${MH_ADDR[web]}:$MH_NGINX_PORT" |
    sy_write_if_changed "$dir/nginx.conf"; then
    conf_changed=1
  fi
  if [[ ! -f $(mh_path web "$MH_UPSTREAM_FILE") ]]; then
    sy_render_upstream blue "${MH_ADDR[appb]}:$MH_APP_PORT" |
      sy_write_if_changed "$(mh_path web "$MH_UPSTREAM_FILE")" || true
  fi
  expected=$(mh_upstream_color)
  [[ -n $expected ]] || sy_die "nginx: cannot tell which color $MH_UPSTREAM_FILE (in web) serves"
  mh_nginx -t -q >>"$error_log" 2>&1 || sy_fail nginx "$error_log" "configuration test failed"
  pid=$(mh_nginx_pid)
  if [[ -n $pid ]]; then
    summary[nginx]="already running (pid $pid in web)"
    if ((conf_changed)); then
      mh_nginx -s reload || sy_fail nginx "$error_log" "reload failed"
      summary[nginx]+=", reloaded for a changed nginx.conf"
    fi
  else
    rm -f "$dir/nginx.pid"
    mh_nginx || sy_fail nginx "$error_log" "nginx failed to start"
    summary[nginx]="started (pid $(mh_nginx_pid) in web)"
  fi
  sy_wait_for 10 "nginx to serve $expected" mh_nginx_serves "$expected" ||
    sy_fail nginx "$error_log" "$MH_NGINX_URL/ answers '$(mh_served_color 2>&1 || true)', expected $expected"
  serving=$expected
}
