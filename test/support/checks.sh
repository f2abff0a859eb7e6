# The pass/fail bookkeeping of the script-driven suites (tools/cluster/smoke.sh,
# tools/kserve/smoke.sh, test/e2e/run.sh). Sourced; each suite prints its own
# "N passed, N failed" from $passed and $failed.
# shellcheck shell=bash

passed=0
failed=0
ok() {
  printf 'ok: %s\n' "$*"
  passed=$((passed + 1))
}
bad() {
  printf 'FAIL: %s\n' "$*"
  failed=$((failed + 1))
}
check() { # description command...
  local what="$1"
  shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}
