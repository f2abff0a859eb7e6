#!/usr/bin/env bash
# Smoke test of the local KServe controller (Standard / raw Deployment mode): starts its own
# cluster and KServe, applies an InferenceService shaped like the ones aim-engine creates
# (custom kserve-container, autoscalerClass none, amd.com/gpu, nodeAffinity on the GPU device id,
# PVC volumes), checks Deployment, Service, pods and Ready, deletes it, stops everything.
# The last line is "N passed, N failed"; the exit code is non-zero when anything failed.
#
# Own state dir (.local/cluster-kserve-smoke, wiped at the start) and ports, so it runs next to a
# development cluster and tools/cluster/smoke.sh. It deliberately ignores AIM_CLUSTER_DIR and the
# AIM_CLUSTER_*/AIM_KSERVE_* ports of the calling shell (they usually name a development cluster,
# which this script would delete); override with the AIM_KSERVE_SMOKE_* variables below.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
export AIM_CLUSTER_DIR="${AIM_KSERVE_SMOKE_DIR:-$REPO/.local/cluster-kserve-smoke}"
export AIM_CLUSTER_API_PORT="${AIM_KSERVE_SMOKE_API_PORT:-17543}"
export AIM_CLUSTER_ETCD_PORT="${AIM_KSERVE_SMOKE_ETCD_PORT:-13479}"
export AIM_CLUSTER_ETCD_PEER_PORT="${AIM_KSERVE_SMOKE_ETCD_PEER_PORT:-13480}"
export AIM_CLUSTER_KWOK_PORT="${AIM_KSERVE_SMOKE_KWOK_PORT:-17350}"
export AIM_CLUSTER_KCM_PORT="${AIM_KSERVE_SMOKE_KCM_PORT:-17357}"
export AIM_CLUSTER_SCHEDULER_PORT="${AIM_KSERVE_SMOKE_SCHEDULER_PORT:-17359}"
export AIM_KSERVE_METRICS_PORT="${AIM_KSERVE_SMOKE_METRICS_PORT:-17390}"
export AIM_KSERVE_HEALTH_PORT="${AIM_KSERVE_SMOKE_HEALTH_PORT:-17391}"
export AIM_KSERVE_WEBHOOK_PORT="${AIM_KSERVE_SMOKE_WEBHOOK_PORT:-17392}"
CLUSTER="$REPO/tools/cluster/cluster.sh"
KSERVE="$HERE/kserve.sh"
KUBECONFIG="$AIM_CLUSTER_DIR/kubeconfig"
export KUBECONFIG
K="$REPO/tools/cluster/bin/kubectl"
NS=aim-kserve-smoke
ISVC=qwen-chat-a04542d9

# shellcheck source=test/support/checks.sh
source "$REPO/test/support/checks.sh"
finished=0
step() { printf '\n=== %s\n' "$*"; }
now_ms() { date +%s%3N; }
secs_since() { local d=$(($(now_ms) - $1)); printf '%d.%03d s' $((d / 1000)) $((d % 1000)); }
timings=()
timed() { # label command...
  local label="$1" t0
  shift
  t0=$(now_ms)
  "$@"
  timings+=("$label: $(secs_since "$t0")")
}
# Retries a command until it succeeds or the timeout (seconds) passes.
eventually() { # timeout command...
  local deadline=$(($(date +%s) + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    (($(date +%s) < deadline)) || return 1
    sleep 0.5
  done
}

cleanup() {
  "$KSERVE" stop >/dev/null 2>&1 || true
  "$CLUSTER" stop >/dev/null 2>&1 || true
}
on_exit() {
  local rc=$?
  cleanup
  if ((finished == 0)); then
    printf 'FAIL: the smoke test stopped early (exit code %d); logs in %s/logs\n' "$rc" "$AIM_CLUSTER_DIR"
    failed=$((failed + 1))
    printf '%d passed, %d failed\n' "$passed" "$failed"
    exit 1
  fi
}
trap on_exit EXIT

step "cluster (fresh state dir $AIM_CLUSTER_DIR)"
"$KSERVE" stop >/dev/null 2>&1 || true
"$CLUSTER" delete >/dev/null
timed "cluster start (fresh)" "$CLUSTER" start

step "kserve build and start"
timed "kserve build (cached unless go.mod/go.sum changed)" "$KSERVE" build
timed "kserve start (fresh cluster: CRDs, ConfigMap, certificate)" "$KSERVE" start
health() { [[ "$(curl -sf --max-time 2 "http://127.0.0.1:$AIM_KSERVE_HEALTH_PORT/$1")" == ok ]]; }
check "manager healthy (/healthz and /readyz ok)" eval 'health healthz && health readyz'
metrics="$(curl -sf --max-time 5 "http://127.0.0.1:$AIM_KSERVE_METRICS_PORT/metrics" || true)"
check "metrics served on 127.0.0.1:$AIM_KSERVE_METRICS_PORT" grep -q '^controller_runtime_reconcile_total' <<<"$metrics"
timed "kserve start again (already running)" "$KSERVE" start
"$KSERVE" status | tee "$AIM_CLUSTER_DIR/kserve-status.txt"
check "status says running and healthy" grep -q 'running (pid [0-9]*), healthy' "$AIM_CLUSTER_DIR/kserve-status.txt"
check "inferenceservice-config selects Standard mode" \
  test "$("$K" get configmap inferenceservice-config -n kserve -o jsonpath='{.data.deploy}' | tr -d ' \n')" \
  == '{"defaultDeploymentMode":"Standard"}'
check "ServingRuntime and ClusterServingRuntime CRDs are Established" \
  "$K" wait --for=condition=Established --timeout=10s crd/servingruntimes.serving.kserve.io \
  crd/clusterservingruntimes.serving.kserve.io
check "no admission webhook is registered" \
  test -z "$("$K" get mutatingwebhookconfigurations,validatingwebhookconfigurations -o name)"

step "an InferenceService like aim-engine's (engine/testdata/service/isvc_fixed_template_cache.json)"
# The fixture, in its own namespace, with the ServiceAccount and the two cache PVCs it names
# (class aim-sim-local: simlogs binds them at once). No deploymentMode annotation: the global
# default (Standard) must be enough.
"$K" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Namespace
metadata:
  name: $NS
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: inference
  namespace: $NS
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: hf-qwen-qwen3-32b-0123456789-cache-abcd1234
  namespace: $NS
spec:
  accessModes: [ReadWriteMany]
  storageClassName: aim-sim-local
  resources: {requests: {storage: 80Gi}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: hf-qwen-draft-9876543210-cache-1234abcd
  namespace: $NS
spec:
  accessModes: [ReadWriteMany]
  storageClassName: aim-sim-local
  resources: {requests: {storage: 10Gi}}
EOF
check "both cache PVCs are Bound" eventually 60 eval \
  "test \"\$($K get pvc -n $NS -o jsonpath='{.items[*].status.phase}')\" == 'Bound Bound'"
t_isvc=$(now_ms)
"$K" apply -f - >/dev/null <<EOF
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: $ISVC
  namespace: $NS
  annotations:
    serving.kserve.io/autoscalerClass: none
  labels:
    aim.eai.amd.com/metric: latency
    aim.eai.amd.com/model: qwen-qwen3-32b
    aim.eai.amd.com/precision: fp8
    aim.eai.amd.com/service: qwen-chat
    aim.eai.amd.com/service.name: qwen-chat
    aim.eai.amd.com/template: qwen3-32b.mi300x
    app.kubernetes.io/component: inference
    app.kubernetes.io/managed-by: aim-engine
spec:
  predictor:
    affinity:
      nodeAffinity:
        requiredDuringSchedulingIgnoredDuringExecution:
          nodeSelectorTerms:
          - matchExpressions:
            - {key: amd.com/gpu.device-id, operator: In, values: ["74a1", "74a9", "74b5", "74bd"]}
    containers:
    - name: kserve-container
      image: amdenterpriseai/aim-qwen-qwen3-32b:0.8.5
      env:
      - {name: AIM_CACHE_PATH, value: /workspace/cache}
      - {name: AIM_ENGINE_ARGS, value: '{"enforce-eager":true,"max-model-len":8192}'}
      - {name: AIM_METRIC, value: latency}
      - {name: AIM_PRECISION, value: fp8}
      - {name: AIM_PROFILE_ID, value: vllm-mi300x-fp8-tp1-latency}
      - {name: HF_HOME, value: /tmp/hf}
      - {name: VLLM_ENABLE_METRICS, value: "true"}
      ports:
      - {containerPort: 8000, name: http, protocol: TCP}
      resources:
        limits: {amd.com/gpu: "1", memory: 128Gi}
        requests: {amd.com/gpu: "1", cpu: "6", memory: 32Gi}
      volumeMounts:
      - {mountPath: /dev/shm, name: dshm}
      - {mountPath: /workspace/cache/Qwen/Qwen3-32B, name: hf-qwen-qwen3-32b-0123456789}
      - {mountPath: /workspace/cache/Qwen/Draft, name: hf-qwen-draft-9876543210}
    imagePullSecrets:
    - name: registry-credentials
    minReplicas: 2
    maxReplicas: 2
    serviceAccountName: inference
    volumes:
    - {name: dshm, emptyDir: {medium: Memory, sizeLimit: 8Gi}}
    - name: hf-qwen-qwen3-32b-0123456789
      persistentVolumeClaim: {claimName: hf-qwen-qwen3-32b-0123456789-cache-abcd1234}
    - name: hf-qwen-draft-9876543210
      persistentVolumeClaim: {claimName: hf-qwen-draft-9876543210-cache-1234abcd}
EOF
check "Deployment $ISVC-predictor created" eventually 60 "$K" get deployment -n "$NS" "$ISVC-predictor"
check "Service $ISVC-predictor created" eventually 60 "$K" get service -n "$NS" "$ISVC-predictor"
check "InferenceService Ready=True" \
  "$K" wait -n "$NS" --for=condition=Ready --timeout=120s "inferenceservice/$ISVC"
timings+=("InferenceService applied -> Ready: $(secs_since "$t_isvc")")
isvc_field() { "$K" get inferenceservice -n "$NS" "$ISVC" -o jsonpath="$1"; }
url="$(isvc_field '{.status.url}')"
echo "  status.url: $url   status.address.url: $(isvc_field '{.status.address.url}')"
check "status.url is set (http://$ISVC-$NS.example.com)" test "$url" == "http://$ISVC-$NS.example.com"
check "status.deploymentMode is Standard" test "$(isvc_field '{.status.deploymentMode}')" == Standard
check "Deployment has 2 available replicas" test \
  "$("$K" get deployment -n "$NS" "$ISVC-predictor" -o jsonpath='{.status.availableReplicas}')" == 2
pods="$("$K" get pods -n "$NS" -l "app=isvc.$ISVC-predictor" \
  -o jsonpath='{range .items[*]}{.spec.nodeName} {.status.phase} {.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}')"
printf '  pods:\n%s\n' "$pods"
check "2 pods Running and Ready on the MI300X node" \
  test "$pods" == $'kwok-mi300x-0 Running True\nkwok-mi300x-0 Running True'
check "Service maps port 80 to the container port 8000" test \
  "$("$K" get service -n "$NS" "$ISVC-predictor" -o jsonpath='{.spec.ports[0].port}->{.spec.ports[0].targetPort}')" == "80->8000"
check "no Ingress and no HorizontalPodAutoscaler (ingress creation off, autoscalerClass none)" \
  test -z "$("$K" get ingress,hpa -n "$NS" -o name)"

step "deletion"
t0=$(now_ms)
"$K" delete inferenceservice -n "$NS" "$ISVC" --wait=false >/dev/null
check "InferenceService is gone (KServe removes its finalizer)" \
  "$K" wait -n "$NS" --for=delete "inferenceservice/$ISVC" --timeout=60s
# kube-controller-manager's garbage collector deletes it. In a cluster started seconds ago that
# takes 20-40 s (the collector is still syncing its monitors); in a running one, 0.2 s.
check "its Deployment is garbage-collected" eventually 120 \
  eval "! $K get deployment -n $NS $ISVC-predictor"
timings+=("InferenceService deleted -> Deployment gone: $(secs_since "$t0")")

step "stop"
pid="$(cat "$AIM_CLUSTER_DIR/pids/kserve-controller.pid")"
timed "kserve stop" "$KSERVE" stop
check "manager process $pid is gone" test -z "$(readlink "/proc/$pid/exe" 2>/dev/null)"
check "no kserve pid file left" test ! -e "$AIM_CLUSTER_DIR/pids/kserve-controller.pid"
timed "cluster stop" "$CLUSTER" stop

printf '\n=== timings\n'
printf '  %s\n' "${timings[@]}" | tee "$AIM_CLUSTER_DIR/kserve-timings.txt"
finished=1
printf '\n%d passed, %d failed\n' "$passed" "$failed"
[[ $failed == 0 ]]
