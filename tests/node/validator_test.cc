// The validator's safety data: a node never signs without it. Damaged or missing safety data
// above height 0 stops the node at start with a clear error; nothing is reset silently.
#include <gtest/gtest.h>

#include <filesystem>

#include "ledger/store.h"
#include "ledger/tx.h"
#include "node/node.h"
#include "test_chain.h"

namespace civitas::node {
namespace {

class SafetyDataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.home = civitas::testing::TestDir("safety");
    config_.grpc_listen = config_.http_listen = config_.p2p_listen = "127.0.0.1:0";
    config_.block_interval_ms = 10;
    config_.timeout_base_ms = 200;
  }
  void TearDown() override { std::filesystem::remove_all(config_.home); }

  Status StartAndStop(uint64_t min_height) {
    auto node = Node::Open(config_, chain_.genesis, chain_.validators[0]);
    if (!node.ok()) return node.status();
    Status s = (*node)->Start();
    if (!s.ok()) return s;
    for (int i = 0; i < 500 && (*node)->store().height() < min_height; ++i) {
      (*node)->WaitForCommit(Hash32{}, 10);  // returns at the next commit or after 10 ms
    }
    EXPECT_GE((*node)->store().height(), min_height);
    (*node)->Stop();
    return Status::Ok();
  }

  void EditSafety(const std::vector<std::pair<std::string, std::string>>& puts,
                  const std::vector<std::string>& deletes) {
    auto store = Store::Open(config_.DataPath(), chain_.genesis);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->WriteConsensus(puts, deletes).ok());
  }

  civitas::testing::TestChain chain_ = civitas::testing::MakeTestChain(1);
  Config config_;
};

TEST_F(SafetyDataTest, ARestartedValidatorResumesFromItsSafetyData) {
  ASSERT_TRUE(StartAndStop(3).ok());
  uint64_t before;
  {
    auto store = Store::Open(config_.DataPath(), chain_.genesis);
    ASSERT_TRUE(store.ok());
    before = (*store)->height();
    ASSERT_TRUE((*(*store)->GetConsensus("safety")).has_value());
  }
  ASSERT_TRUE(StartAndStop(before + 2).ok());
}

TEST_F(SafetyDataTest, DamagedSafetyDataStopsTheNodeAtStart) {
  ASSERT_TRUE(StartAndStop(2).ok());
  EditSafety({{"safety", "\x01garbage"}}, {});
  Status s = StartAndStop(0);
  EXPECT_EQ(s.code(), Status::Code::kCorruption) << s.ToString();
  EXPECT_NE(s.message().find("refusing to sign"), std::string::npos) << s.message();
}

TEST_F(SafetyDataTest, MissingSafetyDataAboveGenesisStopsTheNodeAtStart) {
  ASSERT_TRUE(StartAndStop(2).ok());
  EditSafety({}, {"safety"});
  Status s = StartAndStop(0);
  EXPECT_EQ(s.code(), Status::Code::kCorruption) << s.ToString();
  EXPECT_NE(s.message().find("missing"), std::string::npos) << s.message();
}

// The chain's max_block_gas bounds every block this node proposes, even when its own
// consensus.max_block_gas is higher (docs/PROTOCOL.md, "Block gas limit"): 12 transfers of
// 200,000 gas each, submitted at once to a chain whose blocks hold at most 600,000, all commit
// in blocks of at most three.
// A node of one validator, as SafetyDataTest starts it.
class ProposerTest : public SafetyDataTest {};

TEST_F(ProposerTest, KeepsToTheChainsBlockGasLimitWhateverItsConfigSays) {
  chain_ = civitas::testing::MakeTestChain(1, 100'000'000);
  chain_.genesis.params.max_tx_gas = 200'000;
  chain_.genesis.params.max_block_gas = 600'000;
  auto parsed = ParseGenesis(GenesisToJson(chain_.genesis));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  chain_.genesis = *parsed;
  config_.max_block_gas = 500'000'000;
  auto node = Node::Open(config_, chain_.genesis, chain_.validators[0]);
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  ASSERT_TRUE((*node)->Start().ok());
  google::protobuf::RepeatedPtrField<v1::Transaction> txs;
  const Address to = AddressOf(chain_.validators[0].public_key());
  for (uint64_t nonce = 0; nonce < 12; ++nonce) {
    *txs.Add() = civitas::testing::Transfer(chain_, chain_.users[0], to, 1, nonce, 200'000);
  }
  auto ids = (*node)->SubmitMany(txs);
  ASSERT_EQ(ids.size(), 12u);
  for (const auto& id : ids) ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_TRUE((*node)->WaitForCommit(*ids.back(), 20'000));
  const Store& store = (*node)->store();
  int committed = 0;
  for (uint64_t h = 1; h <= store.height(); ++h) {
    auto block = store.GetBlock(h);
    ASSERT_TRUE(block.ok()) << block.status().ToString();
    uint64_t gas = 0;
    for (const auto& tx : block->block().txs()) {
      auto decoded = DecodeAndCheckTx(tx, chain_.genesis.chain_id, chain_.genesis.params, false);
      ASSERT_TRUE(decoded.ok());
      gas += decoded->body.gas_limit();
      ++committed;
    }
    EXPECT_LE(gas, 600'000u) << "block " << h;
  }
  EXPECT_EQ(committed, 12);
  (*node)->Stop();
}

}  // namespace
}  // namespace civitas::node
