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
};

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
