#pragma once

// Transactions: decoding the envelope, ids, signatures and the checks that need no state.
// Formats: docs/PROTOCOL.md, "Transactions".

#include <string>

#include "civitas/v1/types.pb.h"
#include "ledger/address.h"
#include "ledger/crypto.h"
#include "ledger/params.h"
#include "ledger/status.h"

namespace civitas {

inline constexpr std::string_view kTxSigTag = "civitas/tx/v1";
inline constexpr std::string_view kTxIdTag = "civitas/txid/v1";

// A transaction whose envelope and body decoded; `body` is the decoded copy of the signed bytes.
struct DecodedTx {
  v1::Transaction envelope;
  v1::TxBody body;
  crypto::PublicKey public_key{};
  crypto::Signature signature{};
  Address sender{};
  Hash32 id{};
  size_t size = 0;  // bytes of the serialized envelope
};

// tx id = TaggedHash("civitas/txid/v1", public_key || body). The signature is left out so the id
// cannot be changed by re-signing.
Hash32 TxId(const crypto::PublicKey& pk, std::string_view body);
// The id of a committed transaction's envelope (its public key field is 32 bytes); corruption
// for any other.
Result<Hash32> CommittedTxId(const v1::Transaction& envelope);
// The 32-byte message a sender signs: TaggedHash("civitas/tx/v1", body).
inline Hash32 TxSigningHash(std::string_view body) { return crypto::TaggedHash(kTxSigTag, body); }

// Intrinsic gas: what any transaction costs before it does anything.
uint64_t IntrinsicGas(const ChainParams& params, size_t envelope_size);

// Decodes and checks everything that needs no state: size, encoding, key and signature lengths,
// chain id, an action present and well-formed (addresses 20 bytes; typed civic actions as
// nation::CivicCallOf checks them), gas limit within [intrinsic, max]. With `verify_signature`,
// also the public key and the BIP-340 signature; without, the caller has verified them before
// or does so later. Reasons: malformed_tx, tx_too_large, wrong_chain_id, bad_public_key,
// bad_signature, gas_limit.
Result<DecodedTx> DecodeAndCheckTx(const v1::Transaction& envelope, std::string_view chain_id,
                                   const ChainParams& params, bool verify_signature = true);
// The same, from serialized envelope bytes.
Result<DecodedTx> DecodeAndCheckTx(std::string_view envelope_bytes, std::string_view chain_id,
                                   const ChainParams& params, bool verify_signature = true);

bool VerifyTxSignature(const DecodedTx& tx);
// VerifyTxSignature with the reason of a failure: bad_public_key or bad_signature.
Status CheckTxSignature(const DecodedTx& tx);

// Builds and signs a transaction (wallets, tests, load generators).
v1::Transaction SignTx(const crypto::SecretKey& key, const v1::TxBody& body);

}  // namespace civitas
