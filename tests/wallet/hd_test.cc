// BIP-32 against its published vectors, paths, and the Civitas key of a mnemonic.
#include "tools/wallet/hd.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "ledger/address.h"
#include "ledger/base58.h"
#include "ledger/crypto.h"

namespace civitas::wallet {
namespace {

// Fields of a serialized extended private key (BIP-32 "Serialization format").
struct Xprv {
  uint8_t depth;
  uint32_t child_number;
  std::string chain_code_hex;
  std::string key_hex;
};

Xprv DecodeXprv(const std::string& text) {
  auto raw = Base58Decode(text);
  EXPECT_TRUE(raw && raw->size() == 82) << text;
  if (!raw || raw->size() != 82) return {};
  // base58check: the last 4 bytes are the first 4 of SHA256(SHA256(payload)).
  Hash32 h1 = crypto::Sha256(std::string_view(reinterpret_cast<const char*>(raw->data()), 78));
  Hash32 h2 = crypto::Sha256(AsStringView(h1));
  EXPECT_TRUE(std::equal(h2.begin(), h2.begin() + 4, raw->begin() + 78)) << "checksum " << text;
  EXPECT_EQ((*raw)[45], 0) << "not a private key: " << text;
  return {(*raw)[4], GetU32(raw->data() + 9), ToHex(Bytes(raw->begin() + 13, raw->begin() + 45)),
          ToHex(Bytes(raw->begin() + 46, raw->begin() + 78))};
}

TEST(Bip32, PublishedVectors) {
  std::ifstream in(std::string(CIVITAS_TEST_DATA) + "/bip32-vectors.json");
  ASSERT_TRUE(in);
  auto v = nlohmann::json::parse(in);
  int checked = 0;
  for (const auto& vec : v["vectors"]) {
    auto seed = FromHex(vec["seed"].get<std::string>());
    ASSERT_TRUE(seed);
    for (const auto& chain : vec["chains"]) {
      const std::string path_text = chain[0];
      SCOPED_TRACE(path_text);
      auto path = ParsePath(path_text);
      ASSERT_TRUE(path.ok()) << path.status().ToString();
      EXPECT_EQ(FormatPath(*path), path_text);
      auto key = DerivePath(seed->data(), seed->size(), *path);
      ASSERT_TRUE(key.ok()) << key.status().ToString();
      Xprv want = DecodeXprv(chain[1]);
      EXPECT_EQ(key->depth, want.depth);
      EXPECT_EQ(key->child_number, want.child_number);
      EXPECT_EQ(ToHex(key->chain_code), want.chain_code_hex);
      EXPECT_EQ(ToHex(key->secret), want.key_hex);
      ++checked;
    }
  }
  EXPECT_EQ(checked, 12);
}

TEST(Bip32, Paths) {
  auto p = ParsePath("m/44'/7463h/0H/0'/5'");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, CivitasPath(5));
  EXPECT_EQ(FormatPath(CivitasPath(5)), "m/44'/7463'/0'/0'/5'");
  auto root = ParsePath("m");
  ASSERT_TRUE(root.ok());
  EXPECT_TRUE(root->empty());
  for (const char* bad : {"", "44'/0'", "m/", "m//1", "m/x", "m/2147483648", "m/1''", "m/1/"}) {
    auto r = ParsePath(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().reason(), "bad_path");
    }
  }
}

TEST(Bip32, SeedSizeIsChecked) {
  uint8_t seed[65] = {};
  EXPECT_FALSE(MasterKey(seed, 15).ok());
  EXPECT_FALSE(MasterKey(seed, 65).ok());
  EXPECT_TRUE(MasterKey(seed, 16).ok());
}

// Independent values: computed with Python's hmac/hashlib and a pure-Python secp256k1
// (tests/interop/bip340.py) from BIP-32's text, documented in docs/WALLET.md.
TEST(CivitasKeys, KeyOfAMnemonic) {
  const std::string m =
      "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "
      "about";
  auto k0 = KeyFromMnemonic(m, "", 0);
  ASSERT_TRUE(k0.ok()) << k0.status().ToString();
  EXPECT_EQ(ToHex(k0->bytes()), "654f932dc8821bca9c96998c76e3d24901d33cb606eb96fa621cb2a72bb94d5b");
  EXPECT_EQ(ToHex(k0->public_key()),
            "5b02401d37125385c8cfc116658db1b7f2bda93773c5291bfbdf254819b104db");
  auto k1 = KeyFromMnemonic(m, "", 1);
  ASSERT_TRUE(k1.ok());
  EXPECT_EQ(ToHex(k1->bytes()), "06ddbbe008689734aecc76464040b6acd00d67f5803b94862e80fa254aa80e41");
  EXPECT_EQ(ToHex(k1->public_key()),
            "9cac877aec5205a5e2f1aaf1a7e298429880b2a4bdfeaaf17a7ecf6f15ee2814");
  // The BIP-39 passphrase gives a different, equally valid key.
  auto other = KeyFromMnemonic(m, "TREZOR", 0);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->public_key(), k0->public_key());
}

TEST(CivitasKeys, BadMnemonicOrIndexIsRefused) {
  EXPECT_EQ(KeyFromMnemonic("abandon abandon", "", 0).status().reason(), "bad_mnemonic");
  const std::string m =
      "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "
      "about";
  EXPECT_EQ(KeyFromMnemonic(m, "", kHardened).status().reason(), "bad_path");
}

}  // namespace
}  // namespace civitas::wallet
