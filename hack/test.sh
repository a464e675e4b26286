#!/usr/bin/env bash
# Runs every test from nothing, as root on Debian 12: installs the dependencies, builds,
# checks formatting and lint, then runs the unit and integration tests (real PostgreSQL 15,
# real nginx, on 127.0.0.1). Exits non-zero when anything fails.
#   SWITCHYARD_TEST_FILTER=regex   run only the matching ctest tests
#   SWITCHYARD_SKIP_LINT=1         skip clang-tidy (slow)
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
if [ "${SWITCHYARD_SKIP_LINT:-}" != "1" ]; then
  step "lint"
  bash hack/lint.sh "$build"
fi
step "tests"
args=(--output-on-failure --no-tests=error --timeout 900)
[ -n "${SWITCHYARD_TEST_FILTER:-}" ] && args+=(-R "$SWITCHYARD_TEST_FILTER")
cd "$build"
# Unit tests in parallel; integration tests one at a time (they share the stack's ports).
ctest "${args[@]}" -L unit -j2
ctest "${args[@]}" -L integration
