#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (one per untrusted input; tests/fuzz/README.md)
# with Debian's clang (ASan + UBSan) in build-fuzz/ and runs each for SECONDS (default 60), one
# after another. Each target keeps its corpus in build-fuzz/corpus-<target>/, seeded from
# tests/fuzz/corpus/<target>/, uses tests/fuzz/dict/<target>.dict when there is one, and writes
# crashing inputs to build-fuzz/artifacts-<target>/ (add them to the seed corpus once fixed, so
# they stay tested).
#   scripts/fuzz.sh [SECONDS] [TARGET...]   (default: every target)
set -euo pipefail
seconds="${1:-60}"
shift || true
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build-fuzz"
all=(tx_fuzz block_fuzz consensus_msg_fuzz consensus_records_fuzz p2p_fuzz sync_fuzz proof_fuzz
  genesis_fuzz config_fuzz keyfile_fuzz vm_fuzz vm_diff_fuzz credential_fuzz)
targets=("${all[@]}")
[ $# -eq 0 ] || targets=("$@")
san="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer"
# Unity batches, -O1 (as OSS-Fuzz builds) and line tables only: this build exists to fuzz, and it
# is part of every CI run.
export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCIVITAS_FUZZ=ON -DCIVITAS_BENCH=OFF -DCMAKE_C_FLAGS="$san" -DCMAKE_CXX_FLAGS="$san" \
  -DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=8 \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" >/dev/null
ninja -C "$build" -j"${JOBS:-2}" "${targets[@]}"
for t in "${targets[@]}"; do
  corpus="$build/corpus-$t"
  mkdir -p "$corpus" "$build/artifacts-$t"
  cp -n "$root/tests/fuzz/corpus/$t"/* "$corpus/" 2>/dev/null || true
  dict=()
  [ -f "$root/tests/fuzz/dict/$t.dict" ] && dict=(-dict="$root/tests/fuzz/dict/$t.dict")
  echo "== $t ($seconds s)"
  "$build/tests/fuzz/$t" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 "${dict[@]}" \
    -artifact_prefix="$build/artifacts-$t/" "$corpus"
done
