#!/usr/bin/env bash
# Runs a command in one host of the multi-host stack (hack/multihost-up.sh), in all of its
# namespaces: its network (10.200.0.0/24), its files (its own /srv/switchyard), its processes.
# Without a command: a shell. As root.
#
#   hack/multihost-exec.sh HOST [COMMAND [ARGS...]]    HOST: web dbb dbg appb appg ctl cli
#   hack/multihost-exec.sh cli psql -h 10.200.0.21 -U switchyard shop
#   hack/multihost-exec.sh dbg ls /srv/switchyard/pg/shop
#
# Environment: SWITCHYARD_MULTIHOST_DIR, MULTIHOST_PREFIX (as for multihost-up.sh).
set -euo pipefail

hack=$(dirname "${BASH_SOURCE[0]}")
SY_LOG_PREFIX=multihost-exec
# shellcheck source=hack/lib/multihost.sh
source "$hack/lib/multihost.sh"

if (($# == 0)) || [[ $1 == -h || $1 == --help ]]; then
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi
host=$1
shift
[[ -n ${MH_ADDR[$host]:-} ]] || sy_die "no host '$host' (hosts: ${MH_HOSTS[*]})"
(($#)) || set -- bash
# psql's client tools are not on root's PATH in Debian.
PATH="$PATH:$SY_PG_BIN" mh_exec "$host" "$@"
