#!/usr/bin/env bash
# Builds the libFuzzer harnesses (the `fuzz` preset: clang, ASan+UBSan) and runs one or all of
# them, one after another, for SECONDS each (docs/fuzzing.md).
#
#   scripts/fuzz.sh                      every harness, 60 s each
#   scripts/fuzz.sh semver 600           one harness for ten minutes
#   scripts/fuzz.sh '' 0                 replay every corpus input once (what CI runs)
#   scripts/fuzz.sh '' 12                every harness, 12 s each (CI: scripts/test.sh fuzz, with
#                                        AIM_FUZZ_SEED=1: the same mutations on every run)
#   scripts/fuzz.sh --merge kubeconfig   ... then minimize what it found into fuzz/corpus/kubeconfig
#   scripts/fuzz.sh --list               the harness names
#
# Each harness reads its seed corpus fuzz/corpus/NAME read-only and writes the inputs it finds to
# .local/fuzz/NAME/corpus, which later runs start from (so runs split over several commands add
# up); --merge adds the ones that reach new edges to the repository's corpus (edges only, not
# libFuzzer's finer features: hundreds of files, not thousands). A crash, leak, timeout (an input
# that takes more than AIM_FUZZ_TIMEOUT s, default 10) or out-of-memory fails the harness; the
# input is kept in .local/fuzz/NAME/artifacts/. Every run is appended to .local/fuzz/runs.tsv.
# Ends with one line "N passed, N failed" (one count per harness).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=build/fuzz
OUT="$ROOT/.local/fuzz"
JOBS="${AIM_JOBS:-$(nproc)}"
TIMEOUT="${AIM_FUZZ_TIMEOUT:-10}"

merge=0
args=()
for a in "$@"; do
  case "$a" in
    --merge) merge=1 ;;
    --list) ls fuzz/*_fuzz.cpp | sed -E 's|fuzz/(.*)_fuzz\.cpp|\1|'; exit 0 ;;
    -h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $a" >&2; exit 2 ;;
    *) args+=("$a") ;;
  esac
done
name="${args[0]:-}"
seconds="${args[1]:-60}"
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: SECONDS must be a whole number" >&2; exit 2; }

all=$(ls fuzz/*_fuzz.cpp | sed -E 's|fuzz/(.*)_fuzz\.cpp|\1|')
if [[ -n "$name" ]]; then
  grep -qx "$name" <<<"$all" || { echo "fuzz.sh: no harness '$name' (--list)" >&2; exit 2; }
  names=("$name")
else
  mapfile -t names <<<"$all"
fi

command -v clang++-14 >/dev/null || { echo "fuzz.sh: clang++-14 not found (scripts/install-deps.sh)" >&2; exit 1; }
start=$(date +%s)
cmake --preset fuzz >/dev/null || { echo "fuzz.sh: cmake configure failed" >&2; exit 1; }
targets=()
for n in "${names[@]}"; do targets+=("${n}_fuzz"); done
cmake --build "$BUILD" -j "$JOBS" --target "${targets[@]}" || { echo "fuzz.sh: build failed" >&2; exit 1; }
echo "fuzz build: $(($(date +%s) - start)) s"

mkdir -p "$OUT"
[[ -f "$OUT/runs.tsv" ]] ||
  printf 'date\tcommit\tharness\tseconds\telapsed\texecs\texec_per_s\tcov\tft\tcorpus\tresult\n' >"$OUT/runs.tsv"
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

passed=0
failed=0
for n in "${names[@]}"; do
  work="$OUT/$n"
  mkdir -p "$work/corpus" "$work/artifacts" fuzz/corpus/"$n"
  log="$work/last.log"
  before=$(ls "$work/artifacts" | wc -l)
  printf '\n==> %s: %s s\n' "$n" "$seconds"
  run_start=$(date +%s)
  # The scratch corpus first: libFuzzer writes what it finds to the first directory only.
  # SECONDS 0 replays the corpora once (every input, no mutation): deterministic, for CI.
  if ((seconds == 0)); then limit=(-runs=0); else limit=(-max_total_time="$seconds"); fi
  # AIM_FUZZ_SEED fixes the mutation sequence (CI: a finding replays with the same seed; a slower
  # machine runs a shorter prefix of the same sequence). Unset: a new seed per run.
  [[ -n "${AIM_FUZZ_SEED:-}" ]] && limit+=(-seed="$AIM_FUZZ_SEED")
  "$BUILD/fuzz/${n}_fuzz" "${limit[@]}" -timeout="$TIMEOUT" -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" "$work/corpus" "fuzz/corpus/$n" >"$log" 2>&1
  rc=$?
  elapsed=$(($(date +%s) - run_start))
  execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -1)
  rate=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+).*/\1/p' "$log" | tail -1)
  # The last status line ("#N DONE cov: C ft: F corp: K/..."), else the last one printed.
  status=$(grep -E '^#[0-9]+.*cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
  cov=$(sed -nE 's/.*cov: ([0-9]+).*/\1/p' <<<"$status")
  ft=$(sed -nE 's/.*ft: ([0-9]+).*/\1/p' <<<"$status")
  corp=$(sed -nE 's/.*corp: ([0-9]+)\/.*/\1/p' <<<"$status")
  after=$(ls "$work/artifacts" | wc -l)
  if ((rc == 0 && after == before)); then
    result=ok
    passed=$((passed + 1))
  else
    result="FAILED (exit $rc)"
    failed=$((failed + 1))
    grep -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|property violated|SUMMARY' "$log" | head -5
    ls -t "$work/artifacts" | head -3 | sed "s|^|  artifact: $work/artifacts/|"
    echo "  log: $log"
  fi
  printf '%s: %s s, %s execs, %s exec/s, cov %s, ft %s, corpus %s: %s\n' "$n" "$elapsed" \
    "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$result"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$commit" "$n" \
    "$seconds" "$elapsed" "${execs:-}" "${rate:-}" "${cov:-}" "${ft:-}" "${corp:-}" "$result" \
    >>"$OUT/runs.tsv"
  if ((merge)); then
    "$BUILD/fuzz/${n}_fuzz" -merge=1 -use_counters=0 -timeout="$TIMEOUT" "fuzz/corpus/$n" "$work/corpus" \
      >"$work/merge.log" 2>&1 && echo "  merged into fuzz/corpus/$n: $(ls "fuzz/corpus/$n" | wc -l) files" ||
      echo "  merge failed (see $work/merge.log)"
  fi
done

echo
echo "fuzz: $(($(date +%s) - start)) s in all"
echo "$passed passed, $failed failed"
((failed == 0))
