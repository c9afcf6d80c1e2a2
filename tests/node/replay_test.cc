// The auditor's tools: replay (a faithful chain replays; a chain whose recorded state root was
// forged, or that holds a signature or a certificate that does not verify, is refused at exactly
// that height) and export.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "certify.h"
#include "ledger/chain.h"
#include "ledger/crypto.h"
#include "node/config.h"
#include "node/export.h"
#include "node/replay.h"
#include "test_chain.h"

namespace civitas::node {
namespace {

using civitas::testing::MakeTestChain;
using civitas::testing::Transfer;

// What ReplayTest::BuildChain gets wrong, as a buggy or malicious node would have written it.
struct Damage {
  // The block at this height is written with a wrong state root. Only the last block can be
  // forged so: the next one could not be built on a root whose tree does not exist.
  uint64_t state_root_height = 0;
  // The block at this height carries transactions `bad_txs` with a signature that does not
  // verify (the block is otherwise valid and executed).
  uint64_t signature_height = 0;
  std::vector<size_t> bad_txs;
  // The block at this height is written with a commit certificate one of whose votes does
  // not verify.
  uint64_t certificate_height = 0;
};

class ReplayTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = civitas::testing::TestDir("replay"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Replays the chain BuildChain wrote, without progress reports.
  ReplayReport ReplayChain() {
    return Replay(dir_ + "/data", dir_ + "/scratch", chain_.genesis, nullptr);
  }

  // Commits `blocks` blocks of `txs_per_block` transfers each, damaged as `damage` says.
  void BuildChain(int blocks, const Damage& damage = {}, size_t txs_per_block = 2) {
    auto store = Store::Open(dir_ + "/data", chain_.genesis);
    ASSERT_TRUE(store.ok());
    uint64_t nonce = 0;
    for (int b = 0; b < blocks; ++b) {
      const uint64_t height = static_cast<uint64_t>(b) + 1;
      std::vector<DecodedTx> txs;
      for (size_t i = 0; i < txs_per_block; ++i) {
        auto env =
            Transfer(chain_, chain_.users[0], AddressOf(chain_.users[1].public_key()), 3, nonce++);
        if (height == damage.signature_height &&
            std::count(damage.bad_txs.begin(), damage.bad_txs.end(), i) > 0) {
          (*env.mutable_signature())[5] ^= 1;
        }
        auto tx = DecodeAndCheckTx(env, chain_.genesis.chain_id, chain_.genesis.params,
                                   /*verify_signature=*/false);
        ASSERT_TRUE(tx.ok()) << tx.status().ToString();
        txs.push_back(std::move(*tx));
      }
      auto p = BuildBlock(**store, chain_.genesis, chain_.validators[0].public_key(), 1000, txs);
      ASSERT_TRUE(p.ok()) << p.status().ToString();
      if (height == damage.state_root_height) p->new_root[0] ^= 1;
      auto cert = civitas::testing::Certify(*p, chain_.genesis.chain_id, chain_.validators);
      v1::CommittedBlock committed;
      *committed.mutable_block() = p->block;
      *committed.mutable_commit_qc() = cert.qc;
      committed.set_consensus_header(cert.consensus_header);
      if (height == damage.certificate_height) {
        (*committed.mutable_commit_qc()->mutable_signers(0)->mutable_signature())[7] ^= 1;
      }
      // Written without the certificate check that CommitPrepared makes, so damage gets in.
      ASSERT_TRUE(CommitVerifiedBlock(**store, *p, committed).ok());
    }
  }

  // Funded for 2,000 transfers at their maximum fee (gas limit 100,000): a block may hold only
  // transactions whose maximum fee is covered when they run (docs/PROTOCOL.md, "Fees").
  civitas::testing::TestChain chain_ = MakeTestChain(2, 1'000'000'000);
  std::string dir_;
};

TEST_F(ReplayTest, FaithfulChainReplays) {
  BuildChain(6);
  int progress_calls = 0;
  const uint64_t verified_before = crypto::VerifyCount();
  auto r = Replay(dir_ + "/data", dir_ + "/scratch", chain_.genesis,
                  [&](uint64_t, uint64_t, double) { ++progress_calls; });
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.blocks, 6u);
  EXPECT_EQ(r.txs, 12u);
  // Each transaction's signature and every validator's vote in each certificate, each verified.
  EXPECT_EQ(r.signatures, 12u + 6u * chain_.validators.size());
  EXPECT_EQ(crypto::VerifyCount() - verified_before, r.signatures);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/scratch"));
}

// The scratch store prunes: past kMinStateHistory blocks it deletes the tree nodes of old
// states while execution goes on reading the latest one, and every state root still matches.
TEST_F(ReplayTest, ChainLongerThanTheScratchStoresWindowReplays) {
  const int blocks = static_cast<int>(kMinStateHistory) + 30;
  BuildChain(blocks);
  auto r = ReplayChain();
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.blocks, static_cast<uint64_t>(blocks));
}

TEST_F(ReplayTest, ForgedStateRootIsFoundAtItsHeight) {
  Damage damage;
  damage.state_root_height = 6;
  BuildChain(6, damage);
  auto r = ReplayChain();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_height, 6u) << r.error;
  EXPECT_NE(r.error.find("state root"), std::string::npos) << r.error;
  EXPECT_EQ(r.blocks, 5u);
}

TEST_F(ReplayTest, BadSignatureIsFoundAtItsHeight) {
  // Signatures are checked ahead of execution on several threads, 64 transactions at a time:
  // the report still names the first bad block and its first bad transaction.
  Damage damage;
  damage.signature_height = 9;
  damage.bad_txs = {150, 70, 71};
  BuildChain(12, damage, 160);
  auto r = ReplayChain();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_height, 9u) << r.error;
  EXPECT_NE(r.error.find("transaction 70 "), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("bad_signature"), std::string::npos) << r.error;
  EXPECT_EQ(r.blocks, 8u);
  EXPECT_EQ(r.txs, 8u * 160);
}

TEST_F(ReplayTest, BadCertificateIsFoundAtItsHeight) {
  Damage damage;
  damage.certificate_height = 77;
  BuildChain(80, damage);
  auto r = ReplayChain();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_height, 77u) << r.error;
  EXPECT_NE(r.error.find("bad_qc"), std::string::npos) << r.error;
  EXPECT_EQ(r.blocks, 76u);
}

TEST_F(ReplayTest, FirstOfSeveralBadBlocksIsReported) {
  // A bad certificate before a bad signature, with many blocks checked ahead of both.
  Damage damage;
  damage.signature_height = 41;
  damage.bad_txs = {1};
  damage.certificate_height = 23;
  BuildChain(60, damage);
  auto r = ReplayChain();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_height, 23u) << r.error;
  EXPECT_NE(r.error.find("bad_qc"), std::string::npos) << r.error;
}

TEST_F(ReplayTest, ForeignGenesisIsRefused) {
  BuildChain(2);
  auto other = MakeTestChain(1);
  auto r = Replay(dir_ + "/data", dir_ + "/scratch", other.genesis, nullptr);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("foreign_data_dir"), std::string::npos) << r.error;
}

TEST_F(ReplayTest, ExportWritesOneRecordPerLine) {
  BuildChain(3);
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
