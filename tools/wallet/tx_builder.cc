#include "tools/wallet/tx_builder.h"

#include <cctype>
#include <nlohmann/json.hpp>

#include "ledger/tx.h"

namespace civitas::wallet {

vm::Value ParseCallArg(const std::string& a) {
  if (!a.empty() &&
      (std::isdigit(static_cast<unsigned char>(a[0])) || (a[0] == '-' && a.size() > 1))) {
    try {
      size_t used = 0;
      long long v = std::stoll(a, &used);
      if (used == a.size()) return vm::Value::Int(v);
    } catch (const std::exception&) {
    }
  }
  if (a.rfind("0x", 0) == 0) {
    if (auto b = FromHex(a.substr(2))) return vm::Value::FromBytes(vm::Bytes(b->begin(), b->end()));
  }
  return vm::Value::FromString(a);
}

Result<v1::TxBody> BuildTxBody(const TxRequest& r) {
  if (r.chain_id.empty()) return Status::Invalid("bad_request", "the chain id is empty");
  v1::TxBody body;
  body.set_chain_id(r.chain_id);
  body.set_nonce(r.nonce);
  body.set_gas_limit(r.gas_limit);
  switch (r.kind) {
    case TxRequest::Kind::kTransfer: {
      auto to = ParseAddress(r.to);
      if (!to) return Status::Invalid("bad_address", "the recipient must be 40 hex digits");
      body.mutable_transfer()->set_to(std::string(AsStringView(*to)));
      body.mutable_transfer()->set_amount(r.amount);
      break;
    }
    case TxRequest::Kind::kDeploy:
      if (r.code.empty()) return Status::Invalid("bad_request", "the contract code is empty");
      body.mutable_deploy()->set_code(r.code);
      break;
    case TxRequest::Kind::kCall: {
      auto contract = ParseAddress(r.to);
      if (!contract) return Status::Invalid("bad_address", "the contract must be 40 hex digits");
      if (r.function.empty()) return Status::Invalid("bad_request", "the function name is empty");
      std::vector<vm::Value> values;
      for (const auto& a : r.args) values.push_back(ParseCallArg(a));
      vm::Bytes args = vm::EncodeValues(values);
      auto* call = body.mutable_call();
      call->set_contract(std::string(AsStringView(*contract)));
      call->set_function(r.function);
      call->set_args(std::string(args.begin(), args.end()));
      call->set_amount(r.amount);
      break;
    }
  }
  return body;
}

v1::Transaction SignOffline(const crypto::SecretKey& key, const v1::TxBody& body,
                            const Hash32* aux_rand) {
  if (aux_rand == nullptr) return SignTx(key, body);
  v1::Transaction tx;
  tx.set_body(body.SerializeAsString());
  tx.set_public_key(std::string(AsStringView(key.public_key())));
  crypto::Signature sig = key.Sign(TxSigningHash(tx.body()), aux_rand);
  tx.set_signature(std::string(AsStringView(sig)));
  return tx;
}

Result<EnvelopeInfo> CheckEnvelope(const v1::Transaction& tx) {
  EnvelopeInfo info;
  if (!info.body.ParseFromString(tx.body())) {
    return Status::Invalid("malformed_tx", "the envelope's body is not a TxBody");
  }
  auto pk = FixedFromBytes<32>(tx.public_key());
  if (!pk || !crypto::IsValidPublicKey(*pk)) {
    return Status::Invalid("bad_public_key", "the envelope's public key is not a BIP-340 key");
  }
  auto sig = FixedFromBytes<64>(tx.signature());
  if (!sig) return Status::Invalid("bad_signature", "the envelope's signature is not 64 bytes");
  if (!crypto::VerifyTagged(*pk, kTxSigTag, tx.body(), *sig)) {
    return Status::Invalid("bad_signature", "the envelope's signature does not verify");
  }
  info.public_key = *pk;
  info.sender = AddressOf(*pk);
  info.tx_id = TxId(*pk, tx.body());
  return info;
}

std::string EnvelopeToHex(const v1::Transaction& tx) {
  return ToHex(ToBytes(tx.SerializeAsString()));
}

Result<v1::Transaction> ParseEnvelope(std::string_view text) {
  auto trim = [](std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
  };
  text = trim(text);
  if (text.empty()) return Status::Invalid("malformed_tx", "the envelope is empty");
  std::string hex(text);
  if (!text.empty() && text.front() == '{') {
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.contains("envelope") || !j["envelope"].is_string()) {
      return Status::Invalid("malformed_tx", "a JSON envelope needs an \"envelope\" hex string");
    }
    hex = j["envelope"].get<std::string>();
  }
  auto bytes = FromHex(hex);
  if (!bytes) return Status::Invalid("malformed_tx", "the envelope is not hex");
  v1::Transaction tx;
  if (!tx.ParseFromString(std::string(AsStringView(*bytes)))) {
    return Status::Invalid("malformed_tx", "the envelope does not decode as a Transaction");
  }
  return tx;
}

}  // namespace civitas::wallet
