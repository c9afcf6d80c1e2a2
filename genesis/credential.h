#pragma once

// The offline citizenship credential (docs/NATION.md, "Citizenship credential"): a W3C
// Verifiable Credential (VC Data Model 2.0) stating that a DID is a citizen in good standing of
// the nation a genesis file names, whose proof is a CertifiedState of the few state entries the
// statement rests on; and a Verifiable Presentation of it signed by the DID's controller key at
// the proof's height over a verifier's challenge (holder binding).
//
// Every field of the credential follows from the genesis, the DID and the proof: a verifier
// rebuilds it and refuses any difference, so no field can be edited without breaking the proof.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "civitas/v1/node.pb.h"
#include "ledger/crypto.h"
#include "ledger/genesis.h"
#include "ledger/status.h"

namespace civitas::nation {

// The proof types and the holder's signing tag (docs/NATION.md).
inline constexpr std::string_view kCredentialProofType = "CivitasCertifiedState";
inline constexpr std::string_view kPresentationProofType = "CivitasHolderSignature";
inline constexpr std::string_view kPresentationTag = "civitas/vp/v1";
// validUntil = validFrom (the certifying block's time) + this.
inline constexpr uint64_t kCredentialLifetimeMs = 30ull * 24 * 3600 * 1000;
// Bounds on what a verifier reads: a credential or presentation is hostile input.
inline constexpr size_t kMaxCredentialBytes = 8u << 20;
inline constexpr size_t kMaxChallengeBytes = 1024;

// The issuer id of the nation of `genesis`: "urn:civitas:" + hex(genesis hash).
std::string NationUrn(const Genesis& genesis);

// The credential every verifier rebuilds and compares, from the genesis (chain id and hash), the
// canonical DID, the proof's state height and certifying block time, and the proofValue
// (docs/NATION.md, "Citizenship credential", with its vector).
nlohmann::json CredentialJson(const Genesis& genesis, std::string_view did, uint64_t state_height,
                              uint64_t proof_time_ms, std::string_view proof_value);
// proofValue: multibase base64url, "u" + RFC 4648 section 5 without padding, of the serialized
// CertifiedState. Decoding refuses any other form.
std::string EncodeProofValue(std::string_view bytes);
std::optional<std::string> DecodeProofValue(std::string_view value);

// A credential for `did` from a proved GetCitizenship answer for it: the answer is checked
// (CheckCitizenshipAnswer), the DID must be a citizen in good standing with an active DID at the
// proof's height, and the proof keeps only the entries the credential rests on (citizenship
// status and expiry, the DID's controller key, fragment and deactivation). Reasons: bad_proof,
// not_in_good_standing, no_controller.
Result<nlohmann::json> IssueCredential(const Genesis& genesis, std::string_view did,
                                       const v1::GetCitizenshipResponse& proved);

struct VerifyOptions {
  uint64_t now_ms = 0;                   // the verifier's clock (Unix milliseconds)
  std::optional<std::string> challenge;  // demands a presentation over this challenge
  std::optional<uint64_t> max_age_ms;    // refuse a proof older than this
};

struct VerifiedCredential {
  std::string did;
  uint64_t height = 0;          // the certified state height the standing is proven at
  uint64_t certified_by = 0;    // the certifying block
  uint64_t epoch = 0;           // its epoch
  uint64_t proof_time_ms = 0;   // its header time (validFrom)
  uint64_t valid_until_ms = 0;  // validUntil
  uint64_t age_ms = 0;          // now - proof_time_ms (0 when the proof is from the future)
  uint64_t expiry_height = 0;   // the citizenship lapses at this height unless renewed
  std::string controller;       // the DID URL of the controller key at `height`
  crypto::PublicKey controller_key{};
  bool presented = false;  // a presentation whose holder signature verified
  std::string challenge;   // its challenge
};

// Checks a credential or a presentation of one offline: issuer and chain are those of `genesis`;
// the proof verifies from genesis (certificates, epoch changes, Merkle proofs) and holds only the
// credential's entries; the DID was a citizen in good standing with an active controller at the
// proof's height; every field is what the proof implies; not expired at `now_ms`; not older than
// max_age_ms; for a presentation, the holder signature by the controller key at the proof's
// height and, when asked, the challenge. Reasons: bad_credential (malformed or edited),
// wrong_nation, bad_proof, not_in_good_standing, expired, too_old, not_presented,
// wrong_challenge, bad_holder_signature.
Result<VerifiedCredential> VerifyCredential(const Genesis& genesis, const nlohmann::json& doc,
                                            const VerifyOptions& options);

// The message a holder signs (as BIP-340 over its tagged hash under kPresentationTag):
// genesis hash(32) || u32 len || did || u32 len || challenge || SHA-256(proof bytes), lengths
// big-endian, where the proof bytes are the credential's decoded proofValue.
std::string PresentationMessage(const Genesis& genesis, std::string_view did,
                                std::string_view challenge, std::string_view proof_bytes);

// Wraps `credential` (verified first, as VerifyCredential at `now_ms`) in a presentation over
// `challenge` signed by `key`, which must be the DID's controller key at the proof's height.
// Reasons: as VerifyCredential; not_controller.
Result<nlohmann::json> PresentCredential(const Genesis& genesis, const nlohmann::json& credential,
                                         std::string_view challenge, const crypto::SecretKey& key,
                                         uint64_t now_ms);

}  // namespace civitas::nation
