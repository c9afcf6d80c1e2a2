#pragma once

// Reading the nation's state back from the system contracts' storage (docs/NATION.md): DID
// documents, citizenship, the council, proposals and tallies, the treasury. These are what the
// node's API answers with. Every reader takes a StateReader: pass the committed state for the
// latest answer, or a reader of the state at height h (the store keeps every version) to answer
// "as it was at h". Readers never execute contract code and never write.

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "ledger/civic_calls.h"
#include "ledger/state.h"

namespace civitas::nation {

// ---- DIDs. ------------------------------------------------------------------------------------

struct DidKey {
  std::string fragment;  // "key-1"
  crypto::PublicKey key{};
};
struct DidService {
  std::string fragment;
  std::string type;
  std::string endpoint;
};
struct DidRecord {
  DidId id{};
  std::string did;                  // "did:civitas:..."
  std::string controller_fragment;  // the key id of the controller key
  crypto::PublicKey controller_key{};
  std::vector<DidKey> keys;  // active keys, in order of addition (the controller among them)
  std::vector<DidService> services;
  uint64_t created = 0;  // heights
  uint64_t updated = 0;
  uint64_t version = 0;                 // versionId
  std::optional<uint64_t> deactivated;  // height of deactivation
};

// The DID's record, or nullopt when it is not registered (in `state`).
Result<std::optional<DidRecord>> ReadDid(const StateReader& state, const DidId& id);
// The DID's current controller key and its fragment, read from the registry's entries
// `/key`, `/ctl` and `/deactivated` of the DID only (so a proof of them discloses nothing else);
// nullopt when the DID is not registered or is deactivated.
struct DidController {
  std::string fragment;
  crypto::PublicKey key{};
};
Result<std::optional<DidController>> ReadDidController(const StateReader& state, const DidId& id);
// The DID whose current controller key has address `a`.
Result<std::optional<DidId>> DidOfAddress(const StateReader& state, const Address& a);
// The P2P endpoint a validator publishes on chain (docs/COUNCIL.md, "Endpoints on chain"): the
// service `p2p` of type `CivitasP2P` in the DID whose controller key is the validator key `key`
// (its DID registered by a transaction signed with that key). nullopt when there is no such
// DID, it is deactivated, or the service is absent or not a valid host:port.
inline constexpr std::string_view kP2pServiceFragment = "p2p";
inline constexpr std::string_view kP2pServiceType = "CivitasP2P";
Result<std::optional<std::string>> ReadValidatorEndpoint(const StateReader& state,
                                                         const crypto::PublicKey& key);
// The height at which version `version` of the DID was made; resolve ?versionId=v by reading
// the state at that height.
Result<std::optional<uint64_t>> DidVersionHeight(const StateReader& state, const DidId& id,
                                                 uint64_t version);

// The W3C DID Core document of `record` (a deactivated DID's document keeps only its id).
// Keys are Multikey: "z" + base58btc(0xe7 0x01 || 0x02 || x-only key), i.e. the secp256k1
// public key with the even y that BIP-340 implies.
nlohmann::json DidDocument(const DidRecord& record);

// The header time (Unix milliseconds) of the committed block at `height`. The registry records
// heights; resolution turns them into times with this.
using BlockTimeFn = std::function<Result<uint64_t>(uint64_t height)>;

// `time_ms` as DID Core wants `created` and `updated`: an XML Schema dateTime in UTC without
// sub-second digits (they are dropped), e.g. "2026-11-23T14:05:00Z".
std::string XmlDateTime(uint64_t time_ms);

// The DID resolution result: {"@context", "didDocument", "didDocumentMetadata",
// "didResolutionMetadata"}. Errors follow DID Resolution: "invalidDid" for a malformed DID,
// "notFound" for one never registered (then didDocument is null). didDocumentMetadata holds
// `created` and `updated` (XmlDateTime of the blocks' times, from `block_time`), the heights of
// those blocks as `createdHeight` and `updatedHeight`, `versionId` (a string) and `deactivated`.
// Fails when `block_time` fails.
Result<nlohmann::json> ResolveDid(const StateReader& state, std::string_view did,
                                  const BlockTimeFn& block_time);

// ---- Citizenship. ----------------------------------------------------------------------------

enum class CitizenStatus : int64_t {
  kNone = 0,
  kApplied = 1,
  kCitizen = 2,
  kSuspended = 3,
  kRevoked = 4
};
std::string_view CitizenStatusName(CitizenStatus s);  // "none", "applied", "citizen", ...

struct Citizenship {
  DidId did{};
  CitizenStatus status = CitizenStatus::kNone;
  uint64_t since = 0;    // first issued (0: never)
  uint64_t expiry = 0;   // lapses at this height unless renewed
  uint64_t applied = 0;  // latest application
  // What the contracts check: a citizen, not suspended or revoked, and not expired at `height`.
  bool InGoodStanding(uint64_t height) const {
    return status == CitizenStatus::kCitizen && height < expiry;
  }
};

Result<Citizenship> ReadCitizenship(const StateReader& state, const DidId& did);
// The status and expiry of the DID's citizenship only (since and applied stay 0): what its
// standing rests on, read from the entries `/status` and `/expiry` alone (a credential's proof
// discloses nothing more).
Result<Citizenship> ReadStanding(const StateReader& state, const DidId& did);
// DIDs ever made citizens, in order of first issue, from index `start`, at most `limit`.
Result<std::vector<Citizenship>> ListCitizens(const StateReader& state, uint64_t start,
                                              uint64_t limit);
Result<uint64_t> CitizenCount(const StateReader& state);  // ever issued
Result<std::vector<Address>> ReadCouncil(const StateReader& state);
// A parameter of a system contract ("approvals", "validity", "voting_period", ...).
Result<std::optional<int64_t>> ReadParam(const StateReader& state, const Address& contract,
                                         std::string_view name);

// ---- Governance. -----------------------------------------------------------------------------

// kFailed: passed, but could not be carried out when it executed (Proposal::failure says why).
enum class ProposalStatus : int64_t {
  kVoting = 1,
  kRejected = 2,
  kPassed = 3,
  kExecuted = 4,
  kFailed = 5,
  kWithdrawn = 6  // withdrawn by its proposer while voting was open
};
// How a proposal's votes weigh (governance parameter "<kind>.method", fixed when it opens).
enum class VotingMethod : int64_t { kToken = 1, kCitizen = 2, kQuadratic = 3 };
std::string_view VotingMethodName(VotingMethod m);
std::string_view ProposalStatusName(ProposalStatus s);
std::string_view ProposalKindName(ProposalKind k);

struct Proposal {
  uint64_t id = 0;
  ProposalKind kind = ProposalKind::kText;
  Address proposer{};
  uint64_t deposit = 0;
  // Block time in seconds (docs/NATION.md, "Time"): voting is open for start <= time < end.
  uint64_t start = 0;
  uint64_t end = 0;
  uint64_t eta = 0;       // passed: first block time (seconds) it may execute
  uint64_t executed = 0;  // height of execution (0: not yet)
  uint64_t opened = 0;    // height of the block that opened it (the roll: docs/NATION.md)
  // Its kind's rules when it opened.
  VotingMethod method = VotingMethod::kToken;
  uint64_t quorum = 0;     // in the method's unit: tokens, citizens, or quadratic weight
  uint64_t threshold = 0;  // percent
  uint64_t locked = 0;     // tokens its votes locked (token and quadratic)
  uint64_t counted = 0;    // votes counted after the end; dropped: of those, no longer citizens
  uint64_t dropped = 0;
  ProposalStatus status = ProposalStatus::kVoting;
  uint64_t yes = 0, no = 0, abstain = 0, voters = 0;
  uint64_t sunset = 0;  // 0: never
  std::string text;     // a resolution's text or a spend's note
  // The decision, by kind: spend (payee, amount, every), parameter (contract, name, value),
  // council (member, -, 1 add / 0 remove), upgrade (target, source, -).
  std::string a, b;
  int64_t c = 0;
  uint64_t paid_until = 0;  // spends: height up to which payments were made
  std::string failure;      // kFailed: why the decision could not be carried out
};

Result<uint64_t> ProposalCount(const StateReader& state);
Result<std::optional<Proposal>> ReadProposal(const StateReader& state, uint64_t id);

struct Tally {
  uint64_t yes = 0, no = 0, abstain = 0;
  bool quorum_reached = false;
  bool passing = false;  // what execute would decide with these votes and today's parameters
};
Result<Tally> TallyOf(const StateReader& state, const Proposal& p);

// A citizen's part in proposal `id`: the vote of DID `did` (if it voted) and the tokens
// `address` still has locked on it (governance's `vote/`, `weight/` and `lock/` entries).
struct VoteRecord {
  bool voted = false;
  VoteChoice choice = VoteChoice::kAbstain;
  uint64_t weight = 0;
  uint64_t locked = 0;
};
Result<VoteRecord> ReadVote(const StateReader& state, uint64_t id, const std::optional<DidId>& did,
                            const std::optional<Address>& address);
// Executed and not past its sunset at `height`.
bool InForce(const Proposal& p, uint64_t height);

// ---- Treasury. -------------------------------------------------------------------------------

struct TreasuryInfo {
  uint64_t balance = 0;  // what it holds
  uint64_t spent = 0;    // what it has paid out by decision since genesis
};
Result<TreasuryInfo> ReadTreasury(const StateReader& state);

}  // namespace civitas::nation
