#!/usr/bin/env bash
# The unit tests (pure code and the controller over in-memory fakes) and the fuzz corpus
# replays under a sanitizer: hack/sanitize.sh asan   (AddressSanitizer + UndefinedBehaviorSanitizer)
#                           hack/sanitize.sh tsan   (ThreadSanitizer)
# Builds only what those tests need (the unit_tests target) into build-<sanitizer>/ with
# -O1 -g1 (line tables only, to build fast; reports still name file:line), and runs
# `ctest -L unit` there. Any report fails the test that caused it.
#   SANITIZE_TEST_FILTER=regex   only the matching tests
#   SANITIZE_TARGETS="a_test b"  build only these test binaries (default: every unit test)
# Further arguments go to cmake's configure step (e.g. -DSY_DEPS_DIR=...).
# Warnings are the normal build's business (-Werror in CI); here they are not errors.
set -euo pipefail
cd "$(dirname "$0")/.."
kind="${1:-}"
shift || true
case "$kind" in
  asan) flag=-DSY_ASAN=ON ;;
  tsan) flag=-DSY_TSAN=ON ;;
  *) echo "usage: hack/sanitize.sh asan|tsan" >&2; exit 2 ;;
esac
build="${SWITCHYARD_SANITIZE_BUILD_DIR:-build-$kind}"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Sanitize -DCMAKE_CXX_FLAGS_SANITIZE="-O1 -g1" \
  "$flag" -DSY_WERROR=OFF "$@" >/dev/null
targets=()
for t in ${SANITIZE_TARGETS:-unit_tests}; do targets+=(--target "$t"); done
cmake --build "$build" -j"${BUILD_JOBS:-2}" "${targets[@]}"

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/tsan.supp"
args=(--output-on-failure --timeout 600 -L unit -j"${SANITIZE_JOBS:-2}")
[ -n "${SANITIZE_TEST_FILTER:-}" ] && args+=(-R "$SANITIZE_TEST_FILTER")
(cd "$build" && ctest "${args[@]}")
echo "sanitize ($kind): all passed"
