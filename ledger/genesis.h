#pragma once

// The genesis file (genesis/README.md): chain id, council, initial accounts and parameters, the
// nation's founding parameters and the system contracts deployed at height 0 (docs/NATION.md).

#include <map>
#include <string>
#include <vector>

#include "ledger/block.h"
#include "ledger/epoch.h"
#include "ledger/params.h"
#include "ledger/state.h"

namespace civitas {

struct GenesisValidator {
  std::string name;
  crypto::PublicKey public_key{};
  // Where the member's node listens for P2P connections ("host:port", a hostname or an IP
  // address; IPv6 in brackets), from its genesis offer. Empty: not given (and left out of the
  // JSON, so files without endpoints keep their hash).
  std::string p2p{};
};

// True when `endpoint` is a P2P endpoint a genesis may record: host:port with a port in
// [1, 65535] and a host of 1-253 characters of [A-Za-z0-9.-], or an IPv6 address in brackets.
bool ValidP2pEndpoint(std::string_view endpoint);

struct GenesisAccount {
  Address address{};
  uint64_t balance = 0;
};

// The nation's founding parameters (genesis.json "nation"). They seed the system contracts'
// storage at height 0; afterwards only governance changes them. Every value fits an int64.
struct NationParams {
  std::vector<Address> council;               // who approves citizenship; empty: the validators
  uint64_t council_approvals = 0;             // M of the council; 0: a majority, floor(N/2) + 1
  uint64_t citizenship_validity = 1'000'000;  // blocks from issue or renewal to expiry
  uint64_t voting_period_s = 86'400;          // seconds of block time a proposal is open
  uint64_t quorum = 1;                        // tokens that must vote (yes + no + abstain)
  uint64_t threshold = 50;                    // passes when yes * 100 > threshold * (yes + no)
  uint64_t proposal_deposit = 1000;           // tokens a proposal locks
  uint64_t timelock_s = 0;                    // seconds from the end of a vote to execution
  // Per proposal kind ("text", "spend", "parameter", "council", "upgrade"): how its votes weigh
  // and count (docs/NATION.md, "Voting methods"). A kind not named here votes by token with
  // `quorum` and `threshold` above.
  struct KindRules {
    std::string method = "token";  // token, citizen or quadratic
    uint64_t quorum = 1;           // in the method's unit
    uint64_t threshold = 50;
  };
  std::map<std::string, KindRules> rules;
  // The rules of `kind`: its entry in `rules`, else token voting with quorum and threshold.
  KindRules RulesOf(const std::string& kind) const;
};
// The proposal kinds in the order of their numbers (1 text ... 5 upgrade).
inline constexpr const char* kProposalKinds[] = {"text", "spend", "parameter", "council",
                                                 "upgrade"};

// A system contract deployed at genesis: name, SystemAddress(name) and the SHA-256 of its code.
struct GenesisContract {
  std::string name;
  Address address{};
  Hash32 code_hash{};
};

// The system contracts of this build (genesis/contracts/), in deployment order.
const std::vector<GenesisContract>& BuiltSystemContracts();

struct Genesis {
  std::string chain_id;
  uint64_t genesis_time_ms = 0;
  std::vector<GenesisValidator> validators;
  std::vector<GenesisAccount> accounts;
  ChainParams params;
  NationParams nation;
  // Filled by ParseGenesis (always BuiltSystemContracts(): a file naming other code is refused).
  std::vector<GenesisContract> system_contracts;
  Hash32 hash{};  // SHA-256 of the canonical JSON (sorted keys, no spaces)

  ValidatorSet validator_set() const;
  // Epoch 0: the genesis validators, from height 1.
  Epoch first_epoch() const { return Epoch{0, 1, validator_set()}; }
  // The council at genesis: nation.council, or the validators' account addresses.
  std::vector<Address> council() const;
  // M: nation.council_approvals, or a majority of council().
  uint64_t council_approvals() const;
  // The state at height 0.
  StateWrites InitialState() const;
};

// Parses and checks a genesis document. Reasons: bad_genesis.
Result<Genesis> ParseGenesis(std::string_view json_text);
// The same parse and checks for a genesis still being assembled (a ceremony's draft,
// docs/COUNCIL.md): it may have no validators yet, and while the council is the validators' (no
// nation.council) the council_approvals bound waits for ParseGenesis. Reasons: bad_genesis.
Result<Genesis> ParseGenesisDraft(std::string_view json_text);
Result<Genesis> LoadGenesisFile(const std::string& path);
// The canonical JSON text of `g` (what `hash` covers), pretty-printed when `indent` >= 0.
std::string GenesisToJson(const Genesis& g, int indent = 2);

}  // namespace civitas
