#!/usr/bin/env bash
# README command (a): the operator, installed by its Helm chart, on a local control plane with a
# real node, serving a model end to end.
#   scripts/demo.sh              install what is missing; build the control plane, the images, helm
#                                and the KServe controller; start the cluster with its real node;
#                                helm install the operator; apply a catalog built from the AIM
#                                runtime stand-in image in the local registry (labels read from
#                                the registry); deploy a service whose weights our downloader
#                                fetches onto a real volume; end with a chat completion answered
#                                through the service
#   scripts/demo.sh stop         stop everything it started
#   scripts/demo.sh --simulated  the fast demo on simulated (KWOK) nodes only, with the operator as a
#                                local process (scripts/demo-simulated.sh; "--simulated stop" stops it)
# Everything keeps running after the demo prints its summary. Each step's time is printed, so cold
# and warm runs can be compared.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
if [[ "${1:-}" == "--simulated" ]]; then
  shift
  exec scripts/demo-simulated.sh "$@"
fi
export AIM_CLUSTER_DIR="${AIM_CLUSTER_DIR:-$ROOT/.local/cluster-demo}"
export AIM_CLUSTER_API_PORT="${AIM_CLUSTER_API_PORT:-16743}"
export AIM_CLUSTER_ETCD_PORT="${AIM_CLUSTER_ETCD_PORT:-12679}"
export AIM_CLUSTER_ETCD_PEER_PORT="${AIM_CLUSTER_ETCD_PEER_PORT:-12680}"
export AIM_CLUSTER_KWOK_PORT="${AIM_CLUSTER_KWOK_PORT:-16550}"
export AIM_CLUSTER_KCM_PORT="${AIM_CLUSTER_KCM_PORT:-16557}"
export AIM_CLUSTER_SCHEDULER_PORT="${AIM_CLUSTER_SCHEDULER_PORT:-16559}"
# shellcheck source=test/e2e/stack.sh
source test/e2e/stack.sh
NS=aim-demo

if [[ "${1:-}" == "stop" ]]; then
  stack_down
  echo "demo stopped (state kept in $AIM_CLUSTER_DIR; tools/cluster/cluster.sh delete removes it)"
  exit 0
fi
[[ -z "${1:-}" ]] || { echo "usage: scripts/demo.sh [stop | --simulated [stop]]" >&2; exit 2; }

t0=$(date +%s)
lap() { echo "    ($(($(date +%s) - t0)) s since start)"; }
say() { printf '\n==> %s\n' "$*"; }

say "installing Debian packages (if missing)"
stack_timed "packages" scripts/install-deps.sh
say "building the local control plane, kubelet and kube-proxy from Go modules (cached)"
stack_timed "control plane build" tools/cluster/cluster.sh build; lap
say "building helm and the KServe controller from Go modules (cached)"
stack_timed "helm build" tools/helm/helm.sh build >/dev/null
stack_timed "KServe build" tools/kserve/kserve.sh build >/dev/null; lap
say "cluster with a real node, images, KServe, the Hub stand-in, helm install"
stack_up; lap

say "the catalog: AIMClusterModel tiny-chat from $STACK_MODEL_IMAGE (labels read from the registry)"
stack_catalog
kc create namespace "$NS" --dry-run=client -o yaml | kc apply -f - >/dev/null
kc apply -f - <<EOF
apiVersion: aim.eai.amd.com/v1alpha1
kind: AIMService
metadata: {name: chat, namespace: $NS}
spec:
  model: {name: tiny-chat}
  caching: {mode: Always}
  resources: $STACK_SERVICE_RESOURCES
EOF

say "waiting for the service to run (discovery, download, KServe, the stand-in's readiness)"
status() { kc -n "$NS" get aimservice chat -o jsonpath='{.status.status}' 2>/dev/null; }
last=""
for _ in $(seq 1 600); do
  s="$(status)"
  [[ "$s" == "$last" ]] || { echo "    chat: ${s:-<none>} ($(($(date +%s) - t0)) s)"; last="$s"; }
  [[ "$s" == Running ]] && break
  sleep 1
done
[[ "$(status)" == Running ]] || { echo "the service did not reach Running; see kubectl get aim -A"; kc get aim -A; exit 1; }
lap

say "kubectl get aim -A"
kc get aim -A
say "pods on the real node (discovery and download Jobs, the operator, the inference pod)"
kc get pods -A -o wide --field-selector spec.nodeName=aim-node-0
say "why chat runs the template it runs: aimctl explain chat -n $NS"
# With your kubeconfig, as a user runs it (the operator's own ServiceAccount may not read services
# one by one: its role lists and watches).
"$ROOT/build/release/cmd/aimctl/aimctl" explain chat -n "$NS" || stack_die "aimctl explain failed"

isvc="$(kc -n "$NS" get inferenceservices -l aim.eai.amd.com/service.name=chat -o jsonpath='{.items[0].metadata.name}')"
addr="$(kc -n "$NS" get svc -l serving.kserve.io/inferenceservice="$isvc" -o json |
  jq -r '[.items[] | select(.spec.clusterIP != "None")] | .[0] | "\(.spec.clusterIP):\(.spec.ports[0].port)"')"
say "the weights the inference pod serves (GET http://$addr/v1/models)"
curl -s --max-time 20 "http://$addr/v1/models" |
  jq -r '.data[0] | "model \(.id)", (.aim.files[] | "  \(.path)  \(.size) bytes  sha256 \(.sha256)")'
echo "  source: sha256 $(sha256sum "$STACK_DIR/hub/aim-test/tiny-chat/model.safetensors" | cut -d' ' -f1)  model.safetensors"
say "a chat completion through Service $isvc ($addr)"
echo '    POST /v1/chat/completions {"messages":[{"role":"user","content":"What are you serving?"}]}'
curl -s --max-time 20 "http://$addr/v1/chat/completions" -H 'Content-Type: application/json' \
  -d '{"model":"aim-test/tiny-chat","messages":[{"role":"user","content":"What are you serving?"}]}' |
  jq -r '"    -> " + .choices[0].message.content'

echo
printf 'step times:\n'
printf '  %s\n' "${STACK_TIMINGS[@]}"
echo "demo ready in $(($(date +%s) - t0)) s. KUBECONFIG=$KUBECONFIG"
echo "stop everything with: scripts/demo.sh stop"
