#include "tools/wallet/hd.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <secp256k1.h>

#include <cstdlib>
#include <cstring>

#include "tools/wallet/mnemonic.h"

namespace civitas::wallet {
namespace {

const secp256k1_context* Ctx() {
  static const secp256k1_context* ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
  return ctx;
}

// HMAC-SHA512(key, data) split into its left and right halves.
void HmacSha512(const uint8_t* key, size_t key_size, const uint8_t* data, size_t size, Hash32& left,
                Hash32& right) {
  uint8_t out[64];
  unsigned int len = 0;
  if (!HMAC(EVP_sha512(), key, static_cast<int>(key_size), data, size, out, &len) || len != 64) {
    std::abort();  // OpenSSL without SHA-512: nothing sensible to do
  }
  std::memcpy(left.data(), out, 32);
  std::memcpy(right.data(), out + 32, 32);
  OPENSSL_cleanse(out, sizeof(out));
}

}  // namespace

Result<ExtendedKey> MasterKey(const uint8_t* seed, size_t size) {
  if (size < 16 || size > 64) {
    return Status::Invalid("bad_seed",
                           "a BIP-32 seed has 16 to 64 bytes, not " + std::to_string(size));
  }
  static constexpr std::string_view kKey = "Bitcoin seed";
  ExtendedKey m;
  HmacSha512(reinterpret_cast<const uint8_t*>(kKey.data()), kKey.size(), seed, size, m.secret,
             m.chain_code);
  if (!secp256k1_ec_seckey_verify(Ctx(), m.secret.data())) {
    return Status::Invalid("bad_seed", "this seed gives an invalid master key (BIP-32)");
  }
  return m;
}

Result<ExtendedKey> DeriveChild(const ExtendedKey& parent, uint32_t index) {
  uint8_t data[37];
  if (index >= kHardened) {
    data[0] = 0;
    std::memcpy(data + 1, parent.secret.data(), 32);
  } else {
    secp256k1_pubkey pub;
    if (!secp256k1_ec_pubkey_create(Ctx(), &pub, parent.secret.data())) {
      return Status::Invalid("bad_path", "invalid parent key");
    }
    size_t len = 33;
    secp256k1_ec_pubkey_serialize(Ctx(), data, &len, &pub, SECP256K1_EC_COMPRESSED);
  }
  data[33] = static_cast<uint8_t>(index >> 24);
  data[34] = static_cast<uint8_t>(index >> 16);
  data[35] = static_cast<uint8_t>(index >> 8);
  data[36] = static_cast<uint8_t>(index);
  ExtendedKey child;
  Hash32 tweak;
  HmacSha512(parent.chain_code.data(), 32, data, sizeof(data), tweak, child.chain_code);
  OPENSSL_cleanse(data, sizeof(data));
  child.secret = parent.secret;
  // k_i = IL + k_par (mod n); fails when IL >= n or the sum is zero.
  if (!secp256k1_ec_seckey_tweak_add(Ctx(), child.secret.data(), tweak.data())) {
    return Status::Invalid(
        "bad_path", "child " + std::to_string(index) + " is invalid (BIP-32); use the next index");
  }
  OPENSSL_cleanse(tweak.data(), tweak.size());
  child.depth = static_cast<uint8_t>(parent.depth + 1);
  child.child_number = index;
  return child;
}

Result<std::vector<uint32_t>> ParsePath(std::string_view path) {
  auto bad = [&](const std::string& why) {
    return Status::Invalid("bad_path", "bad derivation path \"" + std::string(path) + "\": " + why);
  };
  if (path.empty() || path[0] != 'm') return bad("it must start with m");
  std::vector<uint32_t> out;
  size_t i = 1;
  while (i < path.size()) {
    if (path[i] != '/') return bad("expected / at position " + std::to_string(i + 1));
    ++i;
    uint64_t v = 0;
    size_t digits = 0;
    while (i < path.size() && path[i] >= '0' && path[i] <= '9') {
      v = v * 10 + static_cast<uint64_t>(path[i] - '0');
      if (v >= kHardened) return bad("index too large (at most 2147483647)");
      ++i;
      ++digits;
    }
    if (digits == 0) return bad("expected a number at position " + std::to_string(i + 1));
    if (i < path.size() && (path[i] == '\'' || path[i] == 'h' || path[i] == 'H')) {
      v += kHardened;
      ++i;
    }
    out.push_back(static_cast<uint32_t>(v));
  }
  if (out.size() > 255) return bad("too deep");
  return out;
}

std::string FormatPath(const std::vector<uint32_t>& path) {
  std::string s = "m";
  for (uint32_t i : path) {
    s += "/" + std::to_string(i & ~kHardened);
    if (i & kHardened) s += "'";
  }
  return s;
}

std::vector<uint32_t> CivitasPath(uint32_t index) {
  return {44 | kHardened, kCoinType | kHardened, 0 | kHardened, 0 | kHardened, index | kHardened};
}

Result<ExtendedKey> DerivePath(const uint8_t* seed, size_t size,
                               const std::vector<uint32_t>& path) {
  auto key = MasterKey(seed, size);
  if (!key.ok()) return key.status();
  ExtendedKey k = *key;
  for (uint32_t index : path) {
    auto child = DeriveChild(k, index);
    if (!child.ok()) return child.status();
    k = *child;
  }
  return k;
}

Result<crypto::SecretKey> KeyFromMnemonic(std::string_view mnemonic, std::string_view passphrase,
                                          uint32_t index) {
  if (index >= kHardened) {
    return Status::Invalid("bad_path", "the key index must be below 2147483648");
  }
  auto seed = MnemonicToSeed(mnemonic, passphrase);
  if (!seed.ok()) return seed.status();
  auto k = DerivePath(seed->data(), seed->size(), CivitasPath(index));
  OPENSSL_cleanse(seed->data(), seed->size());
  if (!k.ok()) return k.status();
  auto key = crypto::SecretKey::FromBytes(k->secret);
  OPENSSL_cleanse(k->secret.data(), k->secret.size());
  return key;
}

}  // namespace civitas::wallet
