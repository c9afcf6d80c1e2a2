#pragma once

// The node's durable ledger on RocksDB (docs/STORAGE.md). Each committed block is written by one
// synced WriteBatch holding the block, its certificate, receipts, indexes, state changes, new
// state-tree nodes, the new state root and the commit height: after a crash the store is at the
// last height whose batch was acknowledged, never in between.
//
// Thread-safety: readers may call any const method concurrently with one committing thread.

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "civitas/v1/types.pb.h"
#include "ledger/executor.h"
#include "ledger/generational_cache.h"
#include "ledger/genesis.h"
#include "ledger/smt.h"
#include "ledger/state.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class WriteBatch;
class Status;
}  // namespace rocksdb

namespace civitas {

// Whether a commit returns after its write is on disk (kSynced) or leaves the fsync to the next
// synced write (kDeferred; the caller acknowledges the commit only after that).
enum class Durability { kSynced, kDeferred };

struct TxLocation {
  uint64_t height = 0;
  uint32_t index = 0;
};

// A value read at a past height with its proof against that height's state root.
struct ProvenValue {
  std::optional<std::string> value;
  Hash32 root{};
  smt::Proof proof;
};

// A block that ends its epoch: the next epoch, and the proof of the validators record in the
// block's certified state (v1::EpochChange without last_block, which is the block itself),
// kept so that the change stays provable once that state is pruned.
struct EpochEnd {
  Epoch next;
  v1::EpochChange change;
};

// The committed tip: what a block of the next height is checked against.
struct StoreTip {
  uint64_t height = 0;
  Hash32 id{};                // the tip block's id (zero at height 0)
  uint64_t time_ms = 0;       // its time (the genesis time at height 0)
  uint64_t state_height = 0;  // the height its header certifies (0 below height 1)
  Hash32 state_root{};        // the state root after it
};

struct StoreOptions {
  // Pruning: the state of the last `state_history` heights below the tip stays readable
  // (GetProven); the state-tree nodes only older states used are deleted. 0 keeps the state of
  // every height (an archive node). docs/STORAGE.md, "Pruning".
  uint64_t state_history = 0;
  // Keeps only what executing the next block reads: the state, its tree, the state roots and
  // the epochs; no blocks, receipts or transaction index (GetBlock finds nothing). For a
  // scratch store that re-executes a chain (replay); it must be new, as it cannot be checked
  // on reopening without its tip block.
  bool execution_only = false;
};

class Store : public StateReader, public smt::NodeReader {
 public:
  enum class Mode { kReadWrite, kReadOnly };

  // Opens the store at `path`. A missing or empty directory is initialised with the genesis
  // state (read-write only); an existing one must belong to the same genesis (chain id and
  // genesis hash), else Open fails with reason foreign_data_dir. Damaged data: reason corruption.
  static Result<std::unique_ptr<Store>> Open(const std::string& path, const Genesis& genesis,
                                             Mode mode = Mode::kReadWrite,
                                             const StoreOptions& options = {});
  ~Store() override;

  uint64_t height() const { return height_.load(std::memory_order_acquire); }
  // The committed tip, kept in memory (a block of the next height is checked against it).
  StoreTip tip() const;
  const std::string& chain_id() const { return chain_id_; }

  // The state root after executing block `height` (0 = genesis state).
  Result<Hash32> StateRoot(uint64_t height) const;
  Result<v1::CommittedBlock> GetBlock(uint64_t height) const;
  Result<uint64_t> GetBlockHeight(const Hash32& block_id) const;
  Result<TxLocation> GetTxLocation(const Hash32& tx_id) const;
  // The receipt of the transaction `tx_id` at `loc`. Stored without its tx id, height and
  // index (the key and the block have them: a third of a transfer's receipt); this fills them.
  Result<v1::Receipt> GetReceipt(const TxLocation& loc, const Hash32& tx_id) const;
  // The same for the committed transaction `envelope` at `loc` (its id computed here).
  Result<v1::Receipt> GetReceipt(const TxLocation& loc, const v1::Transaction& envelope) const;

  // Latest committed state.
  Result<std::optional<std::string>> Get(std::string_view key) const override;
  Status GetNode(const Hash32& hash, Bytes* out) const override;
  // Nodes read from RocksDB are hashed before they are returned or cached; cached nodes are
  // those (or ones CommitBlock wrote, which the tree hashed).
  bool ChecksHashes() const override { return true; }
  // State at a past height, with a proof against StateRoot(height). Reason pruned: the height
  // is below StateKeptFrom().
  Result<ProvenValue> GetProven(std::string_view key, uint64_t height) const;
  // The lowest height whose state GetProven reads: 0 on an archive node that never pruned.
  uint64_t StateKeptFrom() const;
  // What EpochEnd.change recorded for the epoch `number`; nullopt for the epochs of a ledger
  // written before those records were kept.
  Result<std::optional<v1::EpochChange>> GetEpochChange(uint64_t number) const;

  // Commits block height()+1 in one write, synced unless `durability` is kDeferred: then the
  // write is readable at once but durable only after the next synced write of this store or
  // SyncWal() (they share one write-ahead log). `block_id` and `tx_ids` are those of
  // `committed.block`; `exec` and `nodes`/`removed_nodes`/`new_root` its execution result
  // (smt::Tree::Apply's); `epoch_end` is set when the block ends its epoch.
  // Turning sync off makes a scratch store (replay's): writes skip the write-ahead log and
  // closing does not flush, so what it holds is lost at close or in a crash.
  void set_sync(bool sync);

  Status CommitBlock(const v1::CommittedBlock& committed, const Hash32& block_id,
                     const std::vector<Hash32>& tx_ids, const BlockExecution& exec,
                     const Hash32& new_root, const smt::NodeBatch& nodes,
                     const std::vector<Hash32>& removed_nodes,
                     const std::optional<EpochEnd>& epoch_end = std::nullopt,
                     Durability durability = Durability::kSynced);
  // Makes every earlier write durable (one fsync of the write-ahead log).
  Status SyncWal();
  // Synced writes (fsyncs of the write-ahead log) since open.
  uint64_t synced_writes() const { return synced_writes_.load(std::memory_order_relaxed); }
  // RocksDB's background work: flushes and compactions running now, and its estimate of the
  // bytes compaction still has to rewrite (summed over the column families).
  struct Background {
    uint64_t running_jobs = 0;
    uint64_t pending_compaction_bytes = 0;
  };
  Background background() const;
  // Compacts every family into RocksDB's last level: the space of deleted and overwritten
  // entries (pruned nodes, above all) is given back at once rather than over time.
  Status Compact();
  // Writes a consistent copy of the ledger as of now into `dir`, which must not exist
  // (RocksDB's Checkpoint: memtables flushed, table files hard-linked when `dir` is on the same
  // file system, else copied). Safe while blocks are being committed; the copy may hold blocks
  // whose write was not yet synced here. Any thread.
  Status Checkpoint(const std::string& dir) const;
  // Reads every block of every table file and checks its checksum. Reason corruption.
  Status VerifyChecksums() const;

  // Epochs (ledger/epoch.h): the one block height()+1 belongs to; all of them, oldest first.
  Epoch CurrentEpoch() const;
  std::vector<Epoch> Epochs() const;

  // The validator's consensus records (safety data, blocks voted for), opaque to the store:
  // one synced batch of deletes then puts; a point read; a scan of the keys with a prefix in
  // key order. The owner is node/validator.cc; docs/STORAGE.md lists the keys.
  Status WriteConsensus(const std::vector<std::pair<std::string, std::string>>& puts,
                        const std::vector<std::string>& deletes = {});
  Result<std::optional<std::string>> GetConsensus(std::string_view key) const;
  Result<std::vector<std::pair<std::string, std::string>>> ScanConsensus(
      std::string_view prefix) const;

 private:
  Store() = default;
  Status Init(const Genesis& genesis);
  Status CheckConsistency(const Genesis& genesis);
  Status LoadEpochs();
  Status LoadPruning();
  Status Pruned(uint64_t height) const;
  // Adds to `batch` what pruning does at the commit of `height`, which builds `nodes`: the
  // deletion of the nodes removed by the heights leaving the window. Out: the nodes built again
  // while their deletion waited, the index prefixes deleted, the heights pruned.
  Status Prune(uint64_t height, const smt::NodeBatch& nodes, rocksdb::WriteBatch* batch,
               std::vector<Hash32>* revived, std::vector<uint64_t>* settled,
               std::vector<uint64_t>* done);
  Result<std::optional<std::string>> RawGet(rocksdb::ColumnFamilyHandle* cf,
                                            std::string_view key) const;
  // The Status of a failed write: reason disk_full, naming the ledger's path, when the file
  // system is full; remembers that a write failed (the destructor then does not flush).
  Status WriteError(const rocksdb::Status& s, const std::string& what) const;
  // The first failed write's Status once a write failed, else ok. RocksDB 7.8 asserts when a
  // WAL writer that failed is written or synced again: no write reaches it after a failure.
  Status EarlierWriteError() const;

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;
  rocksdb::ColumnFamilyHandle* blocks_ = nullptr;
  rocksdb::ColumnFamilyHandle* block_ids_ = nullptr;
  rocksdb::ColumnFamilyHandle* txs_ = nullptr;
  rocksdb::ColumnFamilyHandle* receipts_ = nullptr;
  rocksdb::ColumnFamilyHandle* state_ = nullptr;
  rocksdb::ColumnFamilyHandle* nodes_ = nullptr;
  rocksdb::ColumnFamilyHandle* values_ = nullptr;
  rocksdb::ColumnFamilyHandle* roots_ = nullptr;
  rocksdb::ColumnFamilyHandle* consensus_ = nullptr;
  // State-tree nodes recently read or committed: the upper levels of a tree of millions of
  // leaves, and the last blocks' nodes (2 Mi nodes, about 200 MB once all used).
  mutable smt::NodeCache node_cache_{1 << 21};
  // Latest state values read or committed last, absent keys included (2 x 128 Ki entries of at
  // most kMaxCachedValue bytes): accounts are read by admission, proposals, votes and
  // execution, several times per transaction.
  static constexpr size_t kMaxCachedValue = 512;
  mutable GenerationalCache<std::string, std::optional<std::string>, std::hash<std::string>>
      state_cache_{1 << 17};
  std::string chain_id_;
  std::atomic<uint64_t> height_{0};
  mutable std::mutex tip_mu_;
  StoreTip tip_;  // guarded by tip_mu_; its height is height_ once Open returns
  std::atomic<uint64_t> synced_writes_{0};
  mutable std::mutex epochs_mu_;
  std::vector<Epoch> epochs_;  // guarded by epochs_mu_
  bool read_only_ = false;
  bool sync_ = true;
  bool execution_only_ = false;
  std::string path_;
  mutable std::atomic<bool> write_failed_{false};
  mutable std::mutex write_error_mu_;
  mutable Status write_error_;  // guarded by write_error_mu_

  // Pruning (docs/STORAGE.md): the first 8 bytes of each node hash removed by a height not yet
  // pruned, and that height; heights from next_prune_ on may still have nodes to delete. Only
  // the committing thread uses them.
  uint64_t state_history_ = 0;
  std::unordered_map<uint64_t, uint64_t> pending_;
  uint64_t next_prune_ = 0;
  std::atomic<uint64_t> kept_from_{0};
};

}  // namespace civitas
