#!/usr/bin/env bash
# Smoke test of the local control plane: start, nodes, Jobs (success, failure, chosen logs),
# namespace deletion, CRDs, restart-apiserver, compact-etcd, stop. Prints timings.
#
# Runs its own cluster (state dir .local/cluster-smoke, ports +100 from the defaults) so it does
# not disturb a cluster started with cluster.sh; override with the usual AIM_CLUSTER_* variables.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
export AIM_CLUSTER_DIR="${AIM_CLUSTER_DIR:-$REPO/.local/cluster-smoke}"
export AIM_CLUSTER_API_PORT="${AIM_CLUSTER_API_PORT:-16543}"
export AIM_CLUSTER_ETCD_PORT="${AIM_CLUSTER_ETCD_PORT:-12479}"
export AIM_CLUSTER_ETCD_PEER_PORT="${AIM_CLUSTER_ETCD_PEER_PORT:-12480}"
export AIM_CLUSTER_KWOK_PORT="${AIM_CLUSTER_KWOK_PORT:-16350}"
export AIM_CLUSTER_KCM_PORT="${AIM_CLUSTER_KCM_PORT:-16357}"
export AIM_CLUSTER_SCHEDULER_PORT="${AIM_CLUSTER_SCHEDULER_PORT:-16359}"
CLUSTER="$HERE/cluster.sh"
KUBECONFIG="$AIM_CLUSTER_DIR/kubeconfig"
export KUBECONFIG
K="$HERE/bin/kubectl"
NS=aim-smoke

# shellcheck source=test/support/checks.sh
source "$REPO/test/support/checks.sh"
step() { printf '\n=== %s\n' "$*"; }
now_ms() { date +%s%3N; }
timings=()
timed() { # label command...
  local label="$1" t0 t1
  shift
  t0=$(now_ms)
  "$@"
  t1=$(now_ms)
  timings+=("$label: $(((t1 - t0) / 1000)).$(printf '%03d' $(((t1 - t0) % 1000))) s")
}

cleanup() {
  "$CLUSTER" stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

step "build (cached unless inputs changed)"
timed "build" "$CLUSTER" build

step "stop where nothing ever ran (no state dir, no bridge)"
# A fresh CI machine has no pod bridge yet: stop (which start also runs first) must not fail there.
never="$(mktemp -d)"
check "stop succeeds with no state and no bridge" env AIM_CLUSTER_DIR="$never/state" AIM_NODE_BRIDGE=aimnever0 "$CLUSTER" stop
rm -rf "$never"

step "start (fresh state dir)"
"$CLUSTER" delete >/dev/null
timed "start (fresh)" "$CLUSTER" start
timed "start again (already running)" "$CLUSTER" start
"$CLUSTER" status | tee "$AIM_CLUSTER_DIR/status.txt"
check "status prints the kube-apiserver version" grep -q '^kube-apiserver version: v1.34' "$AIM_CLUSTER_DIR/status.txt"

step "nodes"
node_has() { # device-id vram
  local n
  n="$("$K" get nodes -l "amd.com/gpu.device-id=$1,amd.com/gpu.vram=$2" \
    -o jsonpath='{range .items[*]}{.metadata.name} {.status.allocatable.amd\.com/gpu} {.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}')"
  echo "  $1/$2: $n"
  [[ "$(wc -l <<<"$n")" == 1 && "$n" == *" 8 True" ]]
}
check "MI300X node (74a1, 192G) Ready with 8 amd.com/gpu" node_has 74a1 192G
check "MI350X node (75a0, 288G) Ready with 8 amd.com/gpu" node_has 75a0 288G

step "jobs: default success, chosen failure, chosen log"
"$K" create namespace "$NS" >/dev/null
# The log of pods of Job 'talk' (any label selector over pod labels works).
"$K" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: ConfigMap
metadata:
  name: talk-logs
  namespace: $NS
  labels:
    sim.aim.eai.amd.com/pod-logs: "true"
data:
  selector: job-name=talk
  log: |
    hello from a simulated pod
    [{"answer": 42}]
EOF
# Pods of Job 'boom' fail with exit code 3.
sed -e "s/@NAMESPACE@/$NS/g" -e "s/@JOB@/boom/g" "$HERE/manifests/examples/fail-job-pods.yaml" | "$K" apply -f - >/dev/null
for j in quiet talk boom; do
  "$K" apply -f - >/dev/null <<EOF
apiVersion: batch/v1
kind: Job
metadata:
  name: $j
  namespace: $NS
spec:
  backoffLimit: 0
  ttlSecondsAfterFinished: 600
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: example.invalid/never-pulled:1
EOF
done
t0=$(now_ms)
check "job quiet completes" "$K" wait -n "$NS" --for=condition=Complete job/quiet --timeout=60s
check "job talk completes" "$K" wait -n "$NS" --for=condition=Complete job/talk --timeout=60s
check "job boom fails" "$K" wait -n "$NS" --for=condition=Failed job/boom --timeout=60s
timings+=("three Jobs finished: $((($(now_ms) - t0) / 1000)) s")
pod_field() { "$K" get pods -n "$NS" -l "job-name=$1" -o jsonpath="$2"; }
check "pod of boom is Failed with exit code 3" \
  test "$(pod_field boom '{.items[0].status.phase} {.items[0].status.containerStatuses[0].state.terminated.exitCode}')" == "Failed 3"
check "pod of talk is Succeeded on a KWOK node" \
  test "$(pod_field talk '{.items[0].status.phase}')" == "Succeeded"
got="$("$K" logs -n "$NS" job/talk)"
printf '  kubectl logs job/talk:\n%s\n' "$got"
check "kubectl logs returns the chosen log" \
  test "$got" == $'hello from a simulated pod\n[{"answer": 42}]'
check "kubectl logs --tail=1 returns the last line" \
  test "$("$K" logs -n "$NS" job/talk --tail=1)" == '[{"answer": 42}]'
check "a pod without a log rule logs nothing" test -z "$("$K" logs -n "$NS" job/quiet)"

step "a Job whose pod mounts a PVC (bound to a test-created PV by the PV controller)"
"$K" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: PersistentVolume
metadata:
  name: $NS-pv
spec:
  capacity: {storage: 100Gi}
  accessModes: [ReadWriteMany]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: ""
  hostPath: {path: /nonexistent/simulated}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: cache
  namespace: $NS
spec:
  accessModes: [ReadWriteMany]
  storageClassName: ""
  resources: {requests: {storage: 10Gi}}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: with-pvc
  namespace: $NS
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      volumes:
      - name: cache
        persistentVolumeClaim: {claimName: cache}
      containers:
      - name: model-download
        image: example.invalid/never-pulled:1
        volumeMounts: [{name: cache, mountPath: /cache}]
EOF
check "job with-pvc completes" "$K" wait -n "$NS" --for=condition=Complete job/with-pvc --timeout=60s

step "namespace deletion (namespace controller, garbage collection)"
"$K" delete stage "sim-fail-$NS-boom" >/dev/null
t0=$(now_ms)
"$K" delete namespace "$NS" --wait=false >/dev/null
check "namespace $NS goes away" "$K" wait --for=delete "namespace/$NS" --timeout=120s
"$K" delete pv "$NS-pv" --wait=false >/dev/null 2>&1 || true
timings+=("namespace deletion: $((($(now_ms) - t0) / 1000)) s")

step "CRDs"
served() { "$K" get crd "$1" -o jsonpath="{.spec.versions[?(@.name==\"$2\")].served}" 2>/dev/null; }
check "InferenceService CRD (serving.kserve.io/v1beta1) is served" \
  test "$(served inferenceservices.serving.kserve.io v1beta1)" == true
check "HTTPRoute CRD (gateway.networking.k8s.io/v1) is served" \
  test "$(served httproutes.gateway.networking.k8s.io v1)" == true
check "namespace aim-system exists" "$K" get namespace aim-system -o name
check "an InferenceService can be created" "$K" apply -f - <<EOF
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: smoke
  namespace: default
spec:
  predictor:
    model:
      modelFormat: {name: vllm}
      storageUri: hf://example/model
EOF

step "restart-apiserver"
rv_before="$("$K" get configmap kube-root-ca.crt -n default -o jsonpath='{.metadata.resourceVersion}')"
timed "restart-apiserver" "$CLUSTER" restart-apiserver
check "apiserver answers after restart" test "$("$K" get --raw /readyz)" == ok
"$K" create job after-restart -n default --image=example.invalid/never-pulled:1 >/dev/null
check "controllers, scheduler and KWOK work after the restart (a Job completes)" \
  "$K" wait -n default --for=condition=Complete job/after-restart --timeout=90s

step "compact-etcd"
for i in 1 2 3; do "$K" create configmap "smoke-$i" -n default --from-literal=i="$i" >/dev/null; done
timed "compact-etcd" "$CLUSTER" compact-etcd
# With the watch cache on (the default) the apiserver answers old watches from its cache, so the
# way to get 410 Gone for a compacted revision is compact-etcd followed by restart-apiserver.
"$CLUSTER" restart-apiserver >/dev/null 2>&1
"$K" get --raw "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=$rv_before&timeoutSeconds=2" \
  >"$AIM_CLUSTER_DIR/watch.out" 2>&1 || true
head -c 300 "$AIM_CLUSTER_DIR/watch.out"
echo
check "a watch from before the compaction (after restart-apiserver) gets 410 Gone" \
  grep -q '"code":410' "$AIM_CLUSTER_DIR/watch.out"

step "stop"
pids="$(cat "$AIM_CLUSTER_DIR"/pids/*.pid)"
timed "stop" "$CLUSTER" stop
left=""
for p in $pids; do [[ -n "$(readlink "/proc/$p/exe" 2>/dev/null)" ]] && left+=" $p"; done
check "no component process left (pids $(echo $pids))" test -z "$left"
check "no pid files left" test -z "$(ls -A "$AIM_CLUSTER_DIR/pids" 2>/dev/null)"

step "restart from existing state"
timed "start (existing state)" "$CLUSTER" start
check "the InferenceService survived the restart" "$K" get inferenceservice smoke -n default
timed "stop" "$CLUSTER" stop

printf '\n=== timings\n'
printf '  %s\n' "${timings[@]}" | tee "$AIM_CLUSTER_DIR/timings.txt"
printf '\nsmoke: %d passed, %d failed\n' "$passed" "$failed"
[[ $failed == 0 ]]
