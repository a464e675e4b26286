#!/usr/bin/env bash
# Takes down what hack/multihost-up.sh brought up in
# ${SWITCHYARD_MULTIHOST_DIR:-/tmp/switchyard-multihost}, and nothing else: each host is powered
# off (its init killed: every process of the host dies with it, PostgreSQL included, as in a
# power cut), every process still in one of the stack's network namespaces (clients) is
# killed by pid, the namespaces and the bridge are deleted (the veths and the hosts' mounts go
# with them) and the hosts' freezer cgroups removed; with --purge, the hosts' tmpfs is
# unmounted and the work dir deleted. Then it checks that nothing remains: no namespace of the
# stack, no process in one, no 10.200.0.0/24 address or route in the root namespace.
#
#   hack/multihost-down.sh [--purge]     --purge also deletes the work dir
#
# Idempotent. The namespaces are the stack's by name ($MULTIHOST_PREFIX<host>, the prefix
# recorded in the work dir): another stack with another prefix is never touched.
set -euo pipefail

hack=$(dirname "${BASH_SOURCE[0]}")
SY_LOG_PREFIX=multihost-down
# shellcheck source=hack/lib/multihost.sh
source "$hack/lib/multihost.sh"

purge=0
for arg in "$@"; do
  case $arg in
    --purge) purge=1 ;;
    -h | --help)
      sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *) sy_die "unknown argument '$arg' (usage: multihost-down.sh [--purge])" ;;
  esac
done

ALL_NS=(sw "${MH_HOSTS[@]}")
removed=0  # pieces removed by this run

power_off_hosts() {
  local host
  for host in "${MH_HOSTS[@]}"; do
    if mh_host_up "$host"; then
      sy_log "powering off $host"
      mh_power_off "$host"
      removed=$((removed + 1))
    else
      mh_thaw "$host"  # a frozen client or a leftover group
      rm -f "$MH_RUN/$host.pid"
    fi
  done
}

# kill_clients: whatever still runs in the stack's network namespaces (clients started with
# mh_client, an init whose pid file was lost), by pid.
kill_clients() {
  local pids p
  pids=$(mh_net_pids "${ALL_NS[@]}")
  [[ -n $pids ]] || return 0
  sy_log "killing processes left in the stack's namespaces: $(tr '\n' ' ' <<<"$pids")"
  # shellcheck disable=SC2086  # a list of pids
  kill -KILL $pids 2>/dev/null || true
  for p in $pids; do
    sy_wait_for 10 "pid $p to die" mh_pid_gone "$p" || sy_die "pid $p does not die"
  done
  removed=$((removed + 1))
}

delete_namespaces() {
  local ns
  for ns in "${ALL_NS[@]}"; do
    if mh_ns_exists "$ns"; then
      ip netns del "$(mh_ns "$ns")"
      removed=$((removed + 1))
    fi
  done
}

remove_freezer_groups() {
  local host cg
  for host in "${MH_HOSTS[@]}"; do
    cg=$(mh_freezer "$host")
    if [[ -n $cg && -d $cg ]]; then
      rmdir "$cg" || sy_die "cannot remove the freezer cgroup $cg"
    fi
  done
}

# check_nothing_left: no namespace of ours, no process in one, nothing in the root namespace.
check_nothing_left() {
  local ns left=()
  for ns in "${ALL_NS[@]}"; do
    if mh_ns_exists "$ns"; then left+=("namespace $(mh_ns "$ns")"); fi
  done
  [[ -z $(mh_net_pids "${ALL_NS[@]}") ]] || left+=("processes in the stack's namespaces")
  ((${#left[@]} == 0)) || sy_die "still there: ${left[*]}"
  mh_check_root_clean
}

purge_dir() {
  [[ -e $MH_DIR ]] || return 0
  [[ -f $MH_MARKER ]] || sy_die "--purge: $MH_DIR has no $(basename "$MH_MARKER"); not deleting it"
  if mountpoint -q "$MH_DIR/hosts"; then
    umount "$MH_DIR/hosts" || sy_die "cannot unmount the hosts' tmpfs $MH_DIR/hosts"
  fi
  sy_log "deleting $MH_DIR"
  rm -rf -- "$MH_DIR"
}

main() {
  [[ $(id -u) -eq 0 ]] || sy_die "run as root (namespaces)"
  power_off_hosts
  kill_clients
  delete_namespaces
  remove_freezer_groups
  check_nothing_left
  if ((purge)); then
    purge_dir
  fi
  if ((removed == 0)); then
    sy_log "nothing of prefix $MH_PREFIX was up"
  else
    sy_log "down: no namespace $(mh_ns '*') left, no process in one"
  fi
}

main
