#include "ledger/store.h"

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/listener.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>

#include "ledger/hash_memtable.h"
#include "ledger/tx.h"

namespace civitas {
namespace {

constexpr char kFormatVersion[] = "civitas-store-3";
constexpr char kMetaFormat[] = "format";
constexpr char kMetaChainId[] = "chain_id";
constexpr char kMetaGenesisHash[] = "genesis_hash";
constexpr char kMetaHeight[] = "height";
constexpr char kMetaEpochPrefix[] = "epoch/";  // + u64 number -> EncodeEpoch
// + u64 number -> v1::EpochChange of the epoch's start, without last_block
constexpr char kMetaEpochChangePrefix[] = "epoch_change/";
// Pruning (docs/STORAGE.md): + u64 height -> the 32-byte hashes of the state-tree nodes the
// block removed from the tree, and of those it built again while they waited for deletion.
constexpr char kMetaRemovedPrefix[] = "removed/";
constexpr char kMetaRevivedPrefix[] = "revived/";
constexpr char kMetaKeptFrom[] = "state_kept_from";  // u64: lowest height with a whole state
// The most heights one commit prunes (when the window shrank, the rest follow at the next).
constexpr uint64_t kMaxPrunedPerCommit = 16;

const char* const kFamilies[] = {"default", "blocks", "block_ids", "txs",   "receipts",
                                 "state",   "nodes",  "values",    "roots", "consensus"};

std::string U64Key(uint64_t v) {
  Bytes b;
  PutU64(b, v);
  return std::string(AsStringView(b));
}

std::string LocKey(uint64_t height, uint32_t index) {
  Bytes b;
  PutU64(b, height);
  PutU32(b, index);
  return std::string(AsStringView(b));
}

rocksdb::Slice Sl(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

template <size_t N>
rocksdb::Slice Sl(const std::array<uint8_t, N>& a) {
  return rocksdb::Slice(reinterpret_cast<const char*>(a.data()), N);
}

// The key of a node hash in the pruning index: its first 8 bytes.
uint64_t HashPrefix(const uint8_t* hash) {
  uint64_t p;
  std::memcpy(&p, hash, sizeof(p));
  return p;
}

std::string HashList(const std::vector<Hash32>& hashes) {
  std::string out;
  out.reserve(hashes.size() * 32);
  for (const auto& h : hashes) out.append(reinterpret_cast<const char*>(h.data()), h.size());
  return out;
}

Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::Ok();
  if (s.IsCorruption()) return Status::Corruption(what + ": " + s.ToString());
  return Status::IOError(what + ": " + s.ToString());
}

// How a family is read: only by whole keys, never iterated (tree nodes, values, tx and block
// ids, the latest state), by key and sometimes iterated (meta, roots, consensus), or also in
// ranges (blocks, receipts).
enum class Reading { kWholeKeys, kPoints, kRanges };

Reading ReadingOf(std::string_view family) {
  if (family == "blocks" || family == "receipts") return Reading::kRanges;
  if (family == "nodes" || family == "values" || family == "txs" || family == "block_ids" ||
      family == "state") {
    return Reading::kWholeKeys;
  }
  return Reading::kPoints;
}

rocksdb::ColumnFamilyOptions FamilyOptions(Reading reading) {
  const bool point_lookups = reading != Reading::kRanges;
  rocksdb::ColumnFamilyOptions o;
  rocksdb::BlockBasedTableOptions t;
  static std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(256 << 20);
  t.block_cache = cache;
  if (point_lookups) t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  // Blocks and receipts are read in ranges: larger table blocks compress better (receipts by a
  // third more than in 4 KiB ones).
  if (!point_lookups) t.block_size = 16 << 10;
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  o.write_buffer_size = 32 << 20;
  // Blocks and receipts are written once and read rarely: ZSTD (a tenth to a fifth smaller than
  // the default Snappy on their protobuf) is worth its CPU on the background threads.
  if (reading == Reading::kRanges) o.compression = rocksdb::kZSTD;
  if (reading == Reading::kWholeKeys) {
    // A hash table of short chains (ledger/hash_memtable.h) takes a block's inserts at random
    // places in constant time, where one large skip list missed the cache at every level (about
    // half of a committing block's CPU on the path to the vote); it is sorted once, when flushed
    // on the background threads (DbOptions).
    o.memtable_factory = NewHashTableMemTableFactory(1 << 18);
    o.max_write_buffer_number = 4;  // room for a slow flush before writes wait
  } else {
    // CommitBlock writes each family's keys in sorted order; a skip-list insert that starts
    // from where the previous one ended (one hint per first key byte) skips most of the search.
    o.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(1));
  }
  return o;
}

constexpr char kRefusing[] =
    ". Refusing to open it; restore the data directory from a backup, or move it away and let "
    "the node resync from its peers into an empty one";

// RocksDB recovers from a full disk by itself once space returns (its SstFileManager polls),
// flushing the memtables through the WAL writer whose append failed, on which RocksDB 7.8
// asserts (SIGABRT). The node stops on a failed write instead (docs/STORAGE.md, "A full disk"),
// so the automatic recovery is turned off.
class NoAutoRecovery : public rocksdb::EventListener {
 public:
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason, rocksdb::Status,
                            bool* auto_recovery) override {
    *auto_recovery = false;
  }
};

rocksdb::DBOptions DbOptions(bool create) {
  rocksdb::DBOptions o;
  o.listeners.push_back(std::make_shared<NoAutoRecovery>());
  // Only an empty directory becomes a new ledger; a damaged one must never be replaced.
  o.create_if_missing = create;
  o.create_missing_column_families = create;
  // Stop at the first sign of damage instead of working around it.
  o.paranoid_checks = true;
  // A damaged record inside the WAL fails the open. The default (point-in-time recovery)
  // silently drops everything after it: committed blocks and, worse, the newest safety data.
  // Only an incomplete last record (a write cut off by a crash, never acknowledged) is skipped.
  o.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  // The MANIFEST records the WALs, so a deleted WAL is detected rather than its writes lost.
  o.track_and_verify_wals_in_manifest = true;
  o.max_background_jobs = 2;
  // Compactions run at the lowest CPU priority (nice 19): they take what the consensus path
  // leaves, and still progress while it saturates the CPU. Flushes (the HIGH pool) do not: a
  // memtable waiting for its flush stalls, then stops, every write of its family, the commit's
  // included; at nice 19 under a sustained load they starved, and RocksDB's write stalls (3 or
  // 4 `nodes` memtables waiting) were most of what slowed registering DIDs.
  static const bool lowered = [] {
    rocksdb::Env::Default()->LowerThreadPoolCPUPriority(rocksdb::Env::Priority::LOW,
                                                        rocksdb::CpuPriority::kLow);
    return true;
  }();
  (void)lowered;
  // The hash memtables (FamilyOptions) take one writer at a time; the node has one anyway.
  o.allow_concurrent_memtable_write = false;
  // The default of 16 threads per column family made opening (replay opens two stores) slower.
  o.max_file_opening_threads = 2;
  // A write-ahead log file is kept until every family's memtable holding its writes is flushed.
  // The small families (consensus, roots) rarely fill a memtable, so by default (4 x the sum of
  // all memtables, 3.8 GB here) the logs grew by gigabytes while registering DIDs; past this
  // size RocksDB flushes the families that hold the oldest log.
  o.max_total_wal_size = 256 << 20;
  return o;
}

std::vector<rocksdb::ColumnFamilyDescriptor> Families() {
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const char* name : kFamilies) {
    cfs.emplace_back(name, FamilyOptions(ReadingOf(name)));
  }
  return cfs;
}

// Every read checks the block checksums (RocksDB's default, made explicit).
rocksdb::ReadOptions Reads() {
  rocksdb::ReadOptions r;
  r.verify_checksums = true;
  return r;
}

Status FromOpen(const rocksdb::Status& s, const std::string& path) {
  if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
    return Status::Error(
        Status::Code::kFailedPrecondition, "locked",
        "the ledger at " + path + " is in use by another process: " + s.ToString());
  }
  // A file the MANIFEST lists but that is gone is damage, not an I/O hiccup.
  if (s.IsCorruption() || s.IsPathNotFound() ||
      (s.IsIOError() && s.ToString().find("No such file") != std::string::npos)) {
    return Status::Corruption("the ledger at " + path + " is damaged: " + s.ToString() + kRefusing);
  }
  if (s.IsNoSpace() || s.ToString().find("No space left") != std::string::npos) {
    return Status::Error(Status::Code::kResourceExhausted, "disk_full",
                         "the disk holding the ledger at " + path + " is full: cannot open it (" +
                             s.ToString() + "); free space on that file system and start again");
  }
  return FromRocks(s, "cannot open the ledger at " + path);
}

}  // namespace

Status Store::WriteError(const rocksdb::Status& s, const std::string& what) const {
  if (s.ok()) return Status::Ok();
  Status out;
  if (s.IsNoSpace() || s.ToString().find("No space left") != std::string::npos) {
    out = Status::Error(Status::Code::kResourceExhausted, "disk_full",
                        "the disk holding the ledger at " + path_ + " is full (" + what + ": " +
                            s.ToString() +
                            "). Nothing acknowledged as committed is lost; free space on that "
                            "file system and start the node again");
  } else {
    out = FromRocks(s, what);
  }
  std::lock_guard lock(write_error_mu_);
  if (write_error_.ok()) write_error_ = out;
  write_failed_.store(true);
  return out;
}

Status Store::EarlierWriteError() const {
  if (!write_failed_.load()) return Status::Ok();
  std::lock_guard lock(write_error_mu_);
  return write_error_;
}

Store::~Store() {
  if (db_) {
    // A clean stop leaves everything in table files, which the MANIFEST lists and checksums,
    // and an empty WAL: RocksDB cannot tell a lost or truncated live WAL from a short one, so
    // nothing should depend on it once the node is stopped.
    // The node stops with 64 MiB left (node/health.h); a flush at close on a disk that short
    // could fail in RocksDB's write path just the same.
    std::error_code ec;
    const auto space = std::filesystem::space(path_, ec);
    const bool short_of_space = !read_only_ && !ec && space.available < (64ull << 20);
    if (write_failed_.load() || short_of_space) {
      // A write failed, or the disk is (nearly) full: what was acknowledged is in the synced WAL
      // already. Closing
      // would flush the failed WAL writer, on which RocksDB 7.8 asserts (SIGABRT, about half the
      // runs, depending on whether the WAL or a table file met the error first): leave the
      // database to the process's exit, which also releases its lock. Reopening replays the WAL.
      rocksdb::DB* abandoned = db_.release();
#if defined(__SANITIZE_ADDRESS__)
      // Left to the exit on purpose: not a leak for LeakSanitizer.
      __lsan_ignore_object(abandoned);
      for (auto* h : handles_) __lsan_ignore_object(h);
#endif
      (void)abandoned;
      return;
    }
    if (!read_only_ && sync_) {  // a scratch store (sync off) is thrown away: no flush
      rocksdb::FlushOptions fo;
      fo.wait = true;
      (void)db_->Flush(fo, handles_);
    }
    for (auto* h : handles_) (void)db_->DestroyColumnFamilyHandle(h);
  }
}

Result<std::unique_ptr<Store>> Store::Open(const std::string& path, const Genesis& genesis,
                                           Mode mode, const StoreOptions& options) {
  std::unique_ptr<Store> store(new Store());
  store->read_only_ = mode == Mode::kReadOnly;
  store->state_history_ = options.state_history;
  std::error_code ec;
  bool fresh = !std::filesystem::exists(path + "/CURRENT", ec);
  if (fresh && store->read_only_) {
    return Status::NotFound("no ledger at " + path + " (has the node been started?)");
  }
  if (fresh && std::filesystem::exists(path, ec) && !std::filesystem::is_empty(path, ec)) {
    // RocksDB's CURRENT names the live MANIFEST; without it the files are there but unreadable.
    // Creating a database here would hide the loss: refuse.
    for (const auto& e : std::filesystem::directory_iterator(path, ec)) {
      const std::string name = e.path().filename().string();
      if (name.starts_with("MANIFEST-") || name.ends_with(".sst") || name.ends_with(".log")) {
        return Status::Corruption("the ledger at " + path + " has lost its CURRENT file (" + name +
                                  " is there, but no CURRENT names a MANIFEST); not creating a " +
                                  "new ledger over it" + kRefusing);
      }
    }
    return Status::Error(Status::Code::kFailedPrecondition, "foreign_data_dir",
                         path + " is not empty and holds no Civitas ledger");
  }

  if (options.execution_only && !fresh) {
    return Status::Error(Status::Code::kFailedPrecondition, "not_empty",
                         "an execution-only store is made new: " + path + " already holds one");
  }
  store->execution_only_ = options.execution_only;
  store->path_ = path;
  if (fresh) {
    std::filesystem::create_directories(path, ec);
    if (ec) return Status::IOError("cannot create " + path + ": " + ec.message());
  } else if (!store->read_only_) {
    // Check everything read-only first, under the lock a read-write open takes: a refused
    // ledger is left byte for byte as it was (a read-write open already rewrites the MANIFEST
    // and flushes the WAL into new tables). That includes the checksum of every block of every
    // table file, so damage anywhere stops the node here rather than at some later read.
    rocksdb::Env* env = rocksdb::Env::Default();
    rocksdb::FileLock* lock = nullptr;
    rocksdb::Status ls = env->LockFile(path + "/LOCK", &lock);
    if (!ls.ok()) return FromOpen(ls, path);
    Status checked = [&]() -> Status {
      auto ro = Open(path, genesis, Mode::kReadOnly);
      if (!ro.ok() && ro.status().code() == Status::Code::kCorruption &&
          !ro.status().message().starts_with("the ledger at")) {
        return Status::Corruption("the ledger at " + path +
                                  " is damaged: " + ro.status().message() + kRefusing);
      }
      if (!ro.ok()) return ro.status();
      rocksdb::ReadOptions r = Reads();
      r.readahead_size = 4 << 20;
      rocksdb::Status vs = (*ro)->db_->VerifyChecksum(r);
      if (!vs.ok()) return FromOpen(vs, path);
      return Status::Ok();
    }();
    (void)env->UnlockFile(lock);
    if (!checked.ok()) return checked;
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = Families();
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s =
      store->read_only_
          ? rocksdb::DB::OpenForReadOnly(DbOptions(false), path, cfs, &store->handles_, &raw)
          : rocksdb::DB::Open(DbOptions(fresh), path, cfs, &store->handles_, &raw);
  if (!s.ok()) return FromOpen(s, path);
  store->db_.reset(raw);
  auto& h = store->handles_;
  store->meta_ = h[0];
  store->blocks_ = h[1];
  store->block_ids_ = h[2];
  store->txs_ = h[3];
  store->receipts_ = h[4];
  store->state_ = h[5];
  store->nodes_ = h[6];
  store->values_ = h[7];
  store->roots_ = h[8];
  store->consensus_ = h[9];

  auto format = store->RawGet(store->meta_, kMetaFormat);
  if (!format.ok()) return format.status();
  if (!format->has_value()) {
    if (!fresh) {
      return Status::Corruption("the ledger at " + path + " has no format record");
    }
    Status st = store->Init(genesis);
    if (!st.ok()) return st;
  } else if (**format != kFormatVersion) {
    return Status::Error(Status::Code::kFailedPrecondition, "foreign_data_dir",
                         "the ledger at " + path + " has format '" + **format + "', expected '" +
                             kFormatVersion + "'");
  }
  auto chain = store->RawGet(store->meta_, kMetaChainId);
  auto ghash = store->RawGet(store->meta_, kMetaGenesisHash);
  if (!chain.ok()) return chain.status();
  if (!ghash.ok()) return ghash.status();
  if (!chain->has_value() || !ghash->has_value()) {
    return Status::Corruption("the ledger at " + path + " lacks its chain id or genesis hash");
  }
  if (**chain != genesis.chain_id || **ghash != std::string(AsStringView(genesis.hash))) {
    return Status::Error(Status::Code::kFailedPrecondition, "foreign_data_dir",
                         "the ledger at " + path + " belongs to chain '" + **chain +
                             "' or another genesis; this node's genesis is chain '" +
                             genesis.chain_id + "'");
  }
  store->chain_id_ = genesis.chain_id;
  Status st = store->CheckConsistency(genesis);
  if (!st.ok()) return st;
  st = store->LoadEpochs();
  if (!st.ok()) return st;
  st = store->LoadPruning();
  if (!st.ok()) return st;
  return store;
}

Status Store::LoadPruning() {
  auto kept = RawGet(meta_, kMetaKeptFrom);
  if (!kept.ok()) return kept.status();
  if (kept->has_value()) {
    if ((*kept)->size() != 8) return Status::Corruption("the pruning record is damaged");
    kept_from_.store(GetU64(reinterpret_cast<const uint8_t*>((*kept)->data())));
  }
  if (read_only_) return Status::Ok();
  // The removed and revived lists of the heights not yet pruned, by height.
  std::map<uint64_t, std::pair<std::string, std::string>> lists;
  for (const std::string prefix : {kMetaRemovedPrefix, kMetaRevivedPrefix}) {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(Reads(), meta_));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      if (it->key().size() != prefix.size() + 8 || it->value().size() % 32 != 0) {
        return Status::Corruption("a pruning list is damaged");
      }
      const uint64_t h = GetU64(reinterpret_cast<const uint8_t*>(it->key().data()) + prefix.size());
      auto& entry = lists[h];
      (prefix == kMetaRemovedPrefix ? entry.first : entry.second) = it->value().ToString();
    }
    if (!it->status().ok()) return FromRocks(it->status(), "cannot read the pruning lists");
  }
  if (state_history_ == 0) {
    // An archive node from now on: the nodes still waiting for deletion stay for good (their
    // lists would go stale, as nothing records what this node builds again).
    if (lists.empty()) return Status::Ok();
    rocksdb::WriteBatch batch;
    for (const auto& [h, l] : lists) {
      batch.Delete(meta_, kMetaRemovedPrefix + U64Key(h));
      batch.Delete(meta_, kMetaRevivedPrefix + U64Key(h));
    }
    rocksdb::WriteOptions wo;
    wo.sync = true;
    if (Status e = EarlierWriteError(); !e.ok()) return e;
    return WriteError(db_->Write(wo, &batch), "cannot drop the pruning lists");
  }
  // Replay the lists in height order, as the commits did.
  for (const auto& [h, l] : lists) {
    const auto* revived = reinterpret_cast<const uint8_t*>(l.second.data());
    for (size_t i = 0; i < l.second.size(); i += 32) pending_.erase(HashPrefix(revived + i));
    const auto* removed = reinterpret_cast<const uint8_t*>(l.first.data());
    for (size_t i = 0; i < l.first.size(); i += 32) pending_[HashPrefix(removed + i)] = h;
  }
  next_prune_ = lists.empty() ? height() + 1 : lists.begin()->first;
  return Status::Ok();
}

uint64_t Store::StateKeptFrom() const {
  const uint64_t kept = kept_from_.load(std::memory_order_acquire);
  const uint64_t tip = height();
  if (state_history_ == 0 || tip <= state_history_) return kept;
  return std::max(kept, tip - state_history_);
}

Result<std::optional<v1::EpochChange>> Store::GetEpochChange(uint64_t number) const {
  auto v = RawGet(meta_, kMetaEpochChangePrefix + U64Key(number));
  if (!v.ok()) return v.status();
  if (!v->has_value()) return std::optional<v1::EpochChange>();
  v1::EpochChange change;
  if (!change.ParseFromString(**v)) {
    return Status::Corruption("the record of epoch " + std::to_string(number) + " does not decode");
  }
  return std::optional<v1::EpochChange>(std::move(change));
}

Status Store::Prune(uint64_t height, const smt::NodeBatch& nodes, rocksdb::WriteBatch* batch,
                    std::vector<Hash32>* revived, std::vector<uint64_t>* settled,
                    std::vector<uint64_t>* done) {
  if (state_history_ == 0) return Status::Ok();
  // A node built again while its deletion waits is in use again: its deletion is called off.
  std::vector<uint64_t> revived_prefixes;
  for (const auto& [hash, node] : nodes) {
    const uint64_t p = HashPrefix(hash.data());
    if (pending_.count(p)) {
      revived->push_back(hash);
      revived_prefixes.push_back(p);
    }
  }
  std::sort(revived_prefixes.begin(), revived_prefixes.end());
  if (height <= state_history_) return Status::Ok();
  // The state of height - state_history stays whole: the nodes removed by heights up to that
  // one are no longer in any kept state.
  const uint64_t last = height - state_history_;
  for (uint64_t h = next_prune_; h <= last && done->size() < kMaxPrunedPerCommit; ++h) {
    const std::string key = kMetaRemovedPrefix + U64Key(h);
    auto list = RawGet(meta_, key);
    if (!list.ok()) return list.status();
    if (list->has_value()) {
      if ((*list)->size() % 32 != 0) return Status::Corruption("a pruning list is damaged");
      const auto* p = reinterpret_cast<const uint8_t*>((*list)->data());
      for (size_t i = 0; i < (*list)->size(); i += 32) {
        // A prefix shared with a node removed later, or built again, keeps the node (it is only
        // left on disk): never is a node in use deleted.
        const uint64_t prefix = HashPrefix(p + i);
        auto it = pending_.find(prefix);
        if (it == pending_.end() || it->second != h ||
            std::binary_search(revived_prefixes.begin(), revived_prefixes.end(), prefix)) {
          continue;
        }
        batch->Delete(nodes_, rocksdb::Slice(reinterpret_cast<const char*>(p + i), 32));
        settled->push_back(prefix);
      }
      batch->Delete(meta_, key);
    }
    batch->Delete(meta_, kMetaRevivedPrefix + U64Key(h));
    done->push_back(h);
  }
  if (!done->empty()) batch->Put(meta_, kMetaKeptFrom, U64Key(done->back()));
  return Status::Ok();
}

Status Store::LoadEpochs() {
  std::vector<Epoch> epochs;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(Reads(), meta_));
  for (it->Seek(kMetaEpochPrefix); it->Valid() && it->key().starts_with(kMetaEpochPrefix);
       it->Next()) {
    std::string_view key(it->key().data(), it->key().size());
    key.remove_prefix(std::string_view(kMetaEpochPrefix).size());
    if (key.size() != 8) return Status::Corruption("an epoch record has a damaged key");
    auto e = DecodeEpoch(GetU64(reinterpret_cast<const uint8_t*>(key.data())),
                         std::string_view(it->value().data(), it->value().size()));
    if (!e.ok()) return e.status();
    if (e->number != epochs.size() ||
        (!epochs.empty() && e->start_height <= epochs.back().start_height) ||
        (epochs.empty() && e->start_height != 1) || e->start_height > height() + 1) {
      return Status::Corruption("the epoch records are out of sequence at epoch " +
                                std::to_string(e->number));
    }
    epochs.push_back(std::move(*e));
  }
  if (!it->status().ok()) return FromRocks(it->status(), "cannot read the epoch records");
  if (epochs.empty()) return Status::Corruption("the ledger has no epoch record");
  std::lock_guard lock(epochs_mu_);
  epochs_ = std::move(epochs);
  return Status::Ok();
}

Epoch Store::CurrentEpoch() const {
  std::lock_guard lock(epochs_mu_);
  return epochs_.back();
}

std::vector<Epoch> Store::Epochs() const {
  std::lock_guard lock(epochs_mu_);
  return epochs_;
}

Status Store::Init(const Genesis& genesis) {
  StateWrites writes = genesis.InitialState();
  smt::MemoryNodeStore empty;
  smt::Tree tree(empty);
  smt::NodeBatch nodes;
  auto root = ApplyWrites(tree, smt::kEmptyRoot, writes, &nodes);
  if (!root.ok()) return root.status();
  rocksdb::WriteBatch batch;
  for (const auto& [k, v] : writes) {
    batch.Put(state_, Sl(k), Sl(*v));
    batch.Put(values_, Sl(crypto::Sha256(*v)), Sl(*v));
  }
  for (const auto& [hash, node] : nodes) batch.Put(nodes_, Sl(hash), Sl(AsStringView(node)));
  batch.Put(roots_, U64Key(0), Sl(*root));
  batch.Put(meta_, kMetaChainId, genesis.chain_id);
  batch.Put(meta_, kMetaGenesisHash, Sl(genesis.hash));
  batch.Put(meta_, kMetaHeight, U64Key(0));
  batch.Put(meta_, kMetaEpochPrefix + U64Key(0), EncodeEpoch(genesis.first_epoch()));
  // The format record goes last in the batch; the batch is atomic anyway.
  batch.Put(meta_, kMetaFormat, kFormatVersion);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return WriteError(db_->Write(wo, &batch), "cannot write the genesis state");
}

Status Store::CheckConsistency(const Genesis& genesis) {
  auto h = RawGet(meta_, kMetaHeight);
  if (!h.ok()) return h.status();
  if (!h->has_value() || (*h)->size() != 8) return Status::Corruption("commit height is missing");
  uint64_t height = GetU64(reinterpret_cast<const uint8_t*>((*h)->data()));
  auto root = RawGet(roots_, U64Key(height));
  if (!root.ok()) return root.status();
  if (!root->has_value() || (*root)->size() != 32) {
    return Status::Corruption("state root of the commit height " + std::to_string(height) +
                              " is missing");
  }
  StoreTip tip;
  tip.height = height;
  tip.time_ms = genesis.genesis_time_ms;
  std::copy((*root)->begin(), (*root)->end(), tip.state_root.begin());
  if (height > 0) {
    auto block = RawGet(blocks_, U64Key(height));
    if (!block.ok()) return block.status();
    v1::CommittedBlock cb;
    if (!block->has_value() || !cb.ParseFromString(**block) ||
        cb.block().header().height() != height) {
      return Status::Corruption("block " + std::to_string(height) + " is missing or damaged");
    }
    auto id = BlockId(cb.block().header());
    if (!id.ok()) return Status::Corruption("block " + std::to_string(height) + " is damaged");
    auto indexed = RawGet(block_ids_, Sl(*id).ToStringView());
    if (!indexed.ok()) return indexed.status();
    if (!indexed->has_value() || **indexed != U64Key(height)) {
      return Status::Corruption("block index disagrees with block " + std::to_string(height));
    }
    tip.id = *id;
    tip.time_ms = cb.block().header().time_ms();
    tip.state_height = cb.block().header().state_height();
  }
  {
    std::lock_guard lock(tip_mu_);
    tip_ = tip;
  }
  height_.store(height, std::memory_order_release);
  return Status::Ok();
}

Result<std::optional<std::string>> Store::RawGet(rocksdb::ColumnFamilyHandle* cf,
                                                 std::string_view key) const {
  std::string value;
  rocksdb::Status s = db_->Get(Reads(), cf, Sl(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, "read failed");
  return std::optional<std::string>(std::move(value));
}

Status Store::WriteConsensus(const std::vector<std::pair<std::string, std::string>>& puts,
                             const std::vector<std::string>& deletes) {
  if (read_only_)
    return Status::Error(Status::Code::kFailedPrecondition, "read_only", "store is read-only");
  rocksdb::WriteBatch batch;
  for (const auto& k : deletes) batch.Delete(consensus_, Sl(k));
  for (const auto& [k, v] : puts) batch.Put(consensus_, Sl(k), Sl(v));
  rocksdb::WriteOptions wo;
  wo.sync = sync_;
  wo.disableWAL = !sync_;
  if (Status e = EarlierWriteError(); !e.ok()) return e;
  rocksdb::Status s = db_->Write(wo, &batch);
  if (!s.ok()) return WriteError(s, "consensus record write failed");
  if (wo.sync) synced_writes_.fetch_add(1, std::memory_order_relaxed);
  return Status::Ok();
}

Status Store::SyncWal() {
  if (read_only_ || !sync_) return Status::Ok();
  synced_writes_.fetch_add(1, std::memory_order_relaxed);
  if (Status e = EarlierWriteError(); !e.ok()) return e;
  return WriteError(db_->SyncWAL(), "cannot sync the write-ahead log");
}

Result<std::optional<std::string>> Store::GetConsensus(std::string_view key) const {
  return RawGet(consensus_, key);
}

Result<std::vector<std::pair<std::string, std::string>>> Store::ScanConsensus(
    std::string_view prefix) const {
  std::vector<std::pair<std::string, std::string>> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(Reads(), consensus_));
  for (it->Seek(Sl(prefix)); it->Valid() && it->key().starts_with(Sl(prefix)); it->Next()) {
    out.emplace_back(it->key().ToString(), it->value().ToString());
  }
  if (!it->status().ok()) return FromRocks(it->status(), "consensus record scan failed");
  return out;
}

Result<Hash32> Store::StateRoot(uint64_t height) const {
  auto v = RawGet(roots_, U64Key(height));
  if (!v.ok()) return v.status();
  if (!v->has_value()) return Status::NotFound("no state root at height " + std::to_string(height));
  auto root = FixedFromBytes<32>(**v);
  if (!root) return Status::Corruption("state root record is not 32 bytes");
  return *root;
}

StoreTip Store::tip() const {
  std::lock_guard lock(tip_mu_);
  return tip_;
}

Result<v1::CommittedBlock> Store::GetBlock(uint64_t height) const {
  auto v = RawGet(blocks_, U64Key(height));
  if (!v.ok()) return v.status();
  if (!v->has_value()) return Status::NotFound("no block at height " + std::to_string(height));
  v1::CommittedBlock cb;
  if (!cb.ParseFromString(**v)) {
    return Status::Corruption("block " + std::to_string(height) + " does not decode");
  }
  return cb;
}

Result<uint64_t> Store::GetBlockHeight(const Hash32& block_id) const {
  auto v = RawGet(block_ids_, Sl(block_id).ToStringView());
  if (!v.ok()) return v.status();
  if (!v->has_value()) return Status::NotFound("no block " + ToHex(block_id));
  if ((*v)->size() != 8) return Status::Corruption("block index record is not 8 bytes");
  return GetU64(reinterpret_cast<const uint8_t*>((*v)->data()));
}

Result<TxLocation> Store::GetTxLocation(const Hash32& tx_id) const {
  auto v = RawGet(txs_, Sl(tx_id).ToStringView());
  if (!v.ok()) return v.status();
  if (!v->has_value()) return Status::NotFound("no committed transaction " + ToHex(tx_id));
  if ((*v)->size() != 12) return Status::Corruption("transaction index record is not 12 bytes");
  const auto* p = reinterpret_cast<const uint8_t*>((*v)->data());
  return TxLocation{GetU64(p), GetU32(p + 8)};
}

Result<v1::Receipt> Store::GetReceipt(const TxLocation& loc, const Hash32& tx_id) const {
  auto v = RawGet(receipts_, LocKey(loc.height, loc.index));
  if (!v.ok()) return v.status();
  if (!v->has_value()) return Status::NotFound("no receipt");
  v1::Receipt r;
  if (!r.ParseFromString(**v)) return Status::Corruption("receipt does not decode");
  r.set_tx_id(std::string(AsStringView(tx_id)));
  r.set_height(loc.height);
  r.set_index(loc.index);
  return r;
}

void Store::set_sync(bool sync) {
  sync_ = sync;
  // What a scratch store holds is thrown away: closing it need not flush (replay spent 0.9 s
  // of 2.8 s flushing memtables it then deleted).
  if (!sync) (void)db_->SetDBOptions({{"avoid_flush_during_shutdown", "true"}});
}

Result<v1::Receipt> Store::GetReceipt(const TxLocation& loc,
                                      const v1::Transaction& envelope) const {
  auto id = CommittedTxId(envelope);
  if (!id.ok()) return id.status();
  return GetReceipt(loc, *id);
}

Result<std::optional<std::string>> Store::Get(std::string_view key) const {
  std::string k(key);
  std::optional<std::string> value;
  if (state_cache_.Get(k, &value)) return value;
  const uint64_t ticket = state_cache_.Ticket(k);
  auto read = RawGet(state_, key);
  if (read.ok() && (!*read || (*read)->size() <= kMaxCachedValue)) {
    state_cache_.Fill(k, *read, ticket);
  }
  return read;
}

Status Store::Compact() {
  if (read_only_) {
    return Status::Error(Status::Code::kFailedPrecondition, "read_only", "store is read-only");
  }
  rocksdb::CompactRangeOptions o;
  // Into the last level, where a deleted node's tombstone and its put both go.
  o.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForceOptimized;
  for (auto* cf : handles_) {
    Status s = FromRocks(db_->CompactRange(o, cf, nullptr, nullptr), "compaction failed");
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status Store::Checkpoint(const std::string& dir) const {
  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status s = rocksdb::Checkpoint::Create(db_.get(), &raw);
  if (!s.ok()) return FromRocks(s, "cannot make a checkpoint of the ledger");
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  // log_size_for_flush 0: memtables are always flushed, so the copy needs no WAL replay.
  return FromRocks(checkpoint->CreateCheckpoint(dir, /*log_size_for_flush=*/0),
                   "cannot write a checkpoint of the ledger to " + dir);
}

Status Store::VerifyChecksums() const {
  rocksdb::ReadOptions r = Reads();
  r.readahead_size = 4 << 20;
  return FromRocks(db_->VerifyChecksum(r), "checksum verification of " + path_ + " failed");
}

Store::Background Store::background() const {
  Background b;
  uint64_t v = 0;
  if (db_->GetIntProperty(rocksdb::DB::Properties::kNumRunningCompactions, &v)) b.running_jobs += v;
  if (db_->GetIntProperty(rocksdb::DB::Properties::kNumRunningFlushes, &v)) b.running_jobs += v;
  for (auto* cf : handles_) {
    if (db_->GetIntProperty(cf, rocksdb::DB::Properties::kEstimatePendingCompactionBytes, &v)) {
      b.pending_compaction_bytes += v;
    }
  }
  return b;
}

Status Store::GetNode(const Hash32& hash, Bytes* out) const {
  if (node_cache_.Get(hash, out)) return Status::Ok();
  std::string value;
  rocksdb::Status s = db_->Get(Reads(), nodes_, Sl(hash), &value);
  if (s.IsNotFound()) return Status::NotFound("state tree node " + ToHex(hash));
  if (!s.ok()) return FromRocks(s, "read failed");
  if (crypto::Sha256(value) != hash) {
    return Status::Corruption("state tree node " + ToHex(hash) + " is malformed");
  }
  out->assign(value.begin(), value.end());
  node_cache_.Put(hash, *out);
  return Status::Ok();
}

Status Store::Pruned(uint64_t height) const {
  return Status::Error(Status::Code::kNotFound, "pruned",
                       "the state at height " + std::to_string(height) +
                           " is pruned: this node keeps the state of heights from " +
                           std::to_string(StateKeptFrom()) + " on");
}

Result<ProvenValue> Store::GetProven(std::string_view key, uint64_t height) const {
  if (height < StateKeptFrom()) return Pruned(height);
  ProvenValue out;
  auto root = StateRoot(height);
  if (!root.ok()) return root.status();
  out.root = *root;
  smt::Tree tree(*this);
  Hash32 tkey = TreeKey(key);
  auto proof = tree.Prove(out.root, tkey);
  // Pruning may delete the nodes while they are read: then the height has left the window.
  if (!proof.ok()) return height < StateKeptFrom() ? Pruned(height) : proof.status();
  out.proof = std::move(*proof);
  if (out.proof.has_leaf && out.proof.leaf_key == tkey) {
    auto v = RawGet(values_, Sl(out.proof.leaf_value_hash).ToStringView());
    if (!v.ok()) return v.status();
    if (!v->has_value()) return Status::Corruption("state value missing for a proven leaf");
    out.value = std::move(**v);
  }
  return out;
}

Status Store::CommitBlock(const v1::CommittedBlock& committed, const Hash32& block_id,
                          const std::vector<Hash32>& tx_ids, const BlockExecution& exec,
                          const Hash32& new_root, const smt::NodeBatch& nodes,
                          const std::vector<Hash32>& removed_nodes,
                          const std::optional<EpochEnd>& epoch_end, Durability durability) {
  if (read_only_) return Status::Error(Status::Code::kInternal, "read_only", "store is read-only");
  const uint64_t height = committed.block().header().height();
  if (height != this->height() + 1) {
    return Status::Error(Status::Code::kInternal, "bad_height",
                         "commit of height " + std::to_string(height) + " on top of " +
                             std::to_string(this->height()));
  }
  if (tx_ids.size() != exec.receipts.size()) {
    return Status::Error(Status::Code::kInternal, "internal", "receipts do not match transactions");
  }
  rocksdb::WriteBatch batch;
  const std::string hkey = U64Key(height);
  // Within each column family the keys go in ascending order: a memtable insert then starts
  // where the previous one ended instead of descending the skip list from the top (random
  // hashes inserted in arrival order cost most of a block's commit in a large state).
  auto by_key = [](const auto& a, const auto& b) { return a.first < b.first; };
  if (!execution_only_) {
    batch.Put(blocks_, hkey, committed.SerializeAsString());
    batch.Put(block_ids_, Sl(block_id), hkey);
    std::vector<std::pair<Hash32, uint32_t>> ids;  // tx id, index
    ids.reserve(tx_ids.size());
    v1::Receipt stored;
    for (size_t i = 0; i < tx_ids.size(); ++i) {
      ids.emplace_back(tx_ids[i], static_cast<uint32_t>(i));
      // Without what the key and the block say (GetReceipt puts it back).
      stored = exec.receipts[i];
      stored.clear_tx_id();
      stored.clear_height();
      stored.clear_index();
      batch.Put(receipts_, LocKey(height, static_cast<uint32_t>(i)), stored.SerializeAsString());
    }
    std::sort(ids.begin(), ids.end(), by_key);
    for (const auto& [id, i] : ids) batch.Put(txs_, Sl(id), LocKey(height, i));
  }
  std::vector<std::pair<Hash32, const std::string*>> values;
  for (const auto& [k, v] : exec.writes) {
    if (v) {
      batch.Put(state_, Sl(k), Sl(*v));
      values.emplace_back(crypto::Sha256(*v), &*v);
    } else {
      batch.Delete(state_, Sl(k));
    }
  }
  std::sort(values.begin(), values.end(), by_key);
  for (const auto& [hash, v] : values) batch.Put(values_, Sl(hash), Sl(*v));
  std::vector<const std::pair<Hash32, Bytes>*> sorted_nodes;
  sorted_nodes.reserve(nodes.size());
  for (const auto& n : nodes) sorted_nodes.push_back(&n);
  std::sort(sorted_nodes.begin(), sorted_nodes.end(),
            [](const auto* a, const auto* b) { return a->first < b->first; });
  for (const auto* n : sorted_nodes) batch.Put(nodes_, Sl(n->first), Sl(AsStringView(n->second)));
  std::vector<Hash32> revived;
  std::vector<uint64_t> settled, pruned;
  Status ps = Prune(height, nodes, &batch, &revived, &settled, &pruned);
  if (!ps.ok()) return ps;
  if (state_history_ > 0) {
    if (!removed_nodes.empty())
      batch.Put(meta_, kMetaRemovedPrefix + hkey, HashList(removed_nodes));
    if (!revived.empty()) batch.Put(meta_, kMetaRevivedPrefix + hkey, HashList(revived));
  }
  batch.Put(roots_, hkey, Sl(new_root));
  batch.Put(meta_, kMetaHeight, hkey);
  if (epoch_end) {
    const Epoch& next = epoch_end->next;
    if (next.number != CurrentEpoch().number + 1 || next.start_height != height + 1) {
      return Status::Error(Status::Code::kInternal, "internal", "epoch record out of sequence");
    }
    batch.Put(meta_, kMetaEpochPrefix + U64Key(next.number), EncodeEpoch(next));
    batch.Put(meta_, kMetaEpochChangePrefix + U64Key(next.number),
              epoch_end->change.SerializeAsString());
  }
  // Readers refuse the pruned heights before their nodes go, so that a missing node is never
  // taken for damage (GetProven).
  if (!pruned.empty()) kept_from_.store(pruned.back(), std::memory_order_release);
  rocksdb::WriteOptions wo;
  wo.sync = sync_ && durability == Durability::kSynced;
  wo.disableWAL = !sync_;
  if (Status e = EarlierWriteError(); !e.ok()) return e;
  Status s = WriteError(db_->Write(wo, &batch), "cannot commit block " + std::to_string(height));
  if (!s.ok()) return s;
  for (const auto& [hash, node] : nodes) node_cache_.Put(hash, node);
  for (const auto& [k, v] : exec.writes) {
    if (!v || v->size() <= kMaxCachedValue) {
      state_cache_.Put(k, v);
    } else {
      state_cache_.Erase(k);
    }
  }
  if (wo.sync) synced_writes_.fetch_add(1, std::memory_order_relaxed);
  if (epoch_end) {
    std::lock_guard lock(epochs_mu_);
    epochs_.push_back(epoch_end->next);
  }
  if (state_history_ > 0) {
    for (const auto& hash : revived) pending_.erase(HashPrefix(hash.data()));
    for (uint64_t prefix : settled) pending_.erase(prefix);
    for (const auto& hash : removed_nodes) pending_[HashPrefix(hash.data())] = height;
    if (!pruned.empty()) next_prune_ = pruned.back() + 1;
  }
  {
    std::lock_guard lock(tip_mu_);
    tip_ = StoreTip{height, block_id, committed.block().header().time_ms(),
                    committed.block().header().state_height(), new_root};
  }
  height_.store(height, std::memory_order_release);
  return Status::Ok();
}

}  // namespace civitas
