#!/usr/bin/env bash
# Copies the generated CRDs (deploy/crds/*.yaml, written by `aim-crdgen write` during the C++
# build) into the Helm chart's crds/ folder, which Helm installs before the templates and never
# upgrades or deletes. Stale copies are removed. test/integration/helm/run.sh fails when the two
# folders differ; run this after a change to the API types.
#
#   tools/helm/sync-crds.sh           copy
#   tools/helm/sync-crds.sh --check   exit 1 (and list the differences) when out of date
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SRC="$REPO/deploy/crds"
DST="$REPO/deploy/charts/aim-engine/crds"

if [ "${1:-}" = "--check" ]; then
  diff -rq "$SRC" "$DST" && exit 0
  echo "sync-crds.sh: $DST differs from $SRC; run tools/helm/sync-crds.sh" >&2
  exit 1
fi
mkdir -p "$DST"
for f in "$DST"/*.yaml; do
  [ -e "$f" ] || continue
  [ -e "$SRC/$(basename "$f")" ] || { rm -f "$f"; echo "removed $(basename "$f")"; }
done
for f in "$SRC"/*.yaml; do
  if ! cmp -s "$f" "$DST/$(basename "$f")"; then
    cp "$f" "$DST/"
    echo "copied $(basename "$f")"
  fi
done
