// Issue 22 ("Hardening: defects an adversarial probe found"), the nation's rules: a parameter
// change that bricks governance, a council key that halts the chain, a passed decision that
// stays open for ever, a DID handed to a key whose holder never agreed. Each attack is recorded
// in docs/RELIABILITY.md, "Nation rules (issue 22)".
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "ledger/epoch.h"
#include "nation_fixture.h"

namespace civitas::nation::testing {
namespace {

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

class HardeningTest : public NationTest {
 protected:
  void SetUp() override { MakeCitizen(kAlice); }

  // Alice proposes and votes yes with `weight` tokens; returns the proposal's id.
  int64_t Propose(const ContractCall& proposal, uint64_t weight = kQuorum) {
    auto r = Do(Person(kAlice), proposal);
    EXPECT_TRUE(Ok(r));
    const int64_t id = ReturnedInt(r);
    EXPECT_TRUE(Ok(Do(Person(kAlice), Vote(id, VoteChoice::kYes, weight))));
    return id;
  }
  int64_t Param(const Address& contract, const std::string& name) const {
    auto v = ReadParam(state_, contract, name);
    EXPECT_TRUE(v.ok() && v->has_value());
    return v.ok() && v->has_value() ? **v : -1;
  }
  uint64_t Proposals() const { return *ProposalCount(state_); }
  // The proposal failed at execution with `reason`.
  ::testing::AssertionResult FailedWith(int64_t id, const std::string& reason) const {
    const Proposal p = ProposalNow(id);
    if (p.status != ProposalStatus::kFailed) {
      return ::testing::AssertionFailure() << "status " << ProposalStatusName(p.status);
    }
    if (p.failure != reason)
      return ::testing::AssertionFailure() << "failure '" << p.failure << "'";
    return ::testing::AssertionSuccess();
  }
};

// Attack 6a: voting_period = INT64_MAX made every later proposal trap on overflow, including
// the one that would have undone it.
TEST_F(HardeningTest, ParametersOutsideTheirBoundsAreRefusedWhenProposed) {
  // Periods are seconds of block time (issue 26): at most a year.
  constexpr const char* kPeriodBounds = "the voting period is 1 to 31536000 seconds";
  constexpr const char* kTimelockBounds = "the timelock is 0 to 31536000 seconds";
  struct Case {
    const Address& contract;
    const char* name;
    int64_t value;
    const char* reason;
  };
  const Case refused[] = {
      {GovernanceAddress(), "voting_period", kInt64Max, kPeriodBounds},
      {GovernanceAddress(), "voting_period", 0, kPeriodBounds},
      {GovernanceAddress(), "voting_period", 31'536'001, kPeriodBounds},
      {GovernanceAddress(), "timelock", kInt64Max, kTimelockBounds},
      {GovernanceAddress(), "timelock", -1, kTimelockBounds},
      {GovernanceAddress(), "timelock", 31'536'001, kTimelockBounds},
      {GovernanceAddress(), "spend.threshold", 49, "the threshold is a percentage from 50 to 99"},
      {GovernanceAddress(), "council.threshold", 100,
       "the threshold is a percentage from 50 to 99"},
      {GovernanceAddress(), "spend.quorum", 1, "the quorum is 1000 to 90000000000000000 tokens"},
      {GovernanceAddress(), "text.quorum", 999, "the quorum is 1000 to 90000000000000000 tokens"},
      {GovernanceAddress(), "upgrade.quorum", kInt64Max,
       "the quorum is 1000 to 90000000000000000 tokens"},
      {GovernanceAddress(), "deposit", 0, "the deposit is 1 to 90000000000000000 tokens"},
      {GovernanceAddress(), "deposit", kInt64Max, "the deposit is 1 to 90000000000000000 tokens"},
      {CitizenshipAddress(), "validity", kInt64Max, "validity is 1 to 100000000 blocks"},
      {CitizenshipAddress(), "validity", 0, "validity is 1 to 100000000 blocks"},
      {CitizenshipAddress(), "approvals", 0,
       "approvals must be between 1 and the size of the council"},
  };
  for (const Case& c : refused) {
    EXPECT_TRUE(
        Refused(Do(Person(kAlice), ProposeParam(c.contract, c.name, c.value, kDeposit)), c.reason))
        << c.name << " = " << c.value;
  }
  EXPECT_EQ(Proposals(), 0u);
  // The bounds themselves may be proposed.
  const Case accepted[] = {{GovernanceAddress(), "voting_period", 31'536'000, ""},
                           {GovernanceAddress(), "timelock", 0, ""},
                           {GovernanceAddress(), "timelock", 31'536'000, ""},
                           {GovernanceAddress(), "parameter.threshold", 99, ""},
                           {GovernanceAddress(), "spend.quorum", 1000, ""},
                           {GovernanceAddress(), "deposit", 1, ""},
                           {CitizenshipAddress(), "validity", 100'000'000, ""}};
  for (const Case& c : accepted) {
    EXPECT_TRUE(Ok(Do(Person(kAlice), ProposeParam(c.contract, c.name, c.value, kDeposit))))
        << c.name << " = " << c.value;
  }
  EXPECT_EQ(Proposals(), std::size(accepted));
}

// A new quorum above the turnout that decided it could never be reached again: checked when the
// decision executes, where it fails with the reason instead of reverting.
TEST_F(HardeningTest, AParameterThatFailsItsCheckAtExecutionFailsWithItsReason) {
  const int64_t id = Propose(ProposeParam(GovernanceAddress(), "spend.quorum", 5000, kDeposit));
  Wait(kVotingPeriod);
  const uint64_t alice = Balance(Addr(kAlice));
  auto r = Do(Person(kBob), ExecuteProposal(id));
  ASSERT_TRUE(Ok(r));
  EXPECT_TRUE(HasEvent(r, "governance.failed"));
  EXPECT_FALSE(HasEvent(r, "governance.param"));
  EXPECT_TRUE(FailedWith(id, "a quorum or deposit cannot exceed the votes that decided it"));
  EXPECT_EQ(Param(GovernanceAddress(), "spend.quorum"), static_cast<int64_t>(kQuorum));
  EXPECT_EQ(Balance(Addr(kAlice)), alice + kDeposit);  // the deposit is released
  // With a turnout that shows it can be reached, the same change executes.
  const int64_t again =
      Propose(ProposeParam(GovernanceAddress(), "spend.quorum", 5000, kDeposit), 5000);
  Wait(kVotingPeriod);
  ASSERT_TRUE(Ok(Do(Person(kBob), ExecuteProposal(again))));
  EXPECT_EQ(ProposalNow(again).status, ProposalStatus::kExecuted);
  EXPECT_EQ(Param(GovernanceAddress(), "spend.quorum"), 5000);
}

// approvals = 3 is within bounds for a council of 3 when proposed, not once a member has left.
TEST_F(HardeningTest, ACitizenshipParameterIsCheckedAgainAtExecution) {
  const int64_t approvals = Propose(ProposeParam(CitizenshipAddress(), "approvals", 3, kDeposit));
  const int64_t leave =
      Propose(ProposeCouncilChange(AsStringView(AddressOfKey(council_[0])), false, kDeposit));
  Wait(kVotingPeriod);
  ASSERT_TRUE(Ok(Do(Person(kBob), ExecuteProposal(leave))));
  EXPECT_EQ(ProposalNow(leave).status, ProposalStatus::kExecuted);
  ASSERT_TRUE(Ok(Do(Person(kBob), ExecuteProposal(approvals))));
  EXPECT_TRUE(FailedWith(approvals, "approvals must be between 1 and the size of the council"));
  EXPECT_EQ(Param(CitizenshipAddress(), "approvals"), 2);
}

// Attack 6b: a council key that is not a point of the curve can never sign; on a one-validator
// chain it made the council of two that could never reach quorum again.
TEST_F(HardeningTest, ACouncilKeyMustBeAPointOfTheCurve) {
  crypto::PublicKey not_on_curve{};
  not_on_curve[31] = 5;  // x = 5: x^3 + 7 is not a square modulo p
  crypto::PublicKey beyond_p;
  beyond_p.fill(0xff);  // x >= p
  for (const auto& key : {not_on_curve, beyond_p}) {
    ASSERT_FALSE(crypto::IsValidPublicKey(key));
    EXPECT_TRUE(
        Refused(Do(Person(kAlice), ProposeCouncilChange(AsStringView(key), true, kDeposit)),
                "a validator key must be a valid BIP-340 public key (the x coordinate of a point "
                "of secp256k1)"));
  }
  EXPECT_EQ(Proposals(), 0u);
  auto keys = ReadCouncilKeys(state_);
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->size(), 3u);
}

// Two proposals to add the same member: the second is checked again when it executes.
TEST_F(HardeningTest, ACouncilChangeIsCheckedAgainAtExecution) {
  const crypto::PublicKey dave = Person(kDave).public_key();
  const int64_t first = Propose(ProposeCouncilChange(AsStringView(dave), true, kDeposit));
  const int64_t second = Propose(ProposeCouncilChange(AsStringView(dave), true, kDeposit));
  Wait(kVotingPeriod);
  ASSERT_TRUE(Ok(Do(Person(kBob), ExecuteProposal(first))));
  EXPECT_EQ(ProposalNow(first).status, ProposalStatus::kExecuted);
  auto r = Do(Person(kBob), ExecuteProposal(second));
  ASSERT_TRUE(Ok(r));
  EXPECT_FALSE(HasEvent(r, "citizenship.council_added"));
  EXPECT_TRUE(FailedWith(second, "already a council member"));
  auto keys = ReadCouncilKeys(state_);
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->size(), 4u);
}

// A council of a validator and a member without a key (a genesis nation.council may name such
// an address): removing the validator would leave no validator key at all.
class KeylessMemberNation : public NationTest {
 protected:
  KeylessMemberNation()
      : NationTest(0, [](Genesis& g) {
          g.nation.council = {g.accounts[0].address, g.accounts[3 + kDave].address};
          g.nation.council_approvals = 1;
        }) {}
};

TEST_F(KeylessMemberNation, TheCouncilKeepsAMemberWithAValidatorKey) {
  ASSERT_TRUE(Ok(Do(Person(kAlice), RegisterDid(Person(kAlice).public_key()))));
  ASSERT_TRUE(Ok(Do(Person(kAlice), ApplyForCitizenship())));
  ASSERT_TRUE(Ok(Do(council_[0], CouncilDecide(Did(Person(kAlice)), CouncilAction::kApprove))));
  EXPECT_TRUE(
      Refused(Do(Person(kAlice),
                 ProposeCouncilChange(AsStringView(AddressOfKey(council_[0])), false, kDeposit)),
              "the council must keep at least one member with a validator key"));
  EXPECT_EQ(*ProposalCount(state_), 0u);
  // The keyless member may leave: the validator stays.
  ASSERT_TRUE(
      Ok(Do(Person(kAlice), ProposeCouncilChange(AsStringView(Addr(kDave)), false, kDeposit))));
  auto keys = ReadCouncilKeys(state_);
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(*keys, std::vector<crypto::PublicKey>{council_[0].public_key()});
}

// Attack 8: Alice rotated her DID (and with it her citizenship) to Bob's key without Bob.
TEST_F(HardeningTest, ARotationNeedsTheNewKeysConsent) {
  const crypto::SecretKey& alice = Person(kAlice);
  const crypto::SecretKey& bob = Person(kBob);
  const DidId id = Did(alice);
  const uint64_t version = (*ReadDid(state_, id))->version;
  const std::string reason = "the new key did not sign the rotation (civitas/did-rotate/v1)";
  const crypto::Signature nothing{};
  EXPECT_TRUE(Refused(Do(alice, RotateDidKey("key-2", bob.public_key(), nothing)), reason));
  // Alice's own signature is not Bob's consent.
  EXPECT_TRUE(
      Refused(Do(alice, RotateDidKey("key-2", bob.public_key(),
                                     SignDidRotation(alice, id, alice.public_key(), version))),
              reason));
  // Bob's consent to another version (a replay), another DID or another old key is not this one.
  for (const auto& sig : {SignDidRotation(bob, id, alice.public_key(), version + 1),
                          SignDidRotation(bob, Did(Person(kCarol)), alice.public_key(), version),
                          SignDidRotation(bob, id, Person(kCarol).public_key(), version)}) {
    EXPECT_TRUE(Refused(Do(alice, RotateDidKey("key-2", bob.public_key(), sig)), reason));
  }
  auto record = ReadDid(state_, id);
  ASSERT_TRUE(record.ok() && record->has_value());
  EXPECT_EQ((*record)->controller_key, alice.public_key());
  EXPECT_EQ((*record)->version, version);
  // With Bob's signature of this rotation, it goes through.
  auto r = Do(alice, RotateDidKey("key-2", bob.public_key(),
                                  SignDidRotation(bob, id, alice.public_key(), version)));
  ASSERT_TRUE(Ok(r));
  EXPECT_TRUE(HasEvent(r, "did.key_rotated"));
  EXPECT_EQ((*ReadDid(state_, id))->controller_key, bob.public_key());
}

// docs/NATION.md's rotation vector, computed from the text by tests/vectors/protocol_vectors.py.
TEST(DidRotationVector, MessageAndHashMatchTheSpecification) {
  std::ifstream in(std::string(CIVITAS_SOURCE_DIR) + "/tests/data/protocol_vectors.json");
  ASSERT_TRUE(in.good());
  auto j = nlohmann::json::parse(in);
  auto old_key = FixedFromHex<32>(j["public_key"].get<std::string>());
  auto new_key = FixedFromHex<32>(j["did_rotate_new_key"].get<std::string>());
  ASSERT_TRUE(old_key && new_key);
  const DidId id = *ParseDid(j["did"].get<std::string>());
  const std::string m = DidRotationMessage(id, *old_key, *new_key, 1);
  EXPECT_EQ(ToHex(reinterpret_cast<const uint8_t*>(m.data()), m.size()), j["did_rotate_message"]);
  EXPECT_EQ(ToHex(crypto::TaggedHash(kDidRotateTag, m)), j["did_rotate_signing_hash"]);
  // BIP-340 test vector 1's secret key holds the new key; its signature verifies.
  auto secret = crypto::SecretKey::FromBytes(
      *FixedFromHex<32>("b7e151628aed2a6abf7158809cf4f3c762e7160f38b4da56a784d9045190cfef"));
  ASSERT_TRUE(secret.ok());
  ASSERT_EQ(secret->public_key(), *new_key);
  const crypto::Signature sig = SignDidRotation(*secret, id, *old_key, 1);
  EXPECT_TRUE(crypto::VerifyTagged(*new_key, kDidRotateTag, m, sig));
}

}  // namespace
}  // namespace civitas::nation::testing
