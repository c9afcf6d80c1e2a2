#pragma once

// BIP-32 hierarchical deterministic keys over secp256k1 (private derivation only) and the
// Civitas derivation path. docs/WALLET.md.
//
//   seed (BIP-39) --HMAC-SHA512("Bitcoin seed")--> master --CKDpriv along the path--> key
//
// Civitas keys live at m/44'/kCoinType'/0'/0'/index' : every level hardened, so a leaked
// child key never exposes its parent or its siblings.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/bytes.h"
#include "ledger/crypto.h"
#include "ledger/status.h"

namespace civitas::wallet {

inline constexpr uint32_t kHardened = 0x80000000u;
// The BIP-44 coin type of Civitas keys. Not registered in SLIP-44; fixed forever, because
// changing it would change every key recovered from a mnemonic.
inline constexpr uint32_t kCoinType = 7463;

// An extended private key.
struct ExtendedKey {
  Hash32 secret{};      // the private key k
  Hash32 chain_code{};  // c
  uint8_t depth = 0;
  uint32_t child_number = 0;  // the index this key was derived with (0 for the master)
};

// The master key of a seed of 16 to 64 bytes. Reason bad_seed.
Result<ExtendedKey> MasterKey(const uint8_t* seed, size_t size);
// CKDpriv: the child `index` of `parent` (hardened when index >= kHardened). Reason bad_path in
// the (probability 2^-127) case the child is invalid; the caller then uses another index.
Result<ExtendedKey> DeriveChild(const ExtendedKey& parent, uint32_t index);

// Parses "m/44'/7463'/0'/0'/0'" (' or h marks a hardened index). Reason bad_path.
Result<std::vector<uint32_t>> ParsePath(std::string_view path);
std::string FormatPath(const std::vector<uint32_t>& path);
// m/44'/kCoinType'/0'/0'/index'. Precondition: index < kHardened.
std::vector<uint32_t> CivitasPath(uint32_t index);

// The key at `path` below the master key of `seed`.
Result<ExtendedKey> DerivePath(const uint8_t* seed, size_t size, const std::vector<uint32_t>& path);

// The Civitas signing key of a BIP-39 mnemonic (checked) and passphrase at account `index`.
Result<crypto::SecretKey> KeyFromMnemonic(std::string_view mnemonic, std::string_view passphrase,
                                          uint32_t index);

}  // namespace civitas::wallet
