#!/usr/bin/env bash
# Our YAML emitter (api/yaml.cpp to_yaml) against yaml-cpp's YAML::Emitter: the generated CRDs and
# awkward strings written by each, read back by yaml-cpp (compare) and by PyYAML, a YAML 1.1 reader
# like kubectl's (readback.py, PyYAML installed into .local/bench-libs-venv); sizes, speed, and
# how many CRD files would change. Results: docs/architecture.md.
#
#   bench/yaml_emitter/compare.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
out=$(mktemp -d /tmp/aim-yaml-compare.XXXXXX)
trap 'rm -rf "$out"' EXIT
B=bench/yaml_emitter
venv=.local/bench-libs-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c 'import yaml' 2>/dev/null || "$venv/bin/pip" install -q PyYAML==6.0.3
g++ -std=c++20 -O2 -DNDEBUG -I"$ROOT" "$B/compare.cpp" api/yaml.cpp -lyaml-cpp -o "$out/compare"
# The generated files carry a header comment and `---` before the CRD: read from the CRD on.
mkdir -p "$out/in"
for f in deploy/crds/*.yaml deploy/crds-optional/*.yaml; do
  sed '1,/^---$/d' "$f" >"$out/in/$(basename "$f")"
done
"$out/compare" "$out/emitted" "$out"/in/*.yaml
"$venv/bin/python" "$B/readback.py" "$out/emitted"
echo "== the awkward strings, as each writes them (ours | yaml-cpp)"
for f in "$out"/emitted/ours/strings/*.yaml; do
  printf '%s | %s\n' "$(cat "$f")" "$(cat "$out/emitted/yaml-cpp/strings/$(basename "$f")")"
done
echo "== a CRD as the two write it (diff, first lines)"
diff "$out/emitted/ours/aim.eai.amd.com_aimservices.yaml" \
  "$out/emitted/yaml-cpp/aim.eai.amd.com_aimservices.yaml" | head -40 || true
# Code size: the emitter is part of yaml.o (with the reader); the yaml-cpp library is linked
# either way (the reader uses it).
g++ -std=c++20 -O2 -DNDEBUG -I"$ROOT" -c api/yaml.cpp -o "$out/yaml.o"
echo "text of yaml.o (reader and our emitter): $(size "$out/yaml.o" | awk 'END {print $1}') B"
