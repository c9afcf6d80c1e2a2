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
  uint64_t heartbeat_ms = 0;  // genesis params.heartbeat_ms; 0: the chain's default (a minute)
};

// Creates the home of a one-validator chain (`civitasd init --solo`): validator key, a funded
// operator key, a genesis whose council is this node alone, and config. Refuses a home that
// already has a genesis file. A council member's home without a genesis (the first step of a
// genesis ceremony) is InitMemberHome (node/ceremony.h).
Status InitSoloHome(const InitOptions& opts);

// The home of a node joining an existing chain: the chain's genesis, a new validator key, and
// the peers to follow it from ("key@host:port"). The node follows the chain through block sync
// and validates once governance has added its key to the council. Refuses an initialised home.
struct JoinOptions {
  std::string home;
  std::string genesis_file;
  std::string moniker = "joiner";
  std::vector<std::string> peers;
  std::string p2p_listen, grpc_listen, http_listen;  // empty: the defaults
};
Result<crypto::PublicKey> JoinHome(const JoinOptions& opts);

struct TestnetOptions {
  std::string output;  // DIR: node homes DIR/node0 ... DIR/node<N-1>, DIR/keys/operator.json
  size_t validators = 4;
  std::string chain_id = "civitas-testnet";
  std::string host = "127.0.0.1";
  // Node i listens on base_port + 10 i (P2P), + 1 (gRPC) and + 2 (HTTP).
  int base_port = 26600;
  uint64_t operator_balance = 1'000'000'000'000;
  uint32_t block_interval_ms = 500;
  uint64_t voting_period_s = 3600;  // seconds of block time a proposal is open (genesis nation)
  uint64_t validator_balance = 1'000'000'000;  // each validator's account, to pay council fees
  // Homes of nodes outside the genesis council (node<N> ...): they follow the chain until
  // governance adds their key to the council (docs/CONSENSUS.md, "Epochs"). Every node has
  // every other as a peer.
  size_t joiners = 0;
  uint64_t gas_price = 1;  // genesis params.gas_price (0: transactions cost nothing)
  // Proposal kinds that vote one citizen one vote (quorum 1 citizen): nation.rules.
  std::vector<std::string> citizen_vote_kinds;
  // Genesis params.heartbeat_ms: how often an idle council makes an empty block; 0 leaves the
  // chain's default (kDefaultHeartbeatMs, one a minute). Tests that wait for heights to grow
  // without transactions set a short one.
  uint64_t heartbeat_ms = 0;
};

// Writes the homes of an N-validator network on one host by running the genesis ceremony
// (node/ceremony.h) for every home: each validator's offer (files in DIR/ceremony/) goes into
// one genesis with a funded operator account, which every home verifies and installs
// (DIR/genesis.json). Validators reach each other through the genesis endpoints; configs list
// as peers only the nodes outside the genesis council (joiners list every other node). Refuses
// an output directory that already holds a node home.
Status InitTestnet(const TestnetOptions& opts);

// Everything `civitasd start` needs, read and checked.
struct LoadedHome {
  Config config;
  Genesis genesis;
};
Result<LoadedHome> LoadHome(const std::string& home);

// Checks that `key`, read from the validator key file, is this node's council key: when the
// genesis names a validator after the node's moniker, it must be that validator's key (reason
// wrong_key): a key file swapped with another member's would make this node sign as that member,
// next to the member itself. A key outside the genesis council is accepted: the node follows the
// chain until governance adds its key.
Status CheckValidatorKey(const Config& config, const Genesis& genesis,
                         const crypto::PublicKey& key);

}  // namespace civitas::node
