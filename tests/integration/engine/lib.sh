# shellcheck shell=bash
# shellcheck disable=SC2034  # variables are used by the tests that source this file
# Shared by the engine's integration tests (tests/integration/engine/*_test.sh): they drive
# the real switchyard binary against the real local stack (hack/local-up.sh: PostgreSQL 15
# blue and green, the shop app twice, nginx) and assert on the state of the world: psql on
# both servers, curl through nginx, the controller's status.
#
# A test sources this file, calls it_begin NAME, does its work with the helpers and ends
# with it_end. The helpers are in lib/, one file per concern, all sourced below:
#   lib/report.sh   PASS/FAIL lines, check, require, fatal, wait_until
#   lib/procs.sh    stop_pid, it_pid_gone: single processes the test started
#   lib/stack.sh    it_begin, it_cleanup, it_end: the test's life on the stack
#   lib/daemon.sh   the manifest, switchyard --once, the daemon, its status and step lines
#   lib/pg.sh       psql, roles and replication, pg_ctl, crashes
#   lib/monitor.sh  two-primaries monitors, slow and fast
#   lib/world.sh    what nginx serves; the converged world of a color
#   lib/writes.sh   the writer through nginx, acknowledged writes, none lost
# The helpers reach the stack as a client through the names defined below (IT_CLIENT,
# IT_PG_HOST, IT_PG_PORT, IT_NGINX_URL, IT_APP_ADDR, IT_UPSTREAM_FILE):
# tests/integration/multihost/lib.sh defines them for the multi-host stack and reuses the
# helpers there.
# it_begin installs a trap that, whatever happens (failure, set -e, ^C, CTest's timeout
# SIGTERM), kills every process the test started (by pid) and brings the stack down with
# hack/local-down.sh --purge.
#
# Environment:
#   SWITCHYARD_BUILD_DIR  where switchyard, yardctl and shop-app are built (default ./build)
#   SWITCHYARD_LOCAL_DIR  the stack's work dir (default /tmp/switchyard-it-engine); purged
#   SY_IT_ARTIFACTS       where each test keeps its logs (default $SWITCHYARD_LOCAL_DIR.artifacts);
#                         kept after the run, with the servers' logs copied in on failure
#   SY_IT_PORT_WAIT       seconds to wait for the stack's fixed ports to be free (default 90):
#                         the ports are shared with anyone else's local stack on the machine
#   SY_IT_KEEP=1          leave the stack up at the end (for debugging; nothing is purged)
#   SY_IT_ISOLATE         auto (default): if another stack holds the fixed ports (another
#                         user's hack/local-up.sh on this machine), run the test in its own
#                         network and mount namespaces (unshare): a private loopback where the
#                         ports are free and a private /var/run/postgresql for the servers'
#                         sockets. 1: always do so. 0: never; wait for the ports instead.

export SWITCHYARD_LOCAL_DIR=${SWITCHYARD_LOCAL_DIR:-/tmp/switchyard-it-engine}
IT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
export SWITCHYARD_BUILD_DIR=${SWITCHYARD_BUILD_DIR:-$IT_ROOT/build}
# shellcheck source=hack/lib/local-stack.sh
source "$IT_ROOT/hack/lib/local-stack.sh"

# Our own leftover stack (an earlier run that was killed) is not "another stack".
it_ports_held_by_others() {
  ! sy_ports_free && [[ ! -f $SY_MARKER || -z $(sy_nginx_pid)$(sy_app_pid blue)$(sy_pg_pid blue) ]]
}
if [[ -z ${SY_IT_ISOLATED:-} ]]; then
  case ${SY_IT_ISOLATE:-auto} in
    1) it_isolate=1 ;;
    0) it_isolate=0 ;;
    *)
      it_isolate=0
      if it_ports_held_by_others && unshare --net --mount true 2>/dev/null; then
        printf 'engine: ports %s are held by another stack; running in private network and mount namespaces (SY_IT_ISOLATE=0 waits for the ports instead)\n' "${SY_PORTS[*]}"
        it_isolate=1
      fi
      ;;
  esac
  if ((it_isolate)); then
    export SY_IT_ISOLATED=1
    # unshare execs (no fork): same pid, so CTest's signals reach the test and its EXIT trap.
    # shellcheck disable=SC2016  # expanded by the inner shell
    exec unshare --net --mount --propagation private bash -c \
      'ip link set lo up && mkdir -p /var/run/postgresql &&
       mount -t tmpfs -o mode=2775 tmpfs /var/run/postgresql && exec bash "$@"' \
      isolate "$0" "$@"
  fi
fi

IT_SWITCHYARD="$SY_BUILD_DIR/cmd/switchyard/switchyard"
IT_YARDCTL="$SY_BUILD_DIR/cmd/yardctl/yardctl"
IT_API_PORT=${SY_IT_API_PORT:-19761}  # the daemon's HTTP endpoint in the tests that run one
IT_API="http://$SY_HOST:$IT_API_PORT"
IT_DC_PATH=/apis/switchyard.dev/v1alpha1/namespaces/default/deploymentcolors/shop

it_name=''
it_failures=0
it_pids=()            # background processes to kill at the end (writer, reader, daemons...)
it_t0=0

# How the helpers reach the stack as a client: IT_CLIENT is the command prefix a client runs
# under (none here; the multi-host stack's runs clients in its cli host), the others are
# where each color's server and app are, nginx's URL and the upstream file.
IT_CLIENT=()
declare -A IT_PG_HOST=([blue]=$SY_HOST [green]=$SY_HOST)
declare -A IT_PG_PORT=([blue]=${SY_PG_PORT[blue]} [green]=${SY_PG_PORT[green]})
declare -A IT_APP_ADDR=([blue]=$SY_HOST:${SY_APP_PORT[blue]} [green]=$SY_HOST:${SY_APP_PORT[green]})
IT_NGINX_URL="http://$SY_HOST:$SY_NGINX_PORT"
IT_UPSTREAM_FILE=$SY_UPSTREAM_FILE

IT_LIB="$IT_ROOT/tests/integration/engine/lib"
# shellcheck source=tests/integration/engine/lib/report.sh
source "$IT_LIB/report.sh"
# shellcheck source=tests/integration/engine/lib/procs.sh
source "$IT_LIB/procs.sh"
# shellcheck source=tests/integration/engine/lib/stack.sh
source "$IT_LIB/stack.sh"
# shellcheck source=tests/integration/engine/lib/daemon.sh
source "$IT_LIB/daemon.sh"
# shellcheck source=tests/integration/engine/lib/pg.sh
source "$IT_LIB/pg.sh"
# shellcheck source=tests/integration/engine/lib/monitor.sh
source "$IT_LIB/monitor.sh"
# shellcheck source=tests/integration/engine/lib/world.sh
source "$IT_LIB/world.sh"
# shellcheck source=tests/integration/engine/lib/writes.sh
source "$IT_LIB/writes.sh"
