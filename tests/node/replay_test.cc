// The auditor's replay: a faithful chain replays; a chain whose recorded state root was forged
// is refused at exactly that height.
#include <gtest/gtest.h>

#include <filesystem>

#include "ledger/chain.h"
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
      v1::QuorumCert qc;
      qc.set_round(p->block.header().round());
      qc.set_block_id(std::string(AsStringView(p->id)));
      AddVote(qc, chain_.genesis.chain_id, chain_.validators[0]);
      ASSERT_TRUE(CommitPrepared(**store, chain_.genesis, *p, qc).ok());
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

}  // namespace
}  // namespace civitas::node
