#!/usr/bin/env bash
# Builds provgate and runs the whole test suite (unit + integration against a
# real docker-registry on loopback). Usage:
#   scripts/test.sh              # RelWithDebInfo build in build/
#   scripts/test.sh --sanitize   # AddressSanitizer + UBSan build in build-asan/
#   scripts/test.sh --tsan       # ThreadSanitizer build in build-tsan/: the unit
#                                # tests and the server's integration tests
# Extra arguments after "--" go to ctest (e.g. -- -L integration).
set -euo pipefail
cd "$(dirname "$0")/.."

# Every build keeps line tables only (-g1): what a failed test's stack trace
# and a sanitizer report need, for about a quarter less compile time than -g.
build=build
flags=(-DPROVGATE_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG")
if [ "${1:-}" = "--sanitize" ]; then
  build=build-asan
  flags=(-DPROVGATE_WERROR=ON -DPROVGATE_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1)
  shift
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fi
if [ "${1:-}" = "--tsan" ]; then
  build=build-tsan
  flags=(-DPROVGATE_WERROR=ON -DPROVGATE_TSAN=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG")
  shift
  export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1"
  # misbehaving_registry_test bounds answer times (a healthy admission in < 1 s
  # while another hangs), which a ThreadSanitizer build of provgate cannot keep.
  set -- -E "cli_check|cli_verify|cli_reason_codes|cli_registry_options|registry_roundtrip|token_auth|sigstore_bundle|chart_test|example_tekton|misbehaving_registry" "$@"
fi
[ "${1:-}" = "--" ] && shift

jobs=$(nproc 2>/dev/null || echo 2)
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S . -B "$build" "${generator[@]}" "${flags[@]}" >/dev/null
cmake --build "$build" -j"$jobs"
ctest --test-dir "$build" --output-on-failure -j"$jobs" --timeout 600 "$@"
