#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "ledger/bytes.h"

namespace civitas {

// Base58 with the Bitcoin alphabet (base58btc), no checksum. Leading zero bytes become '1's.
std::string Base58Encode(const uint8_t* data, size_t size);
inline std::string Base58Encode(const Bytes& b) { return Base58Encode(b.data(), b.size()); }
// nullopt on any character outside the alphabet.
std::optional<Bytes> Base58Decode(std::string_view text);

}  // namespace civitas
