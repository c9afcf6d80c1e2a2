#include "ledger/tx.h"

#include "ledger/civic_calls.h"
#include "ledger/quote.h"

namespace civitas {

Result<Hash32> CommittedTxId(const v1::Transaction& envelope) {
  auto pk = FixedFromBytes<32>(envelope.public_key());
  if (!pk) return Status::Corruption("a committed transaction has a malformed public key");
  return TxId(*pk, envelope.body());
}

Hash32 TxId(const crypto::PublicKey& pk, std::string_view body) {
  crypto::Sha256Hasher h;
  Hash32 tag = crypto::Sha256(kTxIdTag);
  return h.Update(tag).Update(tag).Update(pk).Update(body).Finish();
}

uint64_t IntrinsicGas(const ChainParams& params, size_t envelope_size) {
  return params.tx_base_gas + params.tx_byte_gas * envelope_size;
}

bool VerifyTxSignature(const DecodedTx& tx) {
  Hash32 msg = TxSigningHash(tx.envelope.body());
  return crypto::Verify(tx.public_key, AsStringView(msg), tx.signature);
}

Status CheckTxSignature(const DecodedTx& tx) {
  // Parsing the key costs a square root, and verifying parses it too: a good signature proves
  // the key valid, so the key is parsed on its own only to name a failed verification.
  if (VerifyTxSignature(tx)) return Status::Ok();
  if (!crypto::IsValidPublicKey(tx.public_key)) {
    return Status::Invalid("bad_public_key", "public_key is not a point on secp256k1");
  }
  return Status::PeerFault("bad_signature", "signature does not verify");
}

Result<DecodedTx> DecodeAndCheckTx(const v1::Transaction& envelope, std::string_view chain_id,
                                   const ChainParams& params, bool verify_signature) {
  DecodedTx tx;
  tx.size = envelope.ByteSizeLong();
  if (tx.size > kMaxTxBytes) {
    return Status::Error(Status::Code::kResourceExhausted, "tx_too_large",
                         "transaction of " + std::to_string(tx.size) +
                             " bytes exceeds the cap of " + std::to_string(kMaxTxBytes));
  }
  auto pk = FixedFromBytes<32>(envelope.public_key());
  if (!pk) return Status::PeerFault("malformed_tx", "public_key must be 32 bytes");
  auto sig = FixedFromBytes<64>(envelope.signature());
  if (!sig) return Status::PeerFault("malformed_tx", "signature must be 64 bytes");
  if (!tx.body.ParseFromString(envelope.body())) {
    return Status::PeerFault("malformed_tx", "body is not a TxBody");
  }
  if (tx.body.chain_id() != chain_id) {
    return Status::Invalid("wrong_chain_id", "transaction is for chain " +
                                                 QuoteInput(tx.body.chain_id()) + ", this is '" +
                                                 std::string(chain_id) + "'");
  }
  if (tx.body.action_case() == v1::TxBody::ACTION_NOT_SET) {
    return Status::PeerFault("malformed_tx", "transaction has no action");
  }
  if (tx.body.has_transfer() && tx.body.transfer().to().size() != 20) {
    return Status::PeerFault("malformed_tx", "transfer.to must be a 20-byte address");
  }
  if (tx.body.has_deploy() && tx.body.deploy().code().empty()) {
    return Status::PeerFault("malformed_tx", "deploy.code is empty");
  }
  if (tx.body.has_call() && tx.body.call().contract().size() != 20) {
    return Status::PeerFault("malformed_tx", "call.contract must be a 20-byte address");
  }
  if (auto civic = nation::CivicCallOf(tx.body); !civic.ok()) return civic.status();
  uint64_t intrinsic = IntrinsicGas(params, tx.size);
  if (tx.body.gas_limit() < intrinsic || tx.body.gas_limit() > params.max_tx_gas) {
    return Status::Invalid("gas_limit", "gas_limit " + std::to_string(tx.body.gas_limit()) +
                                            " outside [" + std::to_string(intrinsic) + ", " +
                                            std::to_string(params.max_tx_gas) + "]");
  }
  tx.public_key = *pk;
  tx.signature = *sig;
  tx.envelope = envelope;
  // Without verification the caller has verified the signature before (a mempool, a voted
  // block) or will: the key is not checked either.
  if (verify_signature) {
    if (Status s = CheckTxSignature(tx); !s.ok()) return s;
  }
  tx.sender = AddressOf(tx.public_key);
  tx.id = TxId(tx.public_key, envelope.body());
  return tx;
}

Result<DecodedTx> DecodeAndCheckTx(std::string_view envelope_bytes, std::string_view chain_id,
                                   const ChainParams& params, bool verify_signature) {
  if (envelope_bytes.size() > kMaxTxBytes) {
    return Status::Error(Status::Code::kResourceExhausted, "tx_too_large",
                         "transaction exceeds the cap of " + std::to_string(kMaxTxBytes));
  }
  v1::Transaction envelope;
  if (!envelope.ParseFromString(std::string(envelope_bytes))) {
    return Status::PeerFault("malformed_tx", "not a Transaction");
  }
  return DecodeAndCheckTx(envelope, chain_id, params, verify_signature);
}

v1::Transaction SignTx(const crypto::SecretKey& key, const v1::TxBody& body) {
  v1::Transaction tx;
  tx.set_body(body.SerializeAsString());
  tx.set_public_key(std::string(AsStringView(key.public_key())));
  crypto::Signature sig = key.Sign(TxSigningHash(tx.body()));
  tx.set_signature(std::string(AsStringView(sig)));
  return tx;
}

}  // namespace civitas
