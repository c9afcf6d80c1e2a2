#!/usr/bin/env bash
# Configures and builds Civitas with Ninja (and ccache when present).
#   scripts/build.sh                 release-with-debug-info build in build/
#   scripts/build.sh --sanitize      ASan + UBSan build in build-asan/
#   scripts/build.sh --werror        warnings are errors (CI)
#   scripts/build.sh --line-tables   debug info of line tables only (-g1): enough for stack
#                                    traces, much less to compile and link (CI)
#   scripts/build.sh --unity         unity build: each target's sources compiled in batches of 8,
#                                    so the gRPC/protobuf headers are parsed once per batch (about
#                                    half the CPU of a clean build; CI uses it, incremental work
#                                    is faster without)
#   scripts/build.sh [flags] TARGET...   build only these targets (e.g. civitasd civitas)
# --werror, --unity and --line-tables stay set in the build folder's CMake cache for later runs
# without flags (scripts/bench.sh, chaos.sh); a fresh folder, or `rm build/CMakeCache.txt`,
# starts from the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=build
flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
targets=()
for arg in "$@"; do
  case "$arg" in
    --sanitize) build_dir=build-asan; flags+=(-DCIVITAS_SANITIZE=ON -DCIVITAS_BENCH=OFF) ;;
    --werror) flags+=(-DCIVITAS_WERROR=ON) ;;
    --unity) flags+=(-DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=8) ;;
    --line-tables) flags+=("-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG"
                           "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG") ;;
    -*) echo "unknown option $arg" >&2; exit 2 ;;
    *) targets+=("$arg") ;;
  esac
done
# Let ccache share objects between checkouts at different paths (CI clones afresh).
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
cmake -S . -B "$build_dir" -G Ninja "${flags[@]}" >/dev/null
ninja -C "$build_dir" "${targets[@]}"
echo "built in $build_dir/"
