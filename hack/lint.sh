#!/usr/bin/env bash
# Runs clang-tidy (checks in .clang-tidy) over the project's sources, two files at a time.
# Needs a configured build directory with compile_commands.json (default: build).
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-${SWITCHYARD_BUILD_DIR:-build}}"
[ -f "$build/compile_commands.json" ] || { echo "lint: no $build/compile_commands.json: configure first" >&2; exit 2; }
mapfile -t files < <(git ls-files 'pkg/*.cc' 'cmd/*.cc' 'examples/*.cc')
printf '%s\n' "${files[@]}" \
  | xargs -P "${LINT_JOBS:-2}" -n 4 clang-tidy -p "$build" --quiet 2>/dev/null \
  > "$build/lint.log" || { grep -E "error|warning" "$build/lint.log" | head -50 >&2; echo "lint: clang-tidy found problems (full log: $build/lint.log)" >&2; exit 1; }
echo "lint: ${#files[@]} files clean"
