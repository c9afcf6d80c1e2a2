#include "ledger/hash_memtable.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "test_chain.h"

namespace civitas {
namespace {

using Model = std::map<std::string, std::string>;
using namespace std::string_literals;

// A database whose default family uses the hash memtable, compared against a std::map.
class HashMemtableTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::TestDir("memtable"); }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Open(size_t buckets) {
    db_.reset();
    rocksdb::Options o;
    o.create_if_missing = true;
    o.allow_concurrent_memtable_write = false;
    o.memtable_factory = NewHashTableMemTableFactory(buckets);
    o.write_buffer_size = 64 << 20;  // everything stays in the memtable until Flush
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, dir_, &db).ok());
    db_.reset(db);
  }

  std::optional<std::string> Get(const std::string& key, const rocksdb::Snapshot* at = nullptr) {
    rocksdb::ReadOptions ro;
    ro.snapshot = at;
    std::string v;
    rocksdb::Status s = db_->Get(ro, key, &v);
    EXPECT_TRUE(s.ok() || s.IsNotFound()) << s.ToString();
    if (s.IsNotFound()) return std::nullopt;
    return v;
  }

  // Every key of `keys` reads as in `model`, at `at`; a full scan both ways, and seeks to each
  // key, see exactly the model's entries in order.
  void Check(const std::vector<std::string>& keys, const Model& model,
             const rocksdb::Snapshot* at = nullptr) {
    for (const auto& k : keys) {
      auto it = model.find(k);
      auto got = Get(k, at);
      if (it == model.end()) {
        EXPECT_FALSE(got.has_value()) << "key " << k;
      } else {
        EXPECT_EQ(got, std::optional<std::string>(it->second)) << "key " << k;
      }
    }
    rocksdb::ReadOptions ro;
    ro.snapshot = at;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
    Model seen;
    std::string last;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (!seen.empty()) {
        EXPECT_LT(last, it->key().ToString());
      }
      last = it->key().ToString();
      seen[last] = it->value().ToString();
    }
    EXPECT_TRUE(it->status().ok());
    EXPECT_EQ(seen, model);
    size_t backwards = 0;
    for (it->SeekToLast(); it->Valid(); it->Prev()) ++backwards;
    EXPECT_EQ(backwards, model.size());
    for (const auto& k : keys) {
      it->Seek(k);
      auto want = model.lower_bound(k);
      if (want == model.end()) {
        EXPECT_FALSE(it->Valid());
      } else {
        ASSERT_TRUE(it->Valid());
        EXPECT_EQ(it->key().ToString(), want->first);
      }
    }
  }

  std::string dir_;
  std::unique_ptr<rocksdb::DB> db_;
};

// Keys of both shapes the store uses: uniformly random 32-byte hashes, and short strings that
// share long prefixes or are prefixes of each other (ties on the 8-byte sort prefix).
std::vector<std::string> MixedKeys(std::mt19937_64& rng) {
  std::vector<std::string> keys = {"", "a", "a\0"s, "acct/", "acct/1", "acct/10", "acct/100"};
  for (int i = 0; i < 150; ++i) keys.push_back("did/12345678/field/" + std::to_string(i));
  for (int i = 0; i < 300; ++i) {
    std::string h(32, '\0');
    for (auto& c : h) c = static_cast<char>(rng());
    keys.push_back(h);
  }
  return keys;
}

TEST_F(HashMemtableTest, ReadsAndScansMatchAMapBeforeAndAfterFlushAndReopen) {
  std::mt19937_64 rng(7);
  const auto keys = MixedKeys(rng);
  Open(64);  // few buckets: long chains that mix keys
  Model model;
  std::vector<std::pair<const rocksdb::Snapshot*, Model>> snapshots;
  auto mutate = [&](int ops) {
    for (int i = 0; i < ops; ++i) {
      const std::string& k = keys[rng() % keys.size()];
      if (rng() % 4 == 0) {
        ASSERT_TRUE(db_->Delete({}, k).ok());
        model.erase(k);
      } else {
        std::string v = "v" + std::to_string(i) + std::string(rng() % 40, 'x');
        ASSERT_TRUE(db_->Put({}, k, v).ok());
        model[k] = v;
      }
      if (i % 1000 == 999) snapshots.emplace_back(db_->GetSnapshot(), model);
    }
  };
  mutate(5000);
  Check(keys, model);
  // Older sequence numbers stay readable in the memtable (a key's entries, newest first).
  for (const auto& [snap, at] : snapshots) Check(keys, at, snap);
  ASSERT_TRUE(db_->Flush({}).ok());  // the flush reads the memtable through its sorted iterator
  Check(keys, model);
  for (const auto& [snap, at] : snapshots) Check(keys, at, snap);
  for (const auto& [snap, at] : snapshots) db_->ReleaseSnapshot(snap);
  snapshots.clear();
  mutate(3000);  // over the flushed table
  Check(keys, model);
  for (const auto& [snap, at] : snapshots) db_->ReleaseSnapshot(snap);
  Open(64);  // the write-ahead log is replayed into a new memtable
  Check(keys, model);
}

TEST_F(HashMemtableTest, ReadersSeeEachKeyGoForwardWhileOneWriterInserts) {
  Open(4);  // every chain is shared by many keys
  constexpr int kVersions = 3000;
  std::atomic<bool> done{false};
  std::atomic<int> errors{0};
  std::thread reader([&] {
    int last = -1;
    while (!done.load()) {
      auto v = Get("watched");
      const int n = v ? std::stoi(*v) : -1;
      if (n < last) errors.fetch_add(1);
      last = n;
    }
  });
  for (int i = 0; i < kVersions; ++i) {
    ASSERT_TRUE(db_->Put({}, "watched", std::to_string(i)).ok());
    ASSERT_TRUE(db_->Put({}, "other" + std::to_string(i), "x").ok());
  }
  done.store(true);
  reader.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(Get("watched"), std::optional<std::string>(std::to_string(kVersions - 1)));
}

}  // namespace
}  // namespace civitas
