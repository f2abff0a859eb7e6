#!/usr/bin/env bash
# Thin wrapper: see tools/cluster/README.md.
exec "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tools/cluster/cluster.sh" "$@"
