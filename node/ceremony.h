#pragma once

// The genesis ceremony (docs/COUNCIL.md): how a council whose members sit on separate machines
// makes its genesis without any process holding two validators' secret keys. Every step reads
// and writes files, so each member runs its own steps with its own `civitasd`, and
// `civitasd testnet` runs the same functions for every home of a localnet.
//
//   member:       InitMemberHome, then MakeHomeOffer -> offer file
//   coordinator:  NewGenesisDraft, AddValidatorsToDraft(offer files), AddAccountToDraft,
//                 SetDraftParam, FinalizeDraft -> genesis.json and its hash
//   member:       VerifyGenesisForHome (+ DescribeGenesis), InstallGenesis
//
// A step that refuses its input leaves every file as it was. Reasons: exists, bad_offer,
// bad_genesis, bad_draft, duplicate_validator, not_in_council, hash_mismatch, io_error.

#include <string>
#include <vector>

#include "ledger/genesis.h"
#include "ledger/genesis_offer.h"
#include "node/config.h"

namespace civitas::node {

// The home of a council member before genesis: a new validator key (config/validator_key.json,
// 0600) and config.toml (from `config`, whose `home` names the directory); no genesis. Refuses a
// home that already has a validator key, a config or a genesis. Returns the new public key.
Result<crypto::PublicKey> InitMemberHome(const Config& config);

// The signed offer of the member whose home is `home`: its moniker (config.toml), its validator
// public key and the endpoint `p2p` where the other members reach its P2P port.
Result<GenesisOffer> MakeHomeOffer(const std::string& home, const std::string& p2p);

// Reads and verifies an offer file; errors name the file.
Result<GenesisOffer> ReadGenesisOfferFile(const std::string& path);

// Writes `text` to a new file `path` (refused, reason exists, when it is there already).
Status WriteNewFile(const std::string& path, const std::string& text);

// A new draft genesis at `path` (refused when the file exists).
Status NewGenesisDraft(const std::string& path, const std::string& chain_id,
                       uint64_t genesis_time_ms);

// Adds the validators of these offer files, in order, to the draft: each offer's signature must
// verify, and its key, moniker and endpoint must be new to the draft (duplicate_validator). All
// or nothing; errors name the offer file.
Result<std::vector<GenesisOffer>> AddValidatorsToDraft(const std::string& draft,
                                                       const std::vector<std::string>& offers);

// Adds an account with an initial balance (address: 40 hex digits). Refuses an address already
// in the draft and a total supply over 64 bits.
Status AddAccountToDraft(const std::string& draft, const std::string& address, uint64_t amount);

// Sets a parameter: `genesis_time_ms`, `params.<gas_price|max_tx_gas|tx_base_gas|tx_byte_gas|
// deploy_byte_gas>`, `nation.<council_approvals|citizenship_validity|voting_period_s|quorum|
// threshold|proposal_deposit|timelock_s>` (a decimal integer), `nation.council` (addresses
// separated by commas) or `nation.rules.<kind>.<method|quorum|threshold>` (method token,
// citizen or quadratic), with the checks of ParseGenesis.
Status SetDraftParam(const std::string& draft, const std::string& key, const std::string& value);

// The genesis of a draft, with every check of ParseGenesis, written to a new file `out`.
Result<Genesis> FinalizeDraft(const std::string& draft, const std::string& out);

// A genesis file checked for the member whose home is `home`.
struct VerifiedGenesis {
  Genesis genesis;
  std::string text;                // the file's bytes, installed as they are
  crypto::PublicKey mine{};        // this home's validator key
  bool already_installed = false;  // the home holds this very genesis (same hash) already
};

// Parses `file` with every check of ParseGenesis; when `expected_hash` (hex) is not empty the
// hash must equal it (hash_mismatch); the council must contain this home's validator key
// (not_in_council), under the home's moniker if the genesis uses that name (wrong_key); a
// different genesis must not be installed in the home already (exists).
Result<VerifiedGenesis> VerifyGenesisForHome(const std::string& file, const std::string& home,
                                             const std::string& expected_hash);

// Writes the verified genesis to HOME/config/genesis.json (nothing when already installed).
Status InstallGenesis(const std::string& home, const VerifiedGenesis& v);

// The genesis in plain words: hash, chain, council (names, keys, endpoints; `mine` marked),
// accounts, parameters, system contracts.
std::string DescribeGenesis(const Genesis& g, const crypto::PublicKey* mine);

}  // namespace civitas::node
