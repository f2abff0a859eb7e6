#!/usr/bin/env bash
# Registry integration suite: builds the test registries if needed (tools/registry), starts them
# in three modes (open, htpasswd, token), pushes the test images, runs
# aim_registry_integration_test against them, and stops them again.
# Ends with "registry: N passed, N failed". Build dir: $AIM_BUILD_DIR (default build/debug).
set -uo pipefail
cd "$(dirname "$0")/../../.."
ROOT=$PWD
BUILD_DIR="${AIM_BUILD_DIR:-$ROOT/build/debug}"
BIN="$BUILD_DIR/registry/aim_registry_integration_test"
export AIM_REGISTRY_DIR="${AIM_REGISTRY_DIR:-$ROOT/.local/registry-test}"

if [ ! -x "$BIN" ]; then
  cmake --build "$BUILD_DIR" --target aim_registry_integration_test >/dev/null || {
    echo "registry: 0 passed, 1 failed (cannot build $BIN)"; exit 1; }
fi
if [ ! -x tools/registry/bin/registry ]; then
  tools/registry/registry.sh build || { echo "registry: 0 passed, 1 failed (registry build)"; exit 1; }
fi
trap 'tools/registry/registry.sh stop >/dev/null 2>&1 || true' EXIT
tools/registry/registry.sh start || { echo "registry: 0 passed, 1 failed (registry start)"; exit 1; }
# shellcheck disable=SC1091
source "$AIM_REGISTRY_DIR/env.sh"

start=$(date +%s.%N)
out=$("$BIN" --gtest_brief=1 2>&1)
rc=$?
end=$(date +%s.%N)
echo "$out" | tail -25
total=$(echo "$out" | sed -nE 's/^\[==========\] ([0-9]+) tests? from.*/\1/p' | tail -1)
failed=$(echo "$out" | sed -nE 's/^\[  FAILED  \] ([0-9]+) tests?,.*/\1/p' | tail -1)
skipped=$(echo "$out" | sed -nE 's/^\[  SKIPPED \] ([0-9]+) tests?.*/\1/p' | tail -1)
total=${total:-0}; failed=${failed:-0}; skipped=${skipped:-0}
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
printf 'suite time: %.1f s\n' "$(echo "$end - $start" | bc)"
echo "registry: $((total - failed - skipped)) passed, $failed failed ($skipped skipped)"
[ "$failed" -eq 0 ]
