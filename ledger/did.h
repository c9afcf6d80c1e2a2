#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "ledger/crypto.h"

namespace civitas {

inline constexpr std::string_view kDidPrefix = "did:civitas:";

// The DID of a first public key: "did:civitas:" + base58btc(SHA-256(public key)[0:16]).
std::string DeriveDid(const crypto::PublicKey& first_key);
// The 16-byte method-specific identifier of a well-formed Civitas DID; nullopt otherwise.
std::optional<std::array<uint8_t, 16>> ParseDid(std::string_view did);

}  // namespace civitas
