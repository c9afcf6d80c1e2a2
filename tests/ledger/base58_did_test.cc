#include <gtest/gtest.h>

#include "ledger/base58.h"
#include "ledger/did.h"

namespace civitas {
namespace {

TEST(Base58, KnownAnswers) {
  // Vectors from the base58 draft (draft-msporny-base58).
  EXPECT_EQ(Base58Encode(ToBytes("Hello World!")), "2NEpo7TZRRrLZSi2U");
  EXPECT_EQ(Base58Encode(ToBytes("The quick brown fox jumps over the lazy dog.")),
            "USm3fpXnKG5EUBx2ndxBDMPVciP5hGey2Jh4NDv6gmeo1LkMeiKrLJUUBk6Z");
  EXPECT_EQ(Base58Encode(*FromHex("0000287fb4cd")), "11233QC4");
  EXPECT_EQ(Base58Encode(Bytes{}), "");
}

TEST(Base58, RoundTripAndRejects) {
  for (int n = 0; n < 40; ++n) {
    Bytes b(n);
    for (int i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(i * 37 + n);
    if (n > 2) b[0] = 0;
    auto back = Base58Decode(Base58Encode(b));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, b);
  }
  EXPECT_FALSE(Base58Decode("0OIl"));
  EXPECT_FALSE(Base58Decode("abc+"));
}

TEST(Did, DerivationFollowsTheMethodRule) {
  crypto::PublicKey pk{};
  pk[31] = 1;
  Hash32 h = crypto::Sha256(AsStringView(pk));
  std::string did = DeriveDid(pk);
  EXPECT_EQ(did, "did:civitas:" + Base58Encode(h.data(), 16));
  auto id = ParseDid(did);
  ASSERT_TRUE(id);
  EXPECT_TRUE(std::equal(id->begin(), id->end(), h.begin()));
}

TEST(Did, ParseRejectsMalformed) {
  EXPECT_FALSE(ParseDid("did:example:abc"));
  EXPECT_FALSE(ParseDid("did:civitas:"));
  EXPECT_FALSE(ParseDid("did:civitas:0000"));
  EXPECT_FALSE(ParseDid("did:civitas:1111111111111111111111111"));
  // Right alphabet, wrong length.
  EXPECT_FALSE(ParseDid("did:civitas:abc"));
}

}  // namespace
}  // namespace civitas
