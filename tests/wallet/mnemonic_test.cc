// BIP-39: the published vectors, and what a person who mistypes a mnemonic sees.
#include "tools/wallet/mnemonic.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "ledger/base58.h"
#include "tools/wallet/hd.h"

namespace civitas::wallet {
namespace {

nlohmann::json LoadVectors() {
  std::ifstream in(std::string(CIVITAS_TEST_DATA) + "/bip39-vectors.json");
  EXPECT_TRUE(in) << "tests/data/bip39-vectors.json missing";
  return nlohmann::json::parse(in);
}

TEST(Bip39, WordListIsTheEnglishList) {
  EXPECT_STREQ(kBip39English.front(), "abandon");
  EXPECT_STREQ(kBip39English[1], "ability");
  EXPECT_STREQ(kBip39English.back(), "zoo");
  std::set<std::string> unique(kBip39English.begin(), kBip39English.end());
  EXPECT_EQ(unique.size(), 2048u);
}

TEST(Bip39, PublishedVectors) {
  auto v = LoadVectors();
  const std::string passphrase = v["passphrase"];
  ASSERT_EQ(v["english"].size(), 24u);
  for (const auto& row : v["english"]) {
    const std::string entropy_hex = row[0], words = row[1], seed_hex = row[2], xprv = row[3];
    SCOPED_TRACE(words);
    auto entropy = FromHex(entropy_hex);
    ASSERT_TRUE(entropy);
    auto m = EntropyToMnemonic(*entropy);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ(*m, words);
    auto back = MnemonicToEntropy(words);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(ToHex(*back), entropy_hex);
    auto seed = MnemonicToSeed(words, passphrase);
    ASSERT_TRUE(seed.ok()) << seed.status().ToString();
    EXPECT_EQ(ToHex(*seed), seed_hex);

    // The vector's BIP-32 root key: chain code at bytes 13..44, key at 46..77 of the
    // base58check payload.
    auto raw = Base58Decode(xprv);
    ASSERT_TRUE(raw && raw->size() == 82);
    auto master = MasterKey(seed->data(), seed->size());
    ASSERT_TRUE(master.ok());
    EXPECT_EQ(ToHex(Bytes(raw->begin() + 13, raw->begin() + 45)), ToHex(master->chain_code));
    EXPECT_EQ(ToHex(Bytes(raw->begin() + 46, raw->begin() + 78)), ToHex(master->secret));
  }
}

TEST(Bip39, SeedWithoutPassphrase) {
  // The seed every BIP-39 wallet derives from this mnemonic with an empty passphrase.
  auto seed = MnemonicToSeed(
      "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "
      "about",
      "");
  ASSERT_TRUE(seed.ok());
  EXPECT_EQ(ToHex(*seed),
            "5eb00bbddcf069084889a8ab9155568165f5c453ccb85e70811aaed6f6da5fc19a5ac40b389cd370d0862"
            "06dec8aa6c43daea6690f20ad3d8d48b2d2ce9e38e4");
}

TEST(Bip39, SpellingIsNormalized) {
  const std::string canonical =
      "legal winner thank year wave sausage worth useful legal winner thank yellow";
  auto n = NormalizeMnemonic(
      "  Legal WINNER thank\tyear wave sausage\nworth useful legal winner "
      "thank yellow \n");
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, canonical);
  auto a = MnemonicToSeed(canonical, "x");
  auto b = MnemonicToSeed(
      "LEGAL winner  thank year wave sausage worth useful legal winner thank "
      "yellow",
      "x");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
}

TEST(Bip39, UnknownWordIsNamedWithItsPosition) {
  auto r = MnemonicToEntropy(
      "legal winner thank year wave sausage worth usefull legal winner thank yellow");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "bad_mnemonic");
  EXPECT_NE(r.status().message().find("word 8 \"usefull\""), std::string::npos)
      << r.status().message();
}

TEST(Bip39, BadChecksumIsReported) {
  // "zoo ... zoo" (12 words) is valid only with the right last word ("wrong").
  auto r = MnemonicToEntropy("zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "bad_mnemonic");
  EXPECT_NE(r.status().message().find("checksum"), std::string::npos) << r.status().message();
  // Two words swapped.
  auto s = MnemonicToEntropy(
      "winner legal thank year wave sausage worth useful legal winner thank yellow");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("checksum"), std::string::npos);
}

TEST(Bip39, WrongWordCountIsReported) {
  for (const char* m : {"", "abandon",
                        "abandon abandon abandon abandon abandon abandon abandon "
                        "abandon abandon abandon abandon"}) {
    auto r = MnemonicToEntropy(m);
    ASSERT_FALSE(r.ok()) << m;
    EXPECT_NE(r.status().message().find("12, 15, 18, 21 or 24 words"), std::string::npos);
  }
}

TEST(Bip39, NonAsciiPassphraseIsRefused) {
  auto r = MnemonicToSeed(
      "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "
      "about",
      "caf\xc3\xa9");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "bad_passphrase");
}

TEST(Bip39, GeneratedMnemonicsAreValidAndDistinct) {
  for (int words : {12, 24}) {
    auto a = GenerateMnemonic(words);
    auto b = GenerateMnemonic(words);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_NE(*a, *b);
    EXPECT_EQ(std::count(a->begin(), a->end(), ' '), words - 1);
    auto e = MnemonicToEntropy(*a);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    EXPECT_EQ(e->size(), static_cast<size_t>(words) / 3 * 4);
  }
  EXPECT_FALSE(GenerateMnemonic(13).ok());
  EXPECT_FALSE(EntropyToMnemonic(Bytes(15)).ok());
}

}  // namespace
}  // namespace civitas::wallet
