#!/usr/bin/env bash
# Keyless Sigstore verification against the key-signed path (issue 10): builds
# bench_keyless in build-bench/, makes sigstore-js mock bundles offline into a
# temporary directory, runs the benchmark, then `openssl speed` for the
# per-verify cost of ECDSA P-256 and P-384 (the physical floor). Prints the
# load before and after: other sessions build on this machine too.
#
#   bench/keyless.sh [extra bench_keyless flags, e.g. --benchmark_filter=BM_Keyless]
#   JOBS=1 bench/keyless.sh           # build parallelism (default: 1 while another ninja runs, else 2)
#   REPETITIONS=5 SPEED_SECONDS=3     # the defaults
#   PROVGATE_OMS_FIXTURES=<dir>       # the public-good model_signing fixtures (default tests/testdata/oms)
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD_DIR=build-bench
REPETITIONS=${REPETITIONS:-5}
SPEED_SECONDS=${SPEED_SECONDS:-3}
if [[ -z "${JOBS:-}" ]]; then
  if pgrep -x ninja >/dev/null; then JOBS=1; else JOBS=2; fi
fi

echo "== load before: $(uptime)"
echo "== commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"

cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD_DIR" --target bench_keyless -j "$JOBS"

fixtures=$(mktemp -d /tmp/provgate-keyless-bench.XXXXXX)
trap 'rm -rf "$fixtures"' EXIT
# The subject digest is the one the provenance statement names; any value does.
node tests/tools/make_keyless_fixtures.mjs "$fixtures" "$(printf 'a%.0s' {1..64})" >/dev/null

echo "== bench_keyless (median of $REPETITIONS repetitions)"
PROVGATE_KEYLESS_FIXTURES="$fixtures" "$BUILD_DIR/bench/bench_keyless" \
  --benchmark_repetitions="$REPETITIONS" --benchmark_report_aggregates_only=true "$@"

echo "== openssl speed (one core)"
openssl version
for curve in ecdsap256 ecdsap384; do
  openssl speed -seconds "$SPEED_SECONDS" "$curve" 2>/dev/null | grep -E '^ *(sign|[0-9]+ bits ecdsa)'
done

echo "== load after: $(uptime)"
