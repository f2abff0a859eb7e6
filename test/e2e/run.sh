#!/usr/bin/env bash
# The end-to-end suite: the operator installed by its Helm chart on the local control plane with
# a real node, where discovery, download and inference pods really run the images this project
# builds (test/e2e/stack.sh). Prints "N passed, N failed" and exits non-zero on any failure.
#
#   test/e2e/run.sh            the whole suite (its own cluster in .local/cluster-e2e, stopped after)
#   AIM_E2E_KEEP=1 ...         leave the stack running afterwards (kubeconfig in the state dir)
#   AIM_E2E_SERVICES=N ...     services in the rollout test (default 50)
#
# Only one real node can run on a machine at a time (its bridge, addresses and kubelet port are
# fixed): stop the demo's cluster first (scripts/demo.sh stop).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
export AIM_CLUSTER_DIR="${AIM_CLUSTER_DIR:-$REPO/.local/cluster-e2e}"
export AIM_CLUSTER_API_PORT="${AIM_CLUSTER_API_PORT:-16643}"
export AIM_CLUSTER_ETCD_PORT="${AIM_CLUSTER_ETCD_PORT:-12579}"
export AIM_CLUSTER_ETCD_PEER_PORT="${AIM_CLUSTER_ETCD_PEER_PORT:-12580}"
export AIM_CLUSTER_KWOK_PORT="${AIM_CLUSTER_KWOK_PORT:-16450}"
export AIM_CLUSTER_KCM_PORT="${AIM_CLUSTER_KCM_PORT:-16457}"
export AIM_CLUSTER_SCHEDULER_PORT="${AIM_CLUSTER_SCHEDULER_PORT:-16459}"
# The rollout runs every service's inference pod on the one real node: advertise enough (fake) GPUs.
export AIM_NODE_GPU_COUNT="${AIM_NODE_GPU_COUNT:-64}"
# shellcheck source=test/e2e/stack.sh
source "$HERE/stack.sh"
SERVICES="${AIM_E2E_SERVICES:-50}"
NS=aim-e2e
API=aim.eai.amd.com/v1alpha1

# shellcheck source=test/support/checks.sh
source "$REPO/test/support/checks.sh"
step() { printf '\n=== %s (%s)\n' "$*" "$(date -u +%H:%M:%S)"; }
# eventually SECONDS 'CODE': evaluates CODE (single-quoted, so that what it reads is read anew)
# every second until it succeeds or time runs out.
eventually() {
  local deadline=$(($(date +%s) + $1))
  shift
  until eval "$*" >/dev/null 2>&1; do
    (($(date +%s) < deadline)) || return 1
    sleep 1
  done
}
jget() { kc get "$@" -o json 2>/dev/null; }
field() { # field KIND NAME JQ [ns]: one value of an object, "" when absent
  kc get "$1" "$2" ${4:+-n "$4"} -o json 2>/dev/null | jq -r "$3 // empty"
}
status_is() { [[ "$(field "$1" "$2" .status.status "${4:-}")" == "$3" ]]; }

finish() {
  local rc=$?
  if ((failed > 0)) || [[ "${AIM_E2E_DUMP:-}" == 1 ]]; then dump_state; fi
  if [[ "${AIM_E2E_KEEP:-}" != 1 ]]; then stack_down; fi
  printf '\ntimings:\n'
  printf '  %s\n' "${STACK_TIMINGS[@]}"
  echo "endtoend: $passed passed, $failed failed"
  ((failed == 0 && rc == 0)) || exit 1
}
trap finish EXIT

dump_state() {
  echo "--- state at the end (for debugging)"
  kc get aim -A -o wide 2>&1 | head -80
  kc get pods -A -o wide 2>&1 | head -80
  kc get jobs,pvc,inferenceservices -A 2>&1 | head -60
  kc -n "$STACK_NS" logs deploy/"$STACK_RELEASE" --tail=60 2>&1 | tail -60
}

step "stack: cluster with a real node, images, KServe, Hub stand-in, helm install"
"$STACK_CLUSTER" delete >/dev/null 2>&1 || true
stack_up
kc create namespace "$NS" >/dev/null 2>&1 || true

# ------------------------------------------------------------------------------------ operator
step "operator"
operator_pod() { kc -n "$STACK_NS" get pods -l app.kubernetes.io/name=aim-engine -o json |
  jq -r '[.items[] | select(.metadata.deletionTimestamp == null)] | .[0].metadata.name // empty'; }
pod_ready() { [[ "$(kc -n "$STACK_NS" get pod "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]; }
op="$(operator_pod)"
check "operator pod $op runs on the real node" \
  test "$(kc -n "$STACK_NS" get pod "$op" -o jsonpath='{.spec.nodeName}')" == aim-node-0
check "operator pod is Ready" eventually 60 pod_ready "$op"
lease_holder() { kc -n "$STACK_NS" get lease aim-engine-leader -o jsonpath='{.spec.holderIdentity}' 2>/dev/null; }
check "operator pod holds the leader Lease in $STACK_NS" eventually 60 'test "$(lease_holder)" == "$op"'
check "operator runs as 65532 with a read-only root filesystem" test "$(kc -n "$STACK_NS" get pod "$op" -o json |
  jq -r '.spec.containers[0].securityContext | "\(.runAsUser // "")/\(.readOnlyRootFilesystem)"')" != "/false"
check "operator image is the one built here" \
  test "$(kc -n "$STACK_NS" get pod "$op" -o jsonpath='{.spec.containers[0].image}')" == "$STACK_OPERATOR_IMAGE:$STACK_VERSION"

# ------------------------------------------------------------------------------------- catalog
step "catalog: the stand-in model from its registry labels, discovery in a real container"
stack_catalog >/dev/null
check "AIMClusterModel tiny-chat Ready" eventually 120 status_is aimclustermodel tiny-chat Ready
check "model metadata read from the image labels (no imageMetadata in the spec)" test \
  "$(field aimclustermodel tiny-chat '.status.imageMetadata.model.canonicalName')" == aim-test/tiny-chat
tpl_mi300x() { kc get aimclusterservicetemplates -l aim.eai.amd.com/model=tiny-chat -o json |
  jq -r '[.items[] | select(.spec.hardware.gpu.model // .status.resolvedHardware.gpu.model | ascii_downcase == "mi300x")] | .[0].metadata.name // empty'; }
check "a MI300X template was created from the recommended deployments" eventually 60 'test -n "$(tpl_mi300x)"'
tpl="$(tpl_mi300x)"
check "template $tpl Ready after discovery" eventually 180 status_is aimclusterservicetemplate "$tpl" Ready
# The discovery Job is gone once the template is Ready; its pod's kubelet events stay.
disc_started() { kc -n "$STACK_NS" get events -o json | jq -r '[.items[] | select((.involvedObject.name |
  startswith("discover-")) and .reason == "Started" and .source.host == "aim-node-0")] | length'; }
check "a discovery container was started by the real node's kubelet" test "$(disc_started)" -ge 1
check "the template's profile is the stand-in's dry-run output (its engine args and env)" test \
  "$(field aimclusterservicetemplate "$tpl" '.status.profile.env_vars.VLLM_DO_NOT_TRACK')" == 1
check "discovered model source is hf://aim-test/tiny-chat" test \
  "$(field aimclusterservicetemplate "$tpl" '.status.modelSources[0].sourceUri')" == hf://aim-test/tiny-chat

# ------------------------------------------------------------------------------------- service
step "service: weights downloaded by our downloader image, the stand-in serving them"
kc apply -f - >/dev/null <<EOF
apiVersion: $API
kind: AIMService
metadata: {name: chat, namespace: $NS}
spec:
  model: {name: tiny-chat}
  template: {name: $tpl}
  caching: {mode: Always}
  resources: $STACK_SERVICE_RESOURCES
EOF
check "AIMService chat Running" eventually 420 status_is aimservice chat Running "$NS"
explains() { grep -q "template: $tpl" <<<"$("$STACK_REPO/build/release/cmd/aimctl/aimctl" explain chat -n "$NS" 2>&1)"; }
check "aimctl explain (the demo's step, with the user's kubeconfig) names template $tpl" explains
art="$(kc get aimartifacts -A -o json | jq -r '[.items[] | select(.spec.sourceUri == "hf://aim-test/tiny-chat")] | .[0] | "\(.metadata.namespace)/\(.metadata.name)"')"
art_ns="${art%%/*}" art_name="${art#*/}"
check "AIMArtifact $art Ready" status_is aimartifact "$art_name" Ready "$art_ns"
job="$(field aimartifact "$art_name" .status.downloadJobName "$art_ns")"
check "download Job $job ran our image" test \
  "$(kc -n "$art_ns" get job "$job" -o jsonpath='{.spec.template.spec.containers[0].image}' 2>/dev/null)" == "$STACK_OPERATOR_IMAGE:$STACK_VERSION"
check "download Job has a deadline" test -n "$(kc -n "$art_ns" get job "$job" -o jsonpath='{.spec.activeDeadlineSeconds}' 2>/dev/null)"
src_sha="$(sha256sum "$STACK_DIR/hub/aim-test/tiny-chat/model.safetensors" | cut -d' ' -f1)"
pvc="$(field aimartifact "$art_name" '.status.persistentVolumeClaim' "$art_ns")"
pv="$(kc -n "$art_ns" get pvc "$pvc" -o jsonpath='{.spec.volumeName}' 2>/dev/null)"
pv_dir="$(kc get pv "$pv" -o jsonpath='{.spec.hostPath.path}' 2>/dev/null)"
pv_sha="$(find "$pv_dir" -name model.safetensors -exec sha256sum {} + 2>/dev/null | head -1 | cut -d' ' -f1)"
check "the weights on the real PV ($pv_dir) match the source (sha256 ${src_sha:0:12}...)" test "$pv_sha" == "$src_sha"
isvc="$(field aimservice chat '.status.inferenceService.name // .status.resolvedInferenceService.name' "$NS")"
[[ -n "$isvc" ]] || isvc="$(kc -n "$NS" get inferenceservices -l aim.eai.amd.com/service.name=chat -o jsonpath='{.items[0].metadata.name}')"
check "InferenceService $isvc Ready (KServe Standard mode)" test \
  "$(kc -n "$NS" get inferenceservice "$isvc" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" == True
svc_ip="$(kc -n "$NS" get svc -l serving.kserve.io/inferenceservice="$isvc" -o json |
  jq -r '[.items[] | select(.spec.clusterIP != "None")] | .[0] | "\(.spec.clusterIP):\(.spec.ports[0].port)"')"
chat_code() {
  curl -s -o "$AIM_CLUSTER_DIR/chat.json" -w '%{http_code}' --max-time 20 "http://$svc_ip/v1/chat/completions" \
    -H 'Content-Type: application/json' \
    -d '{"model":"aim-test/tiny-chat","messages":[{"role":"user","content":"Hello from the e2e suite"}]}'
}
check "chat completion through Service $svc_ip answers 200" eventually 60 'test "$(chat_code)" == 200'
has_content() { jq -e '.choices[0].message.content | length > 0' "$AIM_CLUSTER_DIR/chat.json" >/dev/null; }
check "the completion has the OpenAI shape" has_content
served_sha="$(curl -s --max-time 20 "http://$svc_ip/v1/models" |
  jq -r '[.data[].aim.files[]? | select(.path | endswith("model.safetensors")) | .sha256] | .[0] // empty')"
check "/v1/models reports the downloaded file's sha256, equal to the source's" test "$served_sha" == "$src_sha"

# ------------------------------------------------------------------------------------- rollout
step "rollout of $SERVICES services; the operator pod is deleted in the middle of it"
{
  for ((i = 1; i <= SERVICES; i++)); do
    cat <<YAML
---
apiVersion: $API
kind: AIMService
metadata: {name: roll-$i, namespace: $NS}
spec:
  model: {name: tiny-chat}
  template: {name: $tpl}
  caching: {mode: Never}
  resources:
    requests: {cpu: 5m, memory: 24Mi}
    limits: {cpu: 500m, memory: 256Mi}
YAML
  done
} | kc apply -f - >/dev/null
isvc_count() { kc -n "$NS" get inferenceservices -l aim.eai.amd.com/service.name -o json |
  jq '[.items[] | select(.metadata.labels["aim.eai.amd.com/service.name"] | startswith("roll-"))] | length'; }
# As soon as a fifth of them have their InferenceService, so that most of the rollout is left.
for ((i = 0; i < 1500; i++)); do
  (($(isvc_count) >= SERVICES / 5)) && break
  sleep 0.2
done
old_op="$(operator_pod)"
echo "deleting operator pod $old_op with $(isvc_count) of $SERVICES InferenceServices created"
kc -n "$STACK_NS" delete pod "$old_op" --wait=false >/dev/null
check "the operator pod is deleted" eventually 60 '! kc -n "$STACK_NS" get pod "$old_op"'
eventually 60 'test -n "$(operator_pod)"'
new_op="$(operator_pod)"
check "a new operator pod $new_op is Ready" eventually 120 pod_ready "$new_op"
check "the new pod takes the leader Lease" eventually 120 'test "$(lease_holder)" == "$new_op"'
running_count() { kc -n "$NS" get aimservices -o json |
  jq '[.items[] | select((.metadata.name | startswith("roll-")) and .status.status == "Running")] | length'; }
check "all $SERVICES services reach Running" eventually 900 'test "$(running_count)" -eq "$SERVICES"'
echo "  $(running_count) of $SERVICES Running"
per_service() { kc -n "$NS" get inferenceservices -o json |
  jq -r '[.items[].metadata.labels["aim.eai.amd.com/service.name"] // "none"] | group_by(.) | map("\(.[0]) \(length)") | .[]'; }
check "exactly one InferenceService per service" test -z "$(per_service | awk '$2 != 1')"
check "$((SERVICES + 1)) InferenceServices in all (the rollout and chat)" test "$(per_service | wc -l)" -eq $((SERVICES + 1))
orphans() { # children of the operator whose owner is gone
  local kind
  for kind in inferenceservices deployments services; do
    kc -n "$NS" get "$kind" -o json | jq -r --argjson svcs "$(kc -n "$NS" get aimservices,inferenceservices -o json | jq '[.items[].metadata.uid]')" \
      '.items[] | select(.metadata.ownerReferences != null) | select([.metadata.ownerReferences[].uid] - $svcs == [.metadata.ownerReferences[].uid]) | .metadata.name'
  done
}
check "no orphaned InferenceService, Deployment or Service" test -z "$(orphans)"

# --------------------------------------------------------------------------------- bad input
# bad_artifact NAME SPEC-LINE: an artifact of the stand-in's weights with one thing wrong in it.
bad_artifact() {
  kc apply -f - >/dev/null <<EOF
apiVersion: $API
kind: AIMArtifact
metadata: {name: $1, namespace: $NS}
spec:
  sourceUri: hf://aim-test/tiny-chat
  modelId: aim-test/tiny-chat
  size: 20Mi
  $2
EOF
}
ready_reason() { field aimartifact "$1" '.status.conditions[] | select(.type == "Ready") | .reason' "$NS"; }
show_ready() { echo "  Ready: $(field aimartifact "$1" '.status.conditions[] | select(.type == "Ready") | "\(.reason): \(.message)"' "$NS")"; }

step "bad input on a real node: images that cannot be pulled"
bad_artifact bad-image "modelDownloadImage: $STACK_REGISTRY/aim-engine:no-such-tag"
check "an artifact whose download image cannot be pulled says ImagePullFailed within 2 minutes" \
  eventually 120 'test "$(ready_reason bad-image)" == ImagePullFailed'
show_ready bad-image
kc apply -f - >/dev/null <<EOF
apiVersion: aim.eai.amd.com/v1alpha1
kind: AIMClusterModel
metadata: {name: missing-image}
spec:
  image: $STACK_REGISTRY/aim-standin/no-such-model:$STACK_VERSION
  imageMetadata:
    model:
      canonicalName: aim-test/missing
      recommendedDeployments: [{gpuModel: MI300X, gpuCount: 1, precision: fp8, metric: latency}]
EOF
missing_tpl_reason() { kc get aimclusterservicetemplates -l aim.eai.amd.com/model=missing-image -o json |
  jq -r '[.items[].status.conditions[]? | select(.type == "Ready") | .reason] | .[0] // empty'; }
check "a template whose discovery image cannot be pulled says ImagePullFailed within 2 minutes" \
  eventually 150 'test "$(missing_tpl_reason)" == ImagePullFailed'
# A model image whose dry-run cannot run (the operator's image: its CLI refuses the arguments):
# the template says one thing on every condition that speaks of the attempt (issue 27), the
# pod's failure with its log, and when the next attempt is.
kc apply -f - >/dev/null <<EOF
apiVersion: aim.eai.amd.com/v1alpha1
kind: AIMClusterModel
metadata: {name: broken-dry-run}
spec:
  image: $STACK_OPERATOR_IMAGE:$STACK_VERSION
  imageMetadata:
    model:
      canonicalName: aim-test/broken
      recommendedDeployments: [{gpuModel: MI300X, gpuCount: 1, precision: fp8, metric: latency}]
EOF
broken_status() { kc get aimclusterservicetemplates -l aim.eai.amd.com/model=broken-dry-run -o json | jq '.items[0].status'; }
# Failed, and DiscoveryJobReady, Discovered and Ready all PodFailed with the attempt, the exit
# code, the log excerpt and the next attempt's time.
broken_says_one_thing() {
  broken_status | jq -e '.status == "Failed" and
    ([.conditions[]? | select(.type | IN("DiscoveryJobReady", "Discovered", "Ready"))] |
     length == 3 and all(.reason == "PodFailed" and
       (.message | test("Discovery attempt 1 failed: .*exit code")) and
       (.message | test("Log excerpt")) and (.message | test("Next attempt at"))))' >/dev/null
}
check "a template whose dry-run exits says Failed/PodFailed, with its log and next attempt, on every condition" \
  eventually 150 broken_says_one_thing
broken_status | jq -r '.conditions[]? | select(.type == "Discovered") | "  Discovered: \(.reason): \(.message)"' | head -6
step "bad input on a real node: a download pod that cannot be scheduled"
# A storage class that does not exist: the claim never binds, so the scheduler cannot place the
# download pod ("unbound immediate PersistentVolumeClaims").
bad_artifact bad-class "storageClassName: no-such-class"
check "an artifact whose download pod cannot be scheduled says Unschedulable within 2 minutes" \
  eventually 120 'test "$(ready_reason bad-class)" == Unschedulable'
show_ready bad-class

step "bad input on a real node: inference pods that crash-loop or cannot be scheduled"
# No silent stuck service (issue 27): the pod's own reason and message reach the service.
bad_service() { # bad_service NAME SPEC_LINES
  kc apply -f - >/dev/null <<EOF
apiVersion: $API
kind: AIMService
metadata: {name: $1, namespace: $NS}
spec:
  model: {name: tiny-chat}
  template: {name: $tpl}
  caching: {mode: Never}
$2
EOF
}
svc_reason() { field aimservice "$1" '.status.conditions[] | select(.type == "Ready") | .reason' "$NS"; }
show_svc_ready() { echo "  Ready: $(field aimservice "$1" '.status.conditions[] | select(.type == "Ready") | "\(.reason): \(.message)"' "$NS")"; }
# The stand-in refuses a setting a real image would refuse, and exits: the kubelet restarts it.
bad_service crashing "  env: [{name: AIM_STANDIN_READY_DELAY_SECONDS, value: not-a-number}]
  resources: $STACK_SERVICE_RESOURCES"
# More CPU than the real node has: the scheduler cannot place the pod.
bad_service unplaceable '  resources: {requests: {cpu: "500", memory: 128Mi}, limits: {cpu: "500", memory: 512Mi}}'
check "a service whose inference container keeps exiting says CrashLoopBackOff within 3 minutes" \
  eventually 180 'test "$(svc_reason crashing)" == CrashLoopBackOff'
show_svc_ready crashing
check "a service whose inference pod cannot be scheduled says Unschedulable within 2 minutes" \
  eventually 120 'test "$(svc_reason unplaceable)" == Unschedulable'
show_svc_ready unplaceable
kc -n "$NS" delete aimservice crashing unplaceable --wait=false >/dev/null 2>&1 || true

# The chart's RBAC is least-privilege: a verb a controller uses that the chart does not grant
# shows as a refused request (403 Forbidden) in the operator's log (issue 24's follow-up: a
# missing `get` once made a reused claim fail in a loop). Everything above ran under that RBAC.
forbidden_lines() {
  kc -n "$STACK_NS" logs deploy/"$STACK_RELEASE" 2>&1 | grep -iE 'forbidden|\b403\b' || true
}
check "the operator was never refused by the API server under the chart's RBAC" \
  test -z "$(forbidden_lines)"
forbidden_lines | head -5

# ---------------------------------------------------------------------------------------- helm
step "helm upgrade with changed values rolls the operator"
before="$(operator_pod)"
stack_timed "helm upgrade" stack_operator --set logLevel=debug >/dev/null
after="$(operator_pod)"
check "a new operator pod replaced $before" test -n "$after" -a "$after" != "$before"
check "the new pod runs with --log-level=debug" bash -c \
  "'$STACK_K' --kubeconfig '$KUBECONFIG' -n '$STACK_NS' get pod '$after' -o json | jq -e '[.spec.containers[0].args[] | select(test(\"log-level.*debug\"))] | length == 1' >/dev/null"
check "the new pod becomes leader" eventually 120 'test "$(lease_holder)" == "$after"'
check "services stay Running across the upgrade" status_is aimservice chat Running "$NS"

step "helm uninstall leaves no orphaned children"
# While the operator runs, deleting the AIM objects runs their finalizers and the garbage collector
# takes their children; then uninstall removes what the chart made. CRDs stay, as Helm leaves crds/.
kc delete aimservices,aimtemplatecaches,aimartifacts --all -n "$NS" --wait=false >/dev/null
kc delete aimclustermodels,aimclusterservicetemplates,aimclusterruntimeconfigs --all --wait=false >/dev/null
check "every AIM object goes (finalizers run while the operator is up)" eventually 300 'test -z "$(kc get aim -A -o name)"'
children() {
  kc -n "$NS" get jobs,pvc,inferenceservices,deployments,services -o name
  kc -n "$STACK_NS" get jobs -o name
  kc get pv -o name
}
check "their children go with them (Jobs, PVCs and volumes, InferenceServices, Deployments, Services)" \
  eventually 180 'test -z "$(children)"'
stack_timed "helm uninstall" stack_helm uninstall "$STACK_RELEASE" -n "$STACK_NS" --wait >/dev/null
leftovers() {
  kc get clusterroles,clusterrolebindings -o name | grep -E "$STACK_RELEASE" || true
  kc -n "$STACK_NS" get deployments,serviceaccounts,services,roles,rolebindings,pods -l app.kubernetes.io/instance="$STACK_RELEASE" -o name
}
check "nothing of the release is left" eventually 120 'test -z "$(leftovers)"'
leftovers
check "the CRDs stay, as Helm leaves crds/" kc get crd aimservices.aim.eai.amd.com -o name
