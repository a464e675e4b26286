# shellcheck shell=bash
# shellcheck disable=SC2034  # serves_only's loop counter only counts
# Part of tests/integration/engine/lib.sh, which sources it: the world as a client sees it.
# served_color asks nginx on a new connection; assert_world checks, on the real parts, that
# the stack converged on a color (its primary, the other streaming, nginx and the upstream
# file).

# served_color: the color nginx answers with on a new connection, or nothing.
served_color() {
  "${IT_CLIENT[@]}" curl -sS -m 3 -o /dev/null -w '%header{x-switchyard-color}' "$IT_NGINX_URL/" 2>/dev/null || true
}

# serves_only COLOR: 10 fresh connections through nginx all answer COLOR.
serves_only() {
  local i c
  for i in 1 2 3 4 5 6 7 8 9 10; do
    c=$(served_color)
    [[ $c == "$1" ]] || return 1
  done
}

# assert_world COLOR: the converged world for COLOR, checked on the real parts: COLOR the
# only primary, the other a standby streaming from it (waiting up to 15 s for the stream),
# nginx serving COLOR only, the upstream file rendered for COLOR.
assert_world() {
  local d=$1 o
  if [[ $d == blue ]]; then o=green; else o=blue; fi
  check "$d is the primary (pg_is_in_recovery() = f on ${IT_PG_HOST[$d]}:${IT_PG_PORT[$d]})" \
    test "$(in_recovery "$d")" = f
  check "$o is a standby (pg_is_in_recovery() = t on ${IT_PG_HOST[$o]}:${IT_PG_PORT[$o]})" \
    test "$(in_recovery "$o")" = t
  check "$d's pg_stat_replication shows $o streaming" \
    wait_until 15 "$o to stream from $d" streaming "$d" "$o"
  check "nginx serves $d on 10 new connections" serves_only "$d"
  check "the upstream file points at $d's app (${IT_APP_ADDR[$d]})" \
    grep -Eq "^[[:space:]]*server[[:space:]]+${IT_APP_ADDR[$d]};" "$IT_UPSTREAM_FILE"
}

# primary_color: the color whose server answers pg_is_in_recovery() = f (the first, if two).
primary_color() {
  local c
  for c in blue green; do
    if [[ $(in_recovery "$c") == f ]]; then
      printf '%s' "$c"
      return
    fi
  done
}
