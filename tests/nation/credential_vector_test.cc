// The citizenship credential's formats against the vectors of docs/NATION.md ("Citizenship
// credential") kept in tests/data/protocol_vectors.json: the proofValue encoding of a
// CertifiedState, the credential a verifier rebuilds, and the holder's signing message and hash.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "genesis/credential.h"
#include "ledger/bytes.h"
#include "ledger/did.h"

namespace civitas::nation::testing {
namespace {

std::string HexOf(std::string_view s) {
  return ToHex(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

class CredentialVector : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ifstream in(std::string(CIVITAS_SOURCE_DIR) + "/tests/data/protocol_vectors.json");
    ASSERT_TRUE(in.good());
    vectors_ = nlohmann::json::parse(in);
    genesis_.chain_id = "civitas-test";
    genesis_.hash.fill(0x11);
    // A bundle of one proven entry: height 41, the validators record key 0x06, value 0x00, an
    // empty proof (the format only; such a bundle does not verify).
    v1::CertifiedState bundle;
    bundle.set_height(41);
    auto* e = bundle.add_entries();
    e->set_key(std::string(1, '\x06'));
    e->set_present(true);
    e->set_value(std::string(1, '\0'));
    ASSERT_TRUE(bundle.SerializeToString(&bundle_bytes_));
  }
  nlohmann::json vectors_;
  Genesis genesis_;
  std::string bundle_bytes_;
};

TEST_F(CredentialVector, ProofValueEncodesTheBundle) {
  EXPECT_EQ(HexOf(bundle_bytes_), vectors_["credential_bundle_bytes"]);
  const std::string value = EncodeProofValue(bundle_bytes_);
  EXPECT_EQ(value, vectors_["credential_proof_value"]);
  EXPECT_EQ(DecodeProofValue(value), bundle_bytes_);
  // Only the multibase base64url form decodes.
  EXPECT_FALSE(DecodeProofValue("z" + value.substr(1)));
  EXPECT_FALSE(DecodeProofValue(value + "="));
  EXPECT_FALSE(DecodeProofValue("u+/"));
  EXPECT_FALSE(DecodeProofValue("uA"));  // a length no encoding has
}

TEST_F(CredentialVector, CredentialIsWhatAVerifierRebuilds) {
  const std::string did = vectors_["did"];
  const auto vc = CredentialJson(genesis_, did, 41, 1700000000000, EncodeProofValue(bundle_bytes_));
  EXPECT_EQ(vc.dump(), vectors_["credential_json"].get<std::string>());
}

TEST_F(CredentialVector, HolderSigningMessageAndHash) {
  const std::string did = vectors_["did"];
  const std::string m = PresentationMessage(genesis_, did, "nonce-1", bundle_bytes_);
  EXPECT_EQ(HexOf(m), vectors_["presentation_message"]);
  EXPECT_EQ(ToHex(crypto::TaggedHash(kPresentationTag, m)), vectors_["presentation_signing_hash"]);
  // Secret key 3 (BIP-340 vector 0) holds the vectors' public key; its signature verifies.
  auto secret = crypto::SecretKey::FromBytes(
      *FixedFromHex<32>("0000000000000000000000000000000000000000000000000000000000000003"));
  ASSERT_TRUE(secret.ok());
  const auto sig = crypto::SignTagged(*secret, kPresentationTag, m);
  EXPECT_TRUE(crypto::VerifyTagged(secret->public_key(), kPresentationTag, m, sig));
}

}  // namespace
}  // namespace civitas::nation::testing
