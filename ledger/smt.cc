#include "ledger/smt.h"

#include <sys/mman.h>

#include <algorithm>
#include <bit>
#include <new>
#include <type_traits>

#include "ledger/crypto.h"

namespace civitas::smt {
namespace {

constexpr int kKeyBits = 256;

bool Bit(const Hash32& key, int i) { return (key[i / 8] >> (7 - i % 8)) & 1; }

Bytes Encode(uint8_t tag, const Hash32& a, const Hash32& b) {
  Bytes out;
  out.reserve(65);
  out.push_back(tag);
  Append(out, a);
  Append(out, b);
  return out;
}

}  // namespace

Hash32 LeafHash(const Hash32& key, const Hash32& value_hash) {
  return crypto::Sha256(AsStringView(Encode(0, key, value_hash)));
}

Hash32 InternalHash(const Hash32& left, const Hash32& right) {
  return crypto::Sha256(AsStringView(Encode(1, left, right)));
}

Status Tree::Load(const Hash32& hash, Node* node) const {
  Bytes raw;
  Status s = reader_.GetNode(hash, &raw);
  if (s.code() == Status::Code::kCorruption) return s;
  if (!s.ok()) {
    return Status::Corruption("state tree node " + ToHex(hash) + " is missing: " + s.message());
  }
  if (raw.size() != 65 || raw[0] > 1 || (!reader_.ChecksHashes() && crypto::Sha256(raw) != hash)) {
    return Status::Corruption("state tree node " + ToHex(hash) + " is malformed");
  }
  node->leaf = raw[0] == 0;
  std::copy(raw.begin() + 1, raw.begin() + 33, node->a.begin());
  std::copy(raw.begin() + 33, raw.end(), node->b.begin());
  return Status::Ok();
}

Tree::Sub Tree::Build(std::span<const Item> items, int depth, NodeBatch* out) const {
  if (items.empty()) return {kEmptyRoot, Kind::kEmpty};
  if (items.size() == 1) {
    Bytes enc = Encode(0, items[0].key, items[0].value_hash);
    Hash32 h = crypto::Sha256(enc);
    out->emplace_back(h, std::move(enc));
    return {h, Kind::kLeaf};
  }
  // Items are sorted by key and share the first `depth` bits, so the ones going left come first.
  auto mid = std::partition_point(items.begin(), items.end(),
                                  [depth](const Item& it) { return !Bit(it.key, depth); });
  size_t split = static_cast<size_t>(mid - items.begin());
  Sub left = Build(items.subspan(0, split), depth + 1, out);
  Sub right = Build(items.subspan(split), depth + 1, out);
  Bytes enc = Encode(1, left.hash, right.hash);
  Hash32 h = crypto::Sha256(enc);
  out->emplace_back(h, std::move(enc));
  return {h, Kind::kInternal};
}

Result<Tree::Sub> Tree::ApplyAt(const Hash32& hash, int depth, std::span<const Update> updates,
                                NodeBatch* out, std::vector<Hash32>* replaced) const {
  if (updates.empty()) return Sub{hash, hash == kEmptyRoot ? Kind::kEmpty : Kind::kUnknown};
  if (depth > kKeyBits) return Status::Corruption("state tree deeper than 256 levels");

  Node node;
  if (hash != kEmptyRoot) {
    Status s = Load(hash, &node);
    if (!s.ok()) return s;
  }
  if (hash == kEmptyRoot || node.leaf) {
    // Rebuild this subtree from the existing leaf (unless overwritten) and the new values.
    std::vector<Item> items;
    items.reserve(updates.size() + 1);
    bool leaf_kept = hash != kEmptyRoot;
    for (const Update& u : updates) {
      if (leaf_kept && u.key == node.a) leaf_kept = false;
      if (u.value_hash) items.push_back({u.key, *u.value_hash});
    }
    if (leaf_kept) {
      if (items.empty()) return Sub{hash, Kind::kLeaf};  // only absent keys were deleted
      items.push_back({node.a, node.b});
      std::sort(items.begin(), items.end(),
                [](const Item& x, const Item& y) { return x.key < y.key; });
    }
    if (hash != kEmptyRoot) replaced->push_back(hash);
    return Build(items, depth, out);
  }

  auto mid = std::partition_point(updates.begin(), updates.end(),
                                  [depth](const Update& u) { return !Bit(u.key, depth); });
  size_t split = static_cast<size_t>(mid - updates.begin());
  auto left = ApplyAt(node.a, depth + 1, updates.subspan(0, split), out, replaced);
  if (!left.ok()) return left.status();
  auto right = ApplyAt(node.b, depth + 1, updates.subspan(split), out, replaced);
  if (!right.ok()) return right.status();
  replaced->push_back(hash);

  // Keep the tree canonical: a subtree with a single leaf is that leaf.
  auto is_leaf = [this](Sub& s) -> Result<bool> {
    if (s.kind == Kind::kUnknown) {
      Node n;
      Status st = Load(s.hash, &n);
      if (!st.ok()) return st;
      s.kind = n.leaf ? Kind::kLeaf : Kind::kInternal;
    }
    return s.kind == Kind::kLeaf;
  };
  if (left->kind == Kind::kEmpty && right->kind == Kind::kEmpty)
    return Sub{kEmptyRoot, Kind::kEmpty};
  if (left->kind == Kind::kEmpty || right->kind == Kind::kEmpty) {
    Sub& other = left->kind == Kind::kEmpty ? *right : *left;
    auto leaf = is_leaf(other);
    if (!leaf.ok()) return leaf.status();
    if (*leaf) return other;
  }
  Bytes enc = Encode(1, left->hash, right->hash);
  Hash32 h = crypto::Sha256(enc);
  out->emplace_back(h, std::move(enc));
  return Sub{h, Kind::kInternal};
}

Result<Hash32> Tree::Apply(const Hash32& root, std::vector<Update> updates, NodeBatch* new_nodes,
                           std::vector<Hash32>* removed) const {
  // Sort by key, keeping the last update of each key.
  std::stable_sort(updates.begin(), updates.end(),
                   [](const Update& x, const Update& y) { return x.key < y.key; });
  std::vector<Update> unique;
  unique.reserve(updates.size());
  for (auto& u : updates) {
    if (!unique.empty() && unique.back().key == u.key) {
      unique.back() = u;
    } else {
      unique.push_back(u);
    }
  }
  NodeBatch created;
  std::vector<Hash32> replaced;
  auto sub = ApplyAt(root, 0, unique, &created, &replaced);
  if (!sub.ok()) return sub.status();
  // A node is at one place in a tree (an internal node's content fixes its depth and prefix, a
  // leaf's its key), so a built node the old tree had was on an updated path: it is among the
  // replaced ones (a leaf pushed down, a value set to what it was). Those stay as they are.
  std::sort(replaced.begin(), replaced.end());
  std::vector<bool> kept(replaced.size());
  for (auto& node : created) {
    auto it = std::lower_bound(replaced.begin(), replaced.end(), node.first);
    if (it != replaced.end() && *it == node.first) {
      kept[static_cast<size_t>(it - replaced.begin())] = true;
    } else {
      new_nodes->push_back(std::move(node));
    }
  }
  if (removed != nullptr) {
    for (size_t i = 0; i < replaced.size(); ++i) {
      if (!kept[i]) removed->push_back(replaced[i]);
    }
  }
  return sub->hash;
}

Result<std::optional<Hash32>> Tree::Get(const Hash32& root, const Hash32& key) const {
  Hash32 hash = root;
  for (int depth = 0; depth <= kKeyBits; ++depth) {
    if (hash == kEmptyRoot) return std::optional<Hash32>();
    Node node;
    Status s = Load(hash, &node);
    if (!s.ok()) return s;
    if (node.leaf) return node.a == key ? std::optional<Hash32>(node.b) : std::nullopt;
    hash = Bit(key, depth) ? node.b : node.a;
  }
  return Status::Corruption("state tree deeper than 256 levels");
}

Result<Proof> Tree::Prove(const Hash32& root, const Hash32& key) const {
  Proof proof;
  Hash32 hash = root;
  for (int depth = 0; depth <= kKeyBits; ++depth) {
    if (hash == kEmptyRoot) return proof;
    Node node;
    Status s = Load(hash, &node);
    if (!s.ok()) return s;
    if (node.leaf) {
      proof.has_leaf = true;
      proof.leaf_key = node.a;
      proof.leaf_value_hash = node.b;
      return proof;
    }
    bool right = Bit(key, depth);
    proof.siblings.push_back(right ? node.a : node.b);
    hash = right ? node.b : node.a;
  }
  return Status::Corruption("state tree deeper than 256 levels");
}

Status VerifyProof(const Hash32& root, const Hash32& key, const std::optional<Hash32>& value_hash,
                   const Proof& proof) {
  const size_t depth = proof.siblings.size();
  if (depth > static_cast<size_t>(kKeyBits)) return Status::Invalid("bad_proof", "proof too long");
  if (value_hash) {
    if (!proof.has_leaf || proof.leaf_key != key || proof.leaf_value_hash != *value_hash) {
      return Status::Invalid("bad_proof", "proof does not show the key holding the value");
    }
  } else if (proof.has_leaf) {
    if (proof.leaf_key == key) return Status::Invalid("bad_proof", "the key is present");
    for (size_t i = 0; i < depth; ++i) {
      if (Bit(proof.leaf_key, static_cast<int>(i)) != Bit(key, static_cast<int>(i))) {
        return Status::Invalid("bad_proof", "the proof's leaf is not on the key's path");
      }
    }
  }
  Hash32 h = proof.has_leaf ? LeafHash(proof.leaf_key, proof.leaf_value_hash) : kEmptyRoot;
  for (size_t i = depth; i-- > 0;) {
    h = Bit(key, static_cast<int>(i)) ? InternalHash(proof.siblings[i], h)
                                      : InternalHash(h, proof.siblings[i]);
  }
  if (h != root) return Status::Invalid("bad_proof", "proof does not lead to the root");
  return Status::Ok();
}

Status MemoryNodeStore::GetNode(const Hash32& hash, Bytes* out) const {
  auto it = nodes_.find(hash);
  if (it == nodes_.end()) return Status::NotFound("node " + ToHex(hash));
  *out = it->second;
  return Status::Ok();
}

void MemoryNodeStore::Put(const NodeBatch& batch) {
  for (const auto& [h, b] : batch) nodes_.emplace(h, b);
}

namespace {

// Zeroed memory that the kernel maps only once it is touched, in 2 MiB pages where it allows
// them (transparent huge pages in `madvise` mode, Debian's default). With 4 KiB pages, the
// first Get in a page maps the shared zero page and the Put after it copies that page, which
// flushes the TLB of every core running the process: 4 % of a replay's CPU went there. A huge
// page is faulted 512 times less often and spares the TLB misses of lookups spread at random
// over a table of hundreds of megabytes.
void* MapZeroed(size_t bytes) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  madvise(p, bytes, MADV_HUGEPAGE);  // advice: without it, 4 KiB pages
  return p;
}

}  // namespace

NodeCache::NodeCache(size_t capacity)
    : mask_(std::bit_ceil(std::max<size_t>(capacity / kWays, 1)) - 1),
      sets_(static_cast<Set*>(MapZeroed((mask_ + 1) * sizeof(Set))),
            Unmap{(mask_ + 1) * sizeof(Set)}) {
  static_assert(std::is_trivially_copyable_v<Set>);
}

void NodeCache::Unmap::operator()(Set* sets) const { munmap(sets, bytes); }

void NodeCache::ToFront(Set& set, size_t i) {
  if (i == 0) return;
  std::rotate(set.hashes, set.hashes + i, set.hashes + i + 1);
  std::rotate(set.nodes, set.nodes + i, set.nodes + i + 1);
}

bool NodeCache::Get(const Hash32& hash, Bytes* out) {
  const size_t index = UniformKeyHash{}(hash)&mask_;
  Set& set = sets_[index];
  std::lock_guard lock(locks_[index % locks_.size()]);
  for (size_t i = 0; i < kWays; ++i) {
    if (set.hashes[i] != hash) continue;
    out->assign(set.nodes[i].begin(), set.nodes[i].end());
    ToFront(set, i);
    return true;
  }
  return false;
}

void NodeCache::Put(const Hash32& hash, const Bytes& node) {
  if (node.size() != sizeof(Encoded)) return;  // not a node: Tree::Load refuses it anyway
  const size_t index = UniformKeyHash{}(hash)&mask_;
  Set& set = sets_[index];
  std::lock_guard lock(locks_[index % locks_.size()]);
  size_t i = 0;
  while (i < kWays - 1 && set.hashes[i] != hash) ++i;  // found, or the last (oldest) way
  set.hashes[i] = hash;
  std::copy(node.begin(), node.end(), set.nodes[i].begin());
  ToFront(set, i);
}

}  // namespace civitas::smt
