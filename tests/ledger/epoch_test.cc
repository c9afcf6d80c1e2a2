// Epochs on a real store: a governance decision adds a council member, the validator set
// changes at the next epoch boundary, certificates of the old set stop counting, and a replay
// derives the same epochs (ledger/epoch.h, docs/CONSENSUS.md "Epochs").

#include <gtest/gtest.h>

#include <filesystem>

#include "certify.h"
#include "ledger/certified.h"
#include "ledger/chain.h"
#include "ledger/civic_calls.h"
#include "ledger/did.h"
#include "ledger/epoch.h"
#include "test_chain.h"

namespace civitas {
namespace {

using nation::CouncilAction;
using nation::VoteChoice;

constexpr uint64_t kVotingPeriod = 2;
constexpr uint64_t kFunds = 10'000'000;

TEST(EpochCodec, MatchesTheProtocolVector) {
  auto key = FixedFromHex<32>("f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9");
  ASSERT_TRUE(key);
  const std::string record = EncodeValidators({5, {*key}});
  EXPECT_EQ(ToHex(reinterpret_cast<const uint8_t*>(record.data()), record.size()),
            "000000000000000500000001f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce03"
            "6f9");
  EXPECT_EQ(ValidatorsKey(), std::string("\x06"));
}

TEST(EpochCodec, RecordsRoundTripAndRefuseDamage) {
  ValidatorsRecord r{7, {crypto::SecretKey::Generate().public_key()}};
  EXPECT_EQ(*DecodeValidators(EncodeValidators(r)), r);
  std::string bad = EncodeValidators(r);
  bad.pop_back();
  EXPECT_EQ(DecodeValidators(bad).status().code(), Status::Code::kCorruption);
  Epoch e{3, 40, ValidatorSet(r.keys)};
  EXPECT_EQ(*DecodeEpoch(3, EncodeEpoch(e)), e);
  EXPECT_FALSE(DecodeEpoch(3, EncodeEpoch(Epoch{3, 40, ValidatorSet()})).ok());  // no validators
}

TEST(EpochRule, ChangesOnlyOnACertifiedDifferentSet) {
  const auto a = crypto::SecretKey::Generate().public_key();
  const auto b = crypto::SecretKey::Generate().public_key();
  const Epoch current{0, 1, ValidatorSet({a})};
  // Unchanged keys, no record, or a record written above the certified height: no change.
  EXPECT_FALSE(NextEpoch(current, 9, 8, ValidatorsRecord{5, {a}}));
  EXPECT_FALSE(NextEpoch(current, 9, 8, std::nullopt));
  EXPECT_FALSE(NextEpoch(current, 9, 8, ValidatorsRecord{9, {a, b}}));
  EXPECT_FALSE(NextEpoch(current, 9, 8, ValidatorsRecord{5, {}}));
  auto next = NextEpoch(current, 9, 8, ValidatorsRecord{8, {a, b}});
  ASSERT_TRUE(next);
  EXPECT_EQ(next->number, 1u);
  EXPECT_EQ(next->start_height, 10u);
  EXPECT_EQ(next->validators.keys(), (std::vector<crypto::PublicKey>{a, b}));
}

class EpochTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TestDir("epoch");
    Genesis g;
    g.chain_id = "civitas-epoch-test";
    g.validators.push_back({"v0", v0_.public_key()});
    g.accounts.push_back({AddressOf(v0_.public_key()), kFunds});
    g.accounts.push_back({AddressOf(alice_.public_key()), kFunds});
    g.nation.voting_period_s = kVotingPeriod;
    g.nation.quorum = 1;
    g.nation.proposal_deposit = 10;
    auto parsed = ParseGenesis(GenesisToJson(g));
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    genesis_ = *parsed;
    auto s = Store::Open(dir_ + "/a", genesis_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  DecodedTx Sign(const crypto::SecretKey& key, const nation::ContractCall& call) {
    v1::TxBody body;
    body.set_chain_id(genesis_.chain_id);
    body.set_nonce(nonces_[AddressOf(key.public_key())]++);
    body.set_gas_limit(3'000'000);
    nation::SetCall(call, &body);
    auto tx = DecodeAndCheckTx(SignTx(key, body), genesis_.chain_id, genesis_.params);
    EXPECT_TRUE(tx.ok()) << tx.status().ToString();
    return *tx;
  }

  // Builds the next block, proposed by `proposer`, and executes it.
  PreparedBlock Build(const crypto::SecretKey& proposer, std::vector<DecodedTx> txs = {}) {
    auto p = BuildBlock(*store_, genesis_, proposer.public_key(), 1000 * (store_->height() + 1),
                        std::move(txs));
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return *p;
  }
  Status Commit(const PreparedBlock& p, const std::vector<crypto::SecretKey>& signers) {
    auto c = testing::Certify(p, genesis_.chain_id, signers);
    return CommitPrepared(*store_, genesis_, p, c.qc, c.consensus_header);
  }
  // One block of `txs`, proposed and certified by validator 0 alone (epoch 0).
  v1::Receipt Do(DecodedTx tx) {
    PreparedBlock p = Build(v0_, {std::move(tx)});
    EXPECT_TRUE(Commit(p, {v0_}).ok());
    EXPECT_FALSE(p.next_epoch);
    return p.exec.receipts.at(0);
  }

  std::string dir_;
  Genesis genesis_;
  crypto::SecretKey v0_ = crypto::SecretKey::Generate();
  crypto::SecretKey v1_ = crypto::SecretKey::Generate();
  crypto::SecretKey alice_ = crypto::SecretKey::Generate();
  std::unique_ptr<Store> store_;
  std::map<Address, uint64_t> nonces_;
};

TEST_F(EpochTest, CouncilDecisionChangesTheValidatorSetAtTheNextEpoch) {
  EXPECT_EQ(store_->CurrentEpoch(), genesis_.first_epoch());
  // Alice becomes a citizen and has the council grow by validator v1.
  ASSERT_EQ(Do(Sign(alice_, nation::RegisterDid(alice_.public_key()))).status(),
            v1::TX_STATUS_SUCCESS);
  ASSERT_EQ(Do(Sign(alice_, nation::ApplyForCitizenship())).status(), v1::TX_STATUS_SUCCESS);
  const auto did = *ParseDid(DeriveDid(alice_.public_key()));
  ASSERT_EQ(Do(Sign(v0_, nation::CouncilDecide(did, CouncilAction::kApprove))).status(),
            v1::TX_STATUS_SUCCESS);
  auto proposal =
      Do(Sign(alice_, nation::ProposeCouncilChange(AsStringView(v1_.public_key()), true, 10)));
  ASSERT_EQ(proposal.status(), v1::TX_STATUS_SUCCESS) << proposal.reason();
  ASSERT_EQ(Do(Sign(alice_, nation::Vote(1, VoteChoice::kYes, 1000))).status(),
            v1::TX_STATUS_SUCCESS);
  // Blocks are a second apart here, so the period (seconds of block time) passes in as many.
  for (uint64_t i = 0; i < kVotingPeriod; ++i) ASSERT_TRUE(Commit(Build(v0_), {v0_}).ok());
  auto executed = Do(Sign(alice_, nation::ExecuteProposal(1)));
  ASSERT_EQ(executed.status(), v1::TX_STATUS_SUCCESS) << executed.reason();
  const uint64_t changed_at = store_->height();

  // The record of the council's keys changed with that block...
  auto record = DecodeValidators(**store_->Get(ValidatorsKey()));
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->changed_at, changed_at);
  EXPECT_EQ(record->keys, (std::vector<crypto::PublicKey>{v0_.public_key(), v1_.public_key()}));
  EXPECT_EQ(store_->CurrentEpoch().number, 0u);

  // ...and the next block, which certifies that state, ends epoch 0.
  PreparedBlock last = Build(v0_);
  ASSERT_TRUE(last.next_epoch);
  EXPECT_EQ(last.next_epoch->number, 1u);
  EXPECT_EQ(last.next_epoch->start_height, changed_at + 2);
  ASSERT_TRUE(Commit(last, {v0_}).ok());
  const Epoch one = store_->CurrentEpoch();
  EXPECT_EQ(one, *last.next_epoch);

  // The new set is provable under the root that epoch 0's council certified in that block.
  auto proven = store_->GetProven(ValidatorsKey(), last.block.header().state_height());
  ASSERT_TRUE(proven.ok());
  EXPECT_EQ(std::string(AsStringView(proven->root)), last.block.header().state_root());
  ASSERT_TRUE(proven->value);
  EXPECT_EQ(DecodeValidators(*proven->value)->keys, one.validators.keys());

  // Epoch 1 blocks carry epoch 1 and need a quorum of the two validators.
  PreparedBlock next = Build(v1_);
  EXPECT_EQ(next.block.header().epoch(), 1u);
  EXPECT_EQ(Commit(next, {v0_}).reason(), "bad_qc");
  EXPECT_EQ(store_->height(), changed_at + 1);
  ASSERT_TRUE(Commit(next, {v0_, v1_}).ok());

  // A client that knows only the genesis validators checks an answer certified in epoch 1
  // through the epoch change; without it, or with a forged record, the answer does not verify.
  {
    const Address who = AddressOf(alice_.public_key());
    auto tip = store_->GetBlock(store_->height());
    ASSERT_TRUE(tip.ok());
    const uint64_t at = tip->block().header().state_height();
    auto value = store_->GetProven(AccountKey(who), at);
    ASSERT_TRUE(value.ok());
    auto changes = EpochChangesUpTo(*store_, 1);
    ASSERT_TRUE(changes.ok());
    ASSERT_EQ(changes->size(), 1u);
    // Taken from the record the commit kept, which outlives a pruned state.
    auto kept = store_->GetEpochChange(1);
    ASSERT_TRUE(kept.ok() && kept->has_value());
    EXPECT_EQ((*kept)->validators_record(), (*changes)[0].validators_record());
    EXPECT_EQ((*kept)->proof().SerializeAsString(), (*changes)[0].proof().SerializeAsString());
    google::protobuf::RepeatedPtrField<v1::EpochChange> shown(changes->begin(), changes->end());
    const v1::StateProof proof = ProofToProto(value->proof);
    EXPECT_TRUE(VerifyCertifiedValue(genesis_.chain_id, genesis_.first_epoch(), shown,
                                     AccountKey(who), value->value, at, proof, *tip)
                    .ok());
    google::protobuf::RepeatedPtrField<v1::EpochChange> none;
    EXPECT_EQ(VerifyCertifiedValue(genesis_.chain_id, genesis_.first_epoch(), none, AccountKey(who),
                                   value->value, at, proof, *tip)
                  .reason(),
              "bad_proof");
    // A node claiming that only validator 0 remains cannot prove it.
    auto forged = shown;
    forged[0].set_validators_record(EncodeValidators({record->changed_at, {v0_.public_key()}}));
    EXPECT_EQ(VerifyCertifiedValue(genesis_.chain_id, genesis_.first_epoch(), forged,
                                   AccountKey(who), value->value, at, proof, *tip)
                  .reason(),
              "bad_proof");

    // A CertifiedState across the change: an entry, a dated block of epoch 0 (signed by its
    // council alone) and one of epoch 1, under the epoch-1 tip.
    v1::CertifiedState bundle;
    bundle.set_height(at);
    *bundle.mutable_certifying_block() = *tip;
    *bundle.mutable_epoch_changes() = shown;
    auto* e = bundle.add_entries();
    e->set_key(AccountKey(who));
    e->set_present(value->value.has_value());
    if (value->value) e->set_value(*value->value);
    *e->mutable_proof() = proof;
    auto old_block = store_->GetBlock(2);
    auto new_block = store_->GetBlock(one.start_height);
    ASSERT_TRUE(old_block.ok() && new_block.ok());
    *bundle.add_dated_blocks() = *old_block;
    *bundle.add_dated_blocks() = *new_block;
    auto state = VerifyCertifiedState(genesis_.chain_id, genesis_.first_epoch(), bundle);
    ASSERT_TRUE(state.ok()) << state.status().ToString();
    EXPECT_EQ(*state->BlockTime(2), old_block->block().header().time_ms());
    EXPECT_EQ(*state->BlockTime(one.start_height), new_block->block().header().time_ms());
    EXPECT_EQ(state->BlockTime(3).status().reason(), "bad_proof");
    EXPECT_EQ(state->Get(AccountKey(AddressOf(v1_.public_key()))).status().reason(), "bad_proof");
    // A block of epoch 0 shown as one of epoch 1's, or the other way round: refused.
    auto lie = bundle;
    lie.mutable_dated_blocks(0)->mutable_block()->mutable_header()->set_epoch(1);
    EXPECT_EQ(
        VerifyCertifiedState(genesis_.chain_id, genesis_.first_epoch(), lie).status().reason(),
        "bad_proof");
    lie = bundle;
    *lie.mutable_dated_blocks(1) = *store_->GetBlock(one.start_height - 1);
    lie.mutable_dated_blocks(1)->mutable_block()->mutable_header()->set_epoch(1);
    EXPECT_EQ(
        VerifyCertifiedState(genesis_.chain_id, genesis_.first_epoch(), lie).status().reason(),
        "bad_proof");
    // The same key twice, or an entry whose value was changed: refused.
    lie = bundle;
    *lie.add_entries() = bundle.entries(0);
    EXPECT_EQ(
        VerifyCertifiedState(genesis_.chain_id, genesis_.first_epoch(), lie).status().reason(),
        "bad_proof");
    lie = bundle;
    lie.mutable_entries(0)->mutable_value()->push_back('\0');
    EXPECT_EQ(
        VerifyCertifiedState(genesis_.chain_id, genesis_.first_epoch(), lie).status().reason(),
        "bad_proof");
  }

  // A block claiming the old epoch is refused.
  v1::Block stale = Build(v0_).block;
  stale.mutable_header()->set_epoch(0);
  auto refused = PrepareBlock(*store_, genesis_, stale);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("epoch 0, expected 1"), std::string::npos);

  // The epochs survive a reopen, and a replay into a fresh store derives the same ones.
  const auto epochs = store_->Epochs();
  ASSERT_EQ(epochs.size(), 2u);
  const uint64_t height = store_->height();
  store_.reset();
  auto reopened = Store::Open(dir_ + "/a", genesis_);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->Epochs(), epochs);
  auto replica = Store::Open(dir_ + "/b", genesis_);
  ASSERT_TRUE(replica.ok());
  for (uint64_t h = 1; h <= height; ++h) {
    auto cb = (*reopened)->GetBlock(h);
    ASSERT_TRUE(cb.ok());
    auto p = PrepareBlock(**replica, genesis_, cb->block());
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    ASSERT_TRUE(
        CommitPrepared(**replica, genesis_, *p, cb->commit_qc(), cb->consensus_header()).ok());
  }
  EXPECT_EQ((*replica)->Epochs(), epochs);
  EXPECT_EQ(*(*replica)->StateRoot(height), *(*reopened)->StateRoot(height));
}

}  // namespace
}  // namespace civitas
