#!/usr/bin/env bash
# README command (b): builds everything and runs every test suite.
#   1. Debian packages (idempotent)            scripts/install-deps.sh
#   2. the local control plane from Go modules  tools/cluster/cluster.sh build
#   3. the C++ tree with ASan+UBSan             cmake --preset debug
#   4. unit tests (ctest -L unit)
#   5. a fresh local control plane, then the integration suites (ctest -L integration and the
#      script-driven suites), then the cluster is stopped again.
#   6. the end-to-end suite (test/e2e/run.sh): the release build in the project's images, helm
#      install on a cluster with a real node where the pods really run.
# Ends with one summary line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export AIM_CLUSTER_DIR="${AIM_CLUSTER_DIR:-$ROOT/.local/cluster-test}"
JOBS="${AIM_JOBS:-$(nproc)}"
LOG_DIR="$ROOT/.local/test-logs"
mkdir -p "$LOG_DIR"

passed=0
failed=0
failures=()

step() { printf '\n==> %s (%s)\n' "$*" "$(date -u +%H:%M:%S)"; }
die() { echo "test.sh: $*" >&2; exit 1; }

# count_ctest LOGFILE: add ctest's totals to ours.
count_ctest() {
  local line total nfail
  line=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$1" | tail -1)
  [ -n "$line" ] || { failed=$((failed + 1)); failures+=("$2: ctest did not finish"); return; }
  total=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line")
  nfail=$(sed -E 's/.*tests passed, ([0-9]+) tests failed.*/\1/' <<<"$line")
  passed=$((passed + total - nfail))
  failed=$((failed + nfail))
  ((nfail == 0)) || failures+=("$2: $nfail failed (see $1)")
}

# run_suite NAME COMMAND...: a script-driven suite that prints its own "N passed, N failed".
run_suite() {
  local name=$1; shift
  local log="$LOG_DIR/$name.log"
  step "suite $name"
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local line
  line=$(grep -E '^([A-Za-z]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
  if [ -n "$line" ]; then
    local p f
    p=$(sed -E 's/^([A-Za-z]+: )?([0-9]+) passed.*/\2/' <<<"$line")
    f=$(sed -E 's/^([A-Za-z]+: )?[0-9]+ passed, ([0-9]+) failed.*/\2/' <<<"$line")
    passed=$((passed + p)); failed=$((failed + f))
    ((f == 0 && rc == 0)) || failures+=("$name: rc=$rc, $f failed (see $log)")
    ((f == 0 && rc != 0)) && failed=$((failed + 1))
  else
    failed=$((failed + 1)); failures+=("$name: rc=$rc, no summary (see $log)")
  fi
}

step "dependencies"
scripts/install-deps.sh || die "installing Debian packages failed"

step "local control plane build"
start=$(date +%s)
tools/cluster/cluster.sh build || die "building the control plane failed"
echo "control plane build: $(($(date +%s) - start)) s"

step "C++ build (debug, ASan+UBSan)"
start=$(date +%s)
cmake --preset debug >/dev/null || die "cmake configure failed"
cmake --build --preset debug -j "$JOBS" || die "C++ build failed"
echo "C++ build: $(($(date +%s) - start)) s"

step "format check"
if ! scripts/check-format.sh; then failed=$((failed + 1)); failures+=("clang-format: files not formatted"); fi

step "unit tests"
ctest --test-dir build/debug -L unit -j "$JOBS" --output-on-failure 2>&1 | tee "$LOG_DIR/unit.log"
count_ctest "$LOG_DIR/unit.log" unit

step "integration: starting a fresh local control plane in $AIM_CLUSTER_DIR"
tools/cluster/cluster.sh stop >/dev/null 2>&1 || true
rm -rf "$AIM_CLUSTER_DIR"
trap 'tools/cluster/cluster.sh stop >/dev/null 2>&1 || true' EXIT
# The DynamoModel CRD (optional, nvidia.com/v1alpha1) too: the cache suite applies the seed example.
AIM_ENABLE_DYNAMO_MODEL=true tools/cluster/cluster.sh start || die "the local control plane did not start"
export KUBECONFIG="$AIM_CLUSTER_DIR/kubeconfig"
export AIM_KUBECTL="$ROOT/tools/cluster/bin/kubectl"
"$AIM_KUBECTL" version 2>/dev/null | grep -i server || true

# The catalog suites read images from real OCI registries (open, htpasswd, token auth): start a
# set on their own ports for the ctest run (the registry suite below starts its own).
step "integration: test registries"
if [ ! -x tools/registry/bin/registry ]; then
  tools/registry/registry.sh build || die "building the test registries failed"
fi
(
  export AIM_REGISTRY_DIR="$ROOT/.local/registry-ci" AIM_REGISTRY_PORT_BASE=5201
  tools/registry/registry.sh stop >/dev/null 2>&1 || true
  tools/registry/registry.sh start
) || die "the test registries did not start"
trap 'tools/cluster/cluster.sh stop >/dev/null 2>&1 || true; AIM_REGISTRY_DIR="$ROOT/.local/registry-ci" tools/registry/registry.sh stop >/dev/null 2>&1 || true' EXIT

# shellcheck disable=SC1091
(source "$ROOT/.local/registry-ci/env.sh" &&
  ctest --test-dir build/debug -L integration -j "$JOBS" --output-on-failure) 2>&1 | tee "$LOG_DIR/integration.log"
count_ctest "$LOG_DIR/integration.log" integration
AIM_REGISTRY_DIR="$ROOT/.local/registry-ci" tools/registry/registry.sh stop >/dev/null 2>&1 || true

# Suites that manage their own servers and print "N passed, N failed" (the others are in ctest).
# The cluster smoke starts and stops a cluster of its own: with AIM_CLUSTER_DIR empty it takes its
# own state dir instead of stopping the integration cluster, which the helm suite's server-side
# dry run still needs.
AIM_CLUSTER_DIR="" run_suite cluster test/integration/cluster/run.sh
for name in registry helm; do
  run_suite "$name" "test/integration/$name/run.sh"
done
run_suite aim-runtime test/images/aim-runtime/run.sh

# The release build goes into the images the end-to-end suite builds and runs on the real node.
step "C++ build (release: aim-engine, aimctl, aim-fetch for the images)"
start=$(date +%s)
cmake --preset release >/dev/null || die "cmake configure (release) failed"
cmake --build --preset release -j "$JOBS" --target aim-engine aimctl aim-fetch >/dev/null ||
  die "release build failed"
echo "release build: $(($(date +%s) - start)) s"
# Its own cluster (state dir and ports of its own); the integration cluster is not needed any more.
tools/cluster/cluster.sh stop >/dev/null 2>&1 || true
AIM_CLUSTER_DIR="" run_suite e2e test/e2e/run.sh

echo
if ((${#failures[@]})); then
  printf 'FAILED: %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
((failed == 0))
