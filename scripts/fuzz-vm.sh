#!/usr/bin/env bash
# Builds the VM's libFuzzer target with Debian's clang in build-fuzz/ and runs it.
#   scripts/fuzz-vm.sh [SECONDS]   (default 60)
# The corpus (seeded with the example programs) is kept in build-fuzz/vm-corpus; crashes are
# written to build-fuzz/vm-artifacts/.
set -euo pipefail
seconds="${1:-60}"
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build-fuzz"
san="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer"
# Unity batches and line tables only: this build exists to fuzz, and it is part of every CI run.
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCIVITAS_FUZZ=ON -DCIVITAS_BENCH=OFF -DCMAKE_C_FLAGS="$san" -DCMAKE_CXX_FLAGS="$san" \
  -DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=8 \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" >/dev/null
ninja -C "$build" vm_fuzz civitas-asm
mkdir -p "$build/vm-corpus" "$build/vm-artifacts"
for p in "$root"/tests/vm/programs/*.casm; do
  ASAN_OPTIONS=detect_leaks=0 "$build/tools/asm/civitas-asm" assemble "$p" \
    -o "$build/vm-corpus/$(basename "$p" .casm).bin"
done
cp "$root"/tests/vm/fuzz_regressions/* "$build/vm-corpus/" 2>/dev/null || true
"$build/tests/fuzz/vm_fuzz" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$build/vm-artifacts/" "$build/vm-corpus"
