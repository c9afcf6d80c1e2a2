#include "ledger/genesis_offer.h"

#include <nlohmann/json.hpp>

#include "ledger/genesis.h"

namespace civitas {
namespace {

Status BadOffer(const std::string& msg) { return Status::Invalid("bad_offer", msg); }

Status CheckFields(const GenesisOffer& o) {
  if (!ValidMoniker(o.moniker)) {
    return BadOffer("moniker '" + o.moniker + "' must be 1-64 characters of [A-Za-z0-9._-]");
  }
  if (!ValidP2pEndpoint(o.p2p)) {
    return BadOffer(
        "p2p endpoint '" + o.p2p +
        "' is not host:port (a hostname or IP address, IPv6 in brackets, port 1-65535)");
  }
  if (!crypto::IsValidPublicKey(o.public_key)) return BadOffer("public_key is not a valid key");
  return Status::Ok();
}

}  // namespace

bool ValidMoniker(std::string_view m) {
  if (m.empty() || m.size() > 64) return false;
  for (char c : m) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
      return false;
    }
  }
  return true;
}

Bytes GenesisOfferSigningBytes(const GenesisOffer& o) {
  Bytes b;
  PutLengthPrefixed(b, o.moniker);
  Append(b, o.public_key);
  PutLengthPrefixed(b, o.p2p);
  return b;
}

Result<GenesisOffer> MakeGenesisOffer(const crypto::SecretKey& key, const std::string& moniker,
                                      const std::string& p2p, const Hash32* aux_rand) {
  GenesisOffer o;
  o.moniker = moniker;
  o.public_key = key.public_key();
  o.p2p = p2p;
  Status s = CheckFields(o);
  if (!s.ok()) return s;
  o.signature =
      key.Sign(crypto::TaggedHash(kGenesisOfferTag, GenesisOfferSigningBytes(o)), aux_rand);
  return o;
}

Status VerifyGenesisOffer(const GenesisOffer& o) {
  Status s = CheckFields(o);
  if (!s.ok()) return s;
  if (!crypto::VerifyTagged(o.public_key, kGenesisOfferTag,
                            AsStringView(GenesisOfferSigningBytes(o)), o.signature)) {
    return BadOffer("the signature does not verify with public_key " + ToHex(o.public_key) +
                    " (the offer was altered, or not signed by that key)");
  }
  return Status::Ok();
}

std::string GenesisOfferToJson(const GenesisOffer& o) {
  nlohmann::ordered_json j;
  j["type"] = kGenesisOfferType;
  j["moniker"] = o.moniker;
  j["public_key"] = ToHex(o.public_key);
  j["p2p"] = o.p2p;
  j["signature"] = ToHex(o.signature);
  return j.dump(2) + "\n";
}

Result<GenesisOffer> ParseGenesisOffer(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return BadOffer("not a JSON object");
  GenesisOffer o;
  try {
    if (j.at("type").get<std::string>() != kGenesisOfferType) {
      return BadOffer(std::string("type must be ") + kGenesisOfferType);
    }
    o.moniker = j.at("moniker").get<std::string>();
    o.p2p = j.at("p2p").get<std::string>();
    auto pk = FixedFromHex<32>(j.at("public_key").get<std::string>());
    if (!pk) return BadOffer("public_key must be 64 hex digits");
    o.public_key = *pk;
    auto sig = FixedFromHex<64>(j.at("signature").get<std::string>());
    if (!sig) return BadOffer("signature must be 128 hex digits");
    o.signature = *sig;
  } catch (const nlohmann::json::exception& e) {
    return BadOffer(std::string("missing or mistyped field: ") + e.what());
  }
  Status s = VerifyGenesisOffer(o);
  if (!s.ok()) return s;
  return o;
}

}  // namespace civitas
