#include "genesis/credential.h"

#include <openssl/evp.h>

#include "genesis/nation_state.h"
#include "genesis/proven_answers.h"
#include "ledger/base58.h"
#include "ledger/bytes.h"
#include "ledger/certified.h"
#include "ledger/did.h"

namespace civitas::nation {
namespace {

using nlohmann::json;

constexpr std::string_view kVcContext = "https://www.w3.org/ns/credentials/v2";

Status Bad(const std::string& msg) { return Status::Invalid("bad_credential", msg); }

// RFC 4648 section 5 (URL-safe alphabet, no padding), through OpenSSL's base64.
std::string Base64Url(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

std::optional<std::string> FromBase64Url(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string std_text(text);
  for (char& c : std_text) {
    if (c == '-') {
      c = '+';
    } else if (c == '_') {
      c = '/';
    } else if (!std::isalnum(static_cast<unsigned char>(c))) {
      return std::nullopt;
    }
  }
  const size_t pad = (4 - std_text.size() % 4) % 4;
  std_text.append(pad, '=');
  std::string out(std_text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(std_text.data()),
                                static_cast<int>(std_text.size()));
  if (n < 0 || static_cast<size_t>(n) < pad) return std::nullopt;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

void AppendLengthPrefixed(std::string& out, std::string_view s) {
  const auto n = static_cast<uint32_t>(s.size());
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(n >> shift));
  out.append(s);
}

// What the credential rests on, read from a proven state: only ReadStanding and
// ReadDidController (the proof holds their entries and nothing else).
struct Standing {
  Citizenship citizenship;
  std::optional<DidController> controller;
};
Result<Standing> ReadCredentialStanding(const StateReader& state, const DidId& did) {
  Standing out;
  auto c = ReadStanding(state, did);
  if (!c.ok()) return c.status();
  out.citizenship = *c;
  auto ctl = ReadDidController(state, did);
  if (!ctl.ok()) return ctl.status();
  out.controller = std::move(*ctl);
  return out;
}

Status CheckStanding(const Standing& s, uint64_t height) {
  if (!s.citizenship.InGoodStanding(height)) {
    return Status::Invalid(
        "not_in_good_standing",
        "at height " + std::to_string(height) + " the DID's citizenship is " +
            std::string(CitizenStatusName(s.citizenship.status)) +
            (s.citizenship.status == CitizenStatus::kCitizen
                 ? " but lapsed at height " + std::to_string(s.citizenship.expiry)
                 : ""));
  }
  if (!s.controller) {
    return Status::Invalid("no_controller", "the DID is deactivated or has no controller key");
  }
  return Status::Ok();
}

json BuildCredential(const Genesis& genesis, std::string_view did, const ProvenState& state,
                     const std::string& proof_value) {
  return CredentialJson(genesis, did, state.height(), state.certifying_header().time_ms(),
                        proof_value);
}

// A JSON string member, or an error naming it.
Result<std::string> StringAt(const json& j, const char* name) {
  if (!j.is_object() || !j.contains(name) || !j[name].is_string()) {
    return Bad(std::string("no string \"") + name + "\"");
  }
  return j[name].get<std::string>();
}

std::string CanonicalDid(const DidId& id) {
  return std::string(kDidPrefix) + Base58Encode(id.data(), id.size());
}

// The first difference between the credential shown and the one its proof implies.
std::string FirstDifference(const json& expected, const json& shown) {
  const json patch = json::diff(expected, shown);
  if (patch.empty()) return "";
  const json& op = patch[0];
  return op.value("op", std::string("change")) + " at " + op.value("path", std::string("/"));
}

}  // namespace

std::string NationUrn(const Genesis& genesis) { return "urn:civitas:" + ToHex(genesis.hash); }

json CredentialJson(const Genesis& genesis, std::string_view did, uint64_t state_height,
                    uint64_t proof_time_ms, std::string_view proof_value) {
  const std::string urn = NationUrn(genesis);
  return json{
      {"@context", json::array({kVcContext})},
      {"type", json::array({"VerifiableCredential", "CitizenshipCredential"})},
      {"issuer", urn},
      {"validFrom", XmlDateTime(proof_time_ms)},
      {"validUntil", XmlDateTime(proof_time_ms + kCredentialLifetimeMs)},
      {"credentialSubject",
       {{"id", did},
        {"citizenOf", {{"chainId", genesis.chain_id}, {"genesisHash", ToHex(genesis.hash)}}},
        {"status", "citizen"},
        {"inGoodStanding", true}}},
      {"proof",
       {{"type", kCredentialProofType},
        {"proofPurpose", "assertionMethod"},
        {"verificationMethod", urn + "#council"},
        {"created", XmlDateTime(proof_time_ms)},
        {"stateHeight", state_height},
        {"proofValue", proof_value}}}};
}

std::string EncodeProofValue(std::string_view bytes) { return "u" + Base64Url(bytes); }

std::optional<std::string> DecodeProofValue(std::string_view value) {
  if (value.empty() || value[0] != 'u') return std::nullopt;
  return FromBase64Url(value.substr(1));
}

std::string PresentationMessage(const Genesis& genesis, std::string_view did,
                                std::string_view challenge, std::string_view proof_bytes) {
  std::string msg(AsStringView(genesis.hash));
  AppendLengthPrefixed(msg, did);
  AppendLengthPrefixed(msg, challenge);
  msg.append(AsStringView(crypto::Sha256(proof_bytes)));
  return msg;
}

Result<json> IssueCredential(const Genesis& genesis, std::string_view did,
                             const v1::GetCitizenshipResponse& proved) {
  auto id = ParseDid(did);
  if (!id) return Status::Invalid("invalid_did", "not a did:civitas: DID");
  const Epoch first = genesis.first_epoch();
  auto checked = CheckCitizenshipAnswer(genesis.chain_id, first, *id, proved);
  if (!checked.ok()) return checked.status();
  auto state = VerifyCertifiedState(genesis.chain_id, first, proved.proof());
  if (!state.ok()) return state.status();
  RecordingReader recorder(*state);
  auto standing = ReadCredentialStanding(recorder, *id);
  if (!standing.ok()) return standing.status();
  Status s = CheckStanding(*standing, state->height());
  if (!s.ok()) return s;
  // Keep only the entries the credential rests on (no dated blocks: it shows no DID times).
  v1::CertifiedState bundle = proved.proof();
  bundle.clear_entries();
  bundle.clear_dated_blocks();
  for (const auto& key : recorder.keys()) {
    for (const auto& e : proved.proof().entries()) {
      if (e.key() == key) *bundle.add_entries() = e;
    }
  }
  auto kept = VerifyCertifiedState(genesis.chain_id, first, bundle);
  if (!kept.ok()) return kept.status();
  std::string bytes;
  if (!bundle.SerializeToString(&bytes)) {
    return Status::Error(Status::Code::kInternal, "internal", "serializing the proof failed");
  }
  return BuildCredential(genesis, CanonicalDid(*id), *kept, EncodeProofValue(bytes));
}

Result<VerifiedCredential> VerifyCredential(const Genesis& genesis, const json& doc,
                                            const VerifyOptions& options) {
  if (!doc.is_object() || !doc.contains("type") || !doc["type"].is_array()) {
    return Bad("not a credential or presentation (no \"type\" array)");
  }
  const bool is_presentation = std::find(doc["type"].begin(), doc["type"].end(),
                                         "VerifiablePresentation") != doc["type"].end();
  const json* vc = &doc;
  if (is_presentation) {
    if (!doc.contains("verifiableCredential") || !doc["verifiableCredential"].is_array() ||
        doc["verifiableCredential"].size() != 1) {
      return Bad("a presentation must hold exactly one credential");
    }
    vc = &doc["verifiableCredential"][0];
  } else if (options.challenge) {
    return Status::Invalid("not_presented",
                           "a challenge was given but this is a bare credential: the holder must "
                           "present it (civitas credential present)");
  }
  // Which nation: before anything else, so a credential of another chain says so.
  auto issuer = StringAt(*vc, "issuer");
  if (!issuer.ok()) return issuer.status();
  if (*issuer != NationUrn(genesis)) {
    return Status::Invalid("wrong_nation", "the credential is issued by " + issuer->substr(0, 100) +
                                               ", not by the nation of this genesis (" +
                                               NationUrn(genesis) + ")");
  }
  if (!vc->contains("credentialSubject")) return Bad("no credentialSubject");
  auto did = StringAt((*vc)["credentialSubject"], "id");
  if (!did.ok()) return did.status();
  auto id = ParseDid(*did);
  if (!id || *did != CanonicalDid(*id)) {
    return Bad("credentialSubject.id is not a did:civitas: DID");
  }
  if (!vc->contains("proof")) return Bad("no proof");
  const json& proof = (*vc)["proof"];
  auto type = StringAt(proof, "type");
  if (!type.ok()) return type.status();
  if (*type != kCredentialProofType) {
    return Bad("proof type " + type->substr(0, 100) + " is not " +
               std::string(kCredentialProofType));
  }
  auto value = StringAt(proof, "proofValue");
  if (!value.ok()) return value.status();
  if (value->size() > kMaxCredentialBytes) return Bad("proofValue too large");
  auto bytes = DecodeProofValue(*value);
  if (!bytes) return Bad("proofValue is not multibase base64url (\"u\" + RFC 4648 section 5)");
  v1::CertifiedState bundle;
  if (!bundle.ParseFromString(*bytes)) {
    return Status::Invalid("bad_proof", "proofValue does not decode as a CertifiedState");
  }
  auto state = VerifyCertifiedState(genesis.chain_id, genesis.first_epoch(), bundle);
  if (!state.ok()) return state.status();
  RecordingReader recorder(*state);
  auto standing = ReadCredentialStanding(recorder, *id);
  if (!standing.ok()) return standing.status();
  if (recorder.keys().size() != static_cast<size_t>(bundle.entries_size()) ||
      bundle.dated_blocks_size() != 0) {
    return Bad("the proof carries state the credential does not rest on");
  }
  Status s = CheckStanding(*standing, state->height());
  if (!s.ok()) return s;
  const json expected = BuildCredential(genesis, *did, *state, *value);
  if (expected != *vc) {
    return Bad("the credential differs from what its proof shows (" +
               FirstDifference(expected, *vc) + ")");
  }

  VerifiedCredential out;
  out.did = *did;
  out.height = state->height();
  out.certified_by = state->certifying_header().height();
  out.epoch = state->epoch();
  out.proof_time_ms = state->certifying_header().time_ms();
  out.valid_until_ms = out.proof_time_ms + kCredentialLifetimeMs;
  out.age_ms = options.now_ms > out.proof_time_ms ? options.now_ms - out.proof_time_ms : 0;
  out.expiry_height = standing->citizenship.expiry;
  out.controller = *did + "#" + standing->controller->fragment;
  out.controller_key = standing->controller->key;
  if (options.now_ms >= out.valid_until_ms) {
    return Status::Invalid("expired",
                           "the credential expired at " + XmlDateTime(out.valid_until_ms));
  }
  if (options.max_age_ms && out.age_ms > *options.max_age_ms) {
    return Status::Invalid(
        "too_old", "the proof is " + std::to_string(out.age_ms / 1000) + " s old, more than the " +
                       std::to_string(*options.max_age_ms / 1000) + " s asked for");
  }
  if (!is_presentation) return out;

  // The holder binding.
  auto holder = StringAt(doc, "holder");
  if (!holder.ok()) return holder.status();
  if (*holder != *did) return Bad("the presentation's holder is not the credential's subject");
  if (!doc.contains("proof")) return Status::Invalid("bad_holder_signature", "no proof");
  const json& vp = doc["proof"];
  auto vp_type = StringAt(vp, "type");
  auto method = StringAt(vp, "verificationMethod");
  auto challenge = StringAt(vp, "challenge");
  auto sig_text = StringAt(vp, "proofValue");
  for (const auto* r : {&vp_type, &method, &challenge, &sig_text}) {
    if (!r->ok()) return Status::Invalid("bad_holder_signature", r->status().message());
  }
  if (*vp_type != kPresentationProofType) {
    return Status::Invalid("bad_holder_signature",
                           "proof type is not " + std::string(kPresentationProofType));
  }
  if (challenge->size() > kMaxChallengeBytes) return Bad("challenge too long");
  if (options.challenge && *challenge != *options.challenge) {
    return Status::Invalid("wrong_challenge",
                           "the presentation answers another challenge than the one asked");
  }
  if (*method != out.controller) {
    return Status::Invalid("bad_holder_signature", "signed with " + method->substr(0, 200) +
                                                       ", but the DID's controller key at height " +
                                                       std::to_string(out.height) + " is " +
                                                       out.controller);
  }
  std::optional<Bytes> sig_bytes;
  if (!sig_text->empty() && (*sig_text)[0] == 'z') sig_bytes = Base58Decode(sig_text->substr(1));
  if (!sig_bytes || sig_bytes->size() != 64) {
    return Status::Invalid("bad_holder_signature", "proofValue is not a z-base58btc signature");
  }
  crypto::Signature sig{};
  std::copy(sig_bytes->begin(), sig_bytes->end(), sig.begin());
  const std::string msg = PresentationMessage(genesis, *did, *challenge, *bytes);
  if (!crypto::VerifyTagged(out.controller_key, kPresentationTag, msg, sig)) {
    return Status::Invalid("bad_holder_signature",
                           "the signature is not by the DID's controller key at height " +
                               std::to_string(out.height) + " (" + out.controller + ")");
  }
  out.presented = true;
  out.challenge = *challenge;
  return out;
}

Result<json> PresentCredential(const Genesis& genesis, const json& credential,
                               std::string_view challenge, const crypto::SecretKey& key,
                               uint64_t now_ms) {
  if (challenge.size() > kMaxChallengeBytes) {
    return Status::Invalid("bad_request", "the challenge is longer than " +
                                              std::to_string(kMaxChallengeBytes) + " bytes");
  }
  try {
    (void)json(std::string(challenge)).dump();
  } catch (const json::exception&) {
    return Status::Invalid("bad_request", "the challenge is not UTF-8 text");
  }
  auto verified = VerifyCredential(genesis, credential, {now_ms, std::nullopt, std::nullopt});
  if (!verified.ok()) return verified.status();
  if (verified->presented) return Status::Invalid("bad_request", "already a presentation");
  if (key.public_key() != verified->controller_key) {
    return Status::Invalid("not_controller",
                           "this key is not the DID's controller key at the proof's height (" +
                               verified->controller + ")");
  }
  const std::string value = credential["proof"]["proofValue"].get<std::string>();
  auto bytes = DecodeProofValue(value);
  if (!bytes) return Bad("proofValue is not multibase base64url");
  const crypto::Signature sig = crypto::SignTagged(
      key, kPresentationTag, PresentationMessage(genesis, verified->did, challenge, *bytes));
  return json{{"@context", json::array({kVcContext})},
              {"type", json::array({"VerifiablePresentation"})},
              {"holder", verified->did},
              {"verifiableCredential", json::array({credential})},
              {"proof",
               {{"type", kPresentationProofType},
                {"proofPurpose", "authentication"},
                {"verificationMethod", verified->controller},
                {"challenge", std::string(challenge)},
                {"proofValue", "z" + Base58Encode(sig.data(), sig.size())}}}};
}

}  // namespace civitas::nation
