#pragma once

// A node's home directory (docs/OPERATIONS.md):
//   config/config.toml         settings
//   config/genesis.json        the chain's genesis
//   config/validator_key.json  this validator's key (0600)
//   keys/operator.json         a funded account key for the operator (0600), made by init
//   data/                      the ledger (RocksDB)

#include <string>

#include "ledger/genesis.h"
#include "node/config.h"

namespace civitas::node {

struct InitOptions {
  std::string home;
  std::string chain_id = "civitas-local";
  std::string moniker = "node0";
  uint64_t operator_balance = 1'000'000'000'000;
};

// Creates a single-validator home. Refuses a home that already has a genesis file.
Status InitHome(const InitOptions& opts);

// Everything `civitasd start` needs, read and checked.
struct LoadedHome {
  Config config;
  Genesis genesis;
};
Result<LoadedHome> LoadHome(const std::string& home);

}  // namespace civitas::node
