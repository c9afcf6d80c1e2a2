#include "ledger/hash_memtable.h"

#include <rocksdb/memtablerep.h>
#include <rocksdb/version.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <string_view>
#include <utility>
#include <vector>

namespace civitas {
namespace {

using rocksdb::Slice;
using Comparator = rocksdb::MemTableRep::KeyComparator;

// A memtable entry, as RocksDB's MemTable::Add lays it out (a format its API freezes): a varint32
// length, the internal key (user key, then 8 bytes of sequence number and type), then the value.
Slice InternalKeyOf(const char* entry) {
  const auto* p = reinterpret_cast<const unsigned char*>(entry);
  uint32_t len = 0;
  for (int shift = 0;; shift += 7) {
    const uint32_t b = *p++;
    len |= (b & 0x7f) << shift;
    if (b < 0x80) break;
  }
  return Slice(reinterpret_cast<const char*>(p), len);
}

std::string_view UserKeyOf(const Slice& internal_key) {
  return {internal_key.data(), internal_key.size() - 8};
}

// The first 8 bytes of a user key, zero-padded, as a big-endian number: ordering by it agrees
// with bytewise order wherever two prefixes differ.
uint64_t PrefixOf(std::string_view user_key) {
  unsigned char b[8] = {};
  std::memcpy(b, user_key.data(), std::min<size_t>(sizeof b, user_key.size()));
  uint64_t v = 0;
  for (unsigned char c : b) v = (v << 8) | c;
  return v;
}

// A chain link, allocated in the memtable's arena just before the entry it holds.
struct Link {
  std::atomic<Link*> next{nullptr};
  const char* entry() const { return reinterpret_cast<const char*>(this + 1); }
};

// Orders entries against a seek target: the encoded memtable key when RocksDB gives one, else
// the internal key.
int CompareTarget(const Comparator& compare, const char* entry, const Slice& internal_key,
                  const char* memtable_key) {
  return memtable_key != nullptr ? compare(entry, memtable_key) : compare(entry, internal_key);
}

// rocksdb::LookupKey is declared in a header RocksDB does not install (db/dbformat.h). In 7.8 it
// begins with three pointers: the memtable key (a varint32 length, then the internal key), the
// internal key, and their end. Each lookup checks that they fit together, so a different layout
// stops the node instead of reading wrong keys.
static_assert(ROCKSDB_MAJOR == 7 && ROCKSDB_MINOR == 8,
              "check rocksdb::LookupKey's layout (db/dbformat.h) for this RocksDB version");

std::pair<const char*, Slice> LookupKeyParts(const rocksdb::LookupKey& k) {
  const char* p[3];
  std::memcpy(p, static_cast<const void*>(&k), sizeof p);
  const Slice internal_key(p[1], static_cast<size_t>(p[2] - p[1]));
  const Slice decoded = InternalKeyOf(p[0]);
  if (internal_key.size() < 8 || decoded.data() != p[1] || decoded.size() != internal_key.size()) {
    std::fprintf(
        stderr,
        "fatal: rocksdb::LookupKey's layout is not the one ledger/hash_memtable.cc assumes\n");
    std::abort();
  }
  return {p[0], internal_key};
}

class HashTableRep final : public rocksdb::MemTableRep {
 public:
  HashTableRep(const Comparator& compare, rocksdb::Allocator* allocator, size_t buckets)
      : MemTableRep(allocator),
        compare_(compare),
        mask_(buckets - 1),
        buckets_(new std::atomic<Link*>[buckets]()) {}

  rocksdb::KeyHandle Allocate(const size_t len, char** buf) override {
    auto* link = new (ArenaAligned(sizeof(Link) + len, alignof(Link))) Link;
    *buf = const_cast<char*>(link->entry());
    return link;
  }

  // One writer at a time. The chain stays sorted, and a link is published (release) only once
  // complete, so concurrent readers see a chain with or without it.
  void Insert(rocksdb::KeyHandle handle) override {
    auto* link = static_cast<Link*>(handle);
    std::atomic<Link*>* at = &BucketOf(UserKeyOf(InternalKeyOf(link->entry())));
    Link* cur = at->load(std::memory_order_relaxed);
    while (cur != nullptr && compare_(cur->entry(), link->entry()) < 0) {
      at = &cur->next;
      cur = at->load(std::memory_order_relaxed);
    }
    link->next.store(cur, std::memory_order_relaxed);
    at->store(link, std::memory_order_release);
  }

  bool Contains(const char* key) const override {
    for (Link* cur = First(UserKeyOf(InternalKeyOf(key))); cur != nullptr;
         cur = cur->next.load(std::memory_order_acquire)) {
      const int c = compare_(cur->entry(), key);
      if (c >= 0) return c == 0;
    }
    return false;
  }

  // Point reads (MemTable::Get): from the first entry at or after the lookup key in its chain,
  // while `callback` asks for more (it stops at another user key). RocksDB's default Get would
  // go through GetDynamicPrefixIterator, and in 7.8 it never frees that iterator.
  void Get(const rocksdb::LookupKey& k, void* callback_args,
           bool (*callback)(void* arg, const char* entry)) override {
    const auto [memtable_key, internal_key] = LookupKeyParts(k);
    Link* cur = First(UserKeyOf(internal_key));
    while (cur != nullptr && compare_(cur->entry(), memtable_key) < 0) {
      cur = cur->next.load(std::memory_order_acquire);
    }
    for (; cur != nullptr && callback(callback_args, cur->entry());
         cur = cur->next.load(std::memory_order_acquire)) {
    }
  }

  size_t ApproximateMemoryUsage() override { return (mask_ + 1) * sizeof(std::atomic<Link*>); }

  // The whole memtable in order (a flush, or a DB iterator): sorted now.
  Iterator* GetIterator(rocksdb::Arena* arena) override {
    std::vector<std::pair<uint64_t, const char*>> keyed;
    for (size_t b = 0; b <= mask_; ++b) {
      for (Link* cur = buckets_[b].load(std::memory_order_acquire); cur != nullptr;
           cur = cur->next.load(std::memory_order_acquire)) {
        keyed.emplace_back(PrefixOf(UserKeyOf(InternalKeyOf(cur->entry()))), cur->entry());
      }
    }
    std::sort(keyed.begin(), keyed.end(), [this](const auto& x, const auto& y) {
      if (x.first != y.first) return x.first < y.first;
      return compare_(x.second, y.second) < 0;
    });
    std::vector<const char*> sorted;
    sorted.reserve(keyed.size());
    for (const auto& k : keyed) sorted.push_back(k.second);
    return Make<SortedIterator>(arena, compare_, std::move(sorted));
  }

 private:
  class SortedIterator final : public Iterator {
   public:
    SortedIterator(const Comparator& compare, std::vector<const char*> sorted)
        : compare_(compare), sorted_(std::move(sorted)), pos_(sorted_.size()) {}
    bool Valid() const override { return pos_ < sorted_.size(); }
    const char* key() const override { return sorted_[pos_]; }
    void Next() override { ++pos_; }
    void Prev() override { pos_ = pos_ == 0 ? sorted_.size() : pos_ - 1; }
    void Seek(const Slice& internal_key, const char* memtable_key) override {
      pos_ = FirstNotBelow(internal_key, memtable_key, 0);
    }
    void SeekForPrev(const Slice& internal_key, const char* memtable_key) override {
      const size_t above = FirstNotBelow(internal_key, memtable_key, 1);
      pos_ = above == 0 ? sorted_.size() : above - 1;
    }
    void SeekToFirst() override { pos_ = 0; }
    void SeekToLast() override { pos_ = sorted_.empty() ? 0 : sorted_.size() - 1; }

   private:
    // The first position whose entry compares >= the target (bias 0) or > it (bias 1).
    size_t FirstNotBelow(const Slice& internal_key, const char* memtable_key, int bias) const {
      auto it = std::partition_point(sorted_.begin(), sorted_.end(), [&](const char* e) {
        return CompareTarget(compare_, e, internal_key, memtable_key) < bias;
      });
      return static_cast<size_t>(it - sorted_.begin());
    }
    const Comparator& compare_;
    std::vector<const char*> sorted_;
    size_t pos_;
  };

  std::atomic<Link*>& BucketOf(std::string_view user_key) const {
    return buckets_[std::hash<std::string_view>{}(user_key)&mask_];
  }
  Link* First(std::string_view user_key) const {
    return BucketOf(user_key).load(std::memory_order_acquire);
  }

  // Memory from the memtable's arena (thread-safe in RocksDB), freed with the memtable.
  void* ArenaAligned(size_t size, size_t align) {
    char* raw = nullptr;
    MemTableRep::Allocate(size + align - 1, &raw);
    return reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(raw) + align - 1) &
                                   ~uintptr_t{align - 1});
  }

  // An iterator given an arena is destroyed but not freed by its caller, and RocksDB's arena
  // type is not public (nor may this memtable's own arena grow once it is full): its memory is
  // kept here and freed with the memtable. Only flushes (once) and DB iterators ask for one.
  template <class It, class... Args>
  Iterator* Make(rocksdb::Arena* arena, Args&&... args) {
    if (arena == nullptr) return new It(std::forward<Args>(args)...);
    auto memory = std::make_unique<std::byte[]>(sizeof(It) + alignof(It) - 1);
    void* at = memory.get();
    size_t space = sizeof(It) + alignof(It) - 1;
    at = std::align(alignof(It), sizeof(It), at, space);
    std::lock_guard lock(kept_mu_);
    kept_.push_back(std::move(memory));
    return new (at) It(std::forward<Args>(args)...);
  }

  const Comparator& compare_;
  const size_t mask_;
  std::unique_ptr<std::atomic<Link*>[]> buckets_;
  std::mutex kept_mu_;
  std::vector<std::unique_ptr<std::byte[]>> kept_;
};

class HashTableRepFactory final : public rocksdb::MemTableRepFactory {
 public:
  explicit HashTableRepFactory(size_t buckets)
      : buckets_(std::bit_ceil(std::max<size_t>(buckets, 1))) {}
  using MemTableRepFactory::CreateMemTableRep;
  rocksdb::MemTableRep* CreateMemTableRep(const Comparator& compare, rocksdb::Allocator* allocator,
                                          const rocksdb::SliceTransform*,
                                          rocksdb::Logger*) override {
    return new HashTableRep(compare, allocator, buckets_);
  }
  const char* Name() const override { return "CivitasHashTableRepFactory"; }

 private:
  const size_t buckets_;
};

}  // namespace

std::shared_ptr<rocksdb::MemTableRepFactory> NewHashTableMemTableFactory(size_t buckets) {
  return std::make_shared<HashTableRepFactory>(buckets);
}

}  // namespace civitas
