// libFuzzer target: what a credential verifier receives (genesis/credential.h VerifyCredential):
// a credential or presentation as JSON text, and the CertifiedState inside it as protobuf bytes
// (ledger/certified.h VerifyCertifiedState). Never crash, never throw; the fuzz council never
// signed anything, so nothing is accepted.
#include <nlohmann/json.hpp>

#include "genesis/credential.h"
#include "ledger/certified.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace civitas;
  static const Genesis genesis = [] {
    Genesis g;
    g.chain_id = std::string(fuzz::kChainId);
    g.validators.push_back({"council-0", fuzz::CouncilKey().public_key()});
    g.hash.fill(0x11);
    return g;
  }();
  const std::string_view input = fuzz::AsView(data, size);
  v1::CertifiedState bundle;
  if (bundle.ParseFromArray(data, static_cast<int>(size))) {
    auto state = VerifyCertifiedState(genesis.chain_id, genesis.first_epoch(), bundle);
    fuzz::Require(!state.ok(), "an unsigned bundle verifies");
  }
  auto doc = nlohmann::json::parse(input, nullptr, false);
  if (doc.is_discarded()) return 0;
  auto v = nation::VerifyCredential(genesis, doc, {1'700'000'000'000, std::string("c"), 1000});
  fuzz::Require(!v.ok(), "an unsigned credential verifies");
  return 0;
}
