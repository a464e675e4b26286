#!/usr/bin/env bash
# Stops what hack/local-up.sh started in ${SWITCHYARD_LOCAL_DIR:-/tmp/switchyard-local}, and
# nothing else: nginx and the apps by their pid files (checked against the process's command
# line), PostgreSQL by its data dirs. Then waits until nothing listens on the stack's ports.
#
#   hack/local-down.sh [--purge]     --purge also deletes the work dir
#
# Works whatever the roles are now (a controller may have made green the primary and blue a
# standby): it stops whatever server runs in each data dir, standbys first. Idempotent.
set -euo pipefail

# shellcheck source=hack/lib/local-stack.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/local-stack.sh"
SY_LOG_PREFIX=local-down

purge=0
for arg in "$@"; do
  case $arg in
    --purge) purge=1 ;;
    -h | --help)
      sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *) sy_die "unknown argument '$arg' (usage: local-down.sh [--purge])" ;;
  esac
done

stopped=0  # pieces stopped by this run

pid_gone() { ! sy_pid_alive "$1"; }

# wait_gone PID SECONDS: true once PID has exited.
wait_gone() {
  local pid=$1 seconds=$2
  sy_wait_for "$seconds" "pid $pid to exit" pid_gone "$pid"
}

# stop_pid WHAT PID: SIGTERM, then SIGKILL if it does not exit within 10 s.
stop_pid() {
  local what=$1 pid=$2
  kill -TERM "$pid" 2>/dev/null || return 0
  if ! wait_gone "$pid" 10; then
    sy_warn "$what (pid $pid) ignored SIGTERM; killing it"
    kill -KILL "$pid" 2>/dev/null || true
    wait_gone "$pid" 5 || sy_die "$what (pid $pid) does not die"
  fi
}

stop_nginx() {
  local pid
  pid=$(sy_nginx_pid)
  if [[ -z $pid ]]; then
    rm -f "$SY_NGINX_PID"
    return
  fi
  sy_log "stopping nginx (pid $pid)"
  # Graceful: workers finish the requests in progress, then exit.
  sy_nginx -s quit 2>>"$SY_NGINX_ERROR_LOG" || kill -QUIT "$pid" 2>/dev/null || true
  if ! wait_gone "$pid" 10; then
    sy_warn "nginx (pid $pid) still running after quit; terminating it"
    stop_pid nginx "$pid"
  fi
  stopped=$((stopped + 1))
}

stop_app() {
  local color=$1 pid
  pid=$(sy_app_pid "$color")
  if [[ -n $pid ]]; then
    sy_log "stopping shop app $color (pid $pid)"
    stop_pid "shop app $color" "$pid"
    stopped=$((stopped + 1))
  fi
  rm -f "$(sy_app_pidfile "$color")"
}

stop_pg() {
  local color=$1 datadir pid
  datadir=$(sy_pg_datadir "$color")
  sy_pg_running "$color" || return 0
  pid=$(sy_pg_pid "$color")
  sy_log "stopping PostgreSQL $color (pid $pid, fast shutdown)"
  sy_as_postgres "$SY_PG_BIN/pg_ctl" -D "$datadir" -m fast -w -t 60 stop >/dev/null ||
    sy_die "PostgreSQL $color: pg_ctl stop failed (see $(sy_pg_logfile "$color"))"
  # pg_ctl waits for postmaster.pid to go; the exited postmaster can linger as a zombie
  # (pkg/observe/README.md #8), which no longer listens: the port check below is what matters.
  stopped=$((stopped + 1))
}

# After stopping something: its ports must come free. Before, with nothing of ours running,
# a listener belongs to someone else (another work dir's stack): only say so.
check_ports() {
  local busy
  if ((stopped > 0)); then
    sy_wait_for 15 "the stack's ports to be free" sy_ports_free || true
    busy=$(sy_busy_ports)
    [[ -z $busy ]] || sy_die "still listening after stop: $busy (not started from $SY_DIR?)"
  else
    busy=$(sy_busy_ports)
    [[ -z $busy ]] || sy_warn "in use by processes not started from $SY_DIR: $busy"
  fi
}

purge_dir() {
  [[ -e $SY_DIR ]] || return 0
  # Refuse to delete a directory local-up did not create.
  [[ -f $SY_MARKER ]] || sy_die "--purge: $SY_DIR has no $(basename "$SY_MARKER"); not deleting it"
  sy_log "deleting $SY_DIR"
  rm -rf -- "$SY_DIR"
}

main() {
  [[ $(id -u) -eq 0 ]] || sy_die "run as root (PostgreSQL is stopped as the '$SY_OS_USER' OS user)"
  if [[ -d $SY_DIR ]]; then
    # Traffic first, then the apps, then the databases: standbys before the primary, so no
    # walreceiver keeps retrying a primary that is gone.
    stop_nginx
    local color
    for color in "${SY_COLORS[@]}"; do
      stop_app "$color"
    done
    for color in "${SY_COLORS[@]}"; do
      if [[ -f "$(sy_pg_datadir "$color")/standby.signal" ]]; then
        stop_pg "$color"
      fi
    done
    for color in "${SY_COLORS[@]}"; do
      stop_pg "$color"
    done
  fi
  if ((stopped == 0)); then
    sy_log "nothing is running in $SY_DIR"
  fi
  check_ports
  if ((purge)); then
    purge_dir
  fi
  if ((stopped > 0)); then
    sy_log "stopped $stopped piece(s); ports ${SY_PORTS[*]} are free"
  fi
}

main
