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

struct TestnetOptions {
  std::string output;  // DIR: node homes DIR/node0 ... DIR/node<N-1>, DIR/keys/operator.json
  size_t validators = 4;
  std::string chain_id = "civitas-testnet";
  std::string host = "127.0.0.1";
  // Node i listens on base_port + 10 i (P2P), + 1 (gRPC) and + 2 (HTTP).
  int base_port = 26600;
  uint64_t operator_balance = 1'000'000'000'000;
  uint32_t block_interval_ms = 500;
  uint64_t voting_period = 1000;  // blocks a governance proposal is open (genesis nation params)
  uint64_t validator_balance = 1'000'000'000;  // each validator's account, to pay council fees
};

// Writes the homes of an N-validator network on one host: one genesis with every validator and
// a funded operator account, and per node a config whose peers are all the others. Refuses an
// output directory that already holds a node home.
Status InitTestnet(const TestnetOptions& opts);

// Everything `civitasd start` needs, read and checked.
struct LoadedHome {
  Config config;
  Genesis genesis;
};
Result<LoadedHome> LoadHome(const std::string& home);

}  // namespace civitas::node
