// The rule book for blocks (ledger/proposal.h), against a fake reader: each rule refuses with
// its documented reason and blame, and a block that keeps them all passes.
#include "ledger/proposal.h"

#include <gtest/gtest.h>

#include "test_chain.h"

namespace civitas {
namespace {

using testing::MakeTestChain;
using testing::MapState;
using testing::Transfer;

// A parent at height 5 certifying height 3; this node executed up to height 4.
class FakeProposalReader : public ProposalReader {
 public:
  explicit FakeProposalReader(const StateWrites& state) : state_(state) {
    parent_ = {Hash32{9}, 5, 1'000, 3};
    for (uint64_t h = 0; h <= 4; ++h) roots_[h] = Hash32{static_cast<uint8_t>(0x40 + h)};
  }
  ProposalParent Parent() const override { return parent_; }
  uint64_t ExecutedHeight() const override { return 4; }
  Result<Hash32> StateRoot(uint64_t height) const override {
    auto it = roots_.find(height);
    if (it == roots_.end()) return Status::NotFound("no root");
    return it->second;
  }
  const StateReader& ExecutedState() const override { return state_; }
  std::vector<const DecodedTx*> PendingTxs() const override {
    std::vector<const DecodedTx*> out;
    for (const auto& tx : pending_) out.push_back(&tx);
    return out;
  }

  ProposalParent parent_;
  std::map<uint64_t, Hash32> roots_;
  MapState state_;
  std::vector<DecodedTx> pending_;
};

DecodedTx CheckedTx(const testing::TestChain& c, const v1::Transaction& env) {
  auto tx = DecodeAndCheckTx(env, c.genesis.chain_id, c.genesis.params);
  EXPECT_TRUE(tx.ok()) << tx.status().ToString();
  return *tx;
}

class ProposalTest : public ::testing::Test {
 protected:
  ProposalTest() : reader_(chain_.genesis.InitialState()) {
    epoch_.validators = ValidatorSet({chain_.validators[0].public_key()});
    to_ = AddressOf(chain_.users[1].public_key());
  }
  // A block after the reader's parent, certifying height 4, holding `txs`.
  v1::Block Propose(const std::vector<DecodedTx>& txs) {
    BlockTemplate t;
    t.height = 6;
    t.parent_id = reader_.parent_.id;
    t.parent_time_ms = reader_.parent_.time_ms;
    t.state_height = 4;
    t.state_root = reader_.roots_[4];
    t.epoch = 0;
    t.round = 9;
    return AssembleBlock(chain_.genesis, t, chain_.validators[0].public_key(), 2'000, txs);
  }
  Status Check(const v1::Block& block, const std::vector<DecodedTx>& txs) {
    return CheckProposal(chain_.genesis, epoch_, reader_, block, txs);
  }
  DecodedTx Pay(size_t user, uint64_t nonce, uint64_t amount = 1, uint64_t gas = 100'000) {
    return CheckedTx(chain_, Transfer(chain_, chain_.users[user], to_, amount, nonce, gas));
  }

  testing::TestChain chain_ = MakeTestChain(2, 10'000'000);
  FakeProposalReader reader_;
  Epoch epoch_;
  Address to_{};
};

TEST_F(ProposalTest, ABlockThatKeepsEveryRulePasses) {
  reader_.pending_ = {Pay(0, 0)};
  std::vector<DecodedTx> txs = {Pay(0, 1), Pay(1, 0)};
  Status s = Check(Propose(txs), txs);
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_F(ProposalTest, HeaderLinkageToTheParentIsThePeersFault) {
  v1::Block wrong_height = Propose({});
  wrong_height.mutable_header()->set_height(7);
  v1::Block wrong_parent = Propose({});
  wrong_parent.mutable_header()->set_parent_id(std::string(32, '\x08'));
  v1::Block early = Propose({});
  early.mutable_header()->set_time_ms(999);
  v1::Block other_chain = Propose({});
  other_chain.mutable_header()->set_chain_id("elsewhere");
  for (const v1::Block* b : {&wrong_height, &wrong_parent, &early, &other_chain}) {
    Status s = Check(*b, {});
    EXPECT_EQ(s.reason(), "bad_block") << s.ToString();
    EXPECT_EQ(s.blame(), Status::Blame::kPeer) << s.ToString();
  }
}

TEST_F(ProposalTest, ACertifiedStateOlderThanTheParentsIsRefused) {
  v1::Block b = Propose({});
  b.mutable_header()->set_state_height(2);
  b.mutable_header()->set_state_root(std::string(AsStringView(reader_.roots_[2])));
  Status s = Check(b, {});
  EXPECT_EQ(s.reason(), "bad_block");
  EXPECT_NE(s.message().find("certified state height 2"), std::string::npos) << s.message();
  EXPECT_EQ(s.blame(), Status::Blame::kPeer);
}

TEST_F(ProposalTest, AStateThisNodeHasNotExecutedCannotBeCheckedYet) {
  v1::Block b = Propose({});
  b.mutable_header()->set_state_height(5);
  Status s = Check(b, {});
  EXPECT_EQ(s.reason(), "not_executed");
  EXPECT_EQ(s.code(), Status::Code::kFailedPrecondition);
  EXPECT_EQ(s.blame(), Status::Blame::kLocal);
}

TEST_F(ProposalTest, AStateRootThisNodeComputedOtherwiseIsRefusedWithoutBlamingThePeer) {
  v1::Block b = Propose({});
  b.mutable_header()->set_state_root(std::string(AsStringView(reader_.roots_[3])));
  Status s = Check(b, {});
  EXPECT_EQ(s.reason(), "bad_block");
  EXPECT_NE(s.message().find("state root"), std::string::npos) << s.message();
  EXPECT_EQ(s.blame(), Status::Blame::kLocal);
}

TEST_F(ProposalTest, ATxRootThatDoesNotCoverTheTransactionsIsRefused) {
  std::vector<DecodedTx> txs = {Pay(0, 0)};
  v1::Block b = Propose(txs);
  b.mutable_header()->set_tx_root(std::string(32, '\x01'));
  Status s = Check(b, txs);
  EXPECT_EQ(s.reason(), "bad_block");
  EXPECT_NE(s.message().find("tx_root"), std::string::npos) << s.message();
}

TEST_F(ProposalTest, NoncesRunFromTheExecutedStateThroughThePendingTransactions) {
  reader_.pending_ = {Pay(0, 0), Pay(0, 1)};
  for (uint64_t nonce : {1u, 3u}) {  // already pending; skips one
    std::vector<DecodedTx> txs = {Pay(0, nonce)};
    Status s = Check(Propose(txs), txs);
    EXPECT_EQ(s.reason(), "bad_nonce") << nonce;
    EXPECT_EQ(s.blame(), Status::Blame::kPeer);
  }
  std::vector<DecodedTx> twice = {Pay(0, 2), Pay(0, 2)};
  EXPECT_EQ(Check(Propose(twice), twice).reason(), "bad_nonce");
  std::vector<DecodedTx> next = {Pay(0, 2), Pay(0, 3)};
  EXPECT_TRUE(Check(Propose(next), next).ok());
}

TEST_F(ProposalTest, AMaximumFeeThePendingTransactionsMayLeaveUncoveredIsRefused) {
  // The pending transfer may spend all but 1,000 of the balance.
  const uint64_t price = chain_.genesis.params.gas_price;
  const uint64_t gas = 100'000;
  const uint64_t spend = 10'000'000 - gas * price - 1'000;
  reader_.pending_ = {Pay(0, 0, spend, gas)};
  std::vector<DecodedTx> txs = {Pay(0, 1, 0, gas)};
  Status s = Check(Propose(txs), txs);
  EXPECT_EQ(s.reason(), "insufficient_funds_for_fee");
  EXPECT_EQ(s.blame(), Status::Blame::kPeer);
}

}  // namespace
}  // namespace civitas
