#!/usr/bin/env bash
# Our Prometheus text exposition (kube/metrics.cpp) against prometheus-cpp (prometheus-cpp-dev
# 1.0.1): code size, render time and allocations of the operator's /metrics, and both renders read
# back by the Prometheus Python client's parser (prometheus_client, installed into
# .local/bench-libs-venv), for the operator's families and for values that need escaping.
# Needs prometheus-cpp-dev (not in scripts/install-deps.sh: only this comparison uses it).
# Results: docs/architecture.md.
#
#   bench/metrics_exposition/compare.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
out=$(mktemp -d /tmp/aim-metrics-compare.XXXXXX)
trap 'rm -rf "$out"' EXIT
B=bench/metrics_exposition
venv=.local/bench-libs-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c 'import prometheus_client' 2>/dev/null ||
  "$venv/bin/pip" install -q prometheus_client==0.26.0
g++ -std=c++20 -O2 -DNDEBUG -I"$ROOT" "$B/compare.cpp" kube/metrics.cpp -lfmt -pthread \
  -o "$out/ours"
g++ -std=c++20 -O2 -DNDEBUG -DUSE_PROMETHEUS_CPP "$B/compare.cpp" \
  $(pkg-config --cflags --libs prometheus-cpp-core) -pthread -o "$out/prometheus-cpp"
# Code size: ours is the text of metrics.o (the process figures, process_metrics.cpp, would stay
# either way); the library's is its shared object, which the operator image would add.
g++ -std=c++20 -O2 -DNDEBUG -I"$ROOT" -c kube/metrics.cpp -o "$out/metrics.o"
echo "ours: text of metrics.o: $(size "$out/metrics.o" | awk 'END {print $1}') B"
lib=$(ldd "$out/prometheus-cpp" | awk '/prometheus-cpp-core/ {print $3}')
echo "prometheus-cpp: $(basename "$(readlink -f "$lib")") text $(size "$lib" | awk 'END {print $1}') B"
for impl in ours prometheus-cpp; do
  echo "== $impl: the operator's /metrics"
  "$out/$impl" "$out/$impl.txt"
  "$out/$impl" "$out/$impl-tricky.txt" tricky >/dev/null
  "$out/$impl" "$out/$impl-help.txt" help >/dev/null
done
echo "== both read back (prometheus_client), the operator's /metrics"
"$venv/bin/python" "$B/validate.py" "$out/ours.txt" "$out/prometheus-cpp.txt" || true
echo "== both read back, values that need escaping (ours, then the differences)"
"$venv/bin/python" "$B/validate.py" "$out/ours-tricky.txt" "$out/prometheus-cpp-tricky.txt" \
  --show || true
echo "== both read back, a help text with a backslash and a newline"
"$venv/bin/python" "$B/validate.py" "$out/ours-help.txt" "$out/prometheus-cpp-help.txt" || true
for impl in ours prometheus-cpp; do
  echo "== as $impl writes them"
  grep -E '^(tricky_label|tricky_values)' "$out/$impl-tricky.txt"
  head -3 "$out/$impl-help.txt"
done
