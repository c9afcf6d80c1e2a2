#pragma once

// A RocksDB memtable for column families that are only read by whole key (docs/STORAGE.md,
// "Memtables"): a hash table of short sorted chains, which takes inserts at random keys in
// constant time, and is sorted only once, when it is flushed.
//
// RocksDB's own hash memtables (hash skip list, hash linked list) also insert in constant time,
// but their flush inserts every entry, in random order, into a new skip list: each insert misses
// the cache at every level. That was about 40 % of a validator's CPU while registering DIDs. This
// one sorts an array of (8-byte key prefix, entry) pairs instead, which rarely needs to look at
// an entry at all.
//
// Point reads (DB::Get) find their key's chain directly. A DB iterator over the family sorts the
// whole memtable, so these families should not be iterated, although they can be. Requires the
// family's comparator to be RocksDB's default (bytewise), and one writer at a time
// (allow_concurrent_memtable_write = false); readers may run concurrently with the writer.

#include <cstddef>
#include <memory>

namespace rocksdb {
class MemTableRepFactory;
}  // namespace rocksdb

namespace civitas {

// `buckets`: chains per memtable; a memtable of n entries has chains of about n / buckets.
std::shared_ptr<rocksdb::MemTableRepFactory> NewHashTableMemTableFactory(size_t buckets);

}  // namespace civitas
