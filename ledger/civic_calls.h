#pragma once

// Civic actions as calls of the system contracts (docs/NATION.md). Each builder returns the call
// a transaction makes: contract, function, encoded arguments (vm::EncodeValues) and the tokens
// sent with it. The typed actions of a TxBody (register_did, vote, ...) map onto these through
// CivicCallOf, and ExecuteBlock runs them exactly as the equivalent CallContract. Only the signer
// matters for who acts: the DID functions act on the DID whose current controller key signs, the
// citizenship and governance functions on the signer's DID.
//
// These live in the ledger (not in genesis/) because execution needs them and the ledger must not
// depend on genesis/; they need nothing but the VM's value encoding and SystemAddress.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "civitas/v1/types.pb.h"
#include "ledger/address.h"
#include "ledger/crypto.h"
#include "ledger/status.h"

namespace civitas::nation {

// The 16 bytes a DID encodes (ParseDid / DeriveDid in ledger/did.h).
using DidId = std::array<uint8_t, 16>;

// Where genesis deploys the system contracts: SystemAddress(name).
const Address& DidRegistryAddress();
const Address& CitizenshipAddress();
const Address& GovernanceAddress();
// The treasury is at TreasuryAddress() (ledger/address.h), where fees are paid.

// The citizenship contract's events that change the council (genesis/contracts/citizenship.casm):
// the ledger records the next epoch's validator keys after a block that emits one.
inline constexpr std::string_view kCouncilAddedTopic = "citizenship.council_added";
inline constexpr std::string_view kCouncilRemovedTopic = "citizenship.council_removed";
// True when `e` is one of them, emitted by the citizenship contract.
bool ChangesCouncil(const v1::Event& e);
// True when `e` is a DID registry event that may change a validator's P2P endpoint on chain
// (docs/COUNCIL.md, "Endpoints on chain"): a service set or removed, a controller key rotated,
// a DID deactivated.
bool ChangesDidServices(const v1::Event& e);

struct ContractCall {
  Address contract{};
  std::string function;
  std::string args;  // vm::EncodeValues of the arguments
  uint64_t amount = 0;
};

// Fills the call action of `body`; chain id, nonce and gas limit are the caller's.
void SetCall(const ContractCall& call, v1::TxBody* body);

// --- DID registry. Key and service ids are 1-32 characters of [A-Za-z0-9._-]. ---------------
ContractCall RegisterDid(const crypto::PublicKey& first_key);  // must be signed by first_key
ContractCall AddDidKey(std::string_view fragment, const crypto::PublicKey& key);
ContractCall RevokeDidKey(std::string_view fragment);
// `signature`: the new key's consent, SignDidRotation below.
ContractCall RotateDidKey(std::string_view new_fragment, const crypto::PublicKey& new_key,
                          const crypto::Signature& signature);
ContractCall SetDidService(std::string_view fragment, std::string_view type,
                           std::string_view endpoint);
ContractCall RemoveDidService(std::string_view fragment);
ContractCall DeactivateDid();

// The rotation message the new controller key signs (docs/NATION.md, "Rotating the controller
// key"): did(16) || old_key(32) || new_key(32) || u64 big-endian(version), where `version` is
// the DID's versionId before the rotation; signed as BIP-340 over its tagged hash under
// kDidRotateTag. It is good for one rotation of one DID from one key.
inline constexpr std::string_view kDidRotateTag = "civitas/did-rotate/v1";
std::string DidRotationMessage(const DidId& did, const crypto::PublicKey& old_key,
                               const crypto::PublicKey& new_key, uint64_t version);
crypto::Signature SignDidRotation(const crypto::SecretKey& new_key, const DidId& did,
                                  const crypto::PublicKey& old_key, uint64_t version);

// --- Citizenship. ------------------------------------------------------------------------------
enum class CouncilAction : int64_t { kApprove = 1, kSuspend = 2, kReinstate = 3, kRevoke = 4 };
ContractCall ApplyForCitizenship();
ContractCall RenewCitizenship();
// Signed by a council member; takes effect with the M-th approval.
ContractCall CouncilDecide(const DidId& did, CouncilAction action);

// --- Governance. `deposit` is sent with a proposal and must cover the deposit parameter. -----
enum class ProposalKind : int64_t { kText = 1, kSpend = 2, kParam = 3, kCouncil = 4, kUpgrade = 5 };
enum class VoteChoice : int64_t { kYes = 1, kNo = 2, kAbstain = 3 };

ContractCall ProposeText(std::string_view text, uint64_t sunset, uint64_t deposit);
// `every` = 0: paid once; otherwise every `every` blocks until `sunset` (then required).
ContractCall ProposeSpend(const Address& to, uint64_t amount, uint64_t every, uint64_t sunset,
                          std::string_view note, uint64_t deposit);
ContractCall ProposeParam(const Address& contract, std::string_view name, int64_t value,
                          uint64_t deposit);
// `member`: joining, the 32-byte validator key; leaving, the 20-byte address or the key.
ContractCall ProposeCouncilChange(std::string_view member, bool add, uint64_t deposit);
// `source` is a contract already deployed with the new code.
ContractCall ProposeUpgrade(const Address& target, const Address& source, uint64_t deposit);
// Under the token and quadratic methods, locks `weight` tokens on the vote until the voting
// period ends; under the citizen method `weight` must be 0 (docs/NATION.md, "Voting methods").
ContractCall Vote(uint64_t proposal, VoteChoice choice, uint64_t weight);
ContractCall WithdrawVote(uint64_t proposal);
// The proposer withdraws their proposal while voting is open; the deposit returns (a generic
// call of governance's `cancel`: no typed action yet).
ContractCall CancelProposal(uint64_t proposal);
ContractCall ExecuteProposal(uint64_t proposal);
ContractCall PayRecurringSpend(uint64_t proposal);

// --- Typed actions of a TxBody. ------------------------------------------------------------------

// True for the typed civic actions (register_did ... pay_recurring_spend).
bool IsCivicAction(const v1::TxBody& body);
// The call the typed civic action of `body` stands for; nullopt when the action is not a civic
// one (transfer, deploy, call). A malformed action (a key not 32 bytes, an address not 20
// bytes, a DID not in canonical form, a fragment outside [A-Za-z0-9._-]{1,32}, an unknown
// council action or vote choice) fails with reason malformed_tx and a message naming the field.
// Checks only the form; every rule about state is the contracts'.
Result<std::optional<ContractCall>> CivicCallOf(const v1::TxBody& body);

}  // namespace civitas::nation
