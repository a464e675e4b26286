# shellcheck shell=bash
# Part of tests/integration/multihost/lib.sh, which sources it: the fault kit. Each fault has
# its undo; hack/multihost-down.sh undoes all of them (it thaws, and deletes the namespaces
# with their links and rules).
#
#   cut_link HOST / restore_link HOST   HOST's bridge port down/up: HOST is isolated, silently
#                                       (connections time out; nothing is refused)
#   drop HOST in|out PEER / undrop HOST nft in HOST: drop what HOST receives from PEER (in) or
#                                       sends to PEER (out): one-way loss
#   freeze_host HOST / thaw_host HOST   every process of HOST stops where it stands (paused VM)
#   kill_in_host HOST SIGNAL PID        a signal to one process, PID as HOST numbers it
#   mh_power_off HOST / mh_power_on     every process of HOST dies at once / comes back

cut_link() { ip -n "$MH_BRIDGE_NS" link set "v-$1" down; }
restore_link() { ip -n "$MH_BRIDGE_NS" link set "v-$1" up; }

MH_NFT_TABLE=switchyard_faults

# drop HOST in|out PEER: a rule in HOST's own table (created on first use). Needs nft
# (package nftables, hack/install-deps.sh).
drop() {
  local host=$1 dir=$2 peer=$3 hook match
  command -v nft >/dev/null || fatal "nft not found (apt-get install nftables; hack/install-deps.sh)"
  case $dir in
    in) hook=input match=saddr ;;
    out) hook=output match=daddr ;;
    *) fatal "drop: direction must be in or out, got '$dir'" ;;
  esac
  printf 'table inet %s {\n  chain %s { type filter hook %s priority 0; policy accept; }\n}\nadd rule inet %s %s ip %s %s drop\n' \
    "$MH_NFT_TABLE" "$hook" "$hook" "$MH_NFT_TABLE" "$hook" "$match" "$peer" |
    mh_client "$host" nft -f - || fatal "drop $host $dir $peer: nft failed"
}

# undrop HOST: every drop rule of HOST gone.
undrop() {
  if mh_client "$1" nft list table inet "$MH_NFT_TABLE" >/dev/null 2>&1; then
    mh_client "$1" nft delete table inet "$MH_NFT_TABLE"
  fi
}

freeze_host() { mh_freeze "$1"; }
thaw_host() { mh_thaw "$1"; }

kill_in_host() { mh_exec "$1" kill "-$2" "$3"; }
