#pragma once

// A bounded, thread-safe in-memory cache in front of a database (ledger/store.cc).
//
// Two generations per shard: when the current generation is full it becomes the previous one
// and the old previous one is dropped; a hit in the previous generation moves the entry back to
// the current one. What is used keeps being promoted, and memory stays bounded by about twice
// `capacity` entries.
//
// For values that change (the latest state), a reader that missed takes a Ticket before it reads
// the database and offers what it read with Fill: the fill is dropped if a writer's Put reached
// the same shard in between, because the read may predate that write. Writers Put after their
// database write, so the cache never keeps a value older than the database's.

#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <utility>

namespace civitas {

template <class K, class V, class Hash>
class GenerationalCache {
 public:
  // `capacity`: entries per generation, over all shards.
  explicit GenerationalCache(size_t capacity) : per_shard_(capacity / kShards + 1) {}

  bool Get(const K& key, V* out) {
    Shard& shard = ShardOf(key);
    std::lock_guard lock(shard.mu);
    if (auto it = shard.current.find(key); it != shard.current.end()) {
      *out = it->second;
      return true;
    }
    auto it = shard.previous.find(key);
    if (it == shard.previous.end()) return false;
    *out = it->second;
    V moved = std::move(it->second);
    shard.previous.erase(it);
    InsertLocked(shard, key, std::move(moved));  // still in use: keep it a generation more
    return true;
  }

  // A writer's value for `key`, after it reached the database.
  void Put(const K& key, V value) {
    Shard& shard = ShardOf(key);
    std::lock_guard lock(shard.mu);
    ++shard.version;
    InsertLocked(shard, key, std::move(value));
  }

  // A writer's change of `key` to a value the cache should not hold (too large, say).
  void Erase(const K& key) {
    Shard& shard = ShardOf(key);
    std::lock_guard lock(shard.mu);
    ++shard.version;
    shard.current.erase(key);
    shard.previous.erase(key);
  }

  uint64_t Ticket(const K& key) {
    Shard& shard = ShardOf(key);
    std::lock_guard lock(shard.mu);
    return shard.version;
  }

  // What a reader read from the database after taking `ticket` (see above).
  void Fill(const K& key, V value, uint64_t ticket) {
    Shard& shard = ShardOf(key);
    std::lock_guard lock(shard.mu);
    if (shard.version == ticket) InsertLocked(shard, key, std::move(value));
  }

 private:
  static constexpr size_t kShards = 16;
  using Map = std::unordered_map<K, V, Hash>;
  struct Shard {
    std::mutex mu;
    Map current, previous;
    uint64_t version = 0;  // Puts and Erases so far
  };

  Shard& ShardOf(const K& key) { return shards_[Hash{}(key) % kShards]; }

  void InsertLocked(Shard& shard, const K& key, V value) {
    if (shard.current.size() >= per_shard_ && !shard.current.count(key)) {
      shard.previous = std::move(shard.current);
      shard.current = Map();
      shard.current.reserve(per_shard_);  // no rehashing while it fills
    }
    shard.current.insert_or_assign(key, std::move(value));
  }

  const size_t per_shard_;
  std::array<Shard, kShards> shards_;
};

}  // namespace civitas
