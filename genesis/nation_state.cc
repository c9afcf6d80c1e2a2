#include "genesis/nation_state.h"

#include <chrono>
#include <cstdio>
#include <set>

#include "ledger/base58.h"
#include "ledger/did.h"
#include "ledger/genesis.h"

namespace civitas::nation {
namespace {

using nlohmann::json;

std::string N(uint64_t v) {
  Bytes b;
  PutU64(b, v);
  return std::string(AsStringView(b));
}
template <size_t K>
std::string S(const std::array<uint8_t, K>& a) {
  return std::string(AsStringView(a));
}

// A contract's stored value.
Result<std::optional<std::string>> Get(const StateReader& state, const Address& contract,
                                       const std::string& key) {
  return state.Get(StorageKey(contract, key));
}
// A stored 8-byte integer, 0 when absent.
Result<uint64_t> GetInt(const StateReader& state, const Address& contract, const std::string& key) {
  auto v = Get(state, contract, key);
  if (!v.ok()) return v.status();
  if (!v->has_value()) return uint64_t{0};
  if ((*v)->size() != 8) return Status::Corruption("contract integer " + key + " is not 8 bytes");
  return GetU64(reinterpret_cast<const uint8_t*>((*v)->data()));
}
Result<std::string> GetBytes(const StateReader& state, const Address& contract,
                             const std::string& key) {
  auto v = Get(state, contract, key);
  if (!v.ok()) return v.status();
  return v->value_or(std::string());
}

#define ASSIGN_OR_RETURN(lhs, expr)           \
  auto lhs##_r = (expr);                      \
  if (!lhs##_r.ok()) return lhs##_r.status(); \
  auto lhs = std::move(*lhs##_r)

std::string DidKeyPrefix(const DidId& id) { return "did/" + S(id); }

std::string Multikey(const crypto::PublicKey& key) {
  Bytes b = {0xe7, 0x01, 0x02};
  Append(b, key);
  return "z" + Base58Encode(b);
}

}  // namespace

Result<std::optional<DidRecord>> ReadDid(const StateReader& state, const DidId& id) {
  const Address& reg = DidRegistryAddress();
  const std::string p = DidKeyPrefix(id);
  auto created = Get(state, reg, p + "/created");
  if (!created.ok()) return created.status();
  if (!created->has_value()) return std::optional<DidRecord>();
  DidRecord r;
  r.id = id;
  r.did = std::string(kDidPrefix) + Base58Encode(id.data(), id.size());
  ASSIGN_OR_RETURN(c, GetInt(state, reg, p + "/created"));
  ASSIGN_OR_RETURN(u, GetInt(state, reg, p + "/updated"));
  ASSIGN_OR_RETURN(v, GetInt(state, reg, p + "/version"));
  r.created = c;
  r.updated = u;
  r.version = v;
  ASSIGN_OR_RETURN(deact, Get(state, reg, p + "/deactivated"));
  if (deact.has_value()) {
    ASSIGN_OR_RETURN(h, GetInt(state, reg, p + "/deactivated"));
    r.deactivated = h;
  }
  ASSIGN_OR_RETURN(ctl, GetBytes(state, reg, p + "/ctl"));
  r.controller_fragment = ctl;
  ASSIGN_OR_RETURN(ctl_key, GetBytes(state, reg, p + "/key"));
  if (auto k = FixedFromBytes<32>(ctl_key)) r.controller_key = *k;
  // Keys and services: walk the append-only id lists; skip revoked / removed entries.
  ASSIGN_OR_RETURN(nkeys, GetInt(state, reg, p + "/vmn"));
  for (uint64_t i = 0; i < nkeys; ++i) {
    ASSIGN_OR_RETURN(frag, GetBytes(state, reg, p + "/vmi/" + N(i)));
    ASSIGN_OR_RETURN(key, GetBytes(state, reg, p + "/vm/" + frag));
    if (auto k = FixedFromBytes<32>(key)) r.keys.push_back({frag, *k});
  }
  ASSIGN_OR_RETURN(nsvc, GetInt(state, reg, p + "/svn"));
  for (uint64_t i = 0; i < nsvc; ++i) {
    ASSIGN_OR_RETURN(frag, GetBytes(state, reg, p + "/svi/" + N(i)));
    ASSIGN_OR_RETURN(endpoint, GetBytes(state, reg, p + "/sv/" + frag));
    if (endpoint.empty()) continue;
    ASSIGN_OR_RETURN(type, GetBytes(state, reg, p + "/st/" + frag));
    r.services.push_back({frag, type, endpoint});
  }
  return std::optional<DidRecord>(std::move(r));
}

Result<std::optional<DidController>> ReadDidController(const StateReader& state, const DidId& id) {
  const Address& reg = DidRegistryAddress();
  const std::string p = DidKeyPrefix(id);
  ASSIGN_OR_RETURN(key, Get(state, reg, p + "/key"));
  if (!key.has_value()) return std::optional<DidController>();
  ASSIGN_OR_RETURN(deact, Get(state, reg, p + "/deactivated"));
  if (deact.has_value()) return std::optional<DidController>();
  ASSIGN_OR_RETURN(ctl_key, GetBytes(state, reg, p + "/key"));
  auto k = FixedFromBytes<32>(ctl_key);
  if (!k) return Status::Corruption("DID controller key is not 32 bytes");
  ASSIGN_OR_RETURN(ctl, GetBytes(state, reg, p + "/ctl"));
  return std::optional<DidController>(DidController{ctl, *k});
}

Result<std::optional<DidId>> DidOfAddress(const StateReader& state, const Address& a) {
  ASSIGN_OR_RETURN(v, Get(state, DidRegistryAddress(), "addr/" + S(a)));
  if (!v.has_value()) return std::optional<DidId>();
  auto id = FixedFromBytes<16>(*v);
  if (!id) return Status::Corruption("DID index entry is not 16 bytes");
  return std::optional<DidId>(*id);
}

Result<std::optional<std::string>> ReadValidatorEndpoint(const StateReader& state,
                                                         const crypto::PublicKey& key) {
  ASSIGN_OR_RETURN(id, DidOfAddress(state, AddressOf(key)));
  if (!id) return std::optional<std::string>();
  ASSIGN_OR_RETURN(record, ReadDid(state, *id));
  if (!record || record->deactivated || record->controller_key != key) {
    return std::optional<std::string>();
  }
  for (const DidService& s : record->services) {
    if (s.fragment == kP2pServiceFragment && s.type == kP2pServiceType &&
        ValidP2pEndpoint(s.endpoint)) {
      return std::optional<std::string>(s.endpoint);
    }
  }
  return std::optional<std::string>();
}

Result<std::optional<uint64_t>> DidVersionHeight(const StateReader& state, const DidId& id,
                                                 uint64_t version) {
  const std::string key = DidKeyPrefix(id) + "/h/" + N(version);
  ASSIGN_OR_RETURN(v, Get(state, DidRegistryAddress(), key));
  if (!v.has_value()) return std::optional<uint64_t>();
  ASSIGN_OR_RETURN(h, GetInt(state, DidRegistryAddress(), key));
  return std::optional<uint64_t>(h);
}

json DidDocument(const DidRecord& r) {
  json doc;
  doc["@context"] = {"https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"};
  doc["id"] = r.did;
  if (r.deactivated) return doc;
  doc["controller"] = r.did;
  json methods = json::array();
  json assertion = json::array();
  for (const auto& k : r.keys) {
    const std::string id = r.did + "#" + k.fragment;
    methods.push_back({{"id", id},
                       {"type", "Multikey"},
                       {"controller", r.did},
                       {"publicKeyMultibase", Multikey(k.key)}});
    assertion.push_back(id);
  }
  doc["verificationMethod"] = methods;
  const std::string controller = r.did + "#" + r.controller_fragment;
  doc["authentication"] = json::array({controller});
  doc["capabilityInvocation"] = json::array({controller});
  doc["assertionMethod"] = assertion;
  if (!r.services.empty()) {
    json services = json::array();
    for (const auto& s : r.services) {
      services.push_back(
          {{"id", r.did + "#" + s.fragment}, {"type", s.type}, {"serviceEndpoint", s.endpoint}});
    }
    doc["service"] = services;
  }
  return doc;
}

std::string XmlDateTime(uint64_t time_ms) {
  using namespace std::chrono;
  const sys_seconds t{duration_cast<seconds>(milliseconds(time_ms))};
  const sys_days day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss<seconds> hms{t - day};
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

Result<json> ResolveDid(const StateReader& state, std::string_view did,
                        const BlockTimeFn& block_time) {
  json out;
  out["@context"] = "https://w3id.org/did-resolution/v1";
  out["didDocument"] = nullptr;
  out["didDocumentMetadata"] = json::object();
  auto id = ParseDid(did);
  if (!id) {
    out["didResolutionMetadata"] = {{"error", "invalidDid"}};
    return out;
  }
  ASSIGN_OR_RETURN(record, ReadDid(state, *id));
  if (!record) {
    out["didResolutionMetadata"] = {{"error", "notFound"}};
    return out;
  }
  out["didResolutionMetadata"] = {{"contentType", "application/did+ld+json"}};
  out["didDocument"] = DidDocument(*record);
  ASSIGN_OR_RETURN(created_ms, block_time(record->created));
  ASSIGN_OR_RETURN(updated_ms, block_time(record->updated));
  json meta = {{"created", XmlDateTime(created_ms)},
               {"createdHeight", record->created},
               {"updated", XmlDateTime(updated_ms)},
               {"updatedHeight", record->updated},
               {"versionId", std::to_string(record->version)},
               {"deactivated", record->deactivated.has_value()}};
  out["didDocumentMetadata"] = meta;
  return out;
}

std::string_view CitizenStatusName(CitizenStatus s) {
  switch (s) {
    case CitizenStatus::kNone:
      return "none";
    case CitizenStatus::kApplied:
      return "applied";
    case CitizenStatus::kCitizen:
      return "citizen";
    case CitizenStatus::kSuspended:
      return "suspended";
    case CitizenStatus::kRevoked:
      return "revoked";
  }
  return "unknown";
}

Result<Citizenship> ReadCitizenship(const StateReader& state, const DidId& did) {
  const Address& c = CitizenshipAddress();
  const std::string p = "c/" + S(did);
  Citizenship out;
  out.did = did;
  ASSIGN_OR_RETURN(status, GetInt(state, c, p + "/status"));
  if (status > 4) return Status::Corruption("citizenship status out of range");
  out.status = static_cast<CitizenStatus>(status);
  ASSIGN_OR_RETURN(since, GetInt(state, c, p + "/since"));
  ASSIGN_OR_RETURN(expiry, GetInt(state, c, p + "/expiry"));
  ASSIGN_OR_RETURN(applied, GetInt(state, c, p + "/applied"));
  out.since = since;
  out.expiry = expiry;
  out.applied = applied;
  return out;
}

Result<Citizenship> ReadStanding(const StateReader& state, const DidId& did) {
  const Address& c = CitizenshipAddress();
  const std::string p = "c/" + S(did);
  Citizenship out;
  out.did = did;
  ASSIGN_OR_RETURN(status, GetInt(state, c, p + "/status"));
  if (status > 4) return Status::Corruption("citizenship status out of range");
  out.status = static_cast<CitizenStatus>(status);
  ASSIGN_OR_RETURN(expiry, GetInt(state, c, p + "/expiry"));
  out.expiry = expiry;
  return out;
}

Result<uint64_t> CitizenCount(const StateReader& state) {
  return GetInt(state, CitizenshipAddress(), "list/n");
}

Result<std::vector<Citizenship>> ListCitizens(const StateReader& state, uint64_t start,
                                              uint64_t limit) {
  ASSIGN_OR_RETURN(n, CitizenCount(state));
  std::vector<Citizenship> out;
  for (uint64_t i = start; i < n && out.size() < limit; ++i) {
    ASSIGN_OR_RETURN(id_bytes, GetBytes(state, CitizenshipAddress(), "list/" + N(i)));
    auto id = FixedFromBytes<16>(id_bytes);
    if (!id) return Status::Corruption("citizen list entry is not a DID id");
    ASSIGN_OR_RETURN(c, ReadCitizenship(state, *id));
    out.push_back(c);
  }
  return out;
}

Result<std::vector<Address>> ReadCouncil(const StateReader& state) {
  ASSIGN_OR_RETURN(n, GetInt(state, CitizenshipAddress(), "council/n"));
  std::vector<Address> out;
  for (uint64_t i = 0; i < n; ++i) {
    ASSIGN_OR_RETURN(a, GetBytes(state, CitizenshipAddress(), "council/" + N(i)));
    auto addr = AddressFromBytes(a);
    if (!addr) return Status::Corruption("council entry is not an address");
    out.push_back(*addr);
  }
  return out;
}

Result<std::optional<int64_t>> ReadParam(const StateReader& state, const Address& contract,
                                         std::string_view name) {
  const std::string key = "param/" + std::string(name);
  ASSIGN_OR_RETURN(v, Get(state, contract, key));
  if (!v.has_value()) return std::optional<int64_t>();
  ASSIGN_OR_RETURN(i, GetInt(state, contract, key));
  return std::optional<int64_t>(static_cast<int64_t>(i));
}

std::string_view ProposalStatusName(ProposalStatus s) {
  switch (s) {
    case ProposalStatus::kVoting:
      return "voting";
    case ProposalStatus::kRejected:
      return "rejected";
    case ProposalStatus::kPassed:
      return "passed";
    case ProposalStatus::kExecuted:
      return "executed";
    case ProposalStatus::kFailed:
      return "failed";
    case ProposalStatus::kWithdrawn:
      return "withdrawn";
  }
  return "unknown";
}

std::string_view VotingMethodName(VotingMethod m) {
  switch (m) {
    case VotingMethod::kToken:
      return "token";
    case VotingMethod::kCitizen:
      return "citizen";
    case VotingMethod::kQuadratic:
      return "quadratic";
  }
  return "unknown";
}

std::string_view ProposalKindName(ProposalKind k) {
  switch (k) {
    case ProposalKind::kText:
      return "text";
    case ProposalKind::kSpend:
      return "spend";
    case ProposalKind::kParam:
      return "parameter";
    case ProposalKind::kCouncil:
      return "council";
    case ProposalKind::kUpgrade:
      return "upgrade";
  }
  return "unknown";
}

Result<uint64_t> ProposalCount(const StateReader& state) {
  return GetInt(state, GovernanceAddress(), "prop/n");
}

Result<std::optional<Proposal>> ReadProposal(const StateReader& state, uint64_t id) {
  ASSIGN_OR_RETURN(n, ProposalCount(state));
  if (id < 1 || id > n) return std::optional<Proposal>();
  const Address& g = GovernanceAddress();
  const std::string p = "prop/" + N(id);
  Proposal out;
  out.id = id;
  ASSIGN_OR_RETURN(kind, GetInt(state, g, p + "/kind"));
  ASSIGN_OR_RETURN(status, GetInt(state, g, p + "/status"));
  ASSIGN_OR_RETURN(method, GetInt(state, g, p + "/method"));
  if (kind < 1 || kind > 5 || status < 1 || status > 6 || method < 1 || method > 3) {
    return Status::Corruption("proposal kind or status out of range");
  }
  out.kind = static_cast<ProposalKind>(kind);
  out.status = static_cast<ProposalStatus>(status);
  out.method = static_cast<VotingMethod>(method);
  ASSIGN_OR_RETURN(proposer, GetBytes(state, g, p + "/proposer"));
  if (auto a = AddressFromBytes(proposer)) out.proposer = *a;
  struct {
    const char* name;
    uint64_t* field;
  } ints[] = {{"/deposit", &out.deposit}, {"/start", &out.start},         {"/end", &out.end},
              {"/eta", &out.eta},         {"/executed", &out.executed},   {"/yes", &out.yes},
              {"/no", &out.no},           {"/abstain", &out.abstain},     {"/voters", &out.voters},
              {"/sunset", &out.sunset},   {"/paid", &out.paid_until},     {"/opened", &out.opened},
              {"/quorum", &out.quorum},   {"/threshold", &out.threshold}, {"/locked", &out.locked},
              {"/counted", &out.counted}, {"/dropped", &out.dropped}};
  for (const auto& f : ints) {
    ASSIGN_OR_RETURN(v, GetInt(state, g, p + f.name));
    *f.field = v;
  }
  ASSIGN_OR_RETURN(text, GetBytes(state, g, p + "/text"));
  ASSIGN_OR_RETURN(a, GetBytes(state, g, p + "/a"));
  ASSIGN_OR_RETURN(b, GetBytes(state, g, p + "/b"));
  ASSIGN_OR_RETURN(c, GetInt(state, g, p + "/c"));
  ASSIGN_OR_RETURN(failure, GetBytes(state, g, p + "/failure"));
  out.failure = failure;
  out.text = text;
  out.a = a;
  out.b = b;
  out.c = static_cast<int64_t>(c);
  return std::optional<Proposal>(std::move(out));
}

Result<Tally> TallyOf(const StateReader& state, const Proposal& p) {
  (void)state;  // the rules are the proposal's own, fixed when it opened
  Tally t{p.yes, p.no, p.abstain, false, false};
  const uint64_t quorum = p.quorum, threshold = p.threshold;
  // The same integer comparison as the contract (its operands fit 64 bits there, or it traps).
  const unsigned __int128 yes = p.yes, no = p.no;
  t.quorum_reached = yes + no + p.abstain >= quorum;
  t.passing =
      t.quorum_reached && yes * 100 > static_cast<unsigned __int128>(threshold) * (yes + no);
  return t;
}

Result<VoteRecord> ReadVote(const StateReader& state, uint64_t id, const std::optional<DidId>& did,
                            const std::optional<Address>& address) {
  VoteRecord out;
  const Address g = GovernanceAddress();
  const std::string p = N(id);
  if (did) {
    const std::string key = p + std::string(AsStringView(*did));
    ASSIGN_OR_RETURN(choice, GetInt(state, g, "vote/" + key));
    if (choice != 0) {
      if (choice > 3) return Status::Corruption("vote choice out of range");
      out.voted = true;
      out.choice = static_cast<VoteChoice>(choice);
      ASSIGN_OR_RETURN(weight, GetInt(state, g, "weight/" + key));
      out.weight = weight;
    }
  }
  if (address) {
    ASSIGN_OR_RETURN(locked, GetInt(state, g, "lock/" + p + std::string(AsStringView(*address))));
    out.locked = locked;
  }
  return out;
}

bool InForce(const Proposal& p, uint64_t height) {
  return p.status == ProposalStatus::kExecuted && (p.sunset == 0 || height < p.sunset);
}

Result<TreasuryInfo> ReadTreasury(const StateReader& state) {
  TreasuryInfo out;
  ASSIGN_OR_RETURN(account, state.Get(AccountKey(TreasuryAddress())));
  if (account.has_value()) {
    auto decoded = DecodeAccount(*account);
    if (!decoded.ok()) return decoded.status();
    out.balance = decoded->balance;
  }
  ASSIGN_OR_RETURN(spent, GetInt(state, TreasuryAddress(), "spent"));
  out.spent = spent;
  return out;
}

}  // namespace civitas::nation
