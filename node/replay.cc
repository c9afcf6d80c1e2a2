#include "node/replay.h"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "ledger/chain.h"

namespace civitas::node {
namespace {

// Verifies the signatures of `txs` on all cores; returns the index of the first bad one or -1.
long VerifyParallel(const std::vector<DecodedTx>& txs) {
  const size_t n = txs.size();
  size_t threads =
      std::max<size_t>(1, std::min<size_t>(std::thread::hardware_concurrency(), n / 64));
  std::atomic<long> bad{-1};
  auto work = [&](size_t t) {
    for (size_t i = t; i < n; i += threads) {
      if (!VerifyTxSignature(txs[i])) {
        long expected = -1;
        bad.compare_exchange_strong(expected, static_cast<long>(i));
      }
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (auto& th : pool) th.join();
  return bad.load();
}

}  // namespace

ReplayReport Replay(const std::string& data_dir, const std::string& scratch_dir,
                    const Genesis& genesis,
                    const std::function<void(uint64_t, uint64_t, double)>& progress) {
  ReplayReport report;
  auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  auto fail = [&](uint64_t height, const std::string& why) {
    report.ok = false;
    report.first_bad_height = height;
    report.error = why;
    report.seconds = elapsed();
    return report;
  };

  auto source = Store::Open(data_dir, genesis, Store::Mode::kReadOnly);
  if (!source.ok()) return fail(0, source.status().ToString());
  std::error_code ec;
  std::filesystem::remove_all(scratch_dir, ec);
  auto scratch = Store::Open(scratch_dir, genesis);
  if (!scratch.ok()) return fail(0, "scratch store: " + scratch.status().ToString());
  (*scratch)->set_sync(false);
  const uint64_t total = (*source)->height();

  auto genesis_root = (*source)->StateRoot(0);
  auto replayed_genesis_root = (*scratch)->StateRoot(0);
  if (!genesis_root.ok() || !replayed_genesis_root.ok() ||
      *genesis_root != *replayed_genesis_root) {
    return fail(0, "the genesis state root differs from the genesis file's");
  }
  double last_progress = 0;
  for (uint64_t h = 1; h <= total; ++h) {
    auto committed = (*source)->GetBlock(h);
    if (!committed.ok()) return fail(h, committed.status().ToString());
    const v1::Block& block = committed->block();
    auto txs = DecodeBlockTxs(block, genesis, /*verify_signatures=*/false);
    if (!txs.ok()) return fail(h, txs.status().ToString());
    long bad = VerifyParallel(*txs);
    if (bad >= 0) return fail(h, "transaction " + std::to_string(bad) + ": bad_signature");
    auto prepared = PrepareBlock(**scratch, genesis, block, /*signatures_checked=*/true);
    if (!prepared.ok()) return fail(h, prepared.status().ToString());
    auto stored_root = (*source)->StateRoot(h);
    if (!stored_root.ok()) return fail(h, stored_root.status().ToString());
    if (*stored_root != prepared->new_root) {
      return fail(h, "state root after execution is " + ToHex(prepared->new_root) +
                         ", the node recorded " + ToHex(*stored_root));
    }
    // Checks the commit certificate against the council, then writes the scratch copy.
    Status s = CommitPrepared(**scratch, genesis, *prepared, committed->commit_qc(),
                              committed->consensus_header());
    if (!s.ok()) return fail(h, s.ToString());
    report.blocks += 1;
    report.txs += prepared->txs.size();
    if (progress && elapsed() - last_progress >= 1.0) {
      last_progress = elapsed();
      progress(h, total, last_progress);
    }
  }
  report.seconds = elapsed();
  scratch->reset();
  std::filesystem::remove_all(scratch_dir, ec);
  return report;
}

}  // namespace civitas::node
