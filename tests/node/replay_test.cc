// The auditor's tools: replay (a faithful chain replays; a chain whose recorded state root was
// forged is refused at exactly that height) and export.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "certify.h"
#include "ledger/chain.h"
#include "node/export.h"
#include "node/replay.h"
#include "test_chain.h"

namespace civitas::node {
namespace {

using civitas::testing::MakeTestChain;
using civitas::testing::Transfer;

class ReplayTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = civitas::testing::TestDir("replay"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Commits `blocks` blocks of two transfers each; the block at `forge_height` is written with a
  // wrong state root (as a buggy or malicious node would). Only the last block can be forged
  // so: the next one could not be built on a root whose tree does not exist.
  void BuildChain(int blocks, uint64_t forge_height) {
    auto store = Store::Open(dir_ + "/data", chain_.genesis);
    ASSERT_TRUE(store.ok());
    uint64_t nonce = 0;
    for (int b = 0; b < blocks; ++b) {
      std::vector<DecodedTx> txs;
      for (int i = 0; i < 2; ++i) {
        auto env =
            Transfer(chain_, chain_.users[0], AddressOf(chain_.users[1].public_key()), 3, nonce++);
        txs.push_back(*DecodeAndCheckTx(env, chain_.genesis.chain_id, chain_.genesis.params));
      }
      auto p = BuildBlock(**store, chain_.genesis, chain_.validators[0].public_key(), 1000, txs);
      ASSERT_TRUE(p.ok()) << p.status().ToString();
      if (p->block.header().height() == forge_height) p->new_root[0] ^= 1;
      auto cert = civitas::testing::Certify(*p, chain_.genesis.chain_id, chain_.validators);
      ASSERT_TRUE(CommitPrepared(**store, chain_.genesis, *p, cert.qc, cert.consensus_header).ok());
    }
  }

  civitas::testing::TestChain chain_ = MakeTestChain(2);
  std::string dir_;
};

TEST_F(ReplayTest, FaithfulChainReplays) {
  BuildChain(6, 0);
  int progress_calls = 0;
  auto r = Replay(dir_ + "/data", dir_ + "/scratch", chain_.genesis,
                  [&](uint64_t, uint64_t, double) { ++progress_calls; });
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.blocks, 6u);
  EXPECT_EQ(r.txs, 12u);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/scratch"));
}

TEST_F(ReplayTest, ForgedStateRootIsFoundAtItsHeight) {
  BuildChain(6, 6);
  auto r = Replay(dir_ + "/data", dir_ + "/scratch", chain_.genesis, nullptr);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_height, 6u) << r.error;
  EXPECT_NE(r.error.find("state root"), std::string::npos) << r.error;
  EXPECT_EQ(r.blocks, 5u);
}

TEST_F(ReplayTest, ForeignGenesisIsRefused) {
  BuildChain(2, 0);
  auto other = MakeTestChain(1);
  auto r = Replay(dir_ + "/data", dir_ + "/scratch", other.genesis, nullptr);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("foreign_data_dir"), std::string::npos) << r.error;
}

TEST_F(ReplayTest, ExportWritesOneRecordPerLine) {
  BuildChain(3, 0);
  auto store = Store::Open(dir_ + "/data", chain_.genesis, Store::Mode::kReadOnly);
  ASSERT_TRUE(store.ok());
  auto lines = [](const std::string& text) {
    std::vector<std::string> out;
    std::stringstream ss(text);
    for (std::string l; std::getline(ss, l);) out.push_back(l);
    return out;
  };
  std::stringstream blocks, txs, events, csv;
  ASSERT_TRUE(Export(**store, {"blocks", "jsonl", 1, 0}, blocks).ok());
  ASSERT_TRUE(Export(**store, {"txs", "jsonl", 2, 3}, txs).ok());
  ASSERT_TRUE(Export(**store, {"events", "jsonl", 1, 0}, events).ok());
  ASSERT_TRUE(Export(**store, {"txs", "csv", 1, 0}, csv).ok());
  auto b = lines(blocks.str());
  ASSERT_EQ(b.size(), 3u);
  EXPECT_NE(b[2].find("\"height\":3"), std::string::npos) << b[2];
  auto id = BlockId((*store)->GetBlock(3)->block().header());
  EXPECT_NE(b[2].find(ToHex(*id)), std::string::npos);
  auto t = lines(txs.str());
  ASSERT_EQ(t.size(), 4u);  // blocks 2 and 3, two transfers each
  EXPECT_NE(t[0].find("\"action\":\"transfer\""), std::string::npos) << t[0];
  EXPECT_NE(t[0].find("\"nonce\":2"), std::string::npos) << t[0];
  EXPECT_EQ(lines(events.str()).size(), 6u);  // one transfer event per transaction
  auto c = lines(csv.str());
  ASSERT_EQ(c.size(), 7u);  // header + 6 transactions
  EXPECT_EQ(c[0], "height,index,tx_id,sender,nonce,action,status,reason,gas_used,fee");
  std::stringstream bad;
  EXPECT_EQ(Export(**store, {"accounts", "jsonl", 1, 0}, bad).reason(), "bad_request");
}

}  // namespace
}  // namespace civitas::node
