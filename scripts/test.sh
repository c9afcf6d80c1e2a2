#!/usr/bin/env bash
# Installs what is needed, builds, and runs the whole test suite: first the normal build
# (warnings as errors), then the ASan + UBSan build. Exits non-zero on any failure.
#   scripts/test.sh            everything
#   scripts/test.sh --quick    normal build only, no sanitizer pass
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
[ "${1:-}" = "--quick" ] && quick=1

bash scripts/setup.sh
jobs=$(nproc)
# Each stage's heading says when it starts (seconds since setup finished), so a run's log shows
# where the time goes.
SECONDS=0
stage() { echo "== $* [${SECONDS} s]"; }

stage "lint (module rules, formatting)"
bash scripts/lint.sh
stage "build (warnings as errors)"
bash scripts/build.sh --werror --unity --line-tables
stage "tests"
# Twice as many tests as cores: the end-to-end tests spend most of their time waiting for their
# councils, and every test must pass with both cores busy anyway.
ctest --test-dir build --output-on-failure -j "$((2 * jobs))" --timeout 600
stage "benchmark harness smoke (4 validators, small load; checks the harness, not the speed)"
bash scripts/bench.sh --smoke >bench-smoke.log 2>&1 || { tail -n 40 bench-smoke.log; exit 1; }
grep -E "throughput / ceiling" bench-smoke.log | tail -1
stage "chaos smoke: 4 validators, 75 s of kills, stops, cut links, a partition, latency"
bash scripts/chaos.sh --short --seed 3 --no-build >chaos-smoke.log 2>&1 || { tail -n 60 chaos-smoke.log; exit 1; }
grep -E "perturbations applied|OK: no violation" chaos-smoke.log

if [ "$quick" -eq 0 ]; then
  stage "fuzz smoke: 13 targets, 2 s each (longer: scripts/fuzz.sh SECONDS)"
  if ! bash scripts/fuzz.sh 2 >fuzz-smoke.log 2>&1; then
    tail -n 60 fuzz-smoke.log
    echo "fuzz smoke FAILED (crashing input under build-fuzz/artifacts-*)"
    exit 1
  fi
  grep -E "^Done" fuzz-smoke.log
  stage "build with AddressSanitizer + UndefinedBehaviorSanitizer"
  bash scripts/build.sh --sanitize --werror --line-tables --unity
  stage "tests under sanitizers"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp ctest --test-dir build-asan --output-on-failure -j "$jobs" --timeout 900
fi
stage "all tests passed"
