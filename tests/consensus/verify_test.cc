#include "consensus/verify.h"

#include <gtest/gtest.h>

#include "consensus/codec.h"
#include "tests/consensus/test_util.h"

namespace civitas::consensus {
namespace {

using testing::MakeQc;
using testing::MakeTc;
using testing::MakeValidators;

class VerifyTest : public ::testing::Test {
 protected:
  ValidatorSet vs_ = MakeValidators(4);
  Bip340Verifier verifier_;
  CertVerifier cv_{vs_, verifier_};
  Hash32 id_ = GenesisBlock(1).Id();
};

TEST(QuorumTest, DefaultQuorumIntersectsInAnHonestReplica) {
  EXPECT_EQ(DefaultQuorum(4), 3u);
  EXPECT_EQ(DefaultQuorum(7), 5u);
  EXPECT_EQ(DefaultQuorum(5), 4u);
  EXPECT_EQ(DefaultQuorum(1), 1u);
  for (uint32_t n = 1; n < 50; ++n) {
    uint32_t q = DefaultQuorum(n), f = (n - 1) / 3;
    EXPECT_GT(2 * q, n + f) << n;
    EXPECT_LE(q, n - f) << n;  // live with f silent
  }
}

TEST_F(VerifyTest, AcceptsQuorumAndGenesis) {
  EXPECT_TRUE(cv_.VerifyQc(MakeQc(vs_, 4, id_, {0, 1, 3})).ok());
  EXPECT_TRUE(cv_.VerifyQc(MakeQc(vs_, 4, id_, {0, 1, 2, 3})).ok());
  EXPECT_TRUE(cv_.VerifyQc(GenesisQc(1)).ok());
}

TEST_F(VerifyTest, RejectsBadQcsWithReasons) {
  EXPECT_EQ(cv_.VerifyQc(MakeQc(vs_, 4, id_, {0, 1})).reason(), "no_quorum");
  QuorumCert dup = MakeQc(vs_, 4, id_, {0, 1, 2});
  dup.sigs[2] = dup.sigs[1];
  EXPECT_EQ(cv_.VerifyQc(dup).reason(), "duplicate_signer");
  QuorumCert unknown = MakeQc(vs_, 4, id_, {0, 1, 2});
  unknown.sigs[2].signer = 9;
  EXPECT_EQ(cv_.VerifyQc(unknown).reason(), "unknown_signer");
  QuorumCert bad = MakeQc(vs_, 4, id_, {0, 1, 2});
  bad.sigs[1].sig[5] ^= 1;
  EXPECT_EQ(cv_.VerifyQc(bad).reason(), "bad_signature");
  QuorumCert moved = MakeQc(vs_, 4, id_, {0, 1, 2});
  moved.round = 5;  // signatures were for round 4
  EXPECT_EQ(cv_.VerifyQc(moved).reason(), "bad_signature");
  QuorumCert epoch = MakeQc(vs_, 4, id_, {0, 1, 2});
  epoch.epoch = 2;
  EXPECT_EQ(cv_.VerifyQc(epoch).reason(), "wrong_chain_or_epoch");
  QuorumCert fake_genesis = GenesisQc(1);
  fake_genesis.block_id[0] ^= 1;
  EXPECT_FALSE(cv_.VerifyQc(fake_genesis).ok());
}

TEST_F(VerifyTest, SignaturesAreBoundToTheChainId) {
  ValidatorSet other = vs_;
  other.chain_id = "another-chain";
  QuorumCert qc = MakeQc(other, 4, id_, {0, 1, 2});
  EXPECT_EQ(cv_.VerifyQc(qc).reason(), "bad_signature");
}

TEST_F(VerifyTest, TimeoutCertificates) {
  EXPECT_TRUE(cv_.VerifyTc(MakeTc(vs_, 5, {{0, 3}, {1, 4}, {2, 0}})).ok());
  EXPECT_EQ(cv_.VerifyTc(MakeTc(vs_, 5, {{0, 3}, {1, 4}})).reason(), "no_quorum");
  TimeoutCert tc = MakeTc(vs_, 5, {{0, 3}, {1, 4}, {2, 0}});
  tc.sigs[0].high_qc_round = 4;  // not what was signed
  EXPECT_EQ(cv_.VerifyTc(tc).reason(), "bad_signature");
  EXPECT_EQ(cv_.VerifyTc(MakeTc(vs_, 5, {{0, 5}, {1, 4}, {2, 0}})).reason(), "bad_tc");
}

TEST_F(VerifyTest, ProposalChecks) {
  Block g = GenesisBlock(1);
  Block b = MakeBlock(1, 1, 1, g.Id(), vs_.Leader(1), GenesisQc(1), Bytes{1});
  EXPECT_TRUE(cv_.VerifyProposal(testing::SignProposal(vs_, b)).ok());
  Block wrong_leader = b;
  wrong_leader.proposer = 2;
  EXPECT_EQ(cv_.VerifyProposal(testing::SignProposal(vs_, wrong_leader)).reason(), "wrong_leader");
  Proposal forged = testing::SignProposal(vs_, b);
  forged.block.payload = Bytes{2};
  forged.block.payload_digest = crypto::Sha256(forged.block.payload);
  EXPECT_EQ(cv_.VerifyProposal(forged).reason(), "bad_signature");
  // Skipping a round needs a TC for the previous round.
  Block skip = MakeBlock(1, 3, 1, g.Id(), vs_.Leader(3), GenesisQc(1), Bytes{1});
  EXPECT_EQ(cv_.VerifyProposal(testing::SignProposal(vs_, skip)).reason(), "missing_tc");
  EXPECT_TRUE(
      cv_.VerifyProposal(testing::SignProposal(vs_, skip, MakeTc(vs_, 2, {{0, 0}, {1, 0}, {2, 0}})))
          .ok());
  Block parent_mismatch = b;
  parent_mismatch.parent_id[0] ^= 1;
  EXPECT_EQ(cv_.VerifyProposal(testing::SignProposal(vs_, parent_mismatch)).reason(), "bad_block");
}

}  // namespace
}  // namespace civitas::consensus
