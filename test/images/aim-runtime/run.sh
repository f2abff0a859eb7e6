#!/usr/bin/env bash
# The AIM runtime stand-in's own tests (pytest), with the summary line scripts/test.sh counts.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
report="$(mktemp)"
trap 'rm -f "$report"' EXIT
python3 -m pytest -q -p no:cacheprovider --junitxml="$report" "$here"
rc=$?
python3 - "$report" "$rc" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    total, bad = int(suite.get("tests")), int(suite.get("failures")) + int(suite.get("errors"))
    skipped = int(suite.get("skipped", 0))
    print(f"runtime: {total - bad - skipped} passed, {bad} failed")
except Exception as e:  # no report: pytest could not run at all
    print(f"runtime: 0 passed, 1 failed ({e})")
PY
exit "$rc"
