#!/usr/bin/env bash
# The long fuzzing campaign (tests/fuzz/README.md#campaign), resumable: runs
# each harness in chunks of --chunk executions (scripts/fuzz.sh --runs) on a
# working corpus kept in --corpus-dir, one ledger row per chunk, until the
# ledger holds --target executions for it. Stopped at any point (a session's
# end, Ctrl-C), the same command goes on where the ledger says.
#   scripts/fuzz-campaign.sh [--target N] [--chunk N] [--corpus-dir D] [--ledger F] [NAME...]
#     --target N      executions per harness (default 10000000)
#     --chunk N       executions per chunk (default 1000000)
#     --corpus-dir D  working corpora (default /var/tmp/provgate-fuzz-campaign)
#     --ledger F      the ledger (default tests/fuzz/campaign.tsv)
#     NAME...         harnesses, in this order (default: all)
# Stops at the first chunk that finds something (scripts/fuzz.sh prints the
# reproducer); the ledger row says FAILED. Summarise with
# `python3 tests/fuzz/campaign_table.py tests/fuzz/campaign.tsv`.
set -euo pipefail
cd "$(dirname "$0")/.."

target=10000000
chunk=1000000
corpus_dir=/var/tmp/provgate-fuzz-campaign
ledger=tests/fuzz/campaign.tsv
names=()
while [ $# -gt 0 ]; do
  case "$1" in
    --target) target=$2; shift 2 ;;
    --chunk) chunk=$2; shift 2 ;;
    --corpus-dir) corpus_dir=$2; shift 2 ;;
    --ledger) ledger=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set /{/^set /d;p}' "$0"; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) names+=("$1"); shift ;;
  esac
done
[ ${#names[@]} -eq 0 ] && mapfile -t names < <(scripts/fuzz.sh --list)
touch "$ledger"

done_so_far() {  # executions the ledger holds for harness $1
  awk -F'\t' -v n="$1" '$3 == n { s += $5 } END { printf "%d\n", s }' "$ledger"
}

for n in "${names[@]}"; do
  while :; do
    have=$(done_so_far "$n")
    [ "$have" -ge "$target" ] && break
    runs=$((target - have < chunk ? target - have : chunk))
    echo "fuzz-campaign: $n: $have of $target executions; a chunk of $runs" >&2
    scripts/fuzz.sh --runs "$runs" --corpus-dir "$corpus_dir" --ledger "$ledger" "$n"
  done
done
