# shellcheck shell=bash
# shellcheck disable=SC2034  # the variables are used by the scripts that source this file
# Shared by hack/multihost-up.sh, multihost-down.sh, multihost-exec.sh, demo-multihost.sh and
# tests/integration/multihost: the hosts, addresses and paths of the multi-host stack, and how
# to run something in a host. Source it; it defines variables and functions only (and
# sources hack/lib/local-stack.sh for the users, the database and the small helpers).
#
# A "host" is a network namespace $MH_PREFIX<host> plus its own mount, PID and UTS namespaces,
# held by a long-lived init (a bash reaper, PID 1 inside) whose pid, as the root namespace
# sees it, is in $MH_DIR/run/<host>.pid. Inside a host:
#   /srv                 is $MH_DIR/hosts/<host>/srv: every host has its own /srv/switchyard,
#                        so both database hosts keep their data in /srv/switchyard/pg/shop
#   /run/postgresql      a private tmpfs (Unix sockets would cross network namespaces)
#   $MH_DIR/hosts/<h>    of every other host, and $MH_DIR/tls (the CA's key): hidden (empty)
#   /proc                the host's own processes only
# The hosts share one bridge, br0 in the namespace $MH_PREFIX"sw", which has no uplink; no
# namespace has a default route, so an address outside 10.200.0.0/24 is unreachable at once.
#
# Safety: 10.200.0.0/24 exists only inside these namespaces. The root namespace gets no address
# and no route in it and never sends there (from the root namespace these addresses would
# leave the machine): every client runs in a host (mh_client, mh_exec). mh_check_root_clean
# proves it.
#
# Environment:
#   SWITCHYARD_MULTIHOST_DIR  the stack's work dir (default /tmp/switchyard-multihost)
#   MULTIHOST_PREFIX          namespace-name prefix (default sy-; recorded in the work dir, so
#                             that two stacks with other dirs and prefixes can coexist)
#   SWITCHYARD_BUILD_DIR, SWITCHYARD_PG_BIN, SWITCHYARD_NGINX: as for hack/local-up.sh

# shellcheck source=hack/lib/local-stack.sh
source "$(dirname "${BASH_SOURCE[0]}")/local-stack.sh"

MH_DIR=${SWITCHYARD_MULTIHOST_DIR:-/tmp/switchyard-multihost}
MH_MARKER="$MH_DIR/.switchyard-multihost"
MH_RUN="$MH_DIR/run"    # <host>.pid (the inits), prefix
MH_LOGS="$MH_DIR/logs"  # host-<h>.log (inits), app-<h>.log, agent-<h>.log, controller.log
MH_TLS="$MH_DIR/tls"    # the CA and every certificate (hidden inside the hosts)

# The hosts and their addresses (10.200.0.0/24, private; see "Safety" above).
MH_CIDR=10.200.0.0/24
MH_HOSTS=(web dbb dbg appb appg ctl cli)
declare -A MH_ADDR=([web]=10.200.0.20 [dbb]=10.200.0.21 [dbg]=10.200.0.22 [appb]=10.200.0.31
  [appg]=10.200.0.32 [ctl]=10.200.0.11 [cli]=10.200.0.50)
declare -A MH_DB_HOST=([blue]=dbb [green]=dbg)
declare -A MH_APP_HOST=([blue]=appb [green]=appg)
MH_AGENT_HOSTS=(web dbb dbg)

# The same paths and ports in every host, on purpose (a server is known by host and port).
MH_SRV=/srv/switchyard
MH_PG_DATADIR="$MH_SRV/pg/shop"
MH_PG_PORT=5432
MH_APP_PORT=8080
MH_NGINX_PORT=80
MH_NGINX_DIR="$MH_SRV/nginx"
MH_UPSTREAM_FILE="$MH_NGINX_DIR/switchyard/shop.conf"
MH_AGENT_PORT=9754
MH_AGENT_STATE="$MH_SRV/agent"
MH_API_PORT=9753
MH_CTL_STATE="$MH_SRV/controller/state"
MH_API="http://${MH_ADDR[ctl]}:$MH_API_PORT"
MH_NGINX_URL="http://${MH_ADDR[web]}:$MH_NGINX_PORT"
# What the apps use: libpq tries both database hosts and keeps the one that accepts writes.
MH_APP_CONNINFO="host=${MH_ADDR[dbb]},${MH_ADDR[dbg]} port=$MH_PG_PORT,$MH_PG_PORT dbname=$SY_DATABASE user=$SY_SUPERUSER target_session_attrs=read-write connect_timeout=1 keepalives_idle=2 keepalives_interval=1 keepalives_count=2"

SY_LOG_PREFIX=${SY_LOG_PREFIX:-multihost}

# mh_load_prefix: sets MH_PREFIX from MULTIHOST_PREFIX or the one recorded in the work dir;
# a stack is always addressed with the prefix it was made with.
mh_load_prefix() {
  local recorded=''
  if [[ -f $MH_RUN/prefix ]]; then recorded=$(<"$MH_RUN/prefix"); fi
  MH_PREFIX=${MULTIHOST_PREFIX:-${recorded:-sy-}}
  [[ $MH_PREFIX =~ ^[a-z][a-z0-9-]{0,15}$ ]] ||
    sy_die "MULTIHOST_PREFIX must be 1-16 of [a-z0-9-], starting with a letter (got '$MH_PREFIX')"
  if [[ -n $recorded && $recorded != "$MH_PREFIX" ]]; then
    sy_die "$MH_DIR belongs to the stack with prefix '$recorded', not '$MH_PREFIX'"
  fi
}
mh_load_prefix

mh_ns() { printf '%s%s' "$MH_PREFIX" "$1"; }
MH_BRIDGE_NS=$(mh_ns sw)

# mh_host_dir HOST: the host's private directory as the root namespace sees it; its srv/ is
# the host's /srv.
mh_host_dir() { printf '%s/hosts/%s' "$MH_DIR" "$1"; }

# mh_path HOST PATH: where HOST's file PATH (under /srv) is, as the root namespace sees it.
mh_path() {
  [[ $2 == /srv/* ]] || sy_die "mh_path: $2 is not under /srv"
  printf '%s/srv%s' "$(mh_host_dir "$1")" "${2#/srv}"
}

mh_ns_exists() { [[ -e /run/netns/$(mh_ns "$1") ]]; }

# mh_init_pid HOST: the pid of HOST's init if it runs in HOST's network namespace, else
# nothing (a stale pid file, a reused pid).
mh_init_pid() {
  local pidfile="$MH_RUN/$1.pid" pid
  [[ -f $pidfile ]] || return 0
  pid=$(<"$pidfile")
  if ! [[ $pid =~ ^[0-9]+$ ]] || ! sy_pid_alive "$pid" || ! mh_ns_exists "$1"; then
    return 0
  fi
  if [[ $(stat -L -c %i "/proc/$pid/ns/net" 2>/dev/null) == "$(stat -c %i "/run/netns/$(mh_ns "$1")")" ]]; then
    printf '%s' "$pid"
  fi
}

mh_host_up() { [[ -n $(mh_init_pid "$1") ]]; }

# mh_exec HOST COMMAND...: runs COMMAND in all of HOST's namespaces (network, mount, PID,
# UTS), from /. For a host's own processes: servers, their tools, anything that must see the
# host's files and processes. The command runs as a child of nsenter (it forks to enter the
# PID namespace); a daemon it starts is adopted by the host's init.
mh_exec() {
  local host=$1 pid
  shift
  pid=$(mh_init_pid "$host")
  [[ -n $pid ]] || sy_die "host $host is not up (no init in namespace $(mh_ns "$host"))"
  nsenter -t "$pid" -n -m -p -u --wd=/ -- "$@"
}

# mh_client HOST COMMAND...: runs COMMAND in HOST's network namespace only (it keeps the root
# namespace's files and PID namespace, and nsenter execs it: its pid is $! and signals reach
# it). For clients (psql, curl, the writer, yardctl) and network tools (nft, ss).
mh_client() {
  local host=$1
  shift
  mh_ns_exists "$host" || sy_die "host $host has no network namespace $(mh_ns "$host")"
  nsenter --net="/run/netns/$(mh_ns "$host")" -- "$@"
}

# mh_host_pids HOST: the pids (root namespace) of every process in HOST's PID namespace.
mh_host_pids() {
  local pid pidns
  pid=$(mh_init_pid "$1")
  [[ -n $pid ]] || return 0
  pidns=$(stat -L -c %i "/proc/$pid/ns/pid") || return 0
  ps -e -o pid=,pidns= | awk -v ns="$pidns" '$2 == ns { print $1 }'
}

# mh_net_pids HOST...: the pids of every process in these hosts' network namespaces (hosts'
# processes and clients alike).
mh_net_pids() {
  local host inodes=()
  for host in "$@"; do
    if mh_ns_exists "$host"; then inodes+=("$(stat -c %i "/run/netns/$(mh_ns "$host")")"); fi
  done
  ((${#inodes[@]})) || return 0
  ps -e -o pid=,netns= | awk -v list=" ${inodes[*]} " 'index(list, " " $2 " ") { print $1 }'
}

# mh_freezer HOST: HOST's freezer cgroup (cgroup v1), or nothing if the freezer is not mounted.
mh_freezer() {
  if [[ -d /sys/fs/cgroup/freezer ]]; then printf '/sys/fs/cgroup/freezer/%s' "$(mh_ns "$1")"; fi
}

# mh_freeze HOST: stops every process of HOST where it stands (a paused VM): with the cgroup
# v1 freezer when it is mounted, else SIGSTOP to each. A process started in HOST afterwards
# is not frozen. Undo with mh_thaw.
mh_freeze() {
  local host=$1 cg pid
  cg=$(mh_freezer "$host")
  if [[ -n $cg ]]; then
    mkdir -p "$cg"
    for pid in $(mh_host_pids "$host"); do
      echo "$pid" >"$cg/cgroup.procs" 2>/dev/null || true  # a process may exit meanwhile
    done
    echo FROZEN >"$cg/freezer.state"
    sy_wait_for 10 "host $host to freeze" grep -qx FROZEN "$cg/freezer.state" ||
      sy_die "host $host: the freezer says $(cat "$cg/freezer.state")"
  else
    touch "$MH_RUN/$host.stopped"
    mh_host_pids "$host" | xargs -r kill -STOP 2>/dev/null || true
  fi
}

# mh_thaw HOST: lets a frozen host run again (a frozen process cannot even die).
mh_thaw() {
  local cg pid
  cg=$(mh_freezer "$1")
  if [[ -n $cg && -d $cg ]]; then
    echo THAWED >"$cg/freezer.state"
    # Back to the root group, so that the group can be removed.
    while read -r pid; do
      echo "$pid" >/sys/fs/cgroup/freezer/cgroup.procs 2>/dev/null || true
    done <"$cg/cgroup.procs"
    rmdir "$cg" 2>/dev/null || true
  elif [[ -f $MH_RUN/$1.stopped ]]; then
    mh_host_pids "$1" | xargs -r kill -CONT 2>/dev/null || true
  fi
  rm -f "$MH_RUN/$1.stopped"
}

# mh_power_off HOST: SIGKILL to HOST's init, which takes every process of the host with it;
# waits until they are gone. Nothing is stopped cleanly: this is a power cut.
mh_power_off() {
  local host=$1 pid pids
  pid=$(mh_init_pid "$host")
  [[ -n $pid ]] || return 0
  mh_thaw "$host"
  pids=$(mh_host_pids "$host")
  kill -KILL "$pid" 2>/dev/null || true
  local p
  for p in $pids; do
    sy_wait_for 10 "pid $p of host $host to die" mh_pid_gone "$p" || sy_die "host $host: pid $p survives its init"
  done
  rm -f "$MH_RUN/$host.pid"
}
mh_pid_gone() { ! sy_pid_alive "$1"; }

# mh_check_root_clean: dies unless the root network namespace is free of 10.200.0.0/24 (no
# address, no route): the one thing that must never happen.
mh_check_root_clean() {
  local found
  found=$(ip -4 -o addr show to "$MH_CIDR"; ip -4 route show table all root "$MH_CIDR")
  [[ -z $found ]] || sy_die "SAFETY: the root network namespace has $MH_CIDR addresses or routes: $found"
}

# mh_spawn HOST PIDFILE LOG COMMAND...: starts COMMAND as a daemon of HOST (adopted by its
# init, in a session of its own) and returns at once. PIDFILE (a path in HOST) gets its pid as
# HOST sees it; its output is appended to LOG (a path of the root namespace).
mh_spawn() {
  local host=$1 pidfile=$2 log=$3
  shift 3
  # shellcheck disable=SC2016  # $$, $0 and $@ are the inner shell's
  mh_exec "$host" setsid -f sh -c 'echo $$ >"$0" && exec "$@"' "$pidfile" "$@" \
    </dev/null >>"$log" 2>&1
}

# mh_cmdline HOST PID: the command line of HOST's process PID (as HOST numbers it), or nothing.
mh_cmdline() {
  mh_exec "$1" cat "/proc/$2/cmdline" 2>/dev/null | tr '\0' ' ' || true
}

# mh_daemon_pid HOST PIDFILE WORD...: the pid in HOST's PIDFILE if that process runs in HOST
# with every WORD in its command line (a pid file can outlive its process), else nothing.
mh_daemon_pid() {
  local host=$1 pidfile pid cmdline word
  pidfile=$(mh_path "$host" "$2")
  shift 2
  [[ -f $pidfile ]] || return 0
  pid=$(head -n 1 "$pidfile")
  [[ $pid =~ ^[0-9]+$ ]] || return 0
  cmdline=$(mh_cmdline "$host" "$pid")
  [[ -n $cmdline ]] || return 0
  for word in "$@"; do
    [[ $cmdline == *"$word"* ]] || return 0
  done
  printf '%s' "$pid"
}

# mh_listening HOST PORT: something listens on TCP PORT in HOST.
mh_listening() { [[ -n $(mh_client "$1" ss -Hltn "sport = :$2" 2>/dev/null) ]]; }
