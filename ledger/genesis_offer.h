#pragma once

// A council member's genesis offer (docs/COUNCIL.md; format and signing bytes in
// docs/PROTOCOL.md, "Genesis offers"): the member's moniker, validator public key and P2P
// endpoint, signed by that validator key. A ceremony's coordinator adds only offers whose
// signature verifies, so every key in a genesis council is held by whoever made its offer.

#include <string>
#include <string_view>

#include "ledger/bytes.h"
#include "ledger/crypto.h"
#include "ledger/status.h"

namespace civitas {

inline constexpr char kGenesisOfferTag[] = "civitas/genesis-offer/v1";
inline constexpr char kGenesisOfferType[] = "civitas-genesis-offer/v1";

struct GenesisOffer {
  std::string moniker;  // 1-64 characters of [A-Za-z0-9._-]
  crypto::PublicKey public_key{};
  std::string p2p;  // host:port (ValidP2pEndpoint)
  crypto::Signature signature{};
};

// True when `moniker` may name a council member in an offer.
bool ValidMoniker(std::string_view moniker);

// lp(moniker) || public_key || lp(p2p): what the signature covers, under kGenesisOfferTag.
Bytes GenesisOfferSigningBytes(const GenesisOffer& offer);

// An offer by `key` (its public key is filled in). Refuses a bad moniker or endpoint
// (bad_offer). `aux_rand` as in SecretKey::Sign (tests fix it; nullptr: fresh randomness).
Result<GenesisOffer> MakeGenesisOffer(const crypto::SecretKey& key, const std::string& moniker,
                                      const std::string& p2p, const Hash32* aux_rand = nullptr);

// Checks the fields and the signature. Reason: bad_offer.
Status VerifyGenesisOffer(const GenesisOffer& offer);

// The offer's JSON text (the file `civitasd genesis offer` writes).
std::string GenesisOfferToJson(const GenesisOffer& offer);
// Parses an offer file and verifies it (VerifyGenesisOffer). Reason: bad_offer.
Result<GenesisOffer> ParseGenesisOffer(std::string_view json_text);

}  // namespace civitas
