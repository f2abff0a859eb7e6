# The local real node: sourced by cluster.sh when the cluster starts with --real-node (or
# AIM_CLUSTER_REAL_NODE=true). A kubelet built from the same k8s.io/kubernetes module as the
# apiserver, containerd and runc from Debian (through runc-wrapper), the Debian CNI bridge plugin,
# kube-proxy in iptables mode, a Distribution registry the node pulls from, and a hostPath volume
# provisioner. Pods get addresses on the bridge aim0 (10.88.0.0/16), which exists only inside this
# machine; the bridge's own address 10.88.0.1 is where pods reach the apiserver (through the
# kubernetes Service), the registry and the test servers. See tools/cluster/README.md.
# shellcheck shell=bash

NODE_NAME="${AIM_NODE_NAME:-aim-node-0}"
NODE_BRIDGE="${AIM_NODE_BRIDGE:-aim0}"
NODE_IP="${AIM_NODE_IP:-10.88.0.1}"
NODE_POD_CIDR="${AIM_NODE_POD_CIDR:-10.88.0.0/16}"
NODE_DIR="$DIR/node"
NODE_REGISTRY_PORT="${AIM_NODE_REGISTRY_PORT:-5000}"
NODE_REGISTRY="$NODE_IP:$NODE_REGISTRY_PORT"
KUBELET_PORT="${AIM_NODE_KUBELET_PORT:-10250}"
# The real node is an MI300X node: the labels and the fake GPU capacity the operator and the
# scheduler look at (no GPU is behind it; the stand-in runtime needs none).
NODE_GPU_LABELS="amd.com/gpu.device-id=74a1,amd.com/gpu.vram=192G,amd.com/gpu.family=AI,aim.eai.amd.com/real-node=true"
NODE_GPU_COUNT="${AIM_NODE_GPU_COUNT:-8}"
CONTAINERD_SOCK="$NODE_DIR/containerd/containerd.sock"
REGISTRY_BIN="$REPO/tools/registry/bin/registry"
NODE_COMPONENTS=(node-registry containerd kubelet kube-proxy aim-local-path)

node_requested() { [[ "${AIM_CLUSTER_REAL_NODE:-false}" == "true" || -f "$DIR/real-node" ]]; }

node_exe() { # the executable of a real-node component, for pid_of
  case "$1" in
  node-registry) echo "$REGISTRY_BIN" ;;
  containerd) command -v containerd ;;
  *) echo "$BIN/$1" ;;
  esac
}

node_args() {
  case "$1" in
  node-registry) printf '%s\n' serve "$NODE_DIR/registry.yml" ;;
  containerd) printf '%s\n' --config "$NODE_DIR/containerd/config.toml" ;;
  kubelet)
    printf '%s\n' --config="$NODE_DIR/kubelet/config.yaml" --kubeconfig="$NODE_DIR/kubelet/kubeconfig" \
      --root-dir="$NODE_DIR/kubelet/root" --cert-dir="$NODE_DIR/kubelet/pki" \
      --hostname-override="$NODE_NAME" --node-ip="$NODE_IP" \
      --node-labels="$NODE_GPU_LABELS" --v=1
    ;;
  kube-proxy) printf '%s\n' --config="$NODE_DIR/kube-proxy.yaml" --hostname-override="$NODE_NAME" --v=1 ;;
  aim-local-path)
    printf '%s\n' --kubeconfig="$KUBECONFIG_FILE" --root="$NODE_DIR/volumes" --node="$NODE_NAME"
    ;;
  esac
}

node_check_host() {
  local t
  for t in containerd runc jq iptables ip /usr/lib/cni/bridge /usr/lib/cni/host-local /usr/lib/cni/loopback; do
    command -v "$t" >/dev/null || [[ -x "$t" ]] ||
      die "the real node needs $t (scripts/install-deps.sh installs containerd, runc, jq, iptables, containernetworking-plugins)"
  done
  [[ "$(id -u)" == 0 ]] || die "the real node needs root (kubelet, containerd, the bridge)"
  [[ -x "$REGISTRY_BIN" ]] || "$REPO/tools/registry/registry.sh" build || die "building the registry failed"
}

# The bridge, forwarding for Service traffic, and a FORWARD rule that keeps pod traffic on this
# machine: pods may reach the bridge and Services, nothing beyond.
node_network() {
  if ! ip link show "$NODE_BRIDGE" >/dev/null 2>&1; then
    ip link add "$NODE_BRIDGE" type bridge
  fi
  # (Output captured first: under pipefail, `ip | grep -q` fails when grep exits before ip is done.)
  local addrs
  addrs="$(ip -4 -o addr show dev "$NODE_BRIDGE")"
  grep -q "inet $NODE_IP/" <<<"$addrs" ||
    ip addr add "$NODE_IP/${NODE_POD_CIDR#*/}" dev "$NODE_BRIDGE"
  ip link set "$NODE_BRIDGE" up
  sysctl -qw net.ipv4.ip_forward=1
  sysctl -qw net.bridge.bridge-nf-call-iptables=1 2>/dev/null || true
  iptables -C FORWARD -s "$NODE_POD_CIDR" ! -d "$NODE_POD_CIDR" -j DROP 2>/dev/null ||
    iptables -I FORWARD -s "$NODE_POD_CIDR" ! -d "$NODE_POD_CIDR" -j DROP
}

node_network_down() {
  iptables -D FORWARD -s "$NODE_POD_CIDR" ! -d "$NODE_POD_CIDR" -j DROP 2>/dev/null || true
  ip link del "$NODE_BRIDGE" 2>/dev/null || true
}

node_pki() {
  [[ -f "$PKI/node-done" ]] && return 0
  log "generating the real node's certificates"
  cat >"$PKI/kubelet.ext" <<EOF
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:$NODE_IP,IP:127.0.0.1,DNS:$NODE_NAME,DNS:localhost
EOF
  gen_cert kubelet-client "/O=system:nodes/CN=system:node:$NODE_NAME" "$PKI/client.ext"
  gen_cert kubelet-serving "/CN=$NODE_NAME" "$PKI/kubelet.ext"
  gen_cert kube-proxy "/CN=system:kube-proxy" "$PKI/client.ext"
  # Pods reach the apiserver at the bridge address: the serving certificate must name it.
  local text
  text="$(openssl x509 -in "$PKI/apiserver.crt" -noout -text)"
  if ! grep -q "IP Address:$NODE_IP" <<<"$text"; then
    sed -i "s/^subjectAltName=IP:127.0.0.1,/subjectAltName=IP:127.0.0.1,IP:$NODE_IP,/" "$PKI/server.ext"
    gen_cert apiserver "/CN=kube-apiserver" "$PKI/server.ext"
  fi
  chmod 600 "$PKI"/*.key
  touch "$PKI/node-done"
}

node_kubeconfig() { # file user-cert-name server
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: aim-local
  cluster:
    server: $3
    certificate-authority: $PKI/ca.crt
users:
- name: $2
  user:
    client-certificate: $PKI/$2.crt
    client-key: $PKI/$2.key
contexts:
- name: aim-local
  context: {cluster: aim-local, user: $2}
current-context: aim-local
EOF
}

node_configs() {
  mkdir -p "$NODE_DIR"/{containerd/root,containerd/state,containerd/certs.d/"$NODE_REGISTRY",cni/net.d,cni/ipam} \
    "$NODE_DIR"/{kubelet/root,kubelet/pki,volumes,registry-data}
  cat >"$NODE_DIR/registry.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $NODE_DIR/registry-data
  delete:
    enabled: true
http:
  addr: $NODE_REGISTRY
  secret: aim-engine-local-node
EOF
  cat >"$NODE_DIR/containerd/config.toml" <<EOF
version = 2
root = "$NODE_DIR/containerd/root"
state = "$NODE_DIR/containerd/state"
oom_score = 0
[grpc]
  address = "$CONTAINERD_SOCK"
[ttrpc]
  address = "$CONTAINERD_SOCK.ttrpc"
[debug]
  address = "$CONTAINERD_SOCK.debug"
  level = "warn"
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$NODE_REGISTRY/aim-pause:$AIM_VERSION"
  enable_selinux = false
  restrict_oom_score_adj = true
  disable_apparmor = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "$HERE/node/runc-wrapper"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$NODE_DIR/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$NODE_DIR/containerd/certs.d"
[plugins."io.containerd.internal.v1.opt"]
  path = "$NODE_DIR/containerd/opt"
EOF
  cat >"$NODE_DIR/containerd/certs.d/$NODE_REGISTRY/hosts.toml" <<EOF
server = "http://$NODE_REGISTRY"
[host."http://$NODE_REGISTRY"]
  capabilities = ["pull", "resolve"]
  skip_verify = true
EOF
  cat >"$NODE_DIR/cni/net.d/10-aim-pods.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "aim-pods",
  "plugins": [
    {
      "type": "bridge", "bridge": "$NODE_BRIDGE", "isGateway": true, "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local", "dataDir": "$NODE_DIR/cni/ipam",
        "ranges": [[{"subnet": "$NODE_POD_CIDR", "rangeStart": "${NODE_IP%.*}.${AIM_NODE_POD_START:-10}", "gateway": "$NODE_IP"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
  # Pods resolve no names: nothing outside this machine is theirs to reach (they use addresses).
  printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"$NODE_DIR/resolv.conf"
  cat >"$NODE_DIR/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: $KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: ${AIM_NODE_KUBELET_HEALTHZ_PORT:-10248}
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
tlsCertFile: $PKI/kubelet-serving.crt
tlsPrivateKeyFile: $PKI/kubelet-serving.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: $PKI/ca.crt}
authorization: {mode: AlwaysAllow}
clusterDomain: cluster.local
resolvConf: $NODE_DIR/resolv.conf
serializeImagePulls: false
maxPods: 110
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
nodeStatusReportFrequency: 10s
shutdownGracePeriod: 0s
EOF
  node_kubeconfig "$NODE_DIR/kubelet/kubeconfig" kubelet-client "https://127.0.0.1:$API_PORT"
  node_kubeconfig "$NODE_DIR/kube-proxy.kubeconfig" kube-proxy "https://127.0.0.1:$API_PORT"
  cat >"$NODE_DIR/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $NODE_DIR/kube-proxy.kubeconfig}
mode: iptables
clusterCIDR: $NODE_POD_CIDR
healthzBindAddress: 127.0.0.1:${AIM_NODE_PROXY_HEALTHZ_PORT:-10256}
metricsBindAddress: 127.0.0.1:${AIM_NODE_PROXY_METRICS_PORT:-10249}
iptables: {masqueradeAll: true}
conntrack: {maxPerCore: 0, min: 0}
EOF
}

registry_ready() { curl -sf --max-time 2 -o /dev/null "http://$NODE_REGISTRY/v2/"; }
kubelet_healthy() { curl -sf --max-time 2 "http://127.0.0.1:${AIM_NODE_KUBELET_HEALTHZ_PORT:-10248}/healthz" | grep -q ok; }
proxy_healthy() { curl -s --max-time 2 -o /dev/null "http://127.0.0.1:${AIM_NODE_PROXY_HEALTHZ_PORT:-10256}/healthz"; }

# The images the node itself needs (the pod sandbox), built here and pushed to the node registry.
node_push_base_images() {
  if ! curl -sf --max-time 2 -o /dev/null "http://$NODE_REGISTRY/v2/aim-pause/manifests/$AIM_VERSION"; then
    "$REPO/deploy/images/build.sh" --push "$NODE_REGISTRY" pause >/dev/null ||
      die "building the pause image failed"
  fi
}

# Pod sandboxes' network namespaces and their veths on the bridge. Killing the containers does not
# remove them (no CNI DEL runs), and the next cluster's IPAM starts afresh: a stale veth with the
# same address on the bridge then answers ARP for a new pod (probes get "connection refused").
# Only one real-node cluster runs at a time, so a namespace whose eth0 is plugged into our bridge
# is stale (namespaces of other container tools, on other bridges, are left alone).
node_clean_pod_network() {
  local ns link peer n=0 ours
  # `|| true`: on a machine where the bridge was never made, ip fails, and under `set -e` with
  # pipefail that ended stop (and start, which stops first) with status 255.
  ours="$(ip -o link show master "$NODE_BRIDGE" 2>/dev/null | awk -F': ' '{print $1}')" || true
  [[ -n "$ours" ]] || return 0
  for ns in $(ip netns list 2>/dev/null | awk '$1 ~ /^cni-/ {print $1}'); do
    peer="$(ip netns exec "$ns" ip -o link show eth0 2>/dev/null | sed -n 's/.*eth0@if\([0-9]*\).*/\1/p')" || true
    if [[ -n "$peer" ]] && grep -qx "$peer" <<<"$ours"; then
      ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
      ip netns delete "$ns" 2>/dev/null && n=$((n + 1))
    fi
  done
  for link in $(ip -o link show master "$NODE_BRIDGE" 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
    ip link delete "$link" 2>/dev/null || true
  done
  ((n == 0)) || log "removed $n stale pod network namespace(s)"
}

# Before the apiserver starts: the bridge address must exist, since the apiserver advertises it.
node_prepare() {
  node_check_host
  [[ -n "$(ss -Hltn "sport = :$KUBELET_PORT" 2>/dev/null)" ]] &&
    die "port $KUBELET_PORT (kubelet) is in use: another real-node cluster is running; stop it first (one at a time)"
  touch "$DIR/real-node"
  node_clean_pod_network
  node_network
  node_pki
  node_configs
}

node_start() {
  local t0
  t0=$(date +%s)
  log "real node: registry on $NODE_REGISTRY, containerd, kubelet ($NODE_NAME), kube-proxy, aim-local-path"
  start_component node-registry
  wait_until "the node registry" "$START_TIMEOUT" node-registry registry_ready
  node_push_base_images
  start_component containerd
  wait_until "containerd" "$START_TIMEOUT" containerd test -S "$CONTAINERD_SOCK"
  start_component kubelet
  wait_until "kubelet /healthz" "$START_TIMEOUT" kubelet kubelet_healthy
  start_component kube-proxy
  wait_until "kube-proxy /healthz" "$START_TIMEOUT" kube-proxy proxy_healthy
  start_component aim-local-path
  wait_until "node $NODE_NAME to register" "$START_TIMEOUT" kubelet kubectl_ get node "$NODE_NAME"
  # The GPUs are advertised through the status subresource, as a device plugin would.
  kubectl_ patch node "$NODE_NAME" --subresource=status --type=merge -p \
    "{\"status\":{\"capacity\":{\"amd.com/gpu\":\"$NODE_GPU_COUNT\"},\"allocatable\":{\"amd.com/gpu\":\"$NODE_GPU_COUNT\"}}}" >/dev/null
  wait_until "node $NODE_NAME to be Ready" "$START_TIMEOUT" kubelet \
    kubectl_ wait --for=condition=Ready --timeout=5s node "$NODE_NAME"
  # KWOK nodes stay for scale and for GPU models there is no real node for; only pods that ask
  # for them (by toleration) go there. The MI300X one is replaced by the real node.
  kubectl_ delete node kwok-mi300x-0 --ignore-not-found >/dev/null
  kubectl_ taint nodes -l type=kwok --overwrite aim.eai.amd.com/simulated=true:NoSchedule >/dev/null
  kubectl_ apply -f "$HERE/manifests/storage-real-node.yaml" >/dev/null
  log "real node $NODE_NAME Ready in $(($(date +%s) - t0)) s (registry $NODE_REGISTRY, pods on $NODE_POD_CIDR)"
}

# Pods first (kubelet would restart them), then the node's daemons; containers are killed with
# their shims so nothing of the node outlives it.
node_stop() {
  local c i
  for ((i = ${#NODE_COMPONENTS[@]} - 1; i >= 0; i--)); do
    c="${NODE_COMPONENTS[$i]}"
    if pid_of "$c" >/dev/null; then
      [[ "$c" == containerd ]] && node_kill_containers
      stop_component "$c"
      log "stopped $c"
    fi
    rm -f "$PIDS/$c.pid"
  done
  node_clean_pod_network
  node_unmount
}

node_kill_containers() {
  local sock=$CONTAINERD_SOCK ids
  ids="$(ctr --address "$sock" -n k8s.io tasks list -q 2>/dev/null || true)"
  [[ -n "$ids" ]] || return 0
  local id
  for id in $ids; do ctr --address "$sock" -n k8s.io tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true; done
  sleep 1
  pkill -KILL -f "containerd-shim-runc-v2 -namespace k8s.io -id .* -address $sock" 2>/dev/null || true
}

# kubelet's and containerd's mounts under the state dir (volumes, overlay roots, netns).
node_unmount() {
  local m
  while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done < <(awk -v d="$NODE_DIR" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r)
}
