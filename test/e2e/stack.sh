# The whole stack on one machine, for the e2e suite (test/e2e/run.sh) and the demo
# (scripts/demo.sh): the local control plane with its real node, the project's images built and
# pushed to the node's registry, the KServe controller, the Hugging Face Hub stand-in holding the
# stand-in model's weights, and the operator installed by its Helm chart. Sourced; the caller sets
# AIM_CLUSTER_DIR (and ports) first.
# shellcheck shell=bash

STACK_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STACK_CLUSTER="$STACK_REPO/tools/cluster/cluster.sh"
STACK_K="$STACK_REPO/tools/cluster/bin/kubectl"
STACK_DIR="${AIM_CLUSTER_DIR:?set AIM_CLUSTER_DIR before sourcing stack.sh}"
STACK_NODE_IP="${AIM_NODE_IP:-10.88.0.1}"
STACK_REGISTRY="$STACK_NODE_IP:${AIM_NODE_REGISTRY_PORT:-5000}"
STACK_HUB_PORT="${AIM_STACK_HUB_PORT:-18090}"
STACK_HUB_CDN_PORT="${AIM_STACK_HUB_CDN_PORT:-18091}"
STACK_NS="${AIM_STACK_NAMESPACE:-aim-system}"
STACK_RELEASE="${AIM_STACK_RELEASE:-aim-engine}"
STACK_VERSION="$(sed -n 's/^project(aim-engine VERSION \([0-9.]*\).*/\1/p' "$STACK_REPO/CMakeLists.txt")"
STACK_OPERATOR_IMAGE="$STACK_REGISTRY/aim-engine"
STACK_MODEL_IMAGE="$STACK_REGISTRY/aim-standin/aim-tiny-chat:$STACK_VERSION"
STACK_HUB_ENDPOINT="http://$STACK_NODE_IP:$STACK_HUB_PORT"
export KUBECONFIG="$STACK_DIR/kubeconfig"

# Resources of an inference container of the stand-in: the real node has 2 CPUs and 24 GiB, and the
# defaults per GPU (4 CPUs, 32 GiB) are sized for real models.
STACK_SERVICE_RESOURCES='{"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}}'

stack_log() { printf '[stack %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
stack_die() {
  stack_log "ERROR: $*"
  exit 1
}
# Seconds spent in each step, for the timings the demo and the suite print.
STACK_TIMINGS=()
stack_timed() { # label command...
  local label="$1" t0
  shift
  t0=$(date +%s)
  "$@" || return
  STACK_TIMINGS+=("$label: $(($(date +%s) - t0)) s")
}

kc() { "$STACK_K" --kubeconfig "$KUBECONFIG" "$@"; }

stack_helm() {
  local helm
  helm="$("$STACK_REPO/tools/helm/helm.sh" build)" || stack_die "building helm failed"
  "$helm" --kubeconfig "$KUBECONFIG" "$@"
}

stack_cluster() { "$STACK_CLUSTER" start --real-node; }

stack_images() {
  "$STACK_REPO/deploy/images/build.sh" --push "$STACK_REGISTRY" operator aim-runtime
}

stack_kserve() { "$STACK_REPO/tools/kserve/kserve.sh" start; }

# The Hub stand-in on the bridge address, so download pods reach it.
stack_hub() {
  local root="$STACK_DIR/hub"
  if curl -sf --max-time 2 -o /dev/null "$STACK_HUB_ENDPOINT/api/models/aim-test/tiny-chat"; then
    return 0
  fi
  "$STACK_REPO/test/e2e/model-repo.sh" "$root" >/dev/null
  mkdir -p "$STACK_DIR/logs" "$STACK_DIR/pids"
  setsid python3 "$STACK_REPO/test/servers/model_server.py" hf --root "$root" --host "$STACK_NODE_IP" \
    --port "$STACK_HUB_PORT" --cdn-port "$STACK_HUB_CDN_PORT" >"$STACK_DIR/logs/hub.log" 2>&1 </dev/null &
  echo $! >"$STACK_DIR/pids/hub.pid"
  local i
  for ((i = 0; i < 100; i++)); do
    grep -q '^READY' "$STACK_DIR/logs/hub.log" 2>/dev/null && return 0
    sleep 0.1
  done
  stack_die "the Hub stand-in did not start (see $STACK_DIR/logs/hub.log)"
}

stack_hub_stop() {
  local f="$STACK_DIR/pids/hub.pid"
  [[ -f "$f" ]] || return 0
  kill "$(cat "$f")" 2>/dev/null || true
  rm -f "$f"
}

# helm upgrade --install with the images of the node registry; extra --set arguments pass through.
stack_operator() {
  stack_helm upgrade --install "$STACK_RELEASE" "$STACK_REPO/deploy/charts/aim-engine" \
    --namespace "$STACK_NS" --create-namespace --wait --timeout 180s \
    --set image.repository="$STACK_OPERATOR_IMAGE" --set image.tag="$STACK_VERSION" \
    --set image.pullPolicy=Always "$@"
}

stack_up() {
  stack_timed "cluster with real node" stack_cluster || stack_die "the cluster did not start"
  stack_timed "images" stack_images || stack_die "building the images failed"
  stack_timed "KServe controller" stack_kserve || stack_die "the KServe controller did not start"
  stack_timed "Hub stand-in" stack_hub || stack_die "the Hub stand-in did not start"
  stack_timed "helm install" stack_operator || stack_die "helm install failed"
}

stack_down() {
  stack_hub_stop
  "$STACK_REPO/tools/kserve/kserve.sh" stop >/dev/null 2>&1 || true
  "$STACK_CLUSTER" stop >/dev/null 2>&1 || true
}

# The catalog of the stand-in: a cluster model read from the registry (no imageMetadata) and a
# cluster runtime config pointing downloads at the Hub stand-in.
stack_catalog() {
  kc apply -f - <<EOF
apiVersion: aim.eai.amd.com/v1alpha1
kind: AIMClusterRuntimeConfig
metadata:
  name: default
spec:
  env:
  - name: HF_ENDPOINT
    value: $STACK_HUB_ENDPOINT
---
apiVersion: aim.eai.amd.com/v1alpha1
kind: AIMClusterModel
metadata:
  name: tiny-chat
spec:
  image: $STACK_MODEL_IMAGE
EOF
}
