#include "ledger/did.h"

#include "ledger/base58.h"

namespace civitas {

std::string DeriveDid(const crypto::PublicKey& first_key) {
  Hash32 h = crypto::Sha256(AsStringView(first_key));
  return std::string(kDidPrefix) + Base58Encode(h.data(), 16);
}

std::optional<std::array<uint8_t, 16>> ParseDid(std::string_view did) {
  if (did.substr(0, kDidPrefix.size()) != kDidPrefix) return std::nullopt;
  std::string_view id = did.substr(kDidPrefix.size());
  if (id.empty() || id.size() > 24) return std::nullopt;
  auto bytes = Base58Decode(id);
  if (!bytes || bytes->size() != 16) return std::nullopt;
  // Only the canonical encoding is accepted, so one identifier has one spelling.
  if (Base58Encode(*bytes) != id) return std::nullopt;
  std::array<uint8_t, 16> out;
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return out;
}

}  // namespace civitas
