// Pruning (docs/STORAGE.md, "Pruning"): a store with a state history of K heights keeps every
// node of the states of the last K heights and the tip, and deletes every other node, across
// restarts and values that come back.

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "ledger/block.h"
#include "ledger/store.h"
#include "test_chain.h"
#include "tree_nodes.h"

namespace civitas {
namespace {

constexpr uint64_t kHistory = 3;

class PruningTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TestDir("pruning");
    chain_ = testing::MakeTestChain(3, 1'000'000);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Store> Open(uint64_t history) {
    auto s = Store::Open(dir_, chain_.genesis, Store::Mode::kReadWrite, StoreOptions{history});
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }

  // Commits one block writing a few of six keys, each to one of two values or deleted, so that
  // values, leaves and whole subtrees come back within the window.
  void CommitRandomBlock(Store& store, std::mt19937_64& rng) {
    StateWrites writes;
    const int n = 1 + static_cast<int>(rng() % 3);
    for (int i = 0; i < n; ++i) {
      std::string key = "pruning/k" + std::to_string(rng() % 6);
      if (rng() % 4 == 0) {
        writes[key] = std::nullopt;
      } else {
        writes[key] = rng() % 2 ? "a" : "b";
      }
    }
    CommitWrites(store, writes);
  }

  void CommitWrites(Store& store, const StateWrites& writes) {
    const uint64_t height = store.height() + 1;
    BlockExecution exec;
    exec.writes = writes;
    smt::Tree tree(store);
    smt::NodeBatch nodes;
    std::vector<Hash32> removed;
    auto root = ApplyWrites(tree, *store.StateRoot(height - 1), exec.writes, &nodes, &removed);
    ASSERT_TRUE(root.ok()) << root.status().ToString();
    v1::CommittedBlock committed;
    auto* h = committed.mutable_block()->mutable_header();
    h->set_chain_id(chain_.genesis.chain_id);
    h->set_height(height);
    for (auto* field : {h->mutable_parent_id(), h->mutable_tx_root(), h->mutable_state_root(),
                        h->mutable_proposer()}) {
      field->assign(32, '\0');
    }
    Status s = store.CommitBlock(committed, *BlockId(*h), {}, exec, *root, nodes, removed);
    ASSERT_TRUE(s.ok()) << s.ToString();
    model_.push_back(model_.back());
    for (const auto& [k, v] : exec.writes) {
      if (v) {
        model_.back()[k] = *v;
      } else {
        model_.back().erase(k);
      }
    }
    reach_.push_back(testing::ReachableNodes(store, *root));
    for (const Hash32& x : reach_.back()) {
      // A node built again while its deletion waited (removed within the window).
      for (uint64_t v = height - std::min(height, kHistory); v + 1 < height; ++v) {
        if (!reach_[height - 1].count(x) && reach_[v].count(x) && !reach_[v + 1].count(x)) {
          ++revived_;
        }
      }
    }
  }

  // Checks a freshly opened store (its node cache empty): a node is on disk exactly when a
  // state from `kept_from` on has it, and those states read back whole with proofs.
  void CheckStore(const Store& store, uint64_t kept_from) {
    const uint64_t tip = store.height();
    ASSERT_EQ(store.StateKeptFrom(), kept_from);
    std::set<Hash32> kept, all;
    for (uint64_t v = 0; v <= tip; ++v) {
      all.insert(reach_[v].begin(), reach_[v].end());
      if (v >= kept_from) kept.insert(reach_[v].begin(), reach_[v].end());
    }
    ASSERT_LT(kept.size(), all.size());
    for (const Hash32& x : all) {
      Bytes raw;
      Status s = store.GetNode(x, &raw);
      EXPECT_EQ(s.ok(), kept.count(x) == 1) << ToHex(x) << ": " << s.ToString();
    }
    for (uint64_t v = 1; v <= tip; ++v) {
      for (int k = 0; k < 6; ++k) {
        const std::string key = "pruning/k" + std::to_string(k);
        auto proven = store.GetProven(key, v);
        if (v < kept_from) {
          ASSERT_FALSE(proven.ok());
          EXPECT_EQ(proven.status().reason(), "pruned");
          continue;
        }
        ASSERT_TRUE(proven.ok()) << proven.status().ToString();
        auto it = model_[v].find(key);
        std::optional<std::string> want;
        if (it != model_[v].end()) want = it->second;
        EXPECT_EQ(proven->value, want) << key << " at " << v;
        std::optional<Hash32> value_hash;
        if (want) value_hash = crypto::Sha256(*want);
        EXPECT_TRUE(smt::VerifyProof(proven->root, TreeKey(key), value_hash, proven->proof).ok());
      }
    }
  }

  std::string dir_;
  testing::TestChain chain_;
  std::vector<std::map<std::string, std::string>> model_{{}};  // by height, our keys only
  std::vector<std::set<Hash32>> reach_;                        // nodes of each height's state
  int revived_ = 0;
};

TEST_F(PruningTest, KeepsTheWindowDeletesTheRestAcrossRestarts) {
  std::mt19937_64 rng(7);
  {
    auto store = Open(kHistory);
    ASSERT_TRUE(store);
    reach_.push_back(testing::ReachableNodes(*store, *store->StateRoot(0)));
    for (int b = 0; b < 30; ++b) CommitRandomBlock(*store, rng);
  }
  // Reopened: what was deleted is gone, and the lists still waiting are read back.
  {
    auto store = Open(kHistory);
    ASSERT_TRUE(store);
    CheckStore(*store, 30 - kHistory);
    for (int b = 0; b < 30; ++b) CommitRandomBlock(*store, rng);
  }
  {
    auto store = Open(kHistory);
    ASSERT_TRUE(store);
    CheckStore(*store, 60 - kHistory);
  }
  EXPECT_GT(revived_, 5);  // the runs did build removed nodes again within the window
  // Turned into an archive node: the heights already pruned stay refused, the newer ones stay.
  {
    auto store = Open(0);
    ASSERT_TRUE(store);
    for (int b = 0; b < 10; ++b) CommitRandomBlock(*store, rng);
  }
  auto store = Open(0);
  ASSERT_TRUE(store);
  CheckStore(*store, 60 - kHistory);
}

// A node built again by the very commit that prunes the height which removed it stays.
TEST_F(PruningTest, NodeBuiltAgainAsItsHeightIsPrunedStays) {
  {
    auto store = Open(kHistory);
    ASSERT_TRUE(store);
    reach_.push_back(testing::ReachableNodes(*store, *store->StateRoot(0)));
    CommitWrites(*store, {{"pruning/k0", "a"}});
    CommitWrites(*store, {{"pruning/k0", "b"}});  // height 2 removes the leaf k0 = a
    CommitWrites(*store, {{"pruning/k1", "a"}});
    CommitWrites(*store, {{"pruning/k2", "a"}});
    CommitWrites(*store, {{"pruning/k0", "a"}});  // height 5 prunes height 2, and builds it again
    EXPECT_TRUE(reach_[5].count(smt::LeafHash(TreeKey("pruning/k0"), crypto::Sha256("a"))));
  }
  auto store = Open(kHistory);
  ASSERT_TRUE(store);
  CheckStore(*store, 5 - kHistory);
}

// A node built again before a restart, while its deletion waited, stays after it: the lists
// read back at the open record that it came back.
TEST_F(PruningTest, NodeBuiltAgainBeforeARestartStays) {
  {
    auto store = Open(kHistory);
    ASSERT_TRUE(store);
    reach_.push_back(testing::ReachableNodes(*store, *store->StateRoot(0)));
    CommitWrites(*store, {{"pruning/k0", "a"}});
    CommitWrites(*store, {{"pruning/k0", "b"}});  // height 2 removes the leaf k0 = a
    CommitWrites(*store, {{"pruning/k0", "a"}});  // height 3 builds it again
  }
  {
    auto store = Open(kHistory);
    ASSERT_TRUE(store);
    CommitWrites(*store, {{"pruning/k1", "a"}});
    CommitWrites(*store, {{"pruning/k2", "a"}});  // height 5 prunes height 2
  }
  auto store = Open(kHistory);
  ASSERT_TRUE(store);
  CheckStore(*store, 5 - kHistory);
}

// While pruning advances, a reader of a height leaving the window gets "pruned", never a
// damaged-state error.
TEST_F(PruningTest, ReadersOfLeavingHeightsGetPruned) {
  std::mt19937_64 rng(9);
  auto store = Open(kHistory);
  ASSERT_TRUE(store);
  reach_.push_back(testing::ReachableNodes(*store, *store->StateRoot(0)));
  for (int b = 0; b < 5; ++b) CommitRandomBlock(*store, rng);
  std::atomic<bool> stop{false};
  std::atomic<int> pruned{0}, read{0};
  std::thread reader([&] {
    while (!stop.load()) {
      const uint64_t tip = store->height();
      for (uint64_t v = tip > 5 ? tip - 5 : 1; v <= tip; ++v) {
        auto proven = store->GetProven("pruning/k1", v);
        if (proven.ok()) {
          read.fetch_add(1);
        } else {
          ASSERT_EQ(proven.status().reason(), "pruned") << proven.status().ToString();
          pruned.fetch_add(1);
        }
      }
    }
  });
  for (int b = 0; b < 200; ++b) CommitRandomBlock(*store, rng);
  stop = true;
  reader.join();
  EXPECT_GT(read.load(), 0);
  EXPECT_GT(pruned.load(), 0);
}

}  // namespace
}  // namespace civitas
