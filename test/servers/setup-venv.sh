#!/usr/bin/env bash
# Creates the Python virtualenvs the fetch test servers' clients and benchmarks use, under
# <repo>/.local/ (git-ignored). Idempotent: a venv whose requirements are unchanged is kept.
#   test/servers/setup-venv.sh          -> .local/fetch-venv        (requirements.txt)
#   test/servers/setup-venv.sh --bench  -> .local/fetch-bench-venv  (requirements-bench.txt)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
if [[ "${1:-}" == "--bench" ]]; then
  venv="$repo/.local/fetch-bench-venv"; req="$here/requirements-bench.txt"
else
  venv="$repo/.local/fetch-venv"; req="$here/requirements.txt"
fi
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "$venv"
  exit 0
fi
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req" >&2
echo "$want" > "$stamp"
echo "$venv"
