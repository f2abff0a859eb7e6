#!/usr/bin/env bash
# aim-fetch vs the usual tools, one run on this machine, everything on 127.0.0.1.
#
#   bench/fetch/run.sh [path/to/aim-fetch]      (use a Release build)
#
# Builds a repo of BENCH_BIG_FILES (default 3) x BENCH_BIG_GIB (default 1) GiB random files plus
# 20 small files, serves it from the test Hub (LFS files through the CDN port) and the S3 test
# server, and times: aim-fetch (hf), huggingface_hub 2.x snapshot_download, huggingface_hub 0.36
# snapshot_download with and without hf_transfer, aim-fetch (s3), s5cmd and the AWS CLI.
# Every download is compared with the source before it counts. Data lives under /tmp and is
# deleted at the end. Prints a Markdown table (append it to bench/fetch/RESULTS.md).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
bin="${1:-$repo/build/fetch-rel/aim-fetch/aim-fetch}"
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
big_files="${BENCH_BIG_FILES:-3}"
big_gib="${BENCH_BIG_GIB:-1}"

work="$(mktemp -d /tmp/aim-fetch-bench.XXXXXX)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
start_server() {
  local name="$1"; shift
  "$@" >"$work/$name.out" 2>"$work/$name.err" &
  pids+=($!)
  for _ in $(seq 1 3000); do grep -q '^READY' "$work/$name.out" 2>/dev/null && return 0; sleep 0.1; done
  echo "server $name did not start"; cat "$work/$name.err"; exit 1
}

src="$work/hf/org/bench"
mkdir -p "$src" "$work/s3seed"
for i in $(seq 1 "$big_files"); do
  head -c $((big_gib << 30)) /dev/urandom >"$src/model-0000$i-of-0000$big_files.safetensors"
done
for i in $(seq 1 20); do head -c $((RANDOM * 4 + 100)) /dev/urandom >"$src/small-$i.json"; done
total=$(du -sb "$src" | cut -f1)
cp -r "$src" "$work/s3seed/models"   # bucket "models"

venv="$("$repo/test/servers/setup-venv.sh")"
bvenv="$("$repo/test/servers/setup-venv.sh" --bench)"
start_server hf python3 "$repo/test/servers/model_server.py" hf --root "$work/hf"
(cd "$repo/test/servers/s3" && go build -o "$work/s3server" .)
start_server s3 "$work/s3server" -data "$work/s3data" -seed "$work/s3seed" -access-key AKIDBENCH -secret-key bench-secret
export HF_ENDPOINT="http://127.0.0.1:$(awk '/^READY/{print $2}' "$work/hf.out")"
export AWS_ENDPOINT_URL="http://127.0.0.1:$(awk '/^READY/{print $2}' "$work/s3.out")"
export AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=bench-secret AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export HF_HUB_DISABLE_TELEMETRY=1 HF_HUB_DISABLE_PROGRESS_BARS=1
s5cmd="$(command -v s5cmd || true)"
[[ -z "$s5cmd" && -x "$repo/.local/bin/s5cmd" ]] && s5cmd="$repo/.local/bin/s5cmd"

rows=()
# measure NAME OUTDIR CMD... : times CMD (wall clock and peak RSS), checks OUTDIR against the source.
measure() {
  local name="$1" out="$2"; shift 2
  rm -rf "$out"
  sync
  local t0 t1
  t0=$(date +%s.%N)
  if ! /usr/bin/time -f '%M' -o "$work/rss" "$@" >"$work/cmd.log" 2>&1; then
    echo "$name failed:"; tail -5 "$work/cmd.log"; rows+=("| $name | failed | | |"); return
  fi
  t1=$(date +%s.%N)
  if ! diff -rq -x .aim-manifest.json -x .cache "$src" "$out" >/dev/null; then
    rows+=("| $name | output differs from source | | |"); rm -rf "$out"; return
  fi
  local secs mbs rss
  secs=$(echo "$t1 - $t0" | bc -l)
  mbs=$(echo "$total / $secs / 1048576" | bc -l)
  rss=$(( $(cat "$work/rss") / 1024 ))
  printf -v line '| %s | %.2f | %.0f | %d |' "$name" "$secs" "$mbs" "$rss"
  rows+=("$line"); echo "$line"
  rm -rf "$out"
}

# snapshot_download org/bench into $work/out with the Python in venv $1 (more env after it).
py_snapshot='from huggingface_hub import snapshot_download as s; import sys; s("org/bench", local_dir=sys.argv[1], max_workers=8)'

# Baseline: what one plain sequential client gets from the same server (curl, CDN URLs direct).
curl_all() {
  mkdir -p "$1"
  for f in "$src"/*; do
    curl -sfL -o "$1/$(basename "$f")" "$HF_ENDPOINT/org/bench/resolve/main/$(basename "$f")" || return 1
  done
}
export -f curl_all; export src HF_ENDPOINT
measure "curl, one file after another (baseline)" "$work/out" bash -c 'curl_all "$0"' "$work/out"
measure "aim-fetch hf:// (-j 8, 64 MiB ranges)" "$work/out" "$bin" hf://org/bench "$work/out" -q
measure "aim-fetch hf:// (-j 16, 32 MiB ranges)" "$work/out" "$bin" hf://org/bench "$work/out" -q -j 16 --chunk-mib 32
measure "huggingface_hub $("$venv/bin/python" -c 'import huggingface_hub as h; print(h.__version__)') snapshot_download" "$work/out" env HF_HOME="$work/hfhome" "$venv/bin/python" -c "$py_snapshot" "$work/out"
measure "huggingface_hub 0.36.2 snapshot_download" "$work/out" env HF_HOME="$work/hfhome" HF_HUB_ENABLE_HF_TRANSFER=0 "$bvenv/bin/python" -c "$py_snapshot" "$work/out"
measure "huggingface_hub 0.36.2 + hf_transfer" "$work/out" env HF_HOME="$work/hfhome" HF_HUB_ENABLE_HF_TRANSFER=1 "$bvenv/bin/python" -c "$py_snapshot" "$work/out"
measure "aim-fetch s3:// (-j 8, 64 MiB ranges)" "$work/out" "$bin" s3://models "$work/out" -q
if [[ -n "$s5cmd" ]]; then
  measure "s5cmd 2.3.0 cp" "$work/out" "$s5cmd" --endpoint-url "$AWS_ENDPOINT_URL" cp 's3://models/*' "$work/out/"
fi
measure "aws s3 cp --recursive ($("$bvenv/bin/aws" --version 2>&1 | cut -d' ' -f1))" "$work/out" \
  "$bvenv/bin/aws" --endpoint-url "$AWS_ENDPOINT_URL" s3 cp --recursive --quiet s3://models "$work/out"

echo
echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "Data: $big_files x $big_gib GiB + 20 small files ($total bytes), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "| client | seconds | MiB/s | peak RSS MiB |"
echo "|---|---|---|---|"
printf '%s\n' "${rows[@]}"
