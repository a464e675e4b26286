# shellcheck shell=bash
# Part of hack/multihost-up.sh, which sources it after hack/lib/multihost.sh: the network
# (bridge, veths, addresses) and the hosts' inits. Every function is idempotent: what exists
# is left alone.
#
# Every ip command names its namespace (-n) or creates a link directly in one (link add ...
# netns): no interface, address or route of 10.200.0.0/24 ever exists in the root namespace,
# not even for a moment.

# mh_make_bridge: the namespace "sw" with br0, up. No address, no uplink.
mh_make_bridge() {
  if ! mh_ns_exists sw; then
    ip netns add "$MH_BRIDGE_NS"
    ip -n "$MH_BRIDGE_NS" link set lo up
  fi
  if ! ip -n "$MH_BRIDGE_NS" link show br0 >/dev/null 2>&1; then
    ip -n "$MH_BRIDGE_NS" link add br0 type bridge
  fi
  ip -n "$MH_BRIDGE_NS" link set br0 up
}

# mh_make_host_net HOST: HOST's namespace with lo up and eth0 (its address, /24, no default
# route), the other end v-HOST a port of br0.
mh_make_host_net() {
  local host=$1 ns
  ns=$(mh_ns "$host")
  if ! mh_ns_exists "$host"; then
    ip netns add "$ns"
  fi
  ip -n "$ns" link set lo up
  if ! ip -n "$ns" link show eth0 >/dev/null 2>&1 ||
    ! ip -n "$MH_BRIDGE_NS" link show "v-$host" >/dev/null 2>&1; then
    # Half a pair (an interrupted run): deleting one end deletes the other.
    ip -n "$ns" link del eth0 2>/dev/null || true
    ip -n "$MH_BRIDGE_NS" link del "v-$host" 2>/dev/null || true
    ip link add "v-$host" netns "$MH_BRIDGE_NS" type veth peer name eth0 netns "$ns"
  fi
  ip -n "$MH_BRIDGE_NS" link set "v-$host" master br0 up
  if ! ip -n "$ns" -4 -o addr show dev eth0 | grep -q " ${MH_ADDR[$host]}/24 "; then
    ip -n "$ns" addr add "${MH_ADDR[$host]}/24" dev eth0
  fi
  ip -n "$ns" link set eth0 up
}

# The init of a host, run by `ip netns exec NS unshare --mount --pid --fork --uts` as PID 1 of
# the new PID namespace. Arguments: HOST WORKDIR PIDFILE HIDDEN-DIR... It records its own pid
# as the root namespace sees it (read before /proc is replaced by the host's own), mounts
# the host's /srv, a private /run/postgresql and empty directories over the other hosts'
# files, names the host, and then only reaps orphans (PID 1 ignores signals it has no
# handler for; SIGKILL from the root namespace powers the host off).
# shellcheck disable=SC2016  # expanded by the init's shell
MH_INIT_SCRIPT='
set -eu
host=$1 workdir=$2 pidfile=$3
shift 3
while read -r key value _; do
  if [[ $key == NSpid: ]]; then root_pid=$value; fi
done </proc/self/status
mount -t proc proc /proc
mount --bind "$workdir/hosts/$host/srv" /srv
mount -t tmpfs -o mode=2775 tmpfs /run/postgresql
chown postgres:postgres /run/postgresql
for hidden in "$@"; do
  mount -t tmpfs -o ro,mode=0755,size=16k tmpfs "$hidden"
done
hostname "$host"
echo "$root_pid" >"$pidfile"
echo "host $host: init up (pid $root_pid in the root namespace)"
exec -a "multihost-init $host" bash -c "trap \"\" TERM INT HUP; while :; do sleep 3600 & wait \$!; done"
'

# mh_start_host HOST: HOST's init, unless it runs; waits until it has set the host up.
mh_start_host() {
  local host=$1 other hidden=("$MH_TLS")
  if mh_host_up "$host"; then
    return
  fi
  for other in "${MH_HOSTS[@]}"; do
    [[ $other == "$host" ]] || hidden+=("$(mh_host_dir "$other")")
  done
  rm -f "$MH_RUN/$host.pid"
  setsid ip netns exec "$(mh_ns "$host")" \
    unshare --mount --propagation private --pid --fork --uts \
    bash -c "$MH_INIT_SCRIPT" init "$host" "$MH_DIR" "$MH_RUN/$host.pid" "${hidden[@]}" \
    </dev/null >>"$MH_LOGS/host-$host.log" 2>&1 &
  sy_wait_for 10 "host $host's init" mh_host_up "$host" ||
    sy_fail "host $host" "$MH_LOGS/host-$host.log" "its init did not come up"
}

# mh_mount_storage: the hosts' files ($MH_DIR/hosts) on a tmpfs of their own unless
# MULTIHOST_TMPFS=0: bringing the stack up and down is then a matter of seconds on a busy
# 2-core machine (initdb, pg_basebackup and PostgreSQL's start-up sync of a fresh copy wait
# for the disk otherwise), at the price of fsync costing nothing. A host's power-off keeps its
# files; multihost-down --purge unmounts it.
mh_mount_storage() {
  [[ ${MULTIHOST_TMPFS:-1} == 1 ]] || return 0
  install -d -m 0755 "$MH_DIR/hosts"
  if ! mountpoint -q "$MH_DIR/hosts"; then
    mount -t tmpfs -o "size=${MULTIHOST_TMPFS_SIZE:-2g},mode=0755" switchyard-multihost "$MH_DIR/hosts"
  fi
}

# mh_make_host_dirs: every host's private directory (they must all exist before the first
# init starts: each init hides the others'), the logs, the run and TLS directories.
mh_make_host_dirs() {
  local host
  install -d -m 0755 "$MH_RUN" "$MH_LOGS"
  install -d -m 0700 "$MH_TLS"
  mh_mount_storage
  for host in "${MH_HOSTS[@]}"; do
    install -d -m 0755 "$(mh_host_dir "$host")" "$(mh_host_dir "$host")/srv" \
      "$(mh_path "$host" "$MH_SRV")"
  done
}

# mh_up_hosts: the bridge, then every host's network and init.
mh_up_hosts() {
  local host
  mh_make_host_dirs
  mh_make_bridge
  for host in "${MH_HOSTS[@]}"; do
    mh_make_host_net "$host"
    mh_start_host "$host"
  done
}
