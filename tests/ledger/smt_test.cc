#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <random>
#include <set>

#include "ledger/crypto.h"
#include "ledger/smt.h"
#include "tree_nodes.h"

namespace civitas::smt {
namespace {

Hash32 Key(uint64_t n) {
  Bytes b;
  PutU64(b, n);
  return crypto::Sha256(b);
}

// Replays random batches of sets and deletes against a plain map, checking after every batch
// the root (equal to a from-scratch build of the model), every read, and proofs of present and
// absent keys; every past root must stay readable.
void RandomModelRun(uint64_t seed, int batches, int ops_per_batch, uint64_t key_space) {
  std::mt19937_64 rng(seed);
  MemoryNodeStore store;
  Tree tree(store);
  std::map<Hash32, Hash32> model;
  Hash32 root = kEmptyRoot;
  std::vector<std::pair<Hash32, std::map<Hash32, Hash32>>> history;
  for (int b = 0; b < batches; ++b) {
    std::vector<Update> ups;
    for (int i = 0; i < ops_per_batch; ++i) {
      Hash32 k = Key(rng() % key_space);
      if (rng() % 3 == 0) {
        ups.push_back({k, std::nullopt});
        model.erase(k);
      } else {
        Hash32 v = Key(rng());
        ups.push_back({k, v});
        model[k] = v;
      }
    }
    NodeBatch nodes;
    auto r = tree.Apply(root, ups, &nodes);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    store.Put(nodes);
    root = *r;

    // The root depends only on the contents: compare with a tree built in one batch.
    MemoryNodeStore fresh_store;
    Tree fresh(fresh_store);
    std::vector<Update> all;
    for (auto& [k, v] : model) all.push_back({k, v});
    NodeBatch fresh_nodes;
    auto fresh_root = fresh.Apply(kEmptyRoot, all, &fresh_nodes);
    ASSERT_TRUE(fresh_root.ok());
    ASSERT_EQ(*fresh_root, root) << "seed " << seed << " batch " << b;

    for (int q = 0; q < 20; ++q) {
      Hash32 k = Key(rng() % (key_space + 10));
      auto got = tree.Get(root, k);
      ASSERT_TRUE(got.ok());
      auto it = model.find(k);
      std::optional<Hash32> want;
      if (it != model.end()) want = it->second;
      ASSERT_EQ(*got, want);
      auto proof = tree.Prove(root, k);
      ASSERT_TRUE(proof.ok());
      EXPECT_TRUE(VerifyProof(root, k, want, *proof).ok());
      // The same proof must not prove the opposite.
      if (want) {
        EXPECT_FALSE(VerifyProof(root, k, std::nullopt, *proof).ok());
        Hash32 other = *want;
        other[0] ^= 1;
        EXPECT_FALSE(VerifyProof(root, k, other, *proof).ok());
      } else {
        EXPECT_FALSE(VerifyProof(root, k, Key(1), *proof).ok());
      }
    }
    history.emplace_back(root, model);
  }
  // Old versions remain readable and provable.
  for (size_t i = 0; i < history.size(); i += 7) {
    const auto& [old_root, old_model] = history[i];
    for (const auto& [k, v] : old_model) {
      auto got = tree.Get(old_root, k);
      ASSERT_TRUE(got.ok());
      ASSERT_EQ(*got, std::optional<Hash32>(v));
    }
  }
}

TEST(SparseMerkleTree, RandomOperationsMatchMapModel) {
  for (uint64_t seed : {1, 2, 3, 4, 5}) RandomModelRun(seed, 60, 50, 400);
}

TEST(SparseMerkleTree, DenseSmallKeySpace) {
  for (uint64_t seed : {11, 12}) RandomModelRun(seed, 100, 10, 12);
}

// Apply reports exactly the difference between the old and the new tree: the nodes only the
// new one has, and the hashes of those only the old one has. Few values, so that values come
// back (a leaf rebuilt as it was), and few keys, so that leaves are pushed down and pulled up.
TEST(SparseMerkleTree, NewAndRemovedNodesAreTheDifferenceOfTheTrees) {
  for (uint64_t seed : {21, 22, 23}) {
    std::mt19937_64 rng(seed);
    MemoryNodeStore store;
    Tree tree(store);
    Hash32 root = kEmptyRoot;
    size_t total_new = 0, total_removed = 0;
    for (int b = 0; b < 150; ++b) {
      std::vector<Update> ups;
      const int n = 1 + static_cast<int>(rng() % 6);
      for (int i = 0; i < n; ++i) {
        Hash32 k = Key(rng() % 24);
        if (rng() % 4 == 0) {
          ups.push_back({k, std::nullopt});
        } else {
          ups.push_back({k, Key(1000 + rng() % 3)});
        }
      }
      NodeBatch nodes;
      std::vector<Hash32> removed;
      auto r = tree.Apply(root, ups, &nodes, &removed);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      store.Put(nodes);
      std::set<Hash32> before = testing::ReachableNodes(store, root),
                       after = testing::ReachableNodes(store, *r);
      std::set<Hash32> want_new, want_removed, got_new, got_removed(removed.begin(), removed.end());
      std::set_difference(after.begin(), after.end(), before.begin(), before.end(),
                          std::inserter(want_new, want_new.end()));
      std::set_difference(before.begin(), before.end(), after.begin(), after.end(),
                          std::inserter(want_removed, want_removed.end()));
      for (const auto& [h, enc] : nodes) got_new.insert(h);
      ASSERT_EQ(got_new.size(), nodes.size()) << "a node reported twice";
      ASSERT_EQ(got_removed.size(), removed.size()) << "a hash reported twice";
      ASSERT_EQ(got_new, want_new) << "seed " << seed << " batch " << b;
      ASSERT_EQ(got_removed, want_removed) << "seed " << seed << " batch " << b;
      total_new += nodes.size();
      total_removed += removed.size();
      root = *r;
    }
    EXPECT_GT(total_removed, 100u);  // the run did replace nodes
    // Every node of the last tree was new once and never removed since.
    EXPECT_EQ(total_new - total_removed, testing::ReachableNodes(store, root).size());
  }
}

TEST(SparseMerkleTree, EmptyAndSingleLeaf) {
  MemoryNodeStore store;
  Tree tree(store);
  NodeBatch nodes;
  auto r = tree.Apply(kEmptyRoot, {{Key(1), Key(2)}}, &nodes);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, LeafHash(Key(1), Key(2)));
  store.Put(nodes);
  auto gone = tree.Apply(*r, {{Key(1), std::nullopt}}, &nodes);
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(*gone, kEmptyRoot);
  auto p = tree.Prove(kEmptyRoot, Key(5));
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(VerifyProof(kEmptyRoot, Key(5), std::nullopt, *p).ok());
}

TEST(SparseMerkleTree, TamperedProofsFail) {
  MemoryNodeStore store;
  Tree tree(store);
  std::vector<Update> ups;
  for (uint64_t i = 0; i < 100; ++i) ups.push_back({Key(i), Key(i + 1000)});
  NodeBatch nodes;
  auto root = tree.Apply(kEmptyRoot, ups, &nodes);
  ASSERT_TRUE(root.ok());
  store.Put(nodes);
  auto p = tree.Prove(*root, Key(7));
  ASSERT_TRUE(p.ok());
  ASSERT_FALSE(p->siblings.empty());
  ASSERT_TRUE(VerifyProof(*root, Key(7), Key(1007), *p).ok());
  auto bad = *p;
  bad.siblings[0][3] ^= 0x10;
  EXPECT_FALSE(VerifyProof(*root, Key(7), Key(1007), bad).ok());
  bad = *p;
  bad.siblings.pop_back();
  EXPECT_FALSE(VerifyProof(*root, Key(7), Key(1007), bad).ok());
  Hash32 other_root = *root;
  other_root[0] ^= 1;
  EXPECT_FALSE(VerifyProof(other_root, Key(7), Key(1007), *p).ok());
}

TEST(SparseMerkleTree, MissingNodeIsCorruption) {
  MemoryNodeStore store;
  Tree tree(store);
  NodeBatch nodes;
  auto root = tree.Apply(kEmptyRoot, {{Key(1), Key(2)}, {Key(3), Key(4)}}, &nodes);
  ASSERT_TRUE(root.ok());
  // Nodes not stored: reads must fail with corruption, never return a wrong answer.
  auto got = tree.Get(*root, Key(1));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), Status::Code::kCorruption);
}

TEST(NodeCache, KeepsWhatIsUsedAndForgetsTheRest) {
  NodeCache cache(16);  // 4 sets of 4 nodes
  auto node = [](uint64_t n) {
    Bytes b;
    PutU64(b, n);
    b.resize(65, 1);  // a node's size
    return b;
  };
  Bytes out;
  EXPECT_FALSE(cache.Get(Key(1), &out));
  cache.Put(Key(1), node(1));
  ASSERT_TRUE(cache.Get(Key(1), &out));
  EXPECT_EQ(out, node(1));
  // Fill far past the capacity while reading key 1 after every put: it stays; the others go.
  for (uint64_t n = 100; n < 1100; ++n) {
    cache.Put(Key(n), node(n));
    ASSERT_TRUE(cache.Get(Key(1), &out)) << n;
    EXPECT_EQ(out, node(1));
  }
  int kept = 0;
  for (uint64_t n = 100; n < 1100; ++n) kept += cache.Get(Key(n), &out) ? 1 : 0;
  EXPECT_LE(kept, 15);  // 16 nodes at most, one of them node 1
  EXPECT_GT(kept, 0);   // the newest are there
  EXPECT_TRUE(cache.Get(Key(1099), &out));
  EXPECT_EQ(out, node(1099));
  // Only node encodings (65 bytes) are kept.
  cache.Put(Key(2), Bytes(64, 1));
  EXPECT_FALSE(cache.Get(Key(2), &out));
}

}  // namespace
}  // namespace civitas::smt
