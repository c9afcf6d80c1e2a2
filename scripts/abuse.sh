#!/usr/bin/env bash
# Abuse of a real civitasd's public ports (issue 9; docs/RELIABILITY.md, "Abuse"): oversized
# gRPC requests, a bad-signature flood, a mempool flood, idle connections on every port, P2P
# handshakes with unknown keys and garbage frames. Runs tests/e2e/abuse_test.cc.
#   scripts/abuse.sh            the CI size (about 7 s)
#   scripts/abuse.sh --long     ten times the floods and 5000 idle connections a port
# Options: --scale N (load multiplier), --build-dir DIR (default build), --no-build.
set -euo pipefail
cd "$(dirname "$0")/.."
scale=1
build_dir=build
build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --long) scale=10 ;;
    --scale) scale=$2; shift ;;
    --build-dir) build_dir=$2; shift ;;
    --no-build) build=0 ;;
    *) echo "abuse: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
if [ $build = 1 ]; then
  cmake --build "$build_dir" --target civitasd e2e_abuse_test >/dev/null
fi
# Each idle connection costs the test a descriptor too.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
ABUSE_SCALE=$scale "$build_dir/tests/e2e/e2e_abuse_test" --gtest_brief=1
