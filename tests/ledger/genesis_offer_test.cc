// Genesis offers (ledger/genesis_offer.h): the test vector of docs/PROTOCOL.md, the endpoint and
// moniker rules; and the optional P2P endpoint of genesis validators.
#include <gtest/gtest.h>

#include "ledger/genesis.h"
#include "ledger/genesis_offer.h"

namespace civitas {
namespace {

// docs/PROTOCOL.md, "Genesis offers": computed with tests/interop/bip340.py.
TEST(GenesisOfferTest, TestVector) {
  Hash32 secret;
  secret.fill(0x01);
  auto key = crypto::SecretKey::FromBytes(secret);
  ASSERT_TRUE(key.ok());
  const Hash32 aux{};
  auto offer = MakeGenesisOffer(*key, "alice", "alice.example.org:26656", &aux);
  ASSERT_TRUE(offer.ok()) << offer.status().ToString();
  EXPECT_EQ(ToHex(offer->public_key),
            "1b84c5567b126440995d3ed5aaba0565d71e1834604819ff9c17f5e9d5dd078f");
  EXPECT_EQ(ToHex(GenesisOfferSigningBytes(*offer)),
            "00000005616c696365"
            "1b84c5567b126440995d3ed5aaba0565d71e1834604819ff9c17f5e9d5dd078f"
            "00000017616c6963652e6578616d706c652e6f72673a3236363536");
  EXPECT_EQ(ToHex(crypto::TaggedHash(kGenesisOfferTag, GenesisOfferSigningBytes(*offer))),
            "82ed8733e8dc02045204b474003c91ef752633f009c22d03477a8c1c8b8453d5");
  EXPECT_EQ(ToHex(offer->signature),
            "aacf858a9aac08447c12f66721d17f12b21dbdb5c66249a6564923702d43173b"
            "24ef06ccaa0bced4958f2c5d2b5043a0e08a8ad14633f08a08ea6f338a55fcd4");
  auto parsed = ParseGenesisOffer(GenesisOfferToJson(*offer));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->moniker, "alice");
  EXPECT_EQ(parsed->p2p, "alice.example.org:26656");
}

TEST(GenesisOfferTest, EndpointsAndMonikers) {
  auto key = crypto::SecretKey::Generate();
  for (const char* ok :
       {"10.0.0.1:26656", "node-1.example.org:1", "[2001:db8::1]:26656", "localhost:65535"}) {
    EXPECT_TRUE(MakeGenesisOffer(key, "m", ok).ok()) << ok;
  }
  for (const char* bad : {"", "host", ":26656", "host:0", "host:65536", "host:12a", "bad host:1",
                          "key@host:1", "[::1:1"}) {
    auto r = MakeGenesisOffer(key, "m", bad);
    EXPECT_EQ(r.status().reason(), "bad_offer") << bad;
  }
  EXPECT_EQ(MakeGenesisOffer(key, "two words", "h:1").status().reason(), "bad_offer");
  EXPECT_EQ(MakeGenesisOffer(key, "", "h:1").status().reason(), "bad_offer");
}

// Genesis files without endpoints keep their bytes and hash; an endpoint round-trips.
TEST(GenesisEndpointTest, OmittedWhenEmpty) {
  Genesis g;
  g.chain_id = "x";
  g.validators.push_back({"a", crypto::SecretKey::Generate().public_key()});
  const std::string text = GenesisToJson(g);
  EXPECT_EQ(text.find("p2p"), std::string::npos);
  g.validators[0].p2p = "a.example.org:26656";
  auto parsed = ParseGenesis(GenesisToJson(g));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->validators[0].p2p, "a.example.org:26656");
  EXPECT_NE(parsed->hash, ParseGenesis(text)->hash);
  std::string bad = GenesisToJson(g);
  bad.replace(bad.find("a.example.org:26656"), 19, "a.example.org:0");
  EXPECT_EQ(ParseGenesis(bad).status().reason(), "bad_genesis");
}

}  // namespace
}  // namespace civitas
