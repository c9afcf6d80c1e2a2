#include "node/replay.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>

#include "ledger/chain.h"
#include "node/config.h"

namespace civitas::node {
namespace {

// How far the checkers may run ahead of execution: blocks, and transactions in those blocks
// (at least one block is always let in, whatever its size). Enough to keep every core busy
// across a run of small blocks, small enough to bound the memory of decoded transactions.
constexpr uint64_t kAheadBlocks = 128;
constexpr size_t kAheadTxs = 16384;
// Transactions per unit of work: a big block is spread over all cores.
constexpr size_t kChunkTxs = 64;

// One block on its way from the source ledger to execution. `read`, `next_unit`, `units_done`
// and `bad_tx*` are guarded by the Checker's mutex; the rest is written by the one thread that
// reads the block or runs a unit, before it counts the unit done.
struct Slot {
  uint64_t height = 0;
  bool read = false;  // GetBlock done; the fields below it are set
  Status read_status = Status::Ok();
  v1::CommittedBlock committed;
  std::vector<DecodedTx> txs;  // decoded and signature checked, if bad_tx is SIZE_MAX
  size_t tx_chunks = 0;        // units of kChunkTxs transactions
  size_t next_unit = 0;        // units handed out: the tx chunks, then the certificate
  size_t units_done = 0;
  size_t bad_tx = SIZE_MAX;  // the first transaction that failed its checks
  Status bad_tx_status = Status::Ok();
  std::shared_ptr<const Epoch> cert_epoch;  // the validators the certificate was checked against
  Status cert_status = Status::Ok();

  size_t units() const { return tx_chunks + 1; }
  bool complete() const { return read && units_done == units(); }
};

// Checks blocks ahead of the executing thread on `threads` threads: reads each block from
// `source`, decodes every transaction and verifies its signature, and verifies the commit
// certificate against the validators of the latest epoch the executor has reached (the
// executor re-checks a certificate whose block turns out to be of another epoch). Blocks are
// taken out in height order with Next. Checking is stateless, so it needs no order; only
// execution does.
class Checker {
 public:
  Checker(const Store& source, const Genesis& genesis, uint64_t total, const Epoch& epoch,
          unsigned threads)
      : source_(source),
        genesis_(genesis),
        total_(total),
        epoch_(std::make_shared<const Epoch>(epoch)) {
    for (unsigned t = 0; t < threads; ++t) pool_.emplace_back([this] { Work(); });
  }

  ~Checker() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    work_cv_.notify_all();
    for (auto& t : pool_) t.join();
  }

  // The checked block of the next height (1, 2, ...), waiting for it; at most `total` calls.
  std::unique_ptr<Slot> Next() {
    std::unique_lock lock(mu_);
    done_cv_.wait(lock, [&] { return !slots_.empty() && slots_.front()->complete(); });
    std::unique_ptr<Slot> slot = std::move(slots_.front());
    slots_.pop_front();
    taken_ = slot->height;
    txs_ahead_ -= slot->txs.size();
    lock.unlock();
    work_cv_.notify_all();
    return slot;
  }

  // The executor has entered `epoch`: certificates checked from now on use its validators.
  void EnterEpoch(const Epoch& epoch) {
    std::lock_guard lock(mu_);
    epoch_ = std::make_shared<const Epoch>(epoch);
  }

 private:
  void Work() {
    std::unique_lock lock(mu_);
    while (!stop_) {
      // Finish the oldest blocks first: the executor waits for them.
      Slot* slot = nullptr;
      for (auto& s : slots_) {
        if (s->read && s->next_unit < s->units()) {
          slot = s.get();
          break;
        }
      }
      if (slot) {
        const size_t unit = slot->next_unit++;
        std::shared_ptr<const Epoch> epoch = epoch_;
        lock.unlock();
        if (unit < slot->tx_chunks) {
          CheckTxs(*slot, unit * kChunkTxs, lock);
        } else {
          slot->cert_status =
              VerifyCommitCertificate(slot->committed, genesis_.chain_id, epoch->validators);
          slot->cert_epoch = std::move(epoch);
          lock.lock();
        }
        if (++slot->units_done == slot->units()) done_cv_.notify_all();
        continue;
      }
      if (next_height_ <= total_ && next_height_ <= taken_ + kAheadBlocks &&
          (slots_.empty() || txs_ahead_ < kAheadTxs)) {
        slots_.push_back(std::make_unique<Slot>());
        Slot* s = slots_.back().get();
        s->height = next_height_++;
        lock.unlock();
        Read(*s);
        lock.lock();
        s->read = true;
        txs_ahead_ += s->txs.size();
        work_cv_.notify_all();
        if (s->complete()) done_cv_.notify_all();
        continue;
      }
      work_cv_.wait(lock);
    }
  }

  // Runs without the lock: other threads leave the slot alone until `read` is set.
  void Read(Slot& s) {
    auto committed = source_.GetBlock(s.height);
    if (!committed.ok()) {
      s.read_status = committed.status();
      s.next_unit = s.units_done = s.units();  // nothing further to check
      return;
    }
    s.committed = std::move(*committed);
    const size_t n = static_cast<size_t>(s.committed.block().txs_size());
    s.txs.resize(n);
    s.tx_chunks = (n + kChunkTxs - 1) / kChunkTxs;
  }

  // Checks transactions [first, first + kChunkTxs) of `s`; called without the lock, returns
  // holding it. Each chunk writes only its own elements of s.txs.
  void CheckTxs(Slot& s, size_t first, std::unique_lock<std::mutex>& lock) {
    const v1::Block& block = s.committed.block();
    const size_t end = std::min(first + kChunkTxs, s.txs.size());
    for (size_t i = first; i < end; ++i) {
      auto tx = DecodeAndCheckTx(block.txs(static_cast<int>(i)), genesis_.chain_id, genesis_.params,
                                 /*verify_signature=*/true);
      if (!tx.ok()) {
        lock.lock();
        if (i < s.bad_tx) {
          s.bad_tx = i;
          s.bad_tx_status = tx.status();
        }
        return;
      }
      s.txs[i] = std::move(*tx);
    }
    lock.lock();
  }

  const Store& source_;
  const Genesis& genesis_;
  const uint64_t total_;
  std::vector<std::thread> pool_;

  std::mutex mu_;
  std::condition_variable work_cv_;  // a worker may have something to do
  std::condition_variable done_cv_;  // a slot is complete
  // Guarded by mu_:
  bool stop_ = false;
  std::deque<std::unique_ptr<Slot>> slots_;  // heights taken_+1 .. next_height_-1, in order
  uint64_t next_height_ = 1;
  uint64_t taken_ = 0;  // the last height handed to the executor
  size_t txs_ahead_ = 0;
  std::shared_ptr<const Epoch> epoch_;
};

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
  const uint64_t total = (*source)->height();
  // Signatures and certificates are checked ahead on every core, starting while the scratch
  // store is created; this thread executes the blocks in order and takes their results, so
  // the first bad height is the same as if it checked everything itself.
  Checker checker(**source, genesis, total, genesis.first_epoch(),
                  std::max(1u, std::thread::hardware_concurrency()));
  std::error_code ec;
  std::filesystem::remove_all(scratch_dir, ec);
  // The scratch store prunes (docs/STORAGE.md, "Pruning") and holds no blocks, receipts or
  // transaction index: execution reads only the latest state, so an auditor's disk holds a
  // window of states rather than a second copy of the ledger.
  auto scratch =
      Store::Open(scratch_dir, genesis, Store::Mode::kReadWrite,
                  StoreOptions{.state_history = kMinStateHistory, .execution_only = true});
  if (!scratch.ok()) return fail(0, "scratch store: " + scratch.status().ToString());
  (*scratch)->set_sync(false);

  auto genesis_root = (*source)->StateRoot(0);
  auto replayed_genesis_root = (*scratch)->StateRoot(0);
  if (!genesis_root.ok() || !replayed_genesis_root.ok() ||
      *genesis_root != *replayed_genesis_root) {
    return fail(0, "the genesis state root differs from the genesis file's");
  }
  double last_progress = 0;
  for (uint64_t h = 1; h <= total; ++h) {
    std::unique_ptr<Slot> slot = checker.Next();
    if (!slot->read_status.ok()) return fail(h, slot->read_status.ToString());
    if (slot->bad_tx != SIZE_MAX) {
      return fail(h, "transaction " + std::to_string(slot->bad_tx) + " of block " +
                         std::to_string(h) + ": " + slot->bad_tx_status.ToString());
    }
    const v1::CommittedBlock& committed = slot->committed;
    auto prepared =
        PrepareDecodedBlock(**scratch, genesis, committed.block(), std::move(slot->txs));
    if (!prepared.ok()) return fail(h, prepared.status().ToString());
    auto stored_root = (*source)->StateRoot(h);
    if (!stored_root.ok()) return fail(h, stored_root.status().ToString());
    if (*stored_root != prepared->new_root) {
      return fail(h, "state root after execution is " + ToHex(prepared->new_root) +
                         ", the node recorded " + ToHex(*stored_root));
    }
    // The certificate must be signed by the validators of the block's epoch; it was checked
    // against those of the epoch the executor was in, which is almost always the same one.
    Status cert =
        *slot->cert_epoch == prepared->epoch
            ? slot->cert_status
            : VerifyCommitCertificate(committed, genesis.chain_id, prepared->epoch.validators);
    if (!cert.ok()) return fail(h, cert.ToString());
    Status s = CommitVerifiedBlock(**scratch, *prepared, committed);
    if (!s.ok()) return fail(h, s.ToString());
    if (prepared->next_epoch) checker.EnterEpoch(*prepared->next_epoch);
    report.blocks += 1;
    report.txs += prepared->txs.size();
    report.signatures +=
        prepared->txs.size() + static_cast<uint64_t>(committed.commit_qc().signers_size());
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
