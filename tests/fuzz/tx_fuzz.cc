// libFuzzer target: a transaction as a peer or a client sends it (the serialized envelope).
// Decoding and checking, signature included, must refuse bad input with a status, never crash;
// an accepted transaction's id is the id of its key and body, and its envelope re-serializes
// to bytes that decode to the same transaction.
#include <google/protobuf/stubs/logging.h>

#include "ledger/tx.h"
#include "tests/fuzz/fuzz_util.h"

namespace {
const civitas::ChainParams kParams;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using civitas::fuzz::Require;
  auto tx = civitas::DecodeAndCheckTx(civitas::fuzz::AsView(data, size), civitas::fuzz::kChainId,
                                      kParams, /*verify_signature=*/true);
  if (!tx.ok()) return 0;
  Require(civitas::TxId(tx->public_key, tx->envelope.body()) == tx->id, "tx id");
  auto again = civitas::DecodeAndCheckTx(tx->envelope.SerializeAsString(), civitas::fuzz::kChainId,
                                         kParams, /*verify_signature=*/true);
  Require(again.ok() && again->id == tx->id, "tx re-encoding");
  return 0;
}
