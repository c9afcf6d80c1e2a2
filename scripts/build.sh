#!/usr/bin/env bash
# Configures and builds Civitas with Ninja (and ccache when present).
#   scripts/build.sh                 release-with-debug-info build in build/
#   scripts/build.sh --sanitize      ASan + UBSan build in build-asan/ (-O1 with --line-tables,
#                                    as the sanitizers' documentation advises: a third less to
#                                    compile than -O2)
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
line_tables=0
opt=-O2
for arg in "$@"; do
  case "$arg" in
    --sanitize) build_dir=build-asan; opt=-O1; flags+=(-DCIVITAS_SANITIZE=ON -DCIVITAS_BENCH=OFF) ;;
    --werror) flags+=(-DCIVITAS_WERROR=ON) ;;
    --unity) flags+=(-DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=8) ;;
    --line-tables) line_tables=1 ;;
    -*) echo "unknown option $arg" >&2; exit 2 ;;
    *) targets+=("$arg") ;;
  esac
done
if [ "$line_tables" -eq 1 ]; then
  flags+=("-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=$opt -g1 -DNDEBUG" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=$opt -g1 -DNDEBUG")
fi
# Let ccache share objects between checkouts at different paths (CI clones afresh).
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
cmake -S . -B "$build_dir" -G Ninja "${flags[@]}" >/dev/null
ninja -C "$build_dir" "${targets[@]}"
echo "built in $build_dir/"
