#!/usr/bin/env bash
# The local control plane's own checks (Jobs succeed/fail as chosen, pod logs, namespace deletion,
# CRDs present, apiserver restart, etcd compaction). Runs its own cluster on separate ports.
exec "$(dirname "$0")/../../../tools/cluster/smoke.sh"
