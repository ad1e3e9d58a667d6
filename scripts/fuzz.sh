#!/usr/bin/env bash
# Builds the libFuzzer harnesses (clang, build-fuzz/) and runs each for a
# fixed time on a copy of its committed corpus (tests/fuzz/README.md).
#   scripts/fuzz.sh [--seconds N | --runs R] [--jobs J] [--build-jobs B] [--corpus-dir D] [--ledger F]
#                   [--merge-into-repo] [--keep] [NAME...]
#     --seconds N        per harness (default 20)
#     --runs R           per harness: R executions instead of a time (a campaign's chunk)
#     --corpus-dir D     the working corpora live in D/<name>/ and are kept: seeded from the
#                        committed corpus when empty, grown by each run (a campaign in chunks)
#     --ledger F         append one tab-separated row per harness to F: date, commit, harness,
#                        seconds, executions, exec/s, cov, ft, corpus files, result
#                        (tests/fuzz/campaign_table.py sums a ledger into the README's table)
#     --jobs J           libFuzzer worker processes per harness (-fork=J; default 1)
#     --build-jobs B     parallel compile jobs (default 1)
#     --merge-into-repo  replace tests/fuzz/corpus/<name>/ by the committed corpus and what
#                        the run found, minimised (-merge=1 over edges); otherwise the
#                        repository is never written
#     --keep             keep the working directory (corpora, logs) and print it
#     --list             print the harnesses' names and exit
#     NAME...            harnesses (default: all, tests/fuzz/harnesses.cmake)
# Exits non-zero when any harness crashes, times out (-timeout=10), runs out
# of memory (-rss_limit_mb=2048) or leaks, and prints the reproducer's path
# (kept even without --keep). Prints one summary row per harness: seconds,
# executions, exec/s, cov, ft, corpus files and bytes.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

seconds=20
runs=0
corpus_dir=
ledger=
jobs=1
build_jobs=1
merge=0
keep=0
list=0
names=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --corpus-dir) corpus_dir=$(mkdir -p "$2" && cd "$2" && pwd); shift 2 ;;
    --ledger) ledger=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --build-jobs) build_jobs=$2; shift 2 ;;
    --merge-into-repo) merge=1; shift ;;
    --keep) keep=1; shift ;;
    --list) list=1; shift ;;
    -h|--help) sed -n '2,/^set /{/^set /d;p}' "$0"; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) names+=("$1"); shift ;;
  esac
done
if [ ${#names[@]} -eq 0 ]; then
  # The list in tests/fuzz/harnesses.cmake, between "set(PROVGATE_FUZZ_HARNESSES" and ")".
  read -r -a names <<<"$(sed -n '/^set(PROVGATE_FUZZ_HARNESSES/,/)/p' tests/fuzz/harnesses.cmake |
    sed 's/set(PROVGATE_FUZZ_HARNESSES//; s/)//' | tr '\n' ' ')"
fi
if [ $list -eq 1 ]; then printf '%s\n' "${names[@]}"; exit 0; fi

# The largest input each harness is given: a little above its largest seed.
max_len() {
  case "$1" in
    admission_review) echo 65536 ;;
    read_manifests | policy_yaml | sigstore_bundle | trusted_root | hostile_registry) echo 16384 ;;
    oci_manifest | dsse | in_toto | model_signing_statement) echo 8192 ;;
    condition | simple_signing | registry_config) echo 4096 ;;
    checkpoint) echo 2048 ;;
    reference | www_authenticate) echo 512 ;;
    *) echo 4096 ;;
  esac
}

# Debian's clang-14 and libclang-rt-14-dev (libFuzzer and the sanitizer runtimes).
if ! command -v clang++-14 >/dev/null || ! ls /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a \
    >/dev/null 2>&1; then
  echo "fuzz: needs clang-14 and libclang-rt-14-dev (apt-get install clang-14 libclang-rt-14-dev)" >&2
  exit 1
fi
targets=()
for n in "${names[@]}"; do targets+=("fuzz_$n"); done
# One configure and build at a time: two campaigns in one checkout (each
# harness group on its own core) would otherwise configure build-fuzz/ at
# the same moment and break each other's generated files.
mkdir -p build-fuzz
(
  flock 9
  CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DPROVGATE_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" >/dev/null
  cmake --build build-fuzz -j"$build_jobs" --target "${targets[@]}"
) 9>build-fuzz/.build-lock

work=$(mktemp -d "${TMPDIR:-/tmp}/provgate-fuzz.XXXXXX")
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export TMPDIR="$work/tmp"
mkdir -p "$TMPDIR"

failed=()
printf '%-26s %7s %12s %9s %7s %7s %7s %10s  %s\n' harness seconds executions exec/s cov ft files bytes result
for n in "${names[@]}"; do
  bin="build-fuzz/tests/fuzz/fuzz_$n"
  corpus="${corpus_dir:-$work/corpus}/$n"
  artifacts="$work/artifacts/$n/"
  mkdir -p "$corpus" "$artifacts"
  if [ -d "tests/fuzz/corpus/$n" ] && [ -z "$(ls -A "$corpus")" ]; then cp -r "tests/fuzz/corpus/$n/." "$corpus/"; fi
  dict=()
  [ -f "tests/fuzz/dict/$n.dict" ] && dict=(-dict="tests/fuzz/dict/$n.dict")
  parallel=()
  [ "$jobs" -gt 1 ] && parallel=(-fork="$jobs")
  log="$work/$n.log"
  budget=(-max_total_time="$seconds")
  [ "$runs" -gt 0 ] && budget=(-runs="$runs")
  started=$(date +%s.%N)
  set +e
  "$bin" "${budget[@]}" -rss_limit_mb=2048 -timeout=10 -max_len="$(max_len "$n")" \
    -print_final_stats=1 -artifact_prefix="$artifacts" "${dict[@]}" "${parallel[@]}" "$corpus" >"$log" 2>&1
  rc=$?
  set -e
  took=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  # cov/ft from libFuzzer's last status line ("#N ... cov: X ft: Y corp: ...").
  last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 || true)
  cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$last")
  files=$(find "$corpus" -type f | wc -l)
  bytes=$(find "$corpus" -type f -printf '%s\n' | awk '{s+=$1} END {print s+0}')
  result=ok
  found=$(find "$artifacts" -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | sort)
  if [ $rc -ne 0 ] || [ -n "$found" ]; then
    result="FAILED (exit $rc)"
    failed+=("$n")
    keep=1
  fi
  if [ -n "$ledger" ]; then
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
      "$(git rev-parse --short HEAD 2>/dev/null || echo '?')" "$n" "$took" "${execs:-0}" "${rate:-0}" "${cov:-0}" \
      "${ft:-0}" "$files" "$result" >>"$ledger"
  fi
  printf '%-26s %7s %12s %9s %7s %7s %7s %10s  %s\n' "$n" "$took" "${execs:-?}" "${rate:-?}" "${cov:-?}" \
    "${ft:-?}" "$files" "$bytes" "$result"
  if [ "$result" != ok ]; then
    grep -E 'ERROR: libFuzzer|ERROR: AddressSanitizer|runtime error|fuzz invariant violated|SUMMARY' "$log" | head -5 | sed 's/^/    /'
    for f in $found; do echo "    reproducer: $f (replay: $bin $f)"; done
    [ -z "$found" ] && echo "    log: $log"
  fi
  if [ $merge -eq 1 ] && [ "$result" = ok ]; then
    merged="$work/merged/$n"
    mkdir -p "$merged"
    # Edges only (-use_counters=0): every covered edge keeps an input, but not
    # every hit count, which keeps the committed corpus small.
    "$bin" -merge=1 -use_counters=0 -rss_limit_mb=2048 -timeout=10 -max_len="$(max_len "$n")" "$merged" \
      "$root/tests/fuzz/corpus/$n" "$corpus" >"$work/$n.merge.log" 2>&1
    mkdir -p "tests/fuzz/corpus/$n"
    find "tests/fuzz/corpus/$n" -type f -delete
    cp "$merged"/* "tests/fuzz/corpus/$n/" 2>/dev/null || true
    echo "    merged into tests/fuzz/corpus/$n: $(find "tests/fuzz/corpus/$n" -type f | wc -l) files"
  fi
done

if [ $keep -eq 1 ]; then
  echo "working directory: $work"
else
  rm -rf "$work"
fi
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${#failed[@]} harness(es) failed: ${failed[*]}" >&2
  exit 1
fi
