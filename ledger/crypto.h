#pragma once

// Hashing and signatures: SHA-256 (OpenSSL), BIP-340 tagged hashes and BIP-340 Schnorr
// signatures over secp256k1 (libsecp256k1). Every function here is thread-safe.

#include <array>
#include <cstdint>
#include <string_view>

#include "ledger/bytes.h"
#include "ledger/status.h"

namespace civitas::crypto {

using PublicKey = std::array<uint8_t, 32>;  // BIP-340 x-only public key
using Signature = std::array<uint8_t, 64>;  // BIP-340 signature

Hash32 Sha256(std::string_view data);
inline Hash32 Sha256(const Bytes& data) { return Sha256(AsStringView(data)); }

// Incremental SHA-256. Not copyable; one per thread of use.
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;
  Sha256Hasher& Update(std::string_view data);
  Sha256Hasher& Update(const uint8_t* data, size_t size);
  template <size_t N>
  Sha256Hasher& Update(const std::array<uint8_t, N>& a) {
    return Update(a.data(), N);
  }
  Hash32 Finish();

 private:
  void* ctx_;
};

// BIP-340 tagged hash: SHA256(SHA256(tag) || SHA256(tag) || msg).
Hash32 TaggedHash(std::string_view tag, std::string_view msg);
inline Hash32 TaggedHash(std::string_view tag, const Bytes& msg) {
  return TaggedHash(tag, AsStringView(msg));
}

// Fills `out` with bytes from the operating system's CSPRNG (OpenSSL RAND_bytes).
void RandomBytes(uint8_t* out, size_t size);

// A secp256k1 secret key. Holds the key pair, so signing does not recompute the public key.
class SecretKey {
 public:
  // Refuses zero and values not below the curve order.
  static Result<SecretKey> FromBytes(const Hash32& secret);
  static SecretKey Generate();

  const Hash32& bytes() const { return secret_; }
  const PublicKey& public_key() const { return public_key_; }

  // BIP-340 signature of a 32-byte message. `aux_rand` is the auxiliary randomness of the
  // specification; when null, fresh random bytes are used.
  Signature Sign(const Hash32& msg, const Hash32* aux_rand = nullptr) const;

 private:
  SecretKey() = default;
  Hash32 secret_{};
  PublicKey public_key_{};
  std::array<uint8_t, 96> keypair_{};  // secp256k1_keypair, opaque
};

// True when `sig` is a valid BIP-340 signature of `msg` (any length) by `pk`.
// Thread-safe; keeps the parsed form of the keys it met last (a verification of a known key
// skips the square root that parsing costs).
bool Verify(const PublicKey& pk, std::string_view msg, const Signature& sig);
// Verify from the key's bytes every time: the whole cost of one verification (the benchmarks'
// V1 measures this).
bool VerifyUncached(const PublicKey& pk, std::string_view msg, const Signature& sig);
// How many times Verify ran in this process (for the benchmarks' verifications per transaction).
uint64_t VerifyCount();
// True when `pk` is the x coordinate of a point on the curve.
bool IsValidPublicKey(const PublicKey& pk);

// Signs / verifies the tagged hash of `msg` under `tag`: how every Civitas signature is made.
inline Signature SignTagged(const SecretKey& key, std::string_view tag, std::string_view msg) {
  return key.Sign(TaggedHash(tag, msg));
}
inline bool VerifyTagged(const PublicKey& pk, std::string_view tag, std::string_view msg,
                         const Signature& sig) {
  Hash32 h = TaggedHash(tag, msg);
  return Verify(pk, AsStringView(h), sig);
}

}  // namespace civitas::crypto
