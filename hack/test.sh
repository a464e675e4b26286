#!/usr/bin/env bash
# Runs every test from nothing, as root on Debian 12: installs the dependencies, builds,
# checks formatting and lint, then runs the unit and integration tests (real PostgreSQL 15,
# real nginx, on 127.0.0.1). Exits non-zero when anything fails.
#   SWITCHYARD_TEST_FILTER=regex   run only the matching ctest tests
#   SWITCHYARD_SKIP_LINT=1         skip clang-tidy (the slowest part)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${SWITCHYARD_BUILD_DIR:-build}"
export SWITCHYARD_BUILD_DIR="$build"

step() { printf '\n==> %s\n' "$*"; }

step "dependencies"
bash hack/install-deps.sh
step "build ($build)"
bash hack/build.sh
step "format"
bash hack/verify-format.sh

# clang-tidy is CPU-bound and the integration tests mostly wait on servers: run them side by
# side, then report both.
lint_pid=""
if [ "${SWITCHYARD_SKIP_LINT:-}" != "1" ]; then
  step "lint (in the background: $build/lint.out)"
  LINT_JOBS=2 bash hack/lint.sh "$build" >"$build/lint.out" 2>&1 &
  lint_pid=$!
fi

step "tests"
args=(--output-on-failure --timeout 900)
[ -n "${SWITCHYARD_TEST_FILTER:-}" ] && args+=(-R "$SWITCHYARD_TEST_FILTER")
status=0
(cd "$build" && ctest "${args[@]}" -L unit -j2) || status=1
# Integration tests one at a time: they share the local stack's ports.
(cd "$build" && ctest "${args[@]}" -L integration) || status=1

if [ -n "$lint_pid" ]; then
  step "lint result"
  if wait "$lint_pid"; then cat "$build/lint.out"; else cat "$build/lint.out"; status=1; fi
fi
if [ "$status" -ne 0 ]; then
  echo "test.sh: FAILED (see above)" >&2
  exit 1
fi
echo "test.sh: all passed"
