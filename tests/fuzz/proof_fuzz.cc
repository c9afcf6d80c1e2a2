// libFuzzer target: a state proof a light client or a syncing node receives (ledger/smt.h
// VerifyProof), in proof_input.h's layout. Never crash; a proof that verifies a key's value
// verifies nothing else: not the key's absence, not another value.
#include "ledger/smt.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/fuzz/proof_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto input = civitas::fuzz::DecodeProofInput(civitas::fuzz::AsView(data, size));
  if (!input) return 0;
  if (!civitas::smt::VerifyProof(input->root, input->key, input->value, input->proof).ok()) {
    return 0;
  }
  civitas::fuzz::Require(
      civitas::fuzz::EncodeProofInput(*input) == std::string(civitas::fuzz::AsView(data, size)),
      "proof input re-encoding");
  if (!input->value) return 0;
  civitas::fuzz::Require(
      !civitas::smt::VerifyProof(input->root, input->key, std::nullopt, input->proof).ok(),
      "proof of a value also proves absence");
  civitas::Hash32 other = *input->value;
  other[0] ^= 1;
  civitas::fuzz::Require(
      !civitas::smt::VerifyProof(input->root, input->key, other, input->proof).ok(),
      "proof verifies another value");
  return 0;
}
