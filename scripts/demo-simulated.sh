#!/usr/bin/env bash
# The fast, simulated demo (scripts/demo.sh --simulated): the operator as a local process against
# the control plane with KWOK-simulated nodes, where no pod really runs.
#   scripts/demo.sh --simulated   install what is missing, build, start the control plane and the operator,
#                            apply the sample catalogue (deploy/samples: two cluster models described
#                            inline, three services) and show what a user would look at: models,
#                            templates (Ready or NotAvailable), services with their chosen template,
#                            and one service's selection explanation (aimctl explain)
#   scripts/demo.sh --simulated stop   stop the operator and the control plane
# The operator keeps running in the background after the demo prints its summary; its log is in
# .local/demo/aim-engine.log. Timing of each step is printed so cold and warm runs can be compared.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export AIM_CLUSTER_DIR="${AIM_CLUSTER_DIR:-$ROOT/.local/cluster}"
DEMO_DIR="$ROOT/.local/demo"
KUBECTL="$ROOT/tools/cluster/bin/kubectl"
METRICS_PORT="${AIM_DEMO_METRICS_PORT:-18080}"
HEALTH_PORT="${AIM_DEMO_HEALTH_PORT:-18081}"
mkdir -p "$DEMO_DIR"

# Stops the operator and waits until it has exited (it releases its lease and ports first).
stop_operator() {
  if [ -f "$DEMO_DIR/aim-engine.pid" ]; then
    local pid
    pid=$(cat "$DEMO_DIR/aim-engine.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$DEMO_DIR/aim-engine.pid"
  fi
}

if [ "${1:-}" = "stop" ]; then
  stop_operator
  tools/cluster/cluster.sh stop
  exit 0
fi

t0=$(date +%s)
lap() { echo "    ($(($(date +%s) - t0)) s since start)"; }

echo "==> installing Debian packages (if missing)"
scripts/install-deps.sh
echo "==> building the local control plane from Go modules"
tools/cluster/cluster.sh build; lap
echo "==> building the operator (release)"
cmake --preset release >/dev/null
cmake --build --preset release --target aim-engine aimctl; lap
echo "==> starting the local control plane"
tools/cluster/cluster.sh start; lap
export KUBECONFIG="$AIM_CLUSTER_DIR/kubeconfig"

echo "==> starting the operator"
stop_operator
build/release/cmd/aim-engine/aim-engine --kubeconfig "$KUBECONFIG" \
  --metrics-bind-address "127.0.0.1:$METRICS_PORT" \
  --health-probe-bind-address "127.0.0.1:$HEALTH_PORT" \
  --log-format text >"$DEMO_DIR/aim-engine.log" 2>&1 &
echo $! >"$DEMO_DIR/aim-engine.pid"
for _ in $(seq 1 60); do
  grep -q "became leader" "$DEMO_DIR/aim-engine.log" && break
  kill -0 "$(cat "$DEMO_DIR/aim-engine.pid")" 2>/dev/null || { cat "$DEMO_DIR/aim-engine.log"; exit 1; }
  sleep 0.5
done
grep "became leader" "$DEMO_DIR/aim-engine.log" || { echo "operator did not become leader"; exit 1; }
lap

AIMCTL="$ROOT/build/release/cmd/aimctl/aimctl"
echo "==> applying the sample catalogue (deploy/samples)"
# The simulated discovery pods print what the real images' dry-run would (see the file's header).
for ns in aim-system aim-demo; do
  "$KUBECTL" create namespace "$ns" --dry-run=client -o yaml | "$KUBECTL" apply -f - >/dev/null
  sed "s/@NAMESPACE@/$ns/" tools/cluster/manifests/demo/discovery-logs.yaml | "$KUBECTL" apply -f - >/dev/null
done
"$KUBECTL" apply -f deploy/samples/catalog.yaml -f deploy/samples/services.yaml

echo "==> waiting for the catalogue to settle (models Ready, templates discovered)"
settled() {
  local models templates services
  models=$("$KUBECTL" get aimclustermodels -o jsonpath='{range .items[*]}{.status.status}{"\n"}{end}')
  templates=$("$KUBECTL" get aimclusterservicetemplates -o jsonpath='{range .items[*]}{.status.status}{"\n"}{end}')
  services=$("$KUBECTL" get aimservices -n aim-demo -o jsonpath='{range .items[*]}{.status.status}{"\n"}{end}')
  [ -n "$models" ] && [ -n "$templates" ] && [ -n "$services" ] || return 1
  ! grep -qv '^Ready$' <<<"$models" || return 1
  ! grep -qvE '^(Ready|NotAvailable)$' <<<"$templates" || return 1
  ! grep -qvE '^(Starting|Running|Degraded|Failed|NotAvailable)$' <<<"$services" || return 1
}
for _ in $(seq 1 180); do settled && break; sleep 1; done
settled || echo "    (not settled after 180 s; showing the current state)"
lap

echo
echo "==> kubectl get aim -A   (every AIM kind: category 'aim')"
"$KUBECTL" get aim -A
echo
echo "==> InferenceServices the services created (no KServe controller runs here, so none is Ready)"
"$KUBECTL" get inferenceservices -n aim-demo
echo
echo "==> why chat-llama runs the template it runs:  aimctl explain chat-llama -n aim-demo"
"$AIMCTL" explain chat-llama -n aim-demo
echo
echo "==> nodes (KWOK-simulated GPU nodes)"
"$KUBECTL" get nodes -L amd.com/gpu.device-id -L amd.com/gpu.vram
echo
echo "==> leader election lease"
"$KUBECTL" -n aim-system get lease
echo
echo "==> operator health and metrics (http://127.0.0.1:$METRICS_PORT/metrics)"
curl -fsS "http://127.0.0.1:$HEALTH_PORT/readyz" && echo " (readyz)"
curl -fsS "http://127.0.0.1:$METRICS_PORT/metrics" | grep -E '^(rest_client_requests_total|leader_election_master_status)' | head -5 || true
echo
echo "demo ready in $(($(date +%s) - t0)) s. KUBECONFIG=$KUBECONFIG; operator log: $DEMO_DIR/aim-engine.log"
echo "stop everything with: scripts/demo.sh --simulated stop"
