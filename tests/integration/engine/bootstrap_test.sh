#!/usr/bin/env bash
# shellcheck disable=SC2317  # some functions are only called through check and wait_until
# Bootstrap is reconciling too (pkg/plan/README.md §4): with green's server stopped and its data
# directory deleted, `switchyard --once` (activeColor blue) re-clones green from blue with
# pg_basebackup, configures and starts it; green then streams from blue and replicates a new
# row. A second --once finds nothing to do.
set -uo pipefail
# shellcheck source=tests/integration/engine/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_begin bootstrap

green_dir=$(sy_pg_datadir green)
stop_pg green || fatal "pg_ctl stop green"
rm -rf "$green_dir"
require "green is stopped and its data directory $green_dir is gone" \
  test ! -e "$green_dir" -a -z "$(in_recovery green)"

t0=$(it_ts)
run_once bootstrap
ms=$(($(it_ts) - t0))
show_run bootstrap
check "switchyard --once exits 0 (got $once_rc, ${ms} ms)" test "$once_rc" -eq 0
check "--once reports default/shop Converged" grep -q '^default/shop: Converged' "$IT_ART/bootstrap.out"
check "the run re-cloned green with a basebackup step" \
  grep -Eq 'step resource=default/shop step="[^"]*basebackup[^"]*green[^"]*" outcome=ok' "$IT_ART/bootstrap.err"
check "green's data directory holds a cluster again (PG_VERSION)" test -f "$green_dir/PG_VERSION"

assert_world blue
check "green uses slot switchyard_green on blue (active)" \
  test "$(pg blue postgres "SELECT active FROM pg_replication_slots WHERE slot_name = 'switchyard_green'")" = t

# A row inserted on blue appears on green (replication really works, not just connected).
note="bootstrap-$(date +%s%N)"
id=$(pg blue "$SY_DATABASE" "INSERT INTO orders (color, note) VALUES ('blue', '$note') RETURNING id")
if [[ $id =~ ^[0-9]+$ ]]; then
  pass "inserted order $id on blue"
  row_on_green() { [[ $(pg green "$SY_DATABASE" "SELECT note FROM orders WHERE id = $id") == "$note" ]]; }
  check "order $id replicates to green" wait_until 10 "order $id on green" row_on_green
else
  fail "insert on blue: got '$id'"
fi

# Converged means nothing more to do.
run_once idle
check "a second --once exits 0 (got $once_rc)" test "$once_rc" -eq 0
check "the second --once takes no step" test "$(grep -c 'step resource=' "$IT_ART/idle.err")" -eq 0

it_end
