#!/usr/bin/env bash
# Builds every libFuzzer target with Debian's clang (ASan + UBSan) in build-fuzz/ and runs each
# for SECONDS (default 60). Crashing inputs land in build-fuzz/artifacts-<target>/; add them to
# the target's regression folder so they become tests.
#   scripts/fuzz.sh [SECONDS]
set -euo pipefail
seconds="${1:-60}"
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build-fuzz"
# The VM target has its own script (corpus seeded from the example programs).
bash "$root/scripts/fuzz-vm.sh" "$seconds"
ninja -C "$build" -j"${JOBS:-2}" decode_fuzz
mkdir -p "$build/corpus-decode" "$build/artifacts-decode"
"$build/tests/fuzz/decode_fuzz" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -max_len=70000 -artifact_prefix="$build/artifacts-decode/" "$build/corpus-decode"
