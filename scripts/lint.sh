#!/usr/bin/env bash
# Checks the module rules of docs/ARCHITECTURE.md, that named docs exist, and formatting. Exits non-zero on a
# violation.
set -uo pipefail
cd "$(dirname "$0")/.."
fail=0
forbid() {  # folder, regex of forbidden includes, why
  [ -d "$1" ] || return 0
  local hits
  hits=$(grep -rEn "^[[:space:]]*#[[:space:]]*include[[:space:]]*[<\"]($2)" "$1" --include='*.h' --include='*.cc' || true)
  if [ -n "$hits" ]; then echo "$1/ must not include ($3):"; echo "$hits"; fail=1; fi
}
forbid consensus 'boost/|rocksdb/|grpc|thread>|random>|mutex>|chrono>|node/|vm/' "no I/O, clocks, threads or randomness in consensus"
forbid vm 'boost/|rocksdb/|grpc|thread>|random>|consensus/|ledger/|node/' "the VM sees the world only through vm::Host"
forbid ledger 'boost/|grpc|consensus/|node/|spdlog' "the ledger knows nothing of the network or consensus"
# The nation's contract bytes and civic calls live below the ledger (civitas_civic): no arrow
# from ledger/ climbs up to genesis/.
forbid ledger 'genesis/' "the ledger sits below genesis/: the contract bytes are ledger/system_contracts.h (civitas_civic)"
forbid tools/wallet 'node/|grpc' "the wallet library is keys and transactions: key files are primitives (ledger/keyfile.h)"
if grep -qE 'civitas_node' tools/wallet/CMakeLists.txt; then
  echo "tools/wallet/ must not link civitas_node (key files are primitives: ledger/keyfile.h)"; fail=1
fi
# RocksDB only in the store (and its memtable).
hits=$(grep -rln "include <rocksdb/" ledger node tools consensus vm 2>/dev/null |
  grep -Ev '^ledger/(store|hash_memtable)\.cc$' || true)
if [ -n "$hits" ]; then echo "RocksDB headers outside ledger/store.cc and ledger/hash_memtable.cc:"; echo "$hits"; fail=1; fi
for d in consensus vm; do
  [ -d "$d" ] || continue
  hits=$(grep -rEn '(system_clock|steady_clock|high_resolution_clock)::now|std::rand\(|random_device' "$d" --include='*.h' --include='*.cc' || true)
  if [ -n "$hits" ]; then echo "$d/ reads a clock or randomness:"; echo "$hits"; fail=1; fi
done
# Every docs/ file a tracked file names must exist.
missing=$(git ls-files | grep -v '^docs/.*\.png$' | xargs grep -ohE 'docs/[A-Za-z0-9_-]+\.md' 2>/dev/null |
  sort -u | while read -r f; do [ -f "$f" ] || echo "$f"; done)
if [ -n "$missing" ]; then echo "named but missing:"; echo "$missing"; fail=1; fi
if command -v clang-format >/dev/null; then
  files=$(git ls-files '*.h' '*.cc')
  bad=$(for f in $files; do clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || echo "$f"; done)
  if [ -n "$bad" ]; then echo "not clang-formatted (run clang-format -i):"; echo "$bad"; fail=1; fi
fi
[ $fail -eq 0 ] && echo "lint: OK"
exit $fail
