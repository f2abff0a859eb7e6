#!/usr/bin/env bash
# The Helm chart's checks (deploy/charts/aim-engine), with helm built from its pinned Go module
# (tools/helm/helm.sh build):
#   - `helm lint --strict` with every values file below (values/defaults.yaml is the defaults);
#   - `helm template` of each values/<case>.yaml compared with golden/<case>.yaml;
#   - values the operator would reject are refused at render time;
#   - the chart's crds/ equals deploy/crds byte for byte (refresh: tools/helm/sync-crds.sh);
#   - the plain bundle's RBAC (deploy/operator/rbac.yaml) grants all the chart's RBAC grants;
#   - docs/helm-values.md is what tools/helm/cmd/values-doc makes of values.yaml;
#   - when a cluster answers at $KUBECONFIG: a server-side dry run of the default rendering
#     (CRDs included); otherwise that check is skipped with a message.
#
#   test/integration/helm/run.sh            run the checks
#   test/integration/helm/run.sh --update   rewrite the golden files first (then review the diff)
#
# kubectl: $AIM_KUBECTL, else tools/cluster/bin/kubectl, else kubectl on PATH.
# Ends with "N passed, N failed"; exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/../../.."
ROOT=$PWD
HERE="$ROOT/test/integration/helm"
CHART="$ROOT/deploy/charts/aim-engine"
RELEASE=aim-engine
NAMESPACE=aim-system

update=false
case "${1:-}" in
  --update) update=true ;;
  "") ;;
  *) echo "usage: $0 [--update]" >&2; exit 2 ;;
esac

passed=0
failed=0
ok() { echo "PASS $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1${2:+: $2}"; failed=$((failed + 1)); }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; }

work="$(mktemp -d /tmp/aim-helm-test.XXXXXX)"
trap 'rm -rf "$work"' EXIT

start=$(date +%s)
if ! HELM=$(tools/helm/helm.sh build); then
  bad "helm build" "tools/helm/helm.sh build failed"
  finish; exit 1
fi
ok "helm build ($("$HELM" version --short 2>/dev/null), $(($(date +%s) - start)) s)"
# No repository config or cache of the user's: helm reads and writes only below $work.
export HELM_CACHE_HOME="$work/cache" HELM_CONFIG_HOME="$work/config" HELM_DATA_HOME="$work/data"

# ---- lint ----------------------------------------------------------------------------------------
for f in "$HERE"/values/*.yaml; do
  name=$(basename "$f" .yaml)
  if out=$("$HELM" lint --strict "$CHART" -f "$f" 2>&1); then
    ok "lint --strict ($name)"
  else
    bad "lint --strict ($name)" "$out"
  fi
done

# ---- golden renderings -------------------------------------------------------------------------
render() {  # render VALUES-FILE [helm template flags...]
  "$HELM" template "$RELEASE" "$CHART" --namespace "$NAMESPACE" -f "$@"
}
for f in "$HERE"/values/*.yaml; do
  name=$(basename "$f" .yaml)
  golden="$HERE/golden/$name.yaml"
  if ! render "$f" >"$work/$name.yaml" 2>"$work/$name.err"; then
    bad "render $name" "$(cat "$work/$name.err")"
    continue
  fi
  if $update; then
    cp "$work/$name.yaml" "$golden"
    ok "golden $name (rewritten)"
  elif [ ! -f "$golden" ]; then
    bad "golden $name" "missing $golden (run $0 --update)"
  elif diff -u "$golden" "$work/$name.yaml" >"$work/$name.diff"; then
    ok "golden $name"
  else
    bad "golden $name" "rendering differs (run $0 --update to accept):
$(head -60 "$work/$name.diff")"
  fi
done
for g in "$HERE"/golden/*.yaml; do
  [ -e "$g" ] || continue
  [ -f "$HERE/values/$(basename "$g")" ] || bad "golden $(basename "$g" .yaml)" "no values/$(basename "$g") for it"
done

# ---- properties of the renderings --------------------------------------------------------------
defaults="$work/defaults.yaml"
if [ -f "$defaults" ]; then
  if grep -nE '^\s*(verbs|resources|apiGroups):.*"\*"' "$defaults" >"$work/wild"; then
    bad "RBAC without wildcards" "$(cat "$work/wild")"
  else
    ok "RBAC without wildcards"
  fi
  missing=""
  for want in "runAsNonRoot: true" "runAsUser: 65532" "type: RuntimeDefault" \
    "allowPrivilegeEscalation: false" "readOnlyRootFilesystem: true" "- ALL"; do
    grep -qF -- "$want" "$defaults" || missing+=" '$want'"
  done
  if [ -z "$missing" ]; then ok "restricted pod security (defaults)"; else bad "restricted pod security (defaults)" "missing$missing"; fi
fi

# Secure metrics cost RBAC only when asked for: the review rules and the reader role appear in
# the metrics-secure rendering and nowhere else.
for f in "$work"/*.yaml; do
  name=$(basename "$f" .yaml)
  [ -f "$HERE/values/$name.yaml" ] || continue
  if [ "$name" = metrics-secure ]; then want=yes; else want=no; fi
  got=no
  grep -q "tokenreviews" "$f" && grep -q "subjectaccessreviews" "$f" && grep -q -- "-metrics-reader" "$f" && got=yes
  if [ "$got" = "$want" ] && { [ "$want" = yes ] || ! grep -qE "tokenreviews|subjectaccessreviews|metrics-reader" "$f"; }; then
    ok "secure-metrics RBAC only where asked for ($name)"
  else
    bad "secure-metrics RBAC only where asked for ($name)" "want $want"
  fi
done

# The plain bundle (deploy/operator) is the other way to install; it may grant more than the
# chart's least-privilege roles, never less.
if [ -f "$defaults" ]; then
  if out=$(python3 "$HERE/rbac_covers.py" "$defaults" "$ROOT/deploy/operator/rbac.yaml" 2>&1); then
    ok "deploy/operator/rbac.yaml grants all the chart grants"
  else
    bad "deploy/operator/rbac.yaml grants all the chart grants" "missing:
$out"
  fi
fi

# ---- values the operator would reject -----------------------------------------------------------
refuse() {  # refuse NAME EXPECTED-MESSAGE --set ...
  local name=$1 want=$2; shift 2
  if out=$("$HELM" template "$RELEASE" "$CHART" --namespace "$NAMESPACE" "$@" 2>&1); then
    bad "refuses $name" "rendered without error"
  elif grep -qF -- "$want" <<<"$out"; then
    ok "refuses $name"
  else
    bad "refuses $name" "unexpected error: $out"
  fi
}
refuse "an unknown log level" "logLevel must be one of" --set logLevel=verbose
refuse "an unknown log format" "logFormat must be json or text" --set logFormat=xml
refuse "renewDeadline >= leaseDuration" "need retryPeriod < renewDeadline < leaseDuration" \
  --set leaderElection.renewDeadline=15
refuse "a lease duration out of range" "leaderElection.leaseDuration must be between 1 and 3600" \
  --set leaderElection.leaseDuration=7200
refuse "an existing ServiceAccount without a name" "serviceAccount.name is required" \
  --set serviceAccount.create=false
refuse "the same metrics and health port" "metrics.port and healthProbe.port must differ" \
  --set metrics.port=8081
refuse "an unknown metrics TLS version" 'metrics.tlsMinVersion must be "1.2" or "1.3"' \
  --set metrics.tlsMinVersion=1.1
refuse "a kube API qps of zero" "kubeApi.qps must be a number between 1 and 100000" \
  --set kubeApi.qps=0
refuse "a kube API burst that is no number" "kubeApi.burst must be a whole number" \
  --set kubeApi.burst=lots
refuse "a fractional kube API burst" "kubeApi.burst must be a whole number" \
  --set kubeApi.burst=1.5
refuse "no workers" "workers must be a whole number between 1 and 64" --set workers=0
refuse "a fractional worker count" "workers must be a whole number" --set workers=2.5
refuse "a maxArtifactSize that is no quantity" "downloader.maxArtifactSize must be a positive quantity" \
  --set downloader.maxArtifactSize=lots

# ---- CRD copies ---------------------------------------------------------------------------------
if out=$(diff -r "$ROOT/deploy/crds" "$CHART/crds" 2>&1 | head -20) && [ -z "$out" ]; then
  ok "crds/ equals deploy/crds ($(ls "$CHART"/crds/*.yaml | wc -l) CRDs)"
else
  bad "crds/ equals deploy/crds" "run tools/helm/sync-crds.sh
$out"
fi

# ---- generated values reference -----------------------------------------------------------------
if out=$(tools/helm/helm.sh values-doc -check 2>&1); then
  ok "docs/helm-values.md up to date"
else
  bad "docs/helm-values.md up to date" "$out"
fi

# ---- server-side dry run (optional) -------------------------------------------------------------
K="${AIM_KUBECTL:-}"
if [ -z "$K" ]; then
  if [ -x tools/cluster/bin/kubectl ]; then K=tools/cluster/bin/kubectl; else K=$(command -v kubectl || true); fi
fi
if [ -z "${KUBECONFIG:-}" ]; then
  echo "SKIP server-side dry run: KUBECONFIG is not set"
elif [ -z "$K" ]; then
  echo "SKIP server-side dry run: no kubectl (set AIM_KUBECTL or build tools/cluster)"
elif ! "$K" get --raw /readyz >/dev/null 2>&1; then
  echo "SKIP server-side dry run: no cluster answers at $KUBECONFIG"
else
  # The namespace must exist for a dry run of namespaced objects; the dry run creates nothing, so
  # render into one that exists when aim-system does not.
  ns=$NAMESPACE
  "$K" get namespace "$ns" >/dev/null 2>&1 || ns=default
  if ! "$HELM" template "$RELEASE" "$CHART" --namespace "$ns" --include-crds >"$work/dry-run.yaml" 2>"$work/dry-run.err"; then
    bad "server-side dry run" "$(cat "$work/dry-run.err")"
  elif out=$("$K" apply --server-side --force-conflicts --field-manager=aim-helm-test \
    --dry-run=server -f "$work/dry-run.yaml" 2>&1); then
    ok "server-side dry run (defaults, CRDs included, namespace $ns: $(grep -c . <<<"$out") objects)"
  else
    bad "server-side dry run" "$out"
  fi
fi

finish
