#!/usr/bin/env bash
# Server-side dry run of the shipped manifests against the local control plane (KUBECONFIG):
# the operator's RBAC and Deployment, and the demo samples validated against the real CRD
# schemas. Fails on the first manifest the API server rejects.
set -euo pipefail
cd "$(dirname "$0")/../../.."
K="${AIM_KUBECTL:-tools/cluster/bin/kubectl}"
[ -n "${KUBECONFIG:-}" ] || { echo "KUBECONFIG is not set"; exit 1; }
# The sample services live in aim-demo; a dry run needs the namespace to exist.
"$K" create namespace aim-demo --dry-run=client -o yaml | "$K" apply -f - >/dev/null
for f in deploy/operator/rbac.yaml deploy/operator/manager.yaml deploy/samples/*.yaml; do
  echo "dry-run: $f"
  "$K" apply --dry-run=server -f "$f"
done
