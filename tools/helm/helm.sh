#!/usr/bin/env bash
# helm for aim-engine's Helm chart (deploy/charts/aim-engine): lint, golden tests, packaging.
#
#   tools/helm/helm.sh build          build bin/helm from the pinned Go module (helm.sh/helm/v4,
#                                     see go.mod) when it is missing or go.mod/go.sum changed;
#                                     prints the binary's path (build output goes to stderr)
#   tools/helm/helm.sh path           print the binary's path (no build)
#   tools/helm/helm.sh values-doc     regenerate docs/helm-values.md from the chart's values.yaml
#   tools/helm/helm.sh values-doc --check   exit 1 when docs/helm-values.md is stale
#   tools/helm/helm.sh sync-crds      copy deploy/crds/*.yaml into the chart's crds/
#   tools/helm/helm.sh -- ARGS...     build if needed, then run helm ARGS
#
# Only the Go module proxy is needed (GOTOOLCHAIN=local; Go >= 1.26, which helm v4 requires).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
BIN="$HERE/bin"
HELM="$BIN/helm"
STAMP="$BIN/.helm.stamp"
CHART="$REPO/deploy/charts/aim-engine"
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"

die() { echo "helm.sh: $*" >&2; exit 1; }

# The stamp is the hash of go.mod and go.sum: a changed pin rebuilds.
want_stamp() { cat "$HERE/go.mod" "$HERE/go.sum" | sha256sum | cut -d' ' -f1; }

build() {
  local want
  want=$(want_stamp)
  if [ -x "$HELM" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
    echo "$HELM"
    return 0
  fi
  command -v go >/dev/null || die "go is not on PATH (Go >= 1.26 needed)"
  mkdir -p "$BIN"
  local t0 version
  t0=$(date +%s)
  version=$(cd "$HERE" && go list -m -f '{{.Version}}' helm.sh/helm/v4)
  echo "helm.sh: building helm $version (cold: several minutes on 2 cores) ..." >&2
  # helm's own Makefile stamps the version the same way; without it `helm version` says "main".
  (cd "$HERE" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$version" \
    -o "$HELM.tmp" helm.sh/helm/v4/cmd/helm) >&2 || die "go build failed"
  mv "$HELM.tmp" "$HELM"
  echo "$want" >"$STAMP"
  echo "helm.sh: helm built in $(($(date +%s) - t0)) s" >&2
  echo "$HELM"
}

case "${1:-}" in
  build) build ;;
  path) echo "$HELM" ;;
  values-doc)
    shift
    (cd "$HERE" && go run ./cmd/values-doc -values "$CHART/values.yaml" -out "$REPO/docs/helm-values.md" "$@")
    ;;
  sync-crds) exec "$HERE/sync-crds.sh" ;;
  --)
    shift
    build >/dev/null
    exec "$HELM" "$@"
    ;;
  *) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
