#!/usr/bin/env bash
# The KServe v0.16.0 controller manager for the local control plane, in Standard (raw Deployment)
# mode: no Knative, no Istio, no Gateway, no admission webhooks registered.
#
#   tools/kserve/kserve.sh build|ensure|start|stop|status   (ensure: build only when missing or stale)
#
# Built from the Go module github.com/kserve/kserve (pinned in this folder's go.mod) into
# tools/kserve/bin/kserve-manager. Runs against the cluster of tools/cluster/cluster.sh (same
# AIM_CLUSTER_DIR), bound to 127.0.0.1. See tools/kserve/README.md.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
BIN="$HERE/bin"
CLUSTER_BIN="$REPO/tools/cluster/bin"
DIR="$(realpath -m "${AIM_CLUSTER_DIR:-$REPO/.local/cluster}")"
LOGS="$DIR/logs"
PIDS="$DIR/pids"
STATE="$DIR/kserve"
KUBECONFIG_FILE="$DIR/kubeconfig"

METRICS_PORT="${AIM_KSERVE_METRICS_PORT:-16380}"
HEALTH_PORT="${AIM_KSERVE_HEALTH_PORT:-16381}"
WEBHOOK_PORT="${AIM_KSERVE_WEBHOOK_PORT:-16382}"
START_TIMEOUT="${AIM_KSERVE_START_TIMEOUT:-120}"

KSERVE_MODULE="github.com/kserve/kserve"
KSERVE_VERSION="v0.16.0"
NAME="kserve-controller"       # log and pid file name
EXE="$BIN/kserve-manager"
NAMESPACE="kserve"             # KServe reads its ConfigMap from $POD_NAMESPACE (default kserve)
LOG_FILE="$LOGS/$NAME.log"
PID_FILE="$PIDS/$NAME.pid"
# controller-runtime's webhook server reads tls.crt/tls.key from $TMPDIR/k8s-webhook-server/serving-certs
# (manager.Options has no cert-dir flag in kserve's main), so the manager gets TMPDIR=$STATE/tmp.
CERT_DIR="$STATE/tmp/k8s-webhook-server/serving-certs"

export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"

log() { printf '[kserve %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

kubectl_() { "$CLUSTER_BIN/kubectl" --kubeconfig "$KUBECONFIG_FILE" "$@"; }

# ---------------------------------------------------------------------------------------- build
# Directory of the pinned kserve module in the Go module cache (downloaded through the module
# proxy on first use, checked against go.sum).
kserve_dir() {
  local json dir version
  json="$(cd "$HERE" && go mod download -json "$KSERVE_MODULE")"
  dir="$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' <<<"$json")"
  version="$(sed -n 's/^[[:space:]]*"Version": "\(.*\)",$/\1/p' <<<"$json")"
  [[ "$version" == "$KSERVE_VERSION" ]] || die "go.mod pins $KSERVE_MODULE $version, this script expects $KSERVE_VERSION"
  [[ -d "$dir" ]] || die "could not locate $KSERVE_MODULE@$KSERVE_VERSION in the Go module cache"
  printf '%s\n' "$dir"
}

build_needed() {
  [[ -f "$BIN/.stamp" && -x "$EXE" ]] || return 0
  [[ -n "$(find "$HERE/go.mod" "$HERE/go.sum" -newer "$BIN/.stamp" -print -quit)" ]]
}

# kserve's cmd/manager/main.go, unchanged except one line: the webhook server listens on
# 127.0.0.1 instead of every address (webhook.Options.Host; kserve has no flag for it). The copy
# lives in bin/_src/manager: inside this module, so this go.mod's replace/exclude apply to it;
# the leading "_" keeps it out of "go mod tidy" and ./... (the tool directive keeps the requirements).
generate_main() {
  local src="$1/cmd/manager/main.go" out="$BIN/_src/manager/main.go" added
  [[ -f "$src" ]] || die "$src not found"
  mkdir -p "$BIN/_src/manager"
  sed 's|^\(\t*\)Port: options.webhookPort,|\1Host: "127.0.0.1", // aim-engine: loopback only (tools/kserve/kserve.sh)\n\1Port: options.webhookPort,|' \
    "$src" >"$out.tmp"
  added="$(diff "$src" "$out.tmp" | grep -c '^[<>]' || true)"
  [[ "$added" == 1 ]] || die "patching $src did not add exactly one line (got $added changed lines): kserve's main changed?"
  mv "$out.tmp" "$out"
}

cmd_build() {
  command -v go >/dev/null || die "go is not on PATH (Go >= 1.24 needed)"
  local t0 dir
  t0=$(date +%s)
  mkdir -p "$BIN"
  dir="$(kserve_dir)"
  generate_main "$dir"
  log "building kserve-manager ($KSERVE_MODULE $KSERVE_VERSION cmd/manager) ..."
  (cd "$HERE" && go build -buildvcs=false -ldflags "-s -w" -o "$EXE" ./bin/_src/manager)
  touch "$BIN/.stamp"
  log "build done in $(($(date +%s) - t0)) s ($EXE)"
}

ensure_built() {
  if build_needed; then
    cmd_build
  fi
}

# ----------------------------------------------------------------------------------- processes
pid_of() { # prints the pid if the manager runs (pid file present, process alive, our binary)
  local pid exe
  [[ -f "$PID_FILE" ]] || return 1
  pid="$(cat "$PID_FILE")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  exe="$(readlink "/proc/$pid/exe" 2>/dev/null || true)"
  exe="${exe% (deleted)}"
  [[ "$exe" == "$EXE" ]] || return 1
  printf '%s\n' "$pid"
}

alive() { [[ -n "$(readlink "/proc/$1/exe" 2>/dev/null)" ]]; }

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

healthy() {
  [[ "$(curl -sf --max-time 2 "http://127.0.0.1:$HEALTH_PORT/healthz" 2>/dev/null)" == ok ]] &&
    [[ "$(curl -sf --max-time 2 "http://127.0.0.1:$HEALTH_PORT/readyz" 2>/dev/null)" == ok ]]
}

api_ready() { [[ "$(kubectl_ get --raw /readyz 2>/dev/null)" == ok ]]; }

fail_with_log() {
  log "ERROR: $1"
  if [[ -f "$LOG_FILE" ]]; then
    log "last lines of $LOG_FILE:"
    tail -n 40 "$LOG_FILE" >&2
  fi
  exit 1
}

# ------------------------------------------------------------------------------ cluster objects
# Every KServe CRD the manager watches or registers, except the InferenceService CRD, which
# cluster.sh already applies (from the same module version). LLMInferenceService (config/crd/full/
# llmisvc) belongs to the separate llmisvc controller, not to cmd/manager.
crd_files() {
  local dir="$1" f
  for f in trainedmodels clusterservingruntimes servingruntimes inferencegraphs clusterstoragecontainers \
    localmodelcaches localmodelnodegroups localmodelnodes; do
    printf '%s\n' "$dir/config/crd/full/serving.kserve.io_$f.yaml"
  done
}

apply_crds() {
  local dir="$1" files=() sum marker="$DIR/crds-applied.kserve" args=() f
  mapfile -t files < <(crd_files "$dir")
  sum="$(cat "${files[@]}" | sha256sum | cut -d' ' -f1)"
  if [[ ! -f "$marker" || "$(cat "$marker")" != "$sum" ]]; then
    log "applying ${#files[@]} KServe CRDs ($KSERVE_VERSION config/crd/full)"
    for f in "${files[@]}"; do
      cat "$f"
      printf '\n---\n'
    done | kubectl_ apply --server-side --force-conflicts -f - >/dev/null || die "applying the KServe CRDs failed"
    echo "$sum" >"$marker"
  fi
  for f in "${files[@]}"; do args+=(-f "$f"); done
  kubectl_ wait --for=condition=Established --timeout="${START_TIMEOUT}s" "${args[@]}" >/dev/null ||
    die "the KServe CRDs did not become Established"
}

# The module's own config/configmap/inferenceservice.yaml (every default of v0.16.0), with two
# blocks replaced:
#   deploy:  defaultDeploymentMode Standard (the v0.16 name; "RawDeployment" is the deprecated
#            spelling and is converted to Standard; the module's file says "Serverless")
#   ingress: no Ingress/HTTPRoute/VirtualService objects (disableIngressCreation,
#            disableIstioVirtualHost, enableGatewayApi false); the status URL still comes from
#            domainTemplate + ingressDomain.
write_configmap() {
  local src="$1/config/configmap/inferenceservice.yaml" out="$STATE/inferenceservice-config.yaml"
  [[ -f "$src" ]] || die "$src not found"
  awk '
    function block(name) {
      if (name == "deploy") {
        print "  deploy: |-"
        print "    {"
        print "      \"defaultDeploymentMode\": \"Standard\""
        print "    }"
      } else {
        print "  ingress: |-"
        print "    {"
        print "        \"enableGatewayApi\": false,"
        print "        \"kserveIngressGateway\": \"kserve/kserve-ingress-gateway\","
        print "        \"ingressGateway\": \"knative-serving/knative-ingress-gateway\","
        print "        \"localGateway\": \"knative-serving/knative-local-gateway\","
        print "        \"localGatewayService\": \"knative-local-gateway.istio-system.svc.cluster.local\","
        print "        \"ingressDomain\": \"example.com\","
        print "        \"domainTemplate\": \"{{ .Name }}-{{ .Namespace }}.{{ .IngressDomain }}\","
        print "        \"urlScheme\": \"http\","
        print "        \"disableIstioVirtualHost\": true,"
        print "        \"disableIngressCreation\": true"
        print "    }"
      }
      print ""
      done[name]++
    }
    /^  [A-Za-z_]+: \|-$/ { skip = 0 }
    /^  (deploy|ingress): \|-$/ { name = $1; sub(":", "", name); block(name); skip = 1; next }
    !skip { print }
    END { if (done["deploy"] != 1 || done["ingress"] != 1) exit 1 }
  ' "$src" >"$out.tmp" || die "could not rewrite the deploy/ingress blocks of $src"
  mv "$out.tmp" "$out"
  printf '%s\n' "$out"
}

apply_config() {
  local dir="$1" cm
  kubectl_ apply -f - >/dev/null <<EOF || die "creating namespace $NAMESPACE failed"
apiVersion: v1
kind: Namespace
metadata:
  name: $NAMESPACE
EOF
  apply_crds "$dir"
  cm="$(write_configmap "$dir")"
  kubectl_ apply --server-side --force-conflicts -f "$cm" >/dev/null || die "applying $cm failed"
  # The manager must not call admission webhooks it registers nothing for; make sure no stale
  # registration from a full KServe install points the apiserver at it.
  local w
  for w in $(kubectl_ get mutatingwebhookconfigurations,validatingwebhookconfigurations -o name 2>/dev/null |
    grep -i kserve || true); do
    log "WARNING: $w exists (from a full KServe install?); the apiserver may call it"
  done
}

ensure_cert() {
  [[ -f "$CERT_DIR/tls.crt" && -f "$CERT_DIR/tls.key" ]] && return 0
  command -v openssl >/dev/null || die "openssl is needed"
  log "generating a self-signed webhook serving certificate in $CERT_DIR"
  mkdir -p "$CERT_DIR"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -sha256 -subj "/CN=kserve-webhook-server" \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kserve-webhook-server-service.$NAMESPACE.svc" \
    -keyout "$CERT_DIR/tls.key.tmp" -out "$CERT_DIR/tls.crt.tmp" 2>/dev/null || die "openssl failed"
  chmod 600 "$CERT_DIR/tls.key.tmp"
  mv "$CERT_DIR/tls.key.tmp" "$CERT_DIR/tls.key"
  mv "$CERT_DIR/tls.crt.tmp" "$CERT_DIR/tls.crt"
}

# ------------------------------------------------------------------------------------ commands
cmd_start() {
  local t0 pid
  t0=$(date +%s)
  [[ -x "$CLUSTER_BIN/kubectl" ]] || die "$CLUSTER_BIN/kubectl missing: build/start the cluster first (tools/cluster/cluster.sh start)"
  [[ -f "$KUBECONFIG_FILE" ]] || die "no kubeconfig at $KUBECONFIG_FILE: start the cluster first (tools/cluster/cluster.sh start)"
  api_ready || die "the cluster at $KUBECONFIG_FILE is not ready: start it first (tools/cluster/cluster.sh start)"
  if pid="$(pid_of)"; then
    if healthy; then
      log "kserve controller already running (pid $pid)"
      return 0
    fi
    log "kserve controller (pid $pid) is not healthy; restarting it"
    cmd_stop
  fi
  rm -f "$PID_FILE"
  ensure_built
  local p
  for p in "$METRICS_PORT" "$HEALTH_PORT" "$WEBHOOK_PORT"; do
    port_busy "$p" && die "port 127.0.0.1:$p is already in use; set AIM_KSERVE_{METRICS,HEALTH,WEBHOOK}_PORT"
  done
  kubectl_ get crd inferenceservices.serving.kserve.io >/dev/null 2>&1 ||
    die "the InferenceService CRD is missing (tools/cluster/cluster.sh start applies it)"
  mkdir -p "$LOGS" "$PIDS" "$STATE/tmp"
  local dir
  dir="$(kserve_dir)"
  apply_config "$dir"
  ensure_cert

  log "starting the kserve controller manager (metrics 127.0.0.1:$METRICS_PORT, health 127.0.0.1:$HEALTH_PORT, webhooks 127.0.0.1:$WEBHOOK_PORT)"
  printf '\n==== %s start %s\n' "$NAME" "$(date -u +%FT%TZ)" >>"$LOG_FILE"
  local offset
  offset="$(stat -c %s "$LOG_FILE")"
  # setsid: own session, so it survives the calling shell and never gets its signals.
  # 8>&-: do not inherit this script's lock.
  setsid env TMPDIR="$STATE/tmp" POD_NAMESPACE="$NAMESPACE" KUBECONFIG="$KUBECONFIG_FILE" \
    "$EXE" --kubeconfig="$KUBECONFIG_FILE" \
    --metrics-addr="127.0.0.1:$METRICS_PORT" --health-probe-addr="127.0.0.1:$HEALTH_PORT" \
    --webhook-port="$WEBHOOK_PORT" --leader-elect=false \
    >>"$LOG_FILE" 2>&1 </dev/null 8>&- &
  echo $! >"$PID_FILE"

  # Healthy = /healthz and /readyz ok (both are the webhook server's started check) and the
  # InferenceService controller has started its workers (after its caches synced).
  local deadline=$(($(date +%s) + START_TIMEOUT))
  until healthy && tail -c +"$((offset + 1))" "$LOG_FILE" |
    grep -q '"msg":"Starting workers".*"controller":"inferenceservice"'; do
    pid_of >/dev/null || fail_with_log "the kserve controller manager exited during start-up"
    (($(date +%s) < deadline)) || fail_with_log "timed out after ${START_TIMEOUT}s waiting for the kserve controller manager"
    sleep 0.3
  done
  log "kserve controller up in $(($(date +%s) - t0)) s (pid $(pid_of); log $LOG_FILE)"
}

cmd_stop() {
  local pid i
  if pid="$(pid_of)"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 150; i++)); do
      alive "$pid" || break
      sleep 0.1
    done
    if alive "$pid"; then
      log "kserve controller (pid $pid) did not stop within 15 s, killing it"
      kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do
        alive "$pid" || break
        sleep 0.1
      done
    fi
    log "stopped kserve controller"
  fi
  rm -f "$PID_FILE"
}

cmd_status() {
  local pid rc=0 mode
  echo "state dir:   $DIR"
  echo "kubeconfig:  $KUBECONFIG_FILE"
  echo "log:         $LOG_FILE"
  echo "ports:       metrics 127.0.0.1:$METRICS_PORT  health 127.0.0.1:$HEALTH_PORT  webhooks 127.0.0.1:$WEBHOOK_PORT"
  if pid="$(pid_of)"; then
    if healthy; then
      echo "  kserve-controller        running (pid $pid), healthy"
    else
      echo "  kserve-controller        running (pid $pid), NOT healthy"
      rc=1
    fi
  else
    echo "  kserve-controller        stopped"
    rc=1
  fi
  if [[ -f "$KUBECONFIG_FILE" && -x "$CLUSTER_BIN/kubectl" ]] && api_ready; then
    mode="$(kubectl_ get configmap inferenceservice-config -n "$NAMESPACE" -o jsonpath='{.data.deploy}' 2>/dev/null |
      tr -d ' \n' || true)"
    echo "deploy config: ${mode:-<no inferenceservice-config>}"
  else
    echo "cluster: not ready"
    rc=1
  fi
  return $rc
}

usage() {
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}

# One command at a time per state dir.
lock() {
  mkdir -p "$DIR"
  exec 8>"$DIR/.kserve.lock"
  flock 8
}

case "${1:-}" in
start | stop) lock ;;
esac
case "${1:-}" in
build) cmd_build ;;
ensure) ensure_built ;;
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
*) usage ;;
esac
