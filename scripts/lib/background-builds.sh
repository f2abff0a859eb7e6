#!/usr/bin/env bash
# The builds scripts/test.sh runs in the background, one after another at the lowest CPU
# priority, while the suites before the ones that need them mostly wait on servers:
#
#   scripts/lib/background-builds.sh LOG_DIR STAGE...
#
#   helm      tools/helm/helm.sh build          (the helm suite and e2e)
#   release   the C++ release build of aim-engine, aimctl and aim-fetch (the e2e images)
#   kserve    tools/kserve/kserve.sh ensure     (e2e)
#
# Each stage writes its exit code to LOG_DIR/bg-STAGE.rc when it ends and its output to
# LOG_DIR/bg-STAGE.log; a stage that fails does not stop the ones after it (the suite that
# needs it reports the failure). scripts/test.sh waits for a stage with wait_stage.
set -uo pipefail
cd "$(dirname "$0")/../.."
LOG_DIR=$1
shift
JOBS="${AIM_JOBS:-$(nproc)}"

run_stage() {
  local stage=$1 start rc
  start=$(date +%s)
  case "$stage" in
    helm) nice -n 19 tools/helm/helm.sh build >/dev/null ;;
    release)
      cmake --preset release >/dev/null &&
        nice -n 19 cmake --build --preset release -j "$JOBS" --target aim-engine aimctl aim-fetch
      ;;
    kserve) nice -n 19 tools/kserve/kserve.sh ensure ;;
    *) echo "background-builds.sh: unknown stage $stage" >&2; false ;;
  esac
  rc=$?
  echo "$stage: rc=$rc in $(($(date +%s) - start)) s (in the background)"
  return "$rc"
}

for stage in "$@"; do
  run_stage "$stage" >"$LOG_DIR/bg-$stage.log" 2>&1 </dev/null
  echo $? >"$LOG_DIR/bg-$stage.rc.tmp" && mv "$LOG_DIR/bg-$stage.rc.tmp" "$LOG_DIR/bg-$stage.rc"
done
