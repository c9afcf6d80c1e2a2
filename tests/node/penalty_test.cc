// Penalties follow the blame a refusal carries from where it was produced (Status::Blame): a
// peer that sends forged or rule-breaking input is penalised; stale input, and refusals that
// rest on this node's own state, are dropped without a penalty.
#include "node/penalty.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "ledger/chain.h"
#include "ledger/store.h"
#include "test_chain.h"
#include "tests/consensus/test_util.h"

namespace civitas::node {
namespace {

using consensus::testing::MakeValidators;
using consensus::testing::SignVote;

TEST(PenaltyTest, AForgedConsensusMessagePenalisesItsSender) {
  const consensus::ValidatorSet vs = MakeValidators(4);
  consensus::Bip340Verifier verifier;
  consensus::CertVerifier cv(vs, verifier);
  consensus::Vote vote = SignVote(vs, 1, 5, Hash32{7});
  vote.voter = 2;  // validator 1's signature claimed for validator 2
  Status refused = cv.VerifyVote(vote);
  ASSERT_EQ(refused.reason(), "bad_signature");
  EXPECT_EQ(PenaltyFor(PeerInput::kConsensus, refused), "invalid_consensus_message");
}

TEST(PenaltyTest, AConsensusMessageOfAnotherEpochIsDroppedWithoutPenalty) {
  const consensus::ValidatorSet vs = MakeValidators(4, /*epoch=*/2);
  const consensus::ValidatorSet before = MakeValidators(4, /*epoch=*/1);
  consensus::Bip340Verifier verifier;
  consensus::CertVerifier cv(vs, verifier);
  Status refused = cv.VerifyVote(SignVote(before, 1, 5, Hash32{7}));
  ASSERT_EQ(refused.reason(), "wrong_chain_or_epoch");
  EXPECT_EQ(refused.blame(), Status::Blame::kStale);
  EXPECT_EQ(PenaltyFor(PeerInput::kConsensus, refused), std::nullopt);
}

TEST(PenaltyTest, AForgedGossipedTransactionPenalisesItsSender) {
  auto chain = civitas::testing::MakeTestChain(2);
  v1::Transaction tx = civitas::testing::Transfer(chain, chain.users[0], Address{}, 1, 0);
  std::string sig = tx.signature();
  sig[0] = static_cast<char>(sig[0] ^ 1);
  tx.set_signature(sig);
  auto checked = DecodeAndCheckTx(tx, chain.genesis.chain_id, chain.genesis.params, true);
  ASSERT_FALSE(checked.ok());
  EXPECT_EQ(PenaltyFor(PeerInput::kGossip, checked.status()), "invalid_gossip");
  // A full pool is this node's limit, not the sender's fault.
  EXPECT_EQ(PenaltyFor(PeerInput::kGossip,
                       Status::Error(Status::Code::kResourceExhausted, "mempool_full", "full")),
            std::nullopt);
}

class SyncPenaltyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = civitas::testing::TestDir("penalty");
    auto store = Store::Open(dir_, chain_.genesis);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  // The next block, as a peer would send it in a sync response, before `edit`.
  v1::Block Next() {
    auto built = BuildBlock(*store_, chain_.genesis, chain_.validators[0].public_key(), 1, {});
    EXPECT_TRUE(built.ok()) << built.status().ToString();
    return built->block;
  }

  civitas::testing::TestChain chain_ = civitas::testing::MakeTestChain(1);
  std::string dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(SyncPenaltyTest, ABlockAgainstTheRulesPenalisesItsSender) {
  v1::Block block = Next();
  block.mutable_header()->set_chain_id("another-chain");
  auto prepared = PrepareBlock(*store_, chain_.genesis, block);
  ASSERT_EQ(prepared.status().reason(), "bad_block");
  EXPECT_EQ(PenaltyFor(PeerInput::kSync, prepared.status()), "invalid_sync_block");
}

TEST_F(SyncPenaltyTest, ACertificateByAStrangerPenalisesItsSender) {
  auto prepared = PrepareBlock(*store_, chain_.genesis, Next());
  ASSERT_TRUE(prepared.ok()) << prepared.status().ToString();
  v1::QuorumCert qc;
  qc.set_epoch(0);
  qc.set_round(1);
  qc.set_block_id(std::string(32, '\x01'));
  AddVote(qc, chain_.genesis.chain_id, crypto::SecretKey::Generate());
  Status refused = CommitPrepared(*store_, chain_.genesis, *prepared, qc, std::string(200, '\0'));
  ASSERT_EQ(refused.reason(), "bad_qc");
  EXPECT_EQ(PenaltyFor(PeerInput::kSync, refused), "invalid_sync_block");
  EXPECT_EQ(store_->height(), 0u);
}

TEST_F(SyncPenaltyTest, AStateRootThisNodeComputedOtherwiseIsNotThePeersFault) {
  v1::Block block = Next();
  block.mutable_header()->set_state_root(std::string(32, '\x05'));
  auto prepared = PrepareBlock(*store_, chain_.genesis, block);
  ASSERT_FALSE(prepared.ok());
  EXPECT_EQ(prepared.status().blame(), Status::Blame::kLocal);
  EXPECT_EQ(PenaltyFor(PeerInput::kSync, prepared.status()), std::nullopt);
}

TEST(PenaltyTest, ErrorsOfThisNodeBlameNobody) {
  EXPECT_EQ(PenaltyFor(PeerInput::kSync, Status::IOError("disk")), std::nullopt);
  EXPECT_EQ(PenaltyFor(PeerInput::kConsensus, Status::Ok()), std::nullopt);
}

}  // namespace
}  // namespace civitas::node
