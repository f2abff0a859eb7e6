#!/usr/bin/env bash
# README command (b): builds what the chosen suites need and runs them; with no argument, every
# suite (what CI runs).
#
#   scripts/test.sh                 all suites
#   scripts/test.sh unit            the debug build (ASan+UBSan), the format check, ctest -L unit
#   scripts/test.sh integration     + the control plane, a fresh cluster and the test registries,
#                                     ctest -L integration
#   scripts/test.sh cluster         the control plane's own checks (a cluster of its own)
#   scripts/test.sh registry        the registry client against real registries
#   scripts/test.sh helm            the chart's checks (+ a fresh cluster for the dry run)
#   scripts/test.sh runtime         the AIM runtime stand-in's own tests
#   scripts/test.sh chaos           the debug build, the control plane, ctest -L chaos: a 200-service
#                                     rollout under faults on a cluster of its own (ports +10000),
#                                     then the checker (docs/chaos.md)
#   scripts/test.sh e2e             the release build, images, helm install on a real node
#   scripts/test.sh fuzz            the fuzz build (clang), every harness for 12 s from seed 1
#                                     (scripts/fuzz.sh; AIM_FUZZ_SECONDS=0 only replays corpora)
#   scripts/test.sh unit helm ...   several, in the order above
#
# Each suite gets exactly its prerequisites: Debian packages (scripts/install-deps.sh, always),
# the control plane from Go modules (integration, cluster, helm, chaos, e2e), the debug build
# (unit, integration, registry, chaos); helm (helm, e2e), the release build and the KServe
# controller (e2e) build in the background at low priority from the end of the debug build, and
# the suites that need them wait for them (scripts/lib/background-builds.sh). C++ objects come from ccache when it
# is installed (CMakeLists.txt); its hit rate is printed at the end.
# Ends with one summary line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export AIM_CLUSTER_DIR="${AIM_CLUSTER_DIR:-$ROOT/.local/cluster-test}"
JOBS="${AIM_JOBS:-$(nproc)}"
# Integration tests mostly wait on servers: one more at once than there are cores keeps both
# integration clusters busy while the long API and fetch suites run.
IT_JOBS="${AIM_IT_JOBS:-$((JOBS + 1))}"
LOG_DIR="$ROOT/.local/test-logs"
mkdir -p "$LOG_DIR"

ALL_SUITES=(unit integration cluster registry helm runtime chaos e2e fuzz)
usage() {
  echo "usage: scripts/test.sh [SUITE...]   (suites: ${ALL_SUITES[*]}; none: all)" >&2
  exit 2
}
declare -A want=()
for arg in "$@"; do
  case "$arg" in
    -h | --help) usage ;;
    unit | integration | cluster | registry | helm | runtime | chaos | e2e | fuzz) want[$arg]=1 ;;
    *) echo "test.sh: unknown suite '$arg'" >&2; usage ;;
  esac
done
if (($# == 0)); then
  for s in "${ALL_SUITES[@]}"; do want[$s]=1; done
fi
wants() { local s; for s in "$@"; do [[ -n "${want[$s]:-}" ]] && return 0; done; return 1; }

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
command -v ccache >/dev/null && ccache --zero-stats >/dev/null 2>&1

if wants integration cluster helm chaos e2e; then
  step "local control plane build"
  start=$(date +%s)
  tools/cluster/cluster.sh build || die "building the control plane failed"
  echo "control plane build: $(($(date +%s) - start)) s"
fi

if wants unit integration registry chaos; then
  step "C++ build (debug, ASan+UBSan)"
  start=$(date +%s)
  cmake --preset debug >/dev/null || die "cmake configure failed"
  cmake --build --preset debug -j "$JOBS" || die "C++ build failed"
  echo "C++ build: $(($(date +%s) - start)) s"
fi

# Builds only later suites need run in the background, one after another at the lowest CPU
# priority, from the end of the debug build (scripts/lib/background-builds.sh): helm (the helm
# suite, e2e), the release build that goes into the e2e images, the KServe controller (e2e). The
# suites before them mostly wait on servers; each suite waits for its stage (wait_stage).
bg_pid=""
bg_stages=()
if wants helm e2e; then bg_stages+=(helm); fi
if wants e2e; then bg_stages+=(release kserve); fi
if ((${#bg_stages[@]})); then
  step "background builds: ${bg_stages[*]} (nice 19)"
  # Removed before the script starts, so that wait_stage never reads a previous run's result.
  for s in "${bg_stages[@]}"; do rm -f "$LOG_DIR/bg-$s.rc"; done
  # setsid: its own process group, so that an early exit stops the compilers too.
  AIM_JOBS="$JOBS" setsid scripts/lib/background-builds.sh "$LOG_DIR" "${bg_stages[@]}" \
    >/dev/null 2>&1 </dev/null &
  bg_pid=$!
fi

# wait_stage STAGE: until the background stage has ended; its exit code.
wait_stage() {
  local rc_file="$LOG_DIR/bg-$1.rc" start
  start=$(date +%s)
  while [[ ! -f "$rc_file" ]] && kill -0 "$bg_pid" 2>/dev/null; do sleep 1; done
  [[ -f "$rc_file" ]] || { echo "background build $1 did not finish"; return 1; }
  tail -3 "$LOG_DIR/bg-$1.log"
  echo "waited $(($(date +%s) - start)) s for the background build $1"
  return "$(cat "$rc_file")"
}

if wants unit; then
  step "format check"
  if ! scripts/check-format.sh; then failed=$((failed + 1)); failures+=("clang-format: files not formatted"); fi

  step "unit tests"
  ctest --test-dir build/debug -L unit -j "$JOBS" --output-on-failure 2>&1 | tee "$LOG_DIR/unit.log"
  count_ctest "$LOG_DIR/unit.log" unit
fi

# The second control plane of the integration suite: its own state dir and ports (+400 from the
# defaults; the smoke uses +100, e2e +200, the demo +300).
second_cluster() {
  AIM_CLUSTER_DIR="$ROOT/.local/cluster-test-2" AIM_CLUSTER_API_PORT=16843 AIM_CLUSTER_ETCD_PORT=12779 \
    AIM_CLUSTER_ETCD_PEER_PORT=12780 AIM_CLUSTER_KWOK_PORT=16650 AIM_CLUSTER_KCM_PORT=16657 \
    AIM_CLUSTER_SCHEDULER_PORT=16659 tools/cluster/cluster.sh "$@"
}

# The chaos suite's control plane (test/chaos/chaos.py starts and stops it; ports +10000, below
# the kernel's ephemeral range 32768-60999: at +20000 a client's source port once held kwok's).
chaos_cluster() {
  AIM_CLUSTER_DIR="$ROOT/.local/cluster-chaos" AIM_CLUSTER_API_PORT=26443 AIM_CLUSTER_ETCD_PORT=22379 \
    AIM_CLUSTER_ETCD_PEER_PORT=22380 AIM_CLUSTER_KWOK_PORT=26250 AIM_CLUSTER_KCM_PORT=26257 \
    AIM_CLUSTER_SCHEDULER_PORT=26259 tools/cluster/cluster.sh "$@"
}

cleanup() {
  if [[ -n "$bg_pid" ]]; then kill -- "-$bg_pid" 2>/dev/null; fi
  tools/cluster/cluster.sh stop >/dev/null 2>&1 || true
  second_cluster stop >/dev/null 2>&1 || true
  chaos_cluster stop >/dev/null 2>&1 || true
  AIM_REGISTRY_DIR="$ROOT/.local/registry-ci" tools/registry/registry.sh stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

if wants integration helm; then
  step "starting a fresh local control plane in $AIM_CLUSTER_DIR"
  tools/cluster/cluster.sh stop >/dev/null 2>&1 || true
  rm -rf "$AIM_CLUSTER_DIR"
  # The integration suite runs two controller tests at once, each with a control plane of its own
  # (test/support/operator_fixture.h, ClusterLease): both start side by side.
  second_pid=""
  if wants integration; then
    second_cluster stop >/dev/null 2>&1 || true
    rm -rf "$ROOT/.local/cluster-test-2"
    AIM_ENABLE_DYNAMO_MODEL=true second_cluster start >"$LOG_DIR/cluster-test-2.log" 2>&1 &
    second_pid=$!
  fi
  # The DynamoModel CRD (optional, nvidia.com/v1alpha1) too: the cache suite applies the seed example.
  AIM_ENABLE_DYNAMO_MODEL=true tools/cluster/cluster.sh start || die "the local control plane did not start"
  if [[ -n "$second_pid" ]]; then
    wait "$second_pid" || die "the second control plane did not start (see $LOG_DIR/cluster-test-2.log)"
    export AIM_IT_KUBECONFIGS="$AIM_CLUSTER_DIR/kubeconfig:$ROOT/.local/cluster-test-2/kubeconfig"
  fi
  export KUBECONFIG="$AIM_CLUSTER_DIR/kubeconfig"
  export AIM_KUBECTL="$ROOT/tools/cluster/bin/kubectl"
  "$AIM_KUBECTL" version 2>/dev/null | grep -i server || true
fi

if wants integration; then
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

  step "integration tests"
  # shellcheck disable=SC1091
  (source "$ROOT/.local/registry-ci/env.sh" &&
    ctest --test-dir build/debug -L integration -j "$IT_JOBS" --output-on-failure) 2>&1 | tee "$LOG_DIR/integration.log"
  count_ctest "$LOG_DIR/integration.log" integration
  AIM_REGISTRY_DIR="$ROOT/.local/registry-ci" tools/registry/registry.sh stop >/dev/null 2>&1 || true
  second_cluster stop >/dev/null 2>&1 || true
  unset AIM_IT_KUBECONFIGS
fi

# Suites that manage their own servers and print "N passed, N failed" (the others are in ctest).
# The cluster smoke starts and stops a cluster of its own: with AIM_CLUSTER_DIR empty it takes its
# own state dir instead of stopping the integration cluster, which the helm suite's server-side
# dry run still needs.
if wants cluster; then AIM_CLUSTER_DIR="" run_suite cluster test/integration/cluster/run.sh; fi
if wants registry; then run_suite registry test/integration/registry/run.sh; fi
if wants helm; then
  step "waiting for the background build of helm"
  wait_stage helm || echo "the background helm build failed (see $LOG_DIR/bg-helm.log): the helm suite builds it"
  run_suite helm test/integration/helm/run.sh
fi
if wants runtime; then run_suite aim-runtime test/images/aim-runtime/run.sh; fi
# A 200-service rollout under operator kills, an apiserver restart, an etcd compaction and a
# failover, then the checker (3.5 to 5 min); a cluster of its own, with the debug build's
# operator (ASan+UBSan: a crash in a restart path is a failure too). The seed is in the log.
if wants chaos; then
  step "chaos suite"
  AIM_CHAOS_CLUSTER_DIR="$ROOT/.local/cluster-chaos" AIM_CHAOS_PORT_OFFSET=10000 \
    ctest --test-dir build/debug -L chaos -V 2>&1 | tee "$LOG_DIR/chaos.log"
  count_ctest "$LOG_DIR/chaos.log" chaos
fi

if wants e2e; then
  step "waiting for the background builds (release, KServe)"
  wait_stage release || die "the release build failed (see $LOG_DIR/bg-release.log)"
  wait_stage kserve || die "building the KServe controller failed (see $LOG_DIR/bg-kserve.log)"
  bg_pid=""
  # Its own cluster (state dir and ports of its own); the integration cluster is not needed any more.
  tools/cluster/cluster.sh stop >/dev/null 2>&1 || true
  AIM_CLUSTER_DIR="" run_suite e2e test/e2e/run.sh
fi
# Every fuzz harness over its committed corpus, then 12 s of mutation from a fixed seed (the same
# inputs on every run, so a finding replays; docs/fuzzing.md). AIM_FUZZ_SECONDS=0 only replays.
if wants fuzz; then
  export AIM_FUZZ_SEED="${AIM_FUZZ_SEED:-1}"
  run_suite fuzz scripts/fuzz.sh '' "${AIM_FUZZ_SECONDS:-12}"
fi

if command -v ccache >/dev/null; then
  step "compiler cache"
  ccache --show-stats 2>/dev/null | grep -E 'Hits|Misses|Cache size' || true
fi

echo
if ((${#failures[@]})); then
  printf 'FAILED: %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
((failed == 0))
