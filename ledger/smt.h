#pragma once

// A versioned sparse Merkle tree over SHA-256 (Jellyfish-style, binary, with leaf compression):
// 256-bit keys, a subtree holding one leaf is that leaf, nodes are content-addressed and never
// rewritten, so every past root stays readable. Format: docs/PROTOCOL.md, "State tree".
//
//   empty subtree  hash = 32 zero bytes (never stored)
//   leaf           bytes = 0x00 || key || value_hash     hash = SHA256(bytes)
//   internal       bytes = 0x01 || left || right         hash = SHA256(bytes)
//
// Bit i of a key (i = 0 is the most significant bit of byte 0) picks the child at depth i:
// 0 = left, 1 = right.

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "ledger/bytes.h"
#include "ledger/status.h"

namespace civitas::smt {

inline constexpr Hash32 kEmptyRoot{};

Hash32 LeafHash(const Hash32& key, const Hash32& value_hash);
Hash32 InternalHash(const Hash32& left, const Hash32& right);

// Where the tree reads nodes. Implementations must be safe for concurrent readers.
class NodeReader {
 public:
  virtual ~NodeReader() = default;
  // The encoded node with this hash; NotFound if absent.
  virtual Status GetNode(const Hash32& hash, Bytes* out) const = 0;
  // True when GetNode only returns bytes whose SHA-256 is the hash asked for (else Corruption),
  // so the tree need not hash them again.
  virtual bool ChecksHashes() const { return false; }
};

// Nodes created by an update, to be written with the block that created them.
using NodeBatch = std::vector<std::pair<Hash32, Bytes>>;

struct Update {
  Hash32 key;
  std::optional<Hash32> value_hash;  // nullopt deletes the key
};

// A proof about one key against one root. `siblings[i]` is the sibling at depth i on the key's
// path, from the root down to the terminal node. The terminal node is either empty
// (has_leaf = false) or a leaf (leaf_key, leaf_value_hash): the key's own leaf for membership,
// or another key's leaf that occupies the key's path, which proves absence.
struct Proof {
  std::vector<Hash32> siblings;
  bool has_leaf = false;
  Hash32 leaf_key{};
  Hash32 leaf_value_hash{};
};

// Checks `proof` for `key` against `root`: with a value hash, that the key holds that value;
// with nullopt, that the key is absent. Standalone: needs nothing but the arguments.
Status VerifyProof(const Hash32& root, const Hash32& key, const std::optional<Hash32>& value_hash,
                   const Proof& proof);

class Tree {
 public:
  // `reader` must outlive the Tree.
  explicit Tree(const NodeReader& reader) : reader_(reader) {}

  // Applies `updates` (any order; for a repeated key the last wins) to the tree at `root` and
  // returns the new root. The nodes of the new tree that the tree at `root` lacks are appended
  // to *new_nodes; the caller persists them before the new root is used. With `removed`, the
  // hashes of the nodes of the tree at `root` that the new tree lacks are appended to it (what
  // pruning may delete once no kept root needs them). Nothing is written on failure.
  Result<Hash32> Apply(const Hash32& root, std::vector<Update> updates, NodeBatch* new_nodes,
                       std::vector<Hash32>* removed = nullptr) const;

  // The value hash stored under `key` at `root`, or nullopt.
  Result<std::optional<Hash32>> Get(const Hash32& root, const Hash32& key) const;

  Result<Proof> Prove(const Hash32& root, const Hash32& key) const;

 private:
  struct Node {
    bool leaf = false;
    Hash32 a{};  // leaf: key; internal: left
    Hash32 b{};  // leaf: value hash; internal: right
  };
  enum class Kind { kEmpty, kLeaf, kInternal, kUnknown };
  struct Sub {
    Hash32 hash;
    Kind kind;
  };
  struct Item {
    Hash32 key;
    Hash32 value_hash;
  };

  Status Load(const Hash32& hash, Node* node) const;
  // `out` gets the nodes built, `replaced` the old nodes on the updated paths that are not
  // kept as they are (some come back among the nodes built: Apply takes those out of both).
  Result<Sub> ApplyAt(const Hash32& hash, int depth, std::span<const Update> updates,
                      NodeBatch* out, std::vector<Hash32>* replaced) const;
  Sub Build(std::span<const Item> items, int depth, NodeBatch* out) const;

  const NodeReader& reader_;
};

// An in-memory NodeReader, for tests, proofs in clients and replay.
class MemoryNodeStore : public NodeReader {
 public:
  Status GetNode(const Hash32& hash, Bytes* out) const override;
  void Put(const NodeBatch& batch);
  size_t size() const { return nodes_.size(); }

 private:
  std::map<Hash32, Bytes> nodes_;
};

// Recently read or written nodes, by hash, for a NodeReader over a database: a block's updates
// read the upper levels of the tree on every path, and the nodes the last blocks wrote. Nodes
// are content-addressed and never rewritten, so a cached node cannot go stale. Thread-safe.
//
// A fixed array of sets of 4 nodes, chosen by a hash's first bytes, each set kept in order of
// use: a hit moves the node to the front, a new node goes to the front and pushes out the last.
// Nothing is allocated per node (a map of nodes spent more time in malloc and free than in
// lookups), and the array's pages take memory only once used.
class NodeCache {
 public:
  // `capacity`: nodes, rounded up to a power of two.
  explicit NodeCache(size_t capacity);
  bool Get(const Hash32& hash, Bytes* out);
  void Put(const Hash32& hash, const Bytes& node);

 private:
  static constexpr size_t kWays = 4;
  using Encoded = std::array<uint8_t, 65>;  // every node encodes to 65 bytes
  struct Set {
    Hash32 hashes[kWays];  // all zero: empty (no node hashes to zero)
    Encoded nodes[kWays];
  };
  // Moves way `i` of `set` to the front, shifting the ways before it back by one.
  static void ToFront(Set& set, size_t i);

  struct Unmap {
    size_t bytes;
    void operator()(Set* sets) const;
  };

  size_t mask_;
  std::unique_ptr<Set[], Unmap> sets_;
  std::array<std::mutex, 1024> locks_;  // set i is guarded by locks_[i % 1024]
};

}  // namespace civitas::smt
