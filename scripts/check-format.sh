#!/usr/bin/env bash
# Fails when a C++ source under our folders is not formatted with the repository's .clang-format.
set -euo pipefail
cd "$(dirname "$0")/.."
files=$(git ls-files --cached --others --exclude-standard -- '*.h' '*.cpp' | grep -v '^build/' || true)
[ -n "$files" ] || exit 0
bad=$(echo "$files" | xargs clang-format --dry-run 2>&1 | grep -oE '^[^:]+\.(h|cpp)' | sort -u || true)
if [ -n "$bad" ]; then
  echo "not clang-formatted (run: clang-format -i FILE):"
  echo "$bad"
  exit 1
fi
