# shellcheck shell=bash
# shellcheck disable=SC2034  # variables are used by the tests and the shared helpers
# Shared by the multi-host integration tests (tests/integration/multihost/*_test.sh): they run
# against the multi-host stack (hack/multihost-up.sh: one network, mount and PID namespace
# per host, PostgreSQL blue on dbb and green on dbg, the shop apps, nginx on web, the agents
# and the controller when they are built) and assert on the state of the world, every client
# (psql, curl, the writer, the monitor) running in the cli host.
#
# A test sources this file, calls mh_begin NAME, does its work with the helpers and ends with
# mh_end. Helpers:
#   the engine's (tests/integration/engine/lib/), with the stack reached through cli:
#     report.sh  PASS/FAIL lines, check, require, fatal, wait_until
#     procs.sh   stop_pid, it_pid_gone
#     pg.sh      pg COLOR DB SQL, in_recovery, streaming, own_writes
#     monitor.sh two_primaries, the primary monitor, the fast monitor (both servers sampled
#                every SY_IT_SAMPLE_S, default 0.003 s, from cli), check_fast_monitor
#     world.sh   served_color, serves_only, assert_world, primary_color
#     writes.sh  start_writer (POST /orders through nginx from cli), acked_count,
#                check_no_write_lost, longest_ack_gap
#   lib/stack.sh   mh_begin, mh_end, the trap that always runs hack/multihost-down.sh --purge
#   lib/hosts.sh   PostgreSQL on its host (stop_pg, pg_ctl_start, crash_pg, pg_aux_pid, in the
#                  host), host_psql, mh_pg_pid, mh_power_on
#   lib/faults.sh  link cut, one-way drops (nft), freeze and thaw, kills, power off
# and hack/lib/multihost.sh's: mh_exec HOST CMD (in all of a host's namespaces), mh_client
# HOST CMD (in its network only), mh_path HOST PATH (a host's file as the root namespace sees
# it), MH_ADDR[host].
#
# Environment:
#   SWITCHYARD_BUILD_DIR      where shop-app (and switchyard, yardctl, switchyard-agent) are
#                             built (default ./build)
#   SWITCHYARD_MULTIHOST_DIR  the stack's work dir (default /tmp/switchyard-it-multihost); purged
#   MULTIHOST_PREFIX          namespace-name prefix (default syt-, apart from hack/multihost-up.sh's
#                             sy-, so that a developer's stack and a test's coexist)
#   MULTIHOST_AGENTS, MULTIHOST_CONTROLLER: passed to hack/multihost-up.sh
#   SY_IT_ARTIFACTS           where each test keeps its logs (default $SWITCHYARD_MULTIHOST_DIR.artifacts)
#   SY_IT_KEEP=1              leave the stack up at the end (for debugging)

export SWITCHYARD_MULTIHOST_DIR=${SWITCHYARD_MULTIHOST_DIR:-/tmp/switchyard-it-multihost}
export MULTIHOST_PREFIX=${MULTIHOST_PREFIX:-syt-}
IT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
export SWITCHYARD_BUILD_DIR=${SWITCHYARD_BUILD_DIR:-$IT_ROOT/build}
SY_LOG_PREFIX=multihost-it
# shellcheck source=hack/lib/multihost.sh
source "$IT_ROOT/hack/lib/multihost.sh"
# shellcheck source=hack/lib/multihost-services.sh
source "$IT_ROOT/hack/lib/multihost-services.sh"
# shellcheck source=hack/lib/multihost-control.sh
source "$IT_ROOT/hack/lib/multihost-control.sh"

# How the engine's helpers reach this stack (see tests/integration/engine/lib.sh): every
# client runs in cli's network namespace; nsenter execs it, so a client started in the
# background is $! and its signals reach it.
IT_CLIENT=(nsenter "--net=/run/netns/$(mh_ns cli)" --)
declare -A IT_PG_HOST=([blue]=${MH_ADDR[dbb]} [green]=${MH_ADDR[dbg]})
declare -A IT_PG_PORT=([blue]=$MH_PG_PORT [green]=$MH_PG_PORT)
declare -A IT_APP_ADDR=([blue]=${MH_ADDR[appb]}:$MH_APP_PORT [green]=${MH_ADDR[appg]}:$MH_APP_PORT)
IT_NGINX_URL=$MH_NGINX_URL
IT_UPSTREAM_FILE=$(mh_path web "$MH_UPSTREAM_FILE")

it_name=''
it_failures=0
it_pids=()  # background processes to kill at the end (writer, monitors...)
it_t0=0

IT_ENGINE_LIB="$IT_ROOT/tests/integration/engine/lib"
# shellcheck source=tests/integration/engine/lib/report.sh
source "$IT_ENGINE_LIB/report.sh"
# shellcheck source=tests/integration/engine/lib/procs.sh
source "$IT_ENGINE_LIB/procs.sh"
# shellcheck source=tests/integration/engine/lib/pg.sh
source "$IT_ENGINE_LIB/pg.sh"
# shellcheck source=tests/integration/engine/lib/monitor.sh
source "$IT_ENGINE_LIB/monitor.sh"
# shellcheck source=tests/integration/engine/lib/world.sh
source "$IT_ENGINE_LIB/world.sh"
# shellcheck source=tests/integration/engine/lib/writes.sh
source "$IT_ENGINE_LIB/writes.sh"

IT_MH_LIB="$IT_ROOT/tests/integration/multihost/lib"
# shellcheck source=tests/integration/multihost/lib/stack.sh
source "$IT_MH_LIB/stack.sh"
# shellcheck source=tests/integration/multihost/lib/hosts.sh
source "$IT_MH_LIB/hosts.sh"
# shellcheck source=tests/integration/multihost/lib/faults.sh
source "$IT_MH_LIB/faults.sh"
# shellcheck source=tests/integration/multihost/lib/control.sh
source "$IT_MH_LIB/control.sh"
