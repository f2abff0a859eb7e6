#!/usr/bin/env bash
# Local Kubernetes control plane for aim-engine's integration tests.
#
#   tools/cluster/cluster.sh build|start [--real-node]|stop|status|kubeconfig|restart-apiserver|compact-etcd|delete
#
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler, KWOK (simulated nodes and pods)
# and simlogs (per-pod simulated logs), all built from pinned Go modules in this folder and bound
# to 127.0.0.1. --real-node (or AIM_CLUSTER_REAL_NODE=true) adds a real node whose pods really run
# (kubelet, containerd, kube-proxy; node.sh). See tools/cluster/README.md.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
BIN="$HERE/bin"
DIR="$(realpath -m "${AIM_CLUSTER_DIR:-$REPO/.local/cluster}")"
PKI="$DIR/pki"
LOGS="$DIR/logs"
PIDS="$DIR/pids"
PODLOGS="$DIR/pod-logs"
KUBECONFIG_FILE="$DIR/kubeconfig"

API_PORT="${AIM_CLUSTER_API_PORT:-16443}"
ETCD_PORT="${AIM_CLUSTER_ETCD_PORT:-12379}"
ETCD_PEER_PORT="${AIM_CLUSTER_ETCD_PEER_PORT:-12380}"
KWOK_PORT="${AIM_CLUSTER_KWOK_PORT:-16250}"
KCM_PORT="${AIM_CLUSTER_KCM_PORT:-16257}"
SCHED_PORT="${AIM_CLUSTER_SCHEDULER_PORT:-16259}"
START_TIMEOUT="${AIM_CLUSTER_START_TIMEOUT:-120}"
WATCH_CACHE="${AIM_CLUSTER_WATCH_CACHE:-true}"

# Pinned versions (the Go modules pin them too; these feed -ldflags and the CRD look-up).
K8S_VERSION="v1.34.4"
ETCD_VERSION="v3.6.4"
KWOK_VERSION="v0.7.0"
KSERVE_VERSION="v0.16.0"
GATEWAY_API_VERSION="v1.3.0"

AIM_VERSION="$(sed -n 's/^project(aim-engine VERSION \([0-9.]*\).*/\1/p' "$REPO/CMakeLists.txt")"

# Components in start order; stop goes in reverse.
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok simlogs)

export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"

log() { printf '[cluster %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

kubectl_() { "$BIN/kubectl" --kubeconfig "$KUBECONFIG_FILE" "$@"; }

# shellcheck source=tools/cluster/node.sh
source "$HERE/node.sh"

# ---------------------------------------------------------------------------------------- build
K8S_BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy)
ALL_BINARIES=("${K8S_BINARIES[@]}" etcd etcdctl kwok simlogs aim-local-path)

# True when a binary is missing or a build input (go.mod/go.sum/simlogs source) changed since the
# last build. `start` builds only then: `go build` always relinks (10-60 s).
build_needed() {
  local b
  [[ -f "$BIN/.stamp" ]] || return 0
  for b in "${ALL_BINARIES[@]}"; do
    [[ -x "$BIN/$b" ]] || return 0
  done
  [[ -n "$(find "$HERE/go.mod" "$HERE/go.sum" "$HERE/kwok" -type f -newer "$BIN/.stamp" -print -quit)" ]]
}

cmd_build() {
  command -v go >/dev/null || die "go is not on PATH (Go >= 1.24 needed)"
  mkdir -p "$BIN"
  local t0 ldk
  t0=$(date +%s)
  ldk="-s -w"
  ldk+=" -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION"
  ldk+=" -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMajor=1"
  ldk+=" -X k8s.io/component-base/version.gitMinor=34 -X k8s.io/client-go/pkg/version.gitMinor=34"
  ldk+=" -X k8s.io/component-base/version.gitTreeState=clean -X k8s.io/client-go/pkg/version.gitTreeState=clean"
  ldk+=" -X k8s.io/component-base/version.buildDate=2026-02-10T12:53:36Z -X k8s.io/client-go/pkg/version.buildDate=2026-02-10T12:53:36Z"
  log "building kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, kubelet, kube-proxy ($K8S_VERSION) ..."
  (cd "$HERE" && go build -buildvcs=false -ldflags "$ldk" -o "$BIN/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl \
    k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy)
  log "building etcd, etcdctl ($ETCD_VERSION) ..."
  (cd "$HERE" && go build -buildvcs=false -ldflags "-s -w" -o "$BIN/etcd" go.etcd.io/etcd/server/v3 &&
    go build -buildvcs=false -ldflags "-s -w" -o "$BIN/etcdctl" go.etcd.io/etcd/etcdctl/v3)
  log "building kwok ($KWOK_VERSION), simlogs and aim-local-path ..."
  (cd "$HERE/kwok" && go build -buildvcs=false -ldflags "-s -w" -o "$BIN/" sigs.k8s.io/kwok/cmd/kwok \
    ./cmd/simlogs ./cmd/aim-local-path)
  touch "$BIN/.stamp"
  log "build done in $(($(date +%s) - t0)) s (binaries in $BIN)"
}

ensure_built() {
  if build_needed; then
    cmd_build
  fi
}

# Directory of a module version in the Go module cache (downloads it through the module proxy).
module_dir() {
  local dir
  dir="$(cd "${TMPDIR:-/tmp}" && GOFLAGS= go mod download -json "$1@$2" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [[ -d "$dir" ]] || die "could not locate module $1@$2 in the Go module cache"
  printf '%s\n' "$dir"
}

# ----------------------------------------------------------------------------------------- pki
gen_cert() { # name subject ext-file-or-empty
  local name="$1" subj="$2" ext="$3"
  openssl req -new -newkey rsa:2048 -nodes -keyout "$PKI/$name.key" -subj "$subj" \
    -out "$PKI/$name.csr" 2>/dev/null
  if [[ -n "$ext" ]]; then
    openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
      -days 3650 -sha256 -extfile "$ext" -out "$PKI/$name.crt" 2>/dev/null
  else
    openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
      -days 3650 -sha256 -out "$PKI/$name.crt" 2>/dev/null
  fi
  rm -f "$PKI/$name.csr"
}

ensure_pki() {
  [[ -f "$PKI/done" ]] && return 0
  command -v openssl >/dev/null || die "openssl is needed (apt-get install openssl)"
  log "generating certificates in $PKI"
  rm -rf "$PKI"
  mkdir -p "$PKI"
  openssl req -x509 -new -newkey rsa:2048 -nodes -keyout "$PKI/ca.key" -subj "/CN=aim-local-cluster-ca" \
    -days 3650 -sha256 -out "$PKI/ca.crt" 2>/dev/null
  cat >"$PKI/server.ext" <<EOF
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
EOF
  cat >"$PKI/client.ext" <<EOF
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth
EOF
  gen_cert apiserver "/CN=kube-apiserver" "$PKI/server.ext"
  gen_cert kwok-kubelet "/CN=kwok-kubelet" "$PKI/server.ext"
  # Admin: member of system:masters. Also used by the control-plane components and KWOK.
  gen_cert admin "/O=system:masters/CN=aim-admin" "$PKI/client.ext"
  openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
  openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  chmod 600 "$PKI"/*.key
  touch "$PKI/done"
}

write_kubeconfig() {
  local b64='base64 -w0'
  cat >"$KUBECONFIG_FILE.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: aim-local
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority-data: $($b64 <"$PKI/ca.crt")
users:
- name: aim-admin
  user:
    client-certificate-data: $($b64 <"$PKI/admin.crt")
    client-key-data: $($b64 <"$PKI/admin.key")
contexts:
- name: aim-local
  context:
    cluster: aim-local
    user: aim-admin
current-context: aim-local
EOF
  chmod 600 "$KUBECONFIG_FILE.tmp"
  mv "$KUBECONFIG_FILE.tmp" "$KUBECONFIG_FILE"
}

# ----------------------------------------------------------------------------------- processes
pid_of() { # prints the pid if the component runs (pid file present, process alive, our binary)
  local f="$PIDS/$1.pid" pid exe
  [[ -f "$f" ]] || return 1
  pid="$(cat "$f")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  exe="$(readlink "/proc/$pid/exe" 2>/dev/null || true)"
  exe="${exe% (deleted)}"
  [[ "$exe" == "$(exe_of "$1")" ]] || return 1
  printf '%s\n' "$pid"
}

exe_of() {
  case " ${NODE_COMPONENTS[*]} " in
  *" $1 "*) node_exe "$1" ;;
  *) printf '%s\n' "$BIN/$1" ;;
  esac
}

# A process counts as alive while /proc shows its executable (a zombie has none).
alive() { [[ -n "$(readlink "/proc/$1/exe" 2>/dev/null)" ]]; }

args_of() {
  case "$1" in
  etcd)
    printf '%s\n' --name=aim-local --data-dir="$DIR/etcd-data" \
      --listen-client-urls="http://127.0.0.1:$ETCD_PORT" --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
      --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
      --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
      --initial-cluster="aim-local=http://127.0.0.1:$ETCD_PEER_PORT" \
      --unsafe-no-fsync=true --quota-backend-bytes=4294967296 --log-level=warn
    ;;
  kube-apiserver)
    # With the real node, pods reach the apiserver through the kubernetes Service at the bridge
    # address, so it listens beyond loopback and keeps that Service's endpoints (lease reconciler).
    if node_requested; then
      printf '%s\n' --bind-address=0.0.0.0 --advertise-address="$NODE_IP" --endpoint-reconciler-type=lease
    else
      printf '%s\n' --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --endpoint-reconciler-type=none
    fi
    printf '%s\n' --secure-port="$API_PORT" \
      --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
      --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
      --client-ca-file="$PKI/ca.crt" \
      --service-account-issuer=https://kubernetes.default.svc.cluster.local \
      --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
      --service-cluster-ip-range=10.96.0.0/16 --authorization-mode=Node,RBAC --allow-privileged=true \
      --kubelet-client-certificate="$PKI/admin.crt" --kubelet-client-key="$PKI/admin.key" \
      --kubelet-certificate-authority="$PKI/ca.crt" --kubelet-preferred-address-types=InternalIP \
      --watch-cache="$WATCH_CACHE" --profiling=false --v=1
    ;;
  kube-controller-manager)
    printf '%s\n' --kubeconfig="$KUBECONFIG_FILE" --authentication-kubeconfig="$KUBECONFIG_FILE" \
      --authorization-kubeconfig="$KUBECONFIG_FILE" --bind-address=127.0.0.1 --secure-port="$KCM_PORT" \
      --leader-elect=false --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
      --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
      --controllers='*' --concurrent-job-syncs=10 --v=1
    ;;
  kube-scheduler)
    printf '%s\n' --kubeconfig="$KUBECONFIG_FILE" --authentication-kubeconfig="$KUBECONFIG_FILE" \
      --authorization-kubeconfig="$KUBECONFIG_FILE" --bind-address=127.0.0.1 --secure-port="$SCHED_PORT" \
      --leader-elect=false --v=1
    ;;
  kwok)
    printf '%s\n' --kubeconfig="$KUBECONFIG_FILE" \
      --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
      --node-ip=127.0.0.1 --node-port="$KWOK_PORT" --server-address="127.0.0.1:$KWOK_PORT" \
      --tls-cert-file="$PKI/kwok-kubelet.crt" --tls-private-key-file="$PKI/kwok-kubelet.key" \
      --enable-crds=Stage,Logs,ClusterLogs --node-lease-duration-seconds=40 --cidr=10.244.0.0/16
    ;;
  simlogs)
    printf '%s\n' --kubeconfig="$KUBECONFIG_FILE" --log-dir="$PODLOGS"
    ;;
  *) node_args "$1" ;;
  esac
}

start_component() {
  local name="$1" args=()
  mapfile -t args < <(args_of "$name")
  mkdir -p "$LOGS" "$PIDS"
  printf '\n==== %s start %s\n' "$name" "$(date -u +%FT%TZ)" >>"$LOGS/$name.log"
  # setsid: own session, so the component survives the calling shell and never gets its signals.
  # 9>&-: do not inherit the lock of this script (see lock()).
  setsid "$(exe_of "$name")" "${args[@]}" >>"$LOGS/$name.log" 2>&1 </dev/null 9>&- &
  local pid=$! exe i
  echo "$pid" >"$PIDS/$name.pid"
  # Wait for the exec. Right after the fork /proc/PID/exe is still this shell (then setsid), so
  # pid_of, which checks the executable, would report a component that is only starting as one
  # that "exited during start-up", with an empty log: on a loaded machine the exec can take that
  # long (seen in a fresh-clone CI run with etcd, and as the demo's containerd flake).
  for ((i = 0; i < 200; i++)); do
    exe="$(readlink "/proc/$pid/exe" 2>/dev/null)" || break # gone: check_alive says so
    [[ "${exe% (deleted)}" != "$(exe_of "$name")" ]] || break
    sleep 0.05
  done
}

stop_component() { # name [grace-seconds]
  local name="$1" grace="${2:-15}" pid i
  if pid="$(pid_of "$name")"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 10; i++)); do
      alive "$pid" || break
      sleep 0.1
    done
    if alive "$pid"; then
      [[ "$grace" != 15 ]] || log "$name (pid $pid) did not stop within $grace s, killing it"
      kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do
        alive "$pid" || break
        sleep 0.1
      done
    fi
  fi
  rm -f "$PIDS/$name.pid"
}

fail_with_log() { # component message
  local name="$1"
  log "ERROR: $2"
  if [[ -f "$LOGS/$name.log" ]]; then
    log "last lines of $LOGS/$name.log:"
    tail -n 40 "$LOGS/$name.log" >&2
  fi
  exit 1
}

# Fails with the component's log when it died.
check_alive() {
  pid_of "$1" >/dev/null || fail_with_log "$1" "$1 exited during start-up"
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_until() { # description timeout-seconds component-to-blame command...
  local what="$1" timeout="$2" comp="$3"
  shift 3
  local deadline=$(($(date +%s) + timeout))
  until "$@" >/dev/null 2>&1; do
    [[ -z "$comp" ]] || check_alive "$comp"
    if (($(date +%s) >= deadline)); then
      fail_with_log "${comp:-kube-apiserver}" "timed out after ${timeout}s waiting for $what"
    fi
    sleep 0.2
  done
}

etcd_healthy() { curl -sf --max-time 2 "http://127.0.0.1:$ETCD_PORT/health" | grep -q '"health":"true"'; }
api_ready() {
  curl -sf --max-time 2 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" \
    "https://127.0.0.1:$API_PORT/readyz" | grep -q '^ok$'
}

start_apiserver_and_wait() {
  start_component kube-apiserver
  wait_until "kube-apiserver /readyz" "$START_TIMEOUT" kube-apiserver api_ready
}

# ------------------------------------------------------------------------------------ commands
# The components of this cluster: the control plane, and the real node's when it has one.
components() {
  printf '%s\n' "${COMPONENTS[@]}"
  if node_requested; then printf '%s\n' "${NODE_COMPONENTS[@]}"; fi
}

all_running() {
  local c
  for c in $(components); do
    pid_of "$c" >/dev/null || return 1
  done
}

any_running() {
  local c
  for c in "${COMPONENTS[@]}" "${NODE_COMPONENTS[@]}"; do
    pid_of "$c" >/dev/null && return 0
  done
  return 1
}

# Applies CRD files (server-side: the KServe CRD is too big for client-side apply) and waits until
# they are Established. Skips the apply when the same content was applied to this etcd data before:
# applying the 1 MB InferenceService CRD alone takes several seconds.
apply_crd_files() { # tag files...
  local tag="$1" sum marker
  shift
  marker="$DIR/crds-applied.$tag"
  sum="$(cat "$@" | sha256sum | cut -d' ' -f1)"
  if [[ ! -f "$marker" || "$(cat "$marker")" != "$sum" ]]; then
    kubectl_ apply --server-side --force-conflicts -f - >/dev/null < <(for f in "$@"; do
      cat "$f"
      printf '\n---\n'
    done) || fail_with_log kube-apiserver "applying CRDs failed: $*"
    echo "$sum" >"$marker"
  fi
  local args=() f
  for f in "$@"; do args+=(-f "$f"); done
  if ! kubectl_ wait --for=condition=Established --timeout=15s "${args[@]}" >/dev/null 2>&1; then
    # A CRD created just before the apiserver stopped can stay "Installing" after the restart: the
    # establishing controller only looks at CRDs that change, so touch them.
    log "CRDs not Established yet; touching them"
    kubectl_ annotate --overwrite "${args[@]}" "aim.eai.amd.com/cluster-touched=$(date +%s)" >/dev/null || true
    kubectl_ wait --for=condition=Established --timeout="${START_TIMEOUT}s" "${args[@]}" >/dev/null ||
      fail_with_log kube-apiserver "CRDs did not become Established: $*"
  fi
}

cmd_start() {
  local t0
  t0=$(date +%s)
  if [[ "${1:-}" == "--real-node" ]]; then
    export AIM_CLUSTER_REAL_NODE=true
  elif [[ -n "${1:-}" ]]; then
    die "unknown option $1 (start [--real-node])"
  fi
  if [[ -d "$DIR/etcd-data" && "${AIM_CLUSTER_REAL_NODE:-false}" == true && ! -f "$DIR/real-node" ]]; then
    die "$DIR holds a cluster without a real node; use another AIM_CLUSTER_DIR or delete it first"
  fi
  if all_running && api_ready; then
    log "cluster already running (kubeconfig: $KUBECONFIG_FILE)"
    return 0
  fi
  if any_running; then
    log "cluster is partly running; stopping the rest before a clean start"
    cmd_stop
  fi
  ensure_built
  local p
  for p in "$API_PORT" "$ETCD_PORT" "$ETCD_PEER_PORT" "$KWOK_PORT" "$KCM_PORT" "$SCHED_PORT"; do
    port_busy "$p" && die "port 127.0.0.1:$p is already in use; set AIM_CLUSTER_*_PORT (see README) or stop what uses it"
  done
  mkdir -p "$DIR" "$LOGS" "$PIDS" "$PODLOGS"
  [[ -d "$DIR/etcd-data" ]] || rm -f "$DIR"/crds-applied.*
  : >"$PODLOGS/empty.log"
  ensure_pki
  write_kubeconfig
  if node_requested; then node_prepare; fi

  log "starting etcd on 127.0.0.1:$ETCD_PORT"
  start_component etcd
  wait_until "etcd health" "$START_TIMEOUT" etcd etcd_healthy
  log "starting kube-apiserver on https://127.0.0.1:$API_PORT"
  start_apiserver_and_wait

  local kwok_dir kserve_dir gw_dir
  kwok_dir="$(module_dir sigs.k8s.io/kwok "$KWOK_VERSION")"
  kserve_dir="$(module_dir github.com/kserve/kserve "$KSERVE_VERSION")"
  gw_dir="$(module_dir sigs.k8s.io/gateway-api "$GATEWAY_API_VERSION")"
  log "applying KWOK CRDs and stages"
  apply_crd_files kwok "$kwok_dir"/kustomize/crd/bases/kwok.x-k8s.io_{stages,logs,clusterlogs}.yaml
  sed "s#@POD_LOG_DIR@#$PODLOGS#g" "$HERE/manifests/kwok-default-logs.yaml.in" |
    kubectl_ apply -f - -f "$HERE/manifests/kwok-stages.yaml" -f "$HERE/manifests/namespaces.yaml" \
      -f "$HERE/manifests/storage.yaml" >/dev/null ||
    fail_with_log kube-apiserver "applying manifests/ failed"

  log "starting kube-controller-manager, kube-scheduler, kwok, simlogs"
  start_component kube-controller-manager
  start_component kube-scheduler
  start_component kwok
  start_component simlogs

  kubectl_ apply -f "$HERE/manifests/nodes.yaml" >/dev/null
  local n
  for n in $(kubectl_ get -f "$HERE/manifests/nodes.yaml" -o name); do
    kubectl_ patch "$n" --subresource=status --type=merge --patch-file="$HERE/manifests/nodes-status.json" >/dev/null
  done

  log "applying CRDs: KServe InferenceService $KSERVE_VERSION, Gateway API $GATEWAY_API_VERSION standard"
  apply_crd_files external "$kserve_dir/config/crd/full/serving.kserve.io_inferenceservices.yaml" \
    "$gw_dir"/config/crd/standard/gateway.networking.k8s.io_*.yaml
  # Our CRDs; the optional ones (DynamoModel, nvidia.com) only with AIM_ENABLE_DYNAMO_MODEL=true.
  local folders=(crds)
  [[ "${AIM_ENABLE_DYNAMO_MODEL:-false}" == "true" ]] && folders+=(crds-optional)
  local folder
  for folder in "${folders[@]}"; do
    [[ -d "$REPO/deploy/$folder" ]] || continue
    local crds=()
    mapfile -t crds < <(find "$REPO/deploy/$folder" -maxdepth 1 -name '*.yaml' | sort)
    if ((${#crds[@]} > 0)); then
      log "applying ${#crds[@]} CRD file(s) from deploy/$folder"
      apply_crd_files deploy "${crds[@]}"
    fi
  done

  wait_until "the simulated nodes to be Ready" "$START_TIMEOUT" kwok \
    kubectl_ wait --for=condition=Ready --timeout=5s -f "$HERE/manifests/nodes.yaml"
  wait_until "the default service account in namespace default" "$START_TIMEOUT" kube-controller-manager \
    kubectl_ get serviceaccount default -n default
  wait_until "the default service account in namespace aim-system" "$START_TIMEOUT" kube-controller-manager \
    kubectl_ get serviceaccount default -n aim-system
  if node_requested; then node_start; fi
  local c
  for c in $(components); do check_alive "$c"; done
  log "cluster up in $(($(date +%s) - t0)) s; kubeconfig: $KUBECONFIG_FILE"
}

cmd_stop() {
  local i c
  node_stop
  for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do
    c="${COMPONENTS[$i]}"
    if pid_of "$c" >/dev/null; then
      stop_component "$c"
      log "stopped $c"
    else
      rm -f "$PIDS/$c.pid"
    fi
  done
}

cmd_status() {
  local c pid rc=0
  echo "state dir:   $DIR"
  echo "kubeconfig:  $KUBECONFIG_FILE"
  echo "apiserver:   https://127.0.0.1:$API_PORT   etcd: http://127.0.0.1:$ETCD_PORT   kwok kubelet: 127.0.0.1:$KWOK_PORT"
  for c in $(components); do
    if pid="$(pid_of "$c")"; then
      printf '  %-24s running (pid %s)\n' "$c" "$pid"
    else
      printf '  %-24s stopped\n' "$c"
      rc=1
    fi
  done
  if pid_of kube-apiserver >/dev/null && api_ready; then
    local v
    v="$(kubectl_ get --raw /version | sed -n 's/.*"gitVersion": *"\([^"]*\)".*/\1/p')"
    echo "kube-apiserver version: $v"
    kubectl_ get nodes -L amd.com/gpu.device-id,amd.com/gpu.vram 2>/dev/null || true
  else
    echo "kube-apiserver: not ready"
    rc=1
  fi
  return $rc
}

cmd_restart_apiserver() {
  pid_of etcd >/dev/null || die "etcd is not running; use start"
  local t0
  t0=$(date +%s)
  # With clients connected, kube-apiserver's graceful shutdown waits up to 60 s for their open
  # watch connections. Its shutdown hooks finish within a second, so give it 2 s, then SIGKILL.
  stop_component kube-apiserver 2
  log "kube-apiserver stopped; starting it again"
  start_apiserver_and_wait
  log "kube-apiserver ready again after $(($(date +%s) - t0)) s"
}

cmd_compact_etcd() {
  pid_of etcd >/dev/null || die "etcd is not running; use start"
  local ep="127.0.0.1:$ETCD_PORT" rev
  rev="$("$BIN/etcdctl" --endpoints="$ep" endpoint status -w json | grep -o '"revision":[0-9]*' | head -n1 | cut -d: -f2)"
  [[ -n "$rev" ]] || die "could not read the etcd revision"
  "$BIN/etcdctl" --endpoints="$ep" compaction --physical "$rev" >/dev/null
  log "etcd compacted at revision $rev"
  echo "$rev"
}

cmd_delete() {
  cmd_stop
  if [[ -f "$DIR/real-node" ]]; then node_network_down; fi
  rm -rf "$DIR"
  log "removed $DIR"
}

usage() {
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}

# One cluster command at a time per state dir (e.g. parallel test processes calling start).
lock() {
  mkdir -p "$DIR"
  exec 9>"$DIR/.lock"
  flock 9
}

case "${1:-}" in
start | stop | restart-apiserver | compact-etcd | delete) lock ;;
esac
case "${1:-}" in
build) cmd_build ;;
start) cmd_start "${2:-}" ;;
stop) cmd_stop ;;
status) cmd_status ;;
kubeconfig) echo "$KUBECONFIG_FILE" ;;
restart-apiserver) cmd_restart_apiserver ;;
compact-etcd) cmd_compact_etcd ;;
delete) cmd_delete ;;
*) usage ;;
esac
