#pragma once

// The genesis file (genesis/README.md): chain id, council, initial accounts and parameters.

#include <string>
#include <vector>

#include "ledger/block.h"
#include "ledger/params.h"
#include "ledger/state.h"

namespace civitas {

struct GenesisValidator {
  std::string name;
  crypto::PublicKey public_key{};
};

struct GenesisAccount {
  Address address{};
  uint64_t balance = 0;
};

struct Genesis {
  std::string chain_id;
  uint64_t genesis_time_ms = 0;
  std::vector<GenesisValidator> validators;
  std::vector<GenesisAccount> accounts;
  ChainParams params;
  Hash32 hash{};  // SHA-256 of the canonical JSON (sorted keys, no spaces)

  ValidatorSet validator_set() const;
  // The state at height 0.
  StateWrites InitialState() const;
};

// Parses and checks a genesis document. Reasons: bad_genesis.
Result<Genesis> ParseGenesis(std::string_view json_text);
Result<Genesis> LoadGenesisFile(const std::string& path);
// The canonical JSON text of `g` (what `hash` covers), pretty-printed when `indent` >= 0.
std::string GenesisToJson(const Genesis& g, int indent = 2);

}  // namespace civitas
