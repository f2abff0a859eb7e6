#!/usr/bin/env bash
# Integration suite for aim-fetch: starts the test servers (Hugging Face Hub + CDN, S3, HTTPS,
# NGC; see test/servers/README.md) on 127.0.0.1 and runs aim-fetch against each, with faults.
#
#   test/integration/fetch/run.sh [path/to/aim-fetch]
#
# The binary defaults to $AIM_FETCH, else the newest build/*/cmd/aim-fetch/aim-fetch.
# Needs python3, go (for the S3 server), openssl, curl; root for the tmpfs disk-full case
# (otherwise that case uses RLIMIT_FSIZE only). Data lives in a temporary directory under /tmp
# and is removed on exit. Ends with "N passed, M failed"; exits non-zero on any failure.
set -uo pipefail

repo="$(cd "$(dirname "$0")/../../.." && pwd)"
bin="${1:-${AIM_FETCH:-}}"
if [[ -z "$bin" ]]; then
  bin="$(ls -t "$repo"/build/*/cmd/aim-fetch/aim-fetch "$repo"/build/*/aim-fetch/aim-fetch 2>/dev/null | head -1)"
fi
[[ -x "$bin" ]] || { echo "aim-fetch binary not found (pass it as \$1 or AIM_FETCH)"; exit 2; }
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"

work="$(mktemp -d /tmp/aim-fetch-it.XXXXXX)"
pids=()
mounted=""
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  [[ -n "$mounted" ]] && umount "$mounted" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

passed=0
failed=0
ok() { echo "PASS $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1${2:+: $2}"; failed=$((failed + 1)); }

# start_server NAME CMD... : runs CMD in the background and waits for its "READY <port>..." line.
start_server() {
  local name="$1"; shift
  "$@" >"$work/$name.out" 2>"$work/$name.err" &
  pids+=($!)
  for _ in $(seq 1 600); do
    if grep -q '^READY' "$work/$name.out" 2>/dev/null; then return 0; fi
    if ! kill -0 "${pids[-1]}" 2>/dev/null; then break; fi
    sleep 0.1
  done
  echo "server $name did not start:"; cat "$work/$name.err"; exit 1
}
port_of() { awk '/^READY/{print $'"${2:-2}"'}' "$work/$1.out"; }

# fetch ARGS... : runs aim-fetch quietly with a fresh JSON-lines progress file; sets $rc.
fetch() {
  rm -f "$work/progress.jsonl"
  "$bin" "$@" -q --progress-file "$work/progress.jsonl" 2>"$work/stderr.txt"
  rc=$?
}
# last_field KEY : a field of the final progress line.
last_field() { tail -1 "$work/progress.jsonl" | python3 -c "import json,sys; print(json.load(sys.stdin).get('$1',''))"; }
# count_events EVENT [CLASS] : number of progress lines of that event (and failure class).
count_events() {
  python3 - "$work/progress.jsonl" "$1" "${2:-}" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("event") == sys.argv[2] and (not sys.argv[3] or e.get("class") == sys.argv[3]):
        n += 1
print(n)
PY
}
admin() { curl -sf -X "${3:-POST}" -d "${2:-}" "http://127.0.0.1:$1/_admin/faults" >/dev/null; }
same_tree() { diff -r -x .aim-manifest.json -x .cache "$1" "$2" >/dev/null; }
# files_of DIR : the regular files under DIR (manifest excluded), sorted, space-separated.
files_of() { (cd "$1" 2>/dev/null && find . -type f ! -name .aim-manifest.json | sed 's|^\./||' | LC_ALL=C sort | tr '\n' ' '); }

# ---- data ---------------------------------------------------------------------------------
mkdir -p "$work/hf/org/tiny/sub/dir" "$work/hf/org/gated" "$work/hf/org/big" "$work/static" \
         "$work/ngc/nvidia/team1/llama-tiny/1.0" "$work/s3seed/models"
t="$work/hf/org/tiny"
echo '{"model_type":"llama","hidden_size":64}' >"$t/config.json"
printf '*.safetensors filter=lfs diff=lfs merge=lfs -text\n' >"$t/.gitattributes"
: >"$t/empty.txt"
echo hello >"$t/sub/dir/file.txt"
head -c 100000 /dev/urandom >"$t/tokenizer.json"
head -c $((3 * 1024 * 1024 + 12345)) /dev/urandom >"$t/model.safetensors"
cp "$t/config.json" "$work/hf/org/gated/"
head -c 200000 /dev/urandom >"$work/hf/org/gated/weights.bin"
head -c $((16 * 1024 * 1024)) /dev/urandom >"$work/hf/org/big/big.bin"
cp "$t/model.safetensors" "$work/static/model.bin"
(cd "$work/static" && sha256sum model.bin >"$work/sums.txt")
cp -r "$t" "$work/ngc/nvidia/team1/llama-tiny/2.0"
echo old >"$work/ngc/nvidia/team1/llama-tiny/1.0/old.txt"
cp -r "$t" "$work/s3seed/models/llama"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" -days 1 \
  -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1

# ---- servers ------------------------------------------------------------------------------
srv="$repo/test/servers/model_server.py"
start_server hf python3 "$srv" hf --root "$work/hf" --gated org/gated --token hf_test_token --lfs-threshold 200000
start_server static python3 "$srv" static --root "$work/static" --tls-cert "$work/cert.pem" --tls-key "$work/key.pem"
start_server ngc python3 "$srv" ngc --root "$work/ngc" --api-key nvapi-test
(cd "$repo/test/servers/s3" && go build -o "$work/s3server" .) || { echo "cannot build the S3 server"; exit 1; }
start_server s3 "$work/s3server" -data "$work/s3data" -seed "$work/s3seed" -access-key AKIDTEST -secret-key secret-test-key
# The same objects with full-object checksums, as current AWS SDKs store them.
start_server s3crc64 "$work/s3server" -data "$work/s3data-crc64" -seed "$work/s3seed" -access-key AKIDTEST -secret-key secret-test-key -checksum crc64nvme
start_server s3crc32c "$work/s3server" -data "$work/s3data-crc32c" -seed "$work/s3seed" -access-key AKIDTEST -secret-key secret-test-key -checksum crc32c
HF="$(port_of hf)"; ST="$(port_of static)"; NGC="$(port_of ngc)"; S3="$(port_of s3)"
export HF_ENDPOINT="http://127.0.0.1:$HF"
unset HF_TOKEN HUGGING_FACE_HUB_TOKEN AWS_PROFILE
# No stray credentials from this machine's files.
export HF_TOKEN_PATH="$work/no-token" AWS_SHARED_CREDENTIALS_FILE="$work/no-credentials" HF_HOME="$work/hf-home"

# ---- Hugging Face -------------------------------------------------------------------------
commit="$(curl -sf "$HF_ENDPOINT/api/models/org/tiny/revision/main" | python3 -c 'import json,sys; print(json.load(sys.stdin)["sha"])')"

fetch hf://org/tiny "$work/d1" --chunk-mib 1
if [[ $rc == 0 ]] && same_tree "$work/d1" "$t" && [[ "$(last_field event)" == done ]] &&
   [[ "$(last_field revision)" == "$commit" ]] && [[ -f "$work/d1/.aim-manifest.json" ]] && [[ ! -e "$work/d1/.aim-fetch" ]]; then
  ok "hf: full download, revision $commit recorded"
else bad "hf: full download" "rc=$rc"; fi

digest="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["digest"])' "$work/d1/.aim-manifest.json")"
want="$(cd "$t" && find . -type f | sed 's|^\./||' | LC_ALL=C sort | while read -r f; do
  printf '%s\t%s\t%s\n' "$f" "$(stat -c %s "$f")" "$(sha256sum "$f" | cut -d' ' -f1)"; done | sha256sum | cut -d' ' -f1)"
[[ "$digest" == "sha256:$want" && "$(last_field digest)" == "sha256:$want" ]] && ok "hf: content digest matches an independent computation" || bad "hf: content digest" "$digest vs $want"

fetch "hf://org/tiny@$commit" "$work/d2"
[[ $rc == 0 ]] && same_tree "$work/d2" "$t" && ok "hf: pinned commit revision" || bad "hf: pinned commit" "rc=$rc"

fetch hf://org/tiny "$work/d1"
[[ $rc == 0 && "$(last_field transferredBytes)" == 0 ]] && ok "hf: rerun keeps verified files (0 bytes transferred)" || bad "hf: rerun" "rc=$rc transferred=$(last_field transferredBytes)"

fetch hf://org/gated "$work/d3"
[[ $rc == 3 && "$(last_field class)" == auth ]] && ok "hf: gated repo without token -> auth (exit 3)" || bad "hf: gated without token" "rc=$rc"
HF_TOKEN=hf_test_token fetch hf://org/gated "$work/d3"
[[ $rc == 0 ]] && same_tree "$work/d3" "$work/hf/org/gated" && ok "hf: gated repo with HF_TOKEN" || bad "hf: gated with token" "rc=$rc"
if HF_TOKEN=hf_test_token "$bin" hf://org/gated "$work/d3b" 2>&1 | grep -q hf_test_token ||
   grep -rq hf_test_token "$work/progress.jsonl" "$work/d3/.aim-manifest.json"; then
  bad "hf: token never printed"; else ok "hf: token never printed"; fi

fetch hf://org/nope "$work/d4"
[[ $rc == 4 && "$(last_field class)" == not_found ]] && ok "hf: missing repo -> not_found (exit 4)" || bad "hf: missing repo" "rc=$rc"
fetch hf://org/tiny@v9 "$work/d4"
[[ $rc == 4 ]] && ok "hf: missing revision -> not_found" || bad "hf: missing revision" "rc=$rc"

admin "$HF" '{"interrupt": {"file": "model.safetensors", "at_byte": 1500000, "times": 1}}'
fetch hf://org/tiny "$work/d5" --chunk-mib 1 --backoff-base 0.05
admin "$HF" "" DELETE
[[ $rc == 0 ]] && same_tree "$work/d5" "$t" && [[ "$(count_events retry network)" -ge 1 ]] &&
  ok "hf: connection dropped mid-range, resumed and verified" || bad "hf: interrupted transfer" "rc=$rc"

admin "$HF" '{"corrupt": {"file": "model.safetensors", "at_byte": 777, "times": -1}}'
fetch hf://org/tiny "$work/d6" --backoff-base 0.05
admin "$HF" "" DELETE
[[ $rc == 7 && "$(last_field class)" == checksum_mismatch && ! -e "$work/d6/model.safetensors" ]] &&
  ok "hf: persistent corruption detected (exit 7), file never placed" || bad "hf: corruption" "rc=$rc"

admin "$HF" '{"corrupt": {"file": "tokenizer.json", "at_byte": 5, "times": 1}}'
fetch hf://org/tiny "$work/d6b" --backoff-base 0.05
admin "$HF" "" DELETE
[[ $rc == 0 ]] && same_tree "$work/d6b" "$t" && [[ "$(count_events retry checksum_mismatch)" == 1 ]] &&
  ok "hf: one corrupted transfer of a git-stored file caught by its blob id and refetched" || bad "hf: transient corruption" "rc=$rc"

admin "$HF" '{"stall": {"file": "model.safetensors", "at_byte": 200000, "seconds": 20, "times": 1}}'
fetch hf://org/tiny "$work/d7" --stall-timeout 2 --backoff-base 0.05
admin "$HF" "" DELETE
[[ $rc == 0 ]] && same_tree "$work/d7" "$t" && [[ "$(count_events retry timeout)" -ge 1 ]] &&
  ok "hf: stalled transfer detected and retried" || bad "hf: stall" "rc=$rc"

admin "$HF" '{"rate_limit": {"count": 3, "retry_after": 1}}'
fetch hf://org/tiny "$work/d8" --backoff-base 0.05
admin "$HF" "" DELETE
delays="$(python3 -c "
import json,sys
print(min([json.loads(l)['delayMs'] for l in open(sys.argv[1]) if json.loads(l).get('class')=='rate_limited'] or [0]))" "$work/progress.jsonl")"
[[ $rc == 0 ]] && same_tree "$work/d8" "$t" && [[ "$(count_events retry rate_limited)" == 3 && "$delays" -ge 1000 ]] &&
  ok "hf: 429 with Retry-After honoured (3 retries, each >= 1 s)" || bad "hf: 429" "rc=$rc delays=$delays"

admin "$HF" '{"rate_limit": {"count": 1000, "retry_after": 0}}'
fetch hf://org/tiny "$work/d9" --retries 2 --backoff-base 0.05
admin "$HF" "" DELETE
[[ $rc == 5 && "$(last_field class)" == rate_limited ]] && ok "hf: persistent 429 -> rate_limited (exit 5)" || bad "hf: persistent 429" "rc=$rc"

admin "$HF" '{"inject_sibling": {"rfilename": "../../escape.txt"}}'
fetch hf://org/tiny "$work/d10/inner"
admin "$HF" "" DELETE
[[ $rc == 10 && "$(last_field class)" == unsafe_path && ! -e "$work/escape.txt" && ! -e "$work/d10/escape.txt" ]] &&
  ok "hf: path traversal in listing rejected (exit 10)" || bad "hf: traversal" "rc=$rc"

# Part of a repository: include / exclude globs (`*` crosses `/`, a trailing `/` is a directory).
fetch hf://org/tiny "$work/p1" --include '*.json' --include 'sub/'
sel="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("selection",""))' "$work/p1/.aim-manifest.json" 2>/dev/null)"
[[ $rc == 0 && "$(files_of "$work/p1")" == "config.json sub/dir/file.txt tokenizer.json " && "$sel" == "include *.json, sub/" ]] &&
  cmp -s "$work/p1/tokenizer.json" "$t/tokenizer.json" && [[ "$(head -1 "$work/progress.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("selection"))')" == "include *.json, sub/" ]] &&
  ok "hf: --include picks files by glob and a directory; the manifest and start event say so" || bad "hf: --include" "rc=$rc files=$(files_of "$work/p1") selection=$sel"
# A path inside the repository, as AIM discovery writes it (hf://Qwen/Qwen3-32B/tokenizer.json).
fetch hf://org/tiny/tokenizer.json "$work/p5"
[[ $rc == 0 && "$(files_of "$work/p5")" == "tokenizer.json " ]] && cmp -s "$work/p5/tokenizer.json" "$t/tokenizer.json" &&
  ok "hf: hf://org/model/<file> fetches that one file" || bad "hf: URI path to a file" "rc=$rc files=$(files_of "$work/p5")"
fetch hf://org/tiny/sub "$work/p6"
[[ $rc == 0 && "$(files_of "$work/p6")" == "sub/dir/file.txt " ]] &&
  ok "hf: hf://org/model/<dir> fetches what is under it" || bad "hf: URI path to a directory" "rc=$rc files=$(files_of "$work/p6")"
fetch hf://org/tiny/tokenizer.json "$work/p7" --include '*.json'
[[ $rc == 2 ]] && grep -q "give either that or --include" "$work/stderr.txt" &&
  ok "hf: a URI path and --include together are a usage error (exit 2)" || bad "hf: URI path and --include" "rc=$rc $(cat "$work/stderr.txt")"
fetch hf://org/tiny "$work/p2" --include '*' --exclude '*.safetensors'
[[ $rc == 0 && ! -e "$work/p2/model.safetensors" && -f "$work/p2/sub/dir/file.txt" ]] &&
  ok "hf: --exclude wins over --include" || bad "hf: --exclude" "rc=$rc files=$(files_of "$work/p2")"
fetch hf://org/tiny "$work/p3" --include '*.gguf'
[[ $rc == 4 && "$(last_field class)" == not_found && "$(last_field message)" == *"matches include *.gguf (6 files listed)"* && ! -e "$work/p3/.aim-manifest.json" ]] &&
  ok "hf: patterns that select nothing -> not_found naming them" || bad "hf: nothing selected" "rc=$rc $(last_field message)"
"$bin" hf://org/tiny "$work/p4" -q --include 'm-[Q4.gguf' 2>"$work/stderr.txt"; rc=$?
[[ $rc == 2 ]] && grep -q "unclosed" "$work/stderr.txt" && ok "hf: a malformed glob is a usage error (exit 2) that says what is wrong" || bad "hf: bad glob" "rc=$rc $(cat "$work/stderr.txt")"
size="$("$bin" hf://org/tiny --check-size -q --include '*.json' | python3 -c 'import json,sys; print(json.load(sys.stdin)["sizeBytes"])')"
want_size="$(( $(stat -c %s "$t/config.json") + $(stat -c %s "$t/tokenizer.json") ))"
[[ "$size" == "$want_size" ]] && ok "check-size counts only the selected files ($size bytes)" || bad "check-size with --include" "$size vs $want_size"

# Crash and resume: stall one range, kill -9 once other ranges are on disk, run again.
admin "$HF" '{"stall": {"file": "big.bin", "at_byte": 9437184, "seconds": 60, "times": 1}}'
"$bin" hf://org/big "$work/d11" -q --chunk-mib 1 -j 4 --stall-timeout 60 &
victim=$!
for _ in $(seq 1 200); do
  rec="$(ls "$work"/d11/.aim-fetch/*.part.json 2>/dev/null | head -1)"
  if [[ -n "$rec" ]] && python3 -c "import json,sys; sys.exit(0 if sum(json.load(open(sys.argv[1]))['done']) >= 4<<20 else 1)" "$rec" 2>/dev/null; then break; fi
  sleep 0.1
done
kill -9 "$victim" 2>/dev/null; wait "$victim" 2>/dev/null
admin "$HF" "" DELETE
fetch hf://org/big "$work/d11" --chunk-mib 1 -j 4
resumed="$(head -1 "$work/progress.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["resumedBytes"])')"
[[ $rc == 0 && "$resumed" -ge $((4 << 20)) ]] && cmp -s "$work/d11/big.bin" "$work/hf/org/big/big.bin" &&
  ok "hf: killed mid-download, rerun resumed $resumed bytes from the range record" || bad "hf: crash resume" "rc=$rc resumed=$resumed"

# SIGKILL at 20 random points of one download, the run to the end, two runs at once on one
# destination (kill_resume.py says what each check asserts; AIM_RESUME_SEED repeats a run).
python3 "$repo/test/integration/fetch/kill_resume.py" "$bin" "$work" >"$work/kill.out" 2>"$work/kill.err"
kill_rc=$?
while IFS= read -r line; do
  case "$line" in
    "PASS "*) ok "hf: ${line#PASS }" ;;
    "FAIL "*) bad "hf: ${line#FAIL }" ;;
  esac
done <"$work/kill.out"
if [[ $kill_rc != 0 ]] && ! grep -q '^FAIL ' "$work/kill.out"; then
  bad "hf: kill_resume.py" "exit $kill_rc: $(tail -5 "$work/kill.err")"
fi

# The official client against the same server, byte for byte (the faithfulness check).
if venv="$("$repo/test/servers/setup-venv.sh" 2>"$work/venv.err")"; then
  if HF_HOME="$work/hfhome" HF_HUB_DISABLE_TELEMETRY=1 "$venv/bin/python" - "$work" >"$work/snap.out" 2>&1 <<'PY'
import sys, os
from huggingface_hub import snapshot_download
from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError, RevisionNotFoundError
w = sys.argv[1]
snapshot_download("org/tiny", local_dir=os.path.join(w, "snap-local"))
snapshot_download("org/tiny", cache_dir=os.path.join(w, "snap-cache"))
snapshot_download("org/gated", local_dir=os.path.join(w, "snap-gated"), token="hf_test_token")
for call, err in [(lambda: snapshot_download("org/gated", cache_dir=os.path.join(w, "x")), GatedRepoError),
                  (lambda: snapshot_download("org/none", cache_dir=os.path.join(w, "x")), RepositoryNotFoundError),
                  (lambda: snapshot_download("org/tiny", revision="v9", cache_dir=os.path.join(w, "x")), RevisionNotFoundError)]:
    try:
        call()
        sys.exit(f"expected {err.__name__}")
    except err:
        pass
PY
  then
    snap="$(ls -d "$work"/snap-cache/models--org--tiny/snapshots/*)"
    if same_tree "$work/snap-local" "$t" && same_tree "$snap" "$t" && same_tree "$work/snap-gated" "$work/hf/org/gated" &&
       same_tree "$work/snap-local" "$work/d1" && [[ "$(basename "$snap")" == "$commit" ]]; then
      ok "hf: huggingface_hub $("$venv/bin/python" -c 'import huggingface_hub as h; print(h.__version__)') snapshot_download gets identical files (local_dir and cache), errors map to its exception types"
    else bad "hf: huggingface_hub faithfulness" "trees differ"; fi
  else bad "hf: huggingface_hub faithfulness" "$(tail -3 "$work/snap.out")"; fi
else bad "hf: huggingface_hub venv" "$(tail -3 "$work/venv.err")"; fi

# ---- disk full ----------------------------------------------------------------------------
mkdir -p "$work/small"
if mount -t tmpfs -o size=1m tmpfs "$work/small" 2>/dev/null; then
  mounted="$work/small"
  fetch hf://org/tiny "$work/small/d"
  [[ $rc == 6 && "$(last_field class)" == disk_full ]] && ok "disk full: 1 MiB tmpfs -> disk_full (exit 6) before transfer" || bad "disk full (tmpfs)" "rc=$rc"
  umount "$work/small" && mounted=""
else
  echo "SKIP disk full on tmpfs (mount not permitted)"
fi
( ulimit -f 1024; "$bin" hf://org/tiny "$work/d12" -q --progress-file "$work/progress.jsonl" 2>/dev/null ); rc=$?
[[ $rc == 6 && "$(last_field class)" == disk_full ]] && ok "disk full: RLIMIT_FSIZE (EFBIG) -> disk_full (exit 6)" || bad "disk full (rlimit)" "rc=$rc"

# ---- HTTPS --------------------------------------------------------------------------------
U="https://127.0.0.1:$ST/model.bin"
fetch "$U" "$work/h1" --ca-file "$work/cert.pem" --sha256-file "$work/sums.txt" --chunk-mib 1
[[ $rc == 0 ]] && cmp -s "$work/h1/model.bin" "$work/static/model.bin" && ok "https: parallel ranges over TLS, sha256 list verified" || bad "https: full" "rc=$rc"
fetch "$U" "$work/h2" --ca-file "$work/cert.pem" --sha256 "$(printf '0%.0s' $(seq 64))"
[[ $rc == 7 ]] && ok "https: sha256 mismatch -> exit 7" || bad "https: sha256 mismatch" "rc=$rc"
fetch "$U" "$work/h3" --retries 3 --backoff-base 0.05
[[ $rc == 9 && "$(count_events retry)" == 0 ]] && ok "https: untrusted certificate fails at once (exit 9, no retries)" || bad "https: untrusted cert" "rc=$rc"
admin "$ST" '{"interrupt": {"file": "model.bin", "at_byte": 2000000, "times": 1}}' 2>/dev/null ||
  curl -sfk -X POST -d '{"interrupt": {"file": "model.bin", "at_byte": 2000000, "times": 1}}' "https://127.0.0.1:$ST/_admin/faults" >/dev/null
fetch "$U" "$work/h4" --ca-file "$work/cert.pem" --sha256-file "$work/sums.txt" --backoff-base 0.05
curl -sfk -X DELETE "https://127.0.0.1:$ST/_admin/faults" >/dev/null
[[ $rc == 0 && "$(count_events retry network)" -ge 1 ]] && cmp -s "$work/h4/model.bin" "$work/static/model.bin" &&
  ok "https: dropped connection resumed with a Range request" || bad "https: interrupted" "rc=$rc"

# ---- S3 -----------------------------------------------------------------------------------
export AWS_ENDPOINT_URL="http://127.0.0.1:$S3" AWS_REGION=us-east-1
AWS_ACCESS_KEY_ID=AKIDTEST AWS_SECRET_ACCESS_KEY=secret-test-key fetch s3://models/llama "$work/s1" --chunk-mib 1
[[ $rc == 0 ]] && same_tree "$work/s1" "$t" && ok "s3: SigV4, path-style, parallel ranges, single-part ETag MD5 verified" || bad "s3: full" "rc=$rc $(cat "$work/stderr.txt")"
AWS_ACCESS_KEY_ID=AKIDTEST AWS_SECRET_ACCESS_KEY=secret-test-key fetch s3://models/llama/config.json "$work/s1b"
[[ $rc == 0 && -f "$work/s1b/config.json" ]] && ok "s3: a single object URI" || bad "s3: single object" "rc=$rc"
AWS_ACCESS_KEY_ID=AKIDTEST AWS_SECRET_ACCESS_KEY=wrong-secret fetch s3://models/llama "$work/s2"
[[ $rc == 3 && "$(last_field class)" == auth ]] && ! grep -q wrong-secret "$work/progress.jsonl" "$work/stderr.txt" &&
  ok "s3: bad secret -> auth (exit 3), secret never printed" || bad "s3: bad secret" "rc=$rc"
AWS_ACCESS_KEY_ID=AKIDTEST AWS_SECRET_ACCESS_KEY=secret-test-key fetch s3://models/nothing-here "$work/s3"
[[ $rc == 4 ]] && ok "s3: empty prefix -> not_found (exit 4)" || bad "s3: not found" "rc=$rc"
curl -sf -X POST -d '{"interrupt": {"key": "model.safetensors", "at_byte": 2500000, "times": 1}, "rate_limit": {"count": 2}}' \
  "http://127.0.0.1:$S3/_admin/faults" >/dev/null
AWS_ACCESS_KEY_ID=AKIDTEST AWS_SECRET_ACCESS_KEY=secret-test-key fetch s3://models/llama "$work/s4" --chunk-mib 1 --backoff-base 0.05
curl -sf -X DELETE "http://127.0.0.1:$S3/_admin/faults" >/dev/null
[[ $rc == 0 ]] && same_tree "$work/s4" "$t" && [[ "$(count_events retry rate_limited)" == 2 && "$(count_events retry network)" -ge 1 ]] &&
  ok "s3: SlowDown (as rate_limited) and a dropped connection retried" || bad "s3: faults" "rc=$rc"
if command -v aws >/dev/null && AWS_ACCESS_KEY_ID=AKIDTEST AWS_SECRET_ACCESS_KEY=secret-test-key \
   aws --endpoint-url "$AWS_ENDPOINT_URL" s3 ls s3://models/llama/ >/dev/null 2>&1 &&
   ! AWS_ACCESS_KEY_ID=AKIDTEST AWS_SECRET_ACCESS_KEY=bad aws --endpoint-url "$AWS_ENDPOINT_URL" s3 ls s3://models/llama/ >/dev/null 2>&1; then
  ok "s3: the server's SigV4 verifier accepts the AWS CLI's signatures and rejects a wrong secret"
else echo "SKIP s3 verifier cross-check (no AWS CLI)"; fi

AWS_ACCESS_KEY_ID=AKIDTEST AWS_SECRET_ACCESS_KEY=secret-test-key fetch s3://models/llama "$work/s5" --exclude '*.safetensors' --exclude 'sub/'
[[ $rc == 0 && "$(files_of "$work/s5")" == ".gitattributes config.json empty.txt tokenizer.json " ]] &&
  ok "s3: --exclude skips a file type and a directory" || bad "s3: --exclude" "rc=$rc files=$(files_of "$work/s5")"
curl -sf -X POST -d '{"corrupt": {"key": "model.safetensors", "at_byte": 1234567, "times": -1}}' "http://127.0.0.1:$S3/_admin/faults" >/dev/null
AWS_ACCESS_KEY_ID=AKIDTEST AWS_SECRET_ACCESS_KEY=secret-test-key fetch s3://models/llama "$work/s6" --chunk-mib 1 --backoff-base 0.05
curl -sf -X DELETE "http://127.0.0.1:$S3/_admin/faults" >/dev/null
[[ $rc == 7 && "$(last_field class)" == checksum_mismatch && ! -e "$work/s6/model.safetensors" ]] &&
  ok "s3: a byte flipped in every response caught by the ETag MD5 (exit 7), file never placed" || bad "s3: corruption" "rc=$rc"
# Objects with a CRC: the HEAD before a ranged object asks for it (x-amz-checksum-mode), the CRC
# replaces the ETag's MD5, and a flipped byte is caught by the CRC (the message names it: had the
# MD5 been checked it would have said "md5").
for algo in crc64nvme crc32c; do
  port="$(port_of "s3${algo%nvme}")"
  AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=AKIDTEST AWS_SECRET_ACCESS_KEY=secret-test-key \
    fetch s3://models/llama "$work/s7-$algo" --chunk-mib 1
  [[ $rc == 0 ]] && same_tree "$work/s7-$algo" "$t" && ok "s3 ($algo objects): fetched and verified by the $algo checksum" ||
    bad "s3 ($algo objects)" "rc=$rc"
  curl -sf -X POST -d '{"corrupt": {"key": "model.safetensors", "at_byte": 2345678, "times": -1}}' "http://127.0.0.1:$port/_admin/faults" >/dev/null
  AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=AKIDTEST AWS_SECRET_ACCESS_KEY=secret-test-key \
    fetch s3://models/llama "$work/s8-$algo" --chunk-mib 1 --backoff-base 0.05
  curl -sf -X DELETE "http://127.0.0.1:$port/_admin/faults" >/dev/null
  msg="$(last_field message)"
  [[ $rc == 7 && "$msg" == *"$algo "*"!= published"* && ! -e "$work/s8-$algo/model.safetensors" ]] &&
    ok "s3 ($algo objects): a flipped byte caught by the $algo checksum, not the MD5 (exit 7)" ||
    bad "s3 ($algo objects): corruption" "rc=$rc message=$msg"
done

# ---- NGC ----------------------------------------------------------------------------------
export NGC_ENDPOINT="http://127.0.0.1:$NGC" NGC_AUTH_ENDPOINT="http://127.0.0.1:$NGC"
NGC_API_KEY=nvapi-test fetch ngc://nvidia/team1/llama-tiny "$work/n1"
[[ $rc == 0 && "$(last_field revision)" == 2.0 ]] && same_tree "$work/n1" "$t" && ok "ngc: latest version, token exchange, sha256 verified" || bad "ngc: full" "rc=$rc"
NGC_API_KEY=nvapi-test fetch ngc://nvidia/team1/llama-tiny:1.0 "$work/n2"
[[ $rc == 0 && -f "$work/n2/old.txt" ]] && ok "ngc: pinned version" || bad "ngc: pinned" "rc=$rc"
NGC_API_KEY=wrong fetch ngc://nvidia/team1/llama-tiny "$work/n3"
[[ $rc == 3 ]] && ok "ngc: bad API key -> auth (exit 3)" || bad "ngc: bad key" "rc=$rc"

# ---- check-size ---------------------------------------------------------------------------
size="$("$bin" hf://org/tiny --check-size -q | python3 -c 'import json,sys; print(json.load(sys.stdin)["sizeBytes"])')"
want_size="$(find "$t" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')"
[[ "$size" == "$want_size" ]] && ok "check-size prints the source size ($size bytes)" || bad "check-size" "$size vs $want_size"

echo "$passed passed, $failed failed"
[[ $failed == 0 ]]
