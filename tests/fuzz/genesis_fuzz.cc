// libFuzzer target: a genesis file (ledger/genesis.h), which operators pass around. Never
// crash; what parses reproduces itself: its canonical JSON parses to the same genesis hash and
// prints to the same text.
#include "ledger/genesis.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto g = civitas::ParseGenesis(civitas::fuzz::AsView(data, size));
  if (!g.ok()) return 0;
  std::string text = civitas::GenesisToJson(*g);
  auto again = civitas::ParseGenesis(text);
  civitas::fuzz::Require(again.ok() && again->hash == g->hash, "genesis hash after round trip");
  civitas::fuzz::Require(civitas::GenesisToJson(*again) == text, "genesis canonical text");
  return 0;
}
