#pragma once

// Building, signing and exchanging transactions without a node (offline signing).
//
// An envelope travels between `civitas sign` and `civitas broadcast` as the lowercase hex of the
// serialized v1::Transaction on one line, or inside a JSON object {"envelope": hex, ...} (what
// `civitas sign -o json` prints). docs/WALLET.md.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "civitas/v1/types.pb.h"
#include "ledger/address.h"
#include "ledger/crypto.h"
#include "ledger/status.h"
#include "vm/vm.h"

namespace civitas::wallet {

struct TxRequest {
  enum class Kind { kTransfer, kDeploy, kCall };
  Kind kind = Kind::kTransfer;
  std::string chain_id;
  uint64_t nonce = 0;
  uint64_t gas_limit = 100000;
  std::string to;  // transfer: recipient; call: contract (40 hex digits)
  uint64_t amount = 0;
  std::string code;  // deploy: bytecode
  std::string function;
  std::vector<std::string> args;  // call: see ParseCallArg
};

// The TxBody of a request. Reasons: bad_address, bad_request (no chain id, empty code or
// function name).
Result<v1::TxBody> BuildTxBody(const TxRequest& request);

// A call argument: a decimal integer (optionally negative), 0x-prefixed hex bytes, or text.
vm::Value ParseCallArg(const std::string& arg);

// The signed envelope of `body`: the same bytes as ledger's SignTx (body serialized once, the
// public key, BIP-340 over TaggedHash("civitas/tx/v1", body)). With `aux_rand`, the signature is
// reproducible (BIP-340 auxiliary randomness); without, it uses fresh randomness like SignTx.
v1::Transaction SignOffline(const crypto::SecretKey& key, const v1::TxBody& body,
                            const Hash32* aux_rand = nullptr);

// What an envelope says, checked without a node: body decodes, key and signature well formed
// and the signature valid.
struct EnvelopeInfo {
  v1::TxBody body;
  crypto::PublicKey public_key{};
  Address sender{};
  Hash32 tx_id{};
};
// Reasons: malformed_tx, bad_public_key, bad_signature.
Result<EnvelopeInfo> CheckEnvelope(const v1::Transaction& tx);

std::string EnvelopeToHex(const v1::Transaction& tx);
// Hex (surrounding whitespace ignored) or a JSON object with an "envelope" hex string.
// Reason: malformed_tx.
Result<v1::Transaction> ParseEnvelope(std::string_view text);

}  // namespace civitas::wallet
