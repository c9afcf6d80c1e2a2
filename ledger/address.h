#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ledger/bytes.h"
#include "ledger/crypto.h"

namespace civitas {

// Accounts and contracts are named by 20-byte addresses, shown as 40 lowercase hex digits.
using Address = std::array<uint8_t, 20>;

// An account's address: the first 20 bytes of TaggedHash("civitas/address/v1", public key).
Address AddressOf(const crypto::PublicKey& pk);
// A contract's address: first 20 bytes of TaggedHash("civitas/contract/v1", deployer || nonce).
Address ContractAddress(const Address& deployer, uint64_t nonce);
// A well-known system address: first 20 bytes of TaggedHash("civitas/system/v1", name).
Address SystemAddress(std::string_view name);
// The nation's treasury; transaction fees flow here.
const Address& TreasuryAddress();

std::optional<Address> ParseAddress(std::string_view hex_or_bytes_hex);
inline std::optional<Address> AddressFromBytes(std::string_view raw) {
  return FixedFromBytes<20>(raw);
}

}  // namespace civitas
