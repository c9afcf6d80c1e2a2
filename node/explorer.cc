#include "node/explorer.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "genesis/nation_state.h"
#include "ledger/base58.h"
#include "ledger/block.h"
#include "ledger/did.h"
#include "ledger/quote.h"
#include "ledger/tx.h"
#include "node/civic_queries.h"

namespace civitas::node {
namespace {

using json = nlohmann::json;

// `auto& lhs = *(expr)`, or return the failed Result's status.
#define EXPLORER_ASSIGN(lhs, expr)                      \
  auto lhs##_result = (expr);                           \
  if (!lhs##_result.ok()) return lhs##_result.status(); \
  auto& lhs = *lhs##_result

// Bounds of every list (docs/EXPLORER.md): a larger `limit` is clamped, a smaller one refused.
constexpr uint64_t kDefaultBlocks = 20, kMaxBlocks = 100;
constexpr uint64_t kDefaultBlockTxs = 100, kMaxBlockTxs = 1000;
constexpr uint64_t kDefaultCitizens = 50, kMaxCitizens = 500;
constexpr uint64_t kDefaultProposals = 20, kMaxProposals = 100;
constexpr uint64_t kDefaultPoints = 60, kMaxPoints = 200;
constexpr uint64_t kMaxDidVersions = 200;  // the latest versions listed for a DID

// The page may run only this origin's script and style and fetch only this origin; nothing
// may frame it. Chain data reaches the DOM as text only (app.js), so even a hostile string in
// a proposal or a DID service cannot run.
constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

std::string Hex(std::string_view bytes) {
  return ToHex(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

std::string DidString(const nation::DidId& id) {
  return std::string(kDidPrefix) + Base58Encode(id.data(), id.size());
}

Status BadRequest(std::string message) {
  return Status::Invalid("bad_request", std::move(message));
}

// The query parameters of one request; each endpoint names the ones it accepts.
class Params {
 public:
  static Result<Params> Parse(std::string_view query) {
    Params out;
    while (!query.empty()) {
      const auto amp = query.find('&');
      std::string_view param = query.substr(0, amp);
      query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
      if (param.empty()) continue;
      const auto eq = param.find('=');
      auto name = PercentDecode(param.substr(0, eq));
      auto value = PercentDecode(eq == std::string_view::npos ? "" : param.substr(eq + 1));
      if (!name || !value) return BadRequest("bad percent-encoding in the query");
      out.values_[*name] = *value;
    }
    return out;
  }

  // Refuses a parameter not in `allowed`.
  Status Only(std::initializer_list<std::string_view> allowed) const {
    for (const auto& [name, value] : values_) {
      if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
        return BadRequest("unknown parameter " + QuoteInput(name));
      }
    }
    return Status::Ok();
  }

  // The parameter as a decimal integer of at least `min`, clamped to `max`; `def` if absent.
  Result<uint64_t> Get(const std::string& name, uint64_t def, uint64_t min,
                       uint64_t max = UINT64_MAX) const {
    auto it = values_.find(name);
    if (it == values_.end()) return def;
    auto v = ParseU64(it->second);
    if (!v || *v < min) {
      return BadRequest(name + " must be an integer of at least " + std::to_string(min));
    }
    return std::min(*v, max);
  }

  bool Has(const std::string& name) const { return values_.contains(name); }

 private:
  std::map<std::string, std::string> values_;
};

// ---- JSON of chain objects. ---------------------------------------------------------------------

std::string ValidatorName(const Genesis& genesis, std::string_view public_key) {
  for (const auto& v : genesis.validators) {
    if (AsStringView(v.public_key) == public_key) return v.name;
  }
  return "";
}

Result<json> BlockJson(const v1::CommittedBlock& cb, const Genesis& genesis) {
  const auto& h = cb.block().header();
  EXPLORER_ASSIGN(id, BlockId(h));
  return json{{"height", h.height()},
              {"id", ToHex(id)},
              {"parent_id", Hex(h.parent_id())},
              {"time_ms", h.time_ms()},
              {"tx_count", cb.block().txs_size()},
              {"proposer", Hex(h.proposer())},
              {"proposer_name", ValidatorName(genesis, h.proposer())},
              {"epoch", h.epoch()},
              {"round", h.round()},
              {"tx_root", Hex(h.tx_root())},
              {"state_height", h.state_height()},
              {"state_root", Hex(h.state_root())},
              {"commit_signers", cb.commit_qc().signers_size()}};
}

// The fields of a typed action or call, by their proto names; bytes as hex, enums by name.
json MessageJson(const google::protobuf::Message& m) {
  using FD = google::protobuf::FieldDescriptor;
  json out = json::object();
  const auto* r = m.GetReflection();
  std::vector<const FD*> fields;
  r->ListFields(m, &fields);
  for (const FD* f : fields) {
    if (f->is_repeated()) continue;  // no action has a repeated field
    json& v = out[f->name()];
    switch (f->cpp_type()) {
      case FD::CPPTYPE_STRING:
        v = f->type() == FD::TYPE_BYTES ? Hex(r->GetString(m, f)) : r->GetString(m, f);
        break;
      case FD::CPPTYPE_UINT64:
        v = r->GetUInt64(m, f);
        break;
      case FD::CPPTYPE_UINT32:
        v = r->GetUInt32(m, f);
        break;
      case FD::CPPTYPE_INT64:
        v = r->GetInt64(m, f);
        break;
      case FD::CPPTYPE_INT32:
        v = r->GetInt32(m, f);
        break;
      case FD::CPPTYPE_BOOL:
        v = r->GetBool(m, f);
        break;
      case FD::CPPTYPE_ENUM:
        v = r->GetEnum(m, f)->name();
        break;
      case FD::CPPTYPE_MESSAGE:
        v = MessageJson(r->GetMessage(m, f));
        break;
      default:
        v = nullptr;
    }
  }
  return out;
}

// The DIDs controlled by sender addresses, looked up once per address per request.
class DidNames {
 public:
  explicit DidNames(const StateReader& state) : state_(state) {}
  Result<json> Of(const Address& a) {
    auto it = cache_.find(a);
    if (it != cache_.end()) return it->second;
    auto id = nation::DidOfAddress(state_, a);
    if (!id.ok()) return id.status();
    json v = id->has_value() ? json(DidString(**id)) : json(nullptr);
    cache_.emplace(a, v);
    return v;
  }

 private:
  const StateReader& state_;
  std::map<Address, json> cache_;
};

std::string_view StatusName(v1::TxStatus s) {
  switch (s) {
    case v1::TX_STATUS_SUCCESS:
      return "success";
    case v1::TX_STATUS_FAILED:
      return "failed";
    default:
      return "unknown";
  }
}

// A topic is ASCII text ("did.registered"); anything else is shown as hex.
std::string TopicText(std::string_view topic) {
  bool printable = !topic.empty() && std::all_of(topic.begin(), topic.end(),
                                                 [](char c) { return c >= 0x20 && c < 0x7f; });
  return printable ? std::string(topic) : "0x" + Hex(topic);
}

// A transaction and its receipt. `full` adds the action's fields, the events and the rest.
Result<json> TxJson(const v1::Transaction& envelope, const v1::Receipt& receipt,
                    const Genesis& genesis, DidNames& names, bool full) {
  json j = {{"id", Hex(receipt.tx_id())}, {"height", receipt.height()},
            {"index", receipt.index()},   {"status", std::string(StatusName(receipt.status()))},
            {"reason", receipt.reason()}, {"gas_used", receipt.gas_used()},
            {"fee", receipt.fee()}};
  // Committed transactions were verified when they were admitted and again in the block.
  auto tx = DecodeAndCheckTx(envelope, genesis.chain_id, genesis.params, false);
  if (tx.ok()) {
    const auto* oneof = tx->body.GetDescriptor()->FindOneofByName("action");
    const auto* field = tx->body.GetReflection()->GetOneofFieldDescriptor(tx->body, oneof);
    j["action"] = field ? field->name() : "none";
    j["sender"] = ToHex(tx->sender);
    EXPLORER_ASSIGN(did, names.Of(tx->sender));
    j["sender_did"] = did;
    if (full) {
      j["public_key"] = ToHex(tx->public_key);
      j["nonce"] = tx->body.nonce();
      j["gas_limit"] = tx->body.gas_limit();
      j["size"] = tx->size;
      j["args"] = field ? MessageJson(tx->body.GetReflection()->GetMessage(tx->body, field))
                        : json::object();
    }
  } else {
    j["action"] = "undecodable";
    j["sender"] = nullptr;
    j["sender_did"] = nullptr;
  }
  if (full) {
    j["return_data"] = Hex(receipt.return_data());
    j["contract_address"] = Hex(receipt.contract_address());
    json events = json::array();
    for (const auto& e : receipt.events()) {
      events.push_back({{"contract", Hex(e.contract())},
                        {"topic", TopicText(e.topic())},
                        {"data", Hex(e.data())}});
    }
    j["events"] = std::move(events);
  }
  return j;
}

json CitizenJson(const nation::Citizenship& c, uint64_t height) {
  return {{"did", DidString(c.did)}, {"status", std::string(nation::CitizenStatusName(c.status))},
          {"since", c.since},        {"expiry", c.expiry},
          {"applied", c.applied},    {"in_good_standing", c.InGoodStanding(height)}};
}

std::string ContractName(const Genesis& genesis, std::string_view address) {
  for (const auto& c : genesis.system_contracts) {
    if (AsStringView(c.address) == address) return c.name;
  }
  return "";
}

// `now_s` is the block time (seconds) of the block at `height`: voting periods are block time.
Result<json> ProposalJson(const StateReader& state, const Genesis& genesis,
                          const nation::Proposal& p, uint64_t height, uint64_t now_s) {
  EXPLORER_ASSIGN(tally, nation::TallyOf(state, p));
  EXPLORER_ASSIGN(proposer_did, nation::DidOfAddress(state, p.proposer));
  json decision = json::object();
  switch (p.kind) {
    case nation::ProposalKind::kText:
      break;
    case nation::ProposalKind::kSpend:
      decision = {
          {"to", Hex(p.a)},
          {"amount", p.b.size() == 8 ? json(GetU64(reinterpret_cast<const uint8_t*>(p.b.data())))
                                     : json(nullptr)},
          {"every", p.c}};
      break;
    case nation::ProposalKind::kParam:
      decision = {{"contract", Hex(p.a)},
                  {"contract_name", ContractName(genesis, p.a)},
                  {"name", p.b},
                  {"value", p.c}};
      break;
    case nation::ProposalKind::kCouncil:
      decision = {{"member", Hex(p.a)}, {"add", p.c != 0}};
      break;
    case nation::ProposalKind::kUpgrade:
      decision = {
          {"target", Hex(p.a)}, {"target_name", ContractName(genesis, p.a)}, {"source", Hex(p.b)}};
      break;
  }
  return json{{"id", p.id},
              {"kind", std::string(nation::ProposalKindName(p.kind))},
              {"status", std::string(nation::ProposalStatusName(p.status))},
              {"failure", p.failure},
              {"proposer", ToHex(p.proposer)},
              {"proposer_did", proposer_did ? json(DidString(*proposer_did)) : json(nullptr)},
              {"deposit", p.deposit},
              {"method", std::string(nation::VotingMethodName(p.method))},
              {"quorum", p.quorum},
              {"threshold", p.threshold},
              {"dropped", p.dropped},
              {"start", p.start},
              {"end", p.end},
              {"voting_open",
               p.status == nation::ProposalStatus::kVoting && p.start <= now_s && now_s < p.end},
              {"eta", p.eta},
              {"executed", p.executed},
              {"voters", p.voters},
              {"sunset", p.sunset},
              {"text", p.text},
              {"decision", decision},
              {"paid_until", p.paid_until},
              {"in_force", nation::InForce(p, height)},
              {"tally",
               {{"yes", tally.yes},
                {"no", tally.no},
                {"abstain", tally.abstain},
                {"quorum_reached", tally.quorum_reached},
                {"passing", tally.passing}}}};
}

Result<json> GovernanceParams(const StateReader& state) {
  json out = json::object();
  for (const char* name : {"voting_period", "deposit", "timelock"}) {
    EXPLORER_ASSIGN(v, nation::ReadParam(state, nation::GovernanceAddress(), name));
    out[name] = v ? json(*v) : json(nullptr);
  }
  // Each kind's rules for proposals opened from now on (docs/NATION.md, "Voting methods").
  json kinds = json::object();
  for (const char* kind : kProposalKinds) {
    json rules = json::object();
    for (const char* field : {"method", "quorum", "threshold"}) {
      EXPLORER_ASSIGN(v, nation::ReadParam(state, nation::GovernanceAddress(),
                                           std::string(kind) + "." + field));
      if (std::string_view(field) == "method") {
        rules[field] =
            v && *v >= 1 && *v <= 3
                ? json(std::string(nation::VotingMethodName(static_cast<nation::VotingMethod>(*v))))
                : json(nullptr);
      } else {
        rules[field] = v ? json(*v) : json(nullptr);
      }
    }
    kinds[kind] = rules;
  }
  out["kinds"] = kinds;
  return out;
}

// ---- Endpoints. ---------------------------------------------------------------------------------

// The block time in seconds at the tip `tip` (the genesis time at height 0).
Result<uint64_t> TimeAt(const Store& store, const Genesis& genesis, uint64_t tip) {
  if (tip == 0) return genesis.genesis_time_ms / 1000;
  EXPLORER_ASSIGN(block, store.GetBlock(tip));
  return block.block().header().time_ms() / 1000;
}

Result<v1::CommittedBlock> BlockAt(const Store& store, uint64_t height) {
  const uint64_t tip = store.height();
  if (height == 0 || height > tip) {
    return Status::NotFound("no block at height " + std::to_string(height) + " (the tip is " +
                            std::to_string(tip) + ")");
  }
  return store.GetBlock(height);
}

Result<json> ApiStatus(const Store& store, const Genesis& genesis, const Params& params) {
  if (Status s = params.Only({}); !s.ok()) return s;
  const uint64_t tip = store.height();
  json j = {{"chain_id", genesis.chain_id},
            {"height", tip},
            {"genesis_time_ms", genesis.genesis_time_ms},
            {"treasury_address", ToHex(TreasuryAddress())}};
  if (tip > 0) {
    EXPLORER_ASSIGN(block, store.GetBlock(tip));
    EXPLORER_ASSIGN(summary, BlockJson(block, genesis));
    j["latest_block"] = summary;
  } else {
    j["latest_block"] = nullptr;
  }
  json validators = json::array();
  for (const auto& v : genesis.validators) {
    validators.push_back({{"name", v.name},
                          {"public_key", ToHex(v.public_key)},
                          {"address", ToHex(AddressOf(v.public_key))}});
  }
  j["validators"] = std::move(validators);
  StateAt state(store, tip);
  EXPLORER_ASSIGN(governance, GovernanceParams(state));
  j["governance"] = governance;
  EXPLORER_ASSIGN(citizens, nation::CitizenCount(state));
  j["citizens_ever_issued"] = citizens;
  EXPLORER_ASSIGN(proposals, nation::ProposalCount(state));
  j["proposals"] = proposals;
  return j;
}

Result<json> ApiBlocks(const Store& store, const Genesis& genesis, const Params& params) {
  if (Status s = params.Only({"before", "limit"}); !s.ok()) return s;
  const uint64_t tip = store.height();
  EXPLORER_ASSIGN(before, params.Get("before", tip + 1, 1));
  EXPLORER_ASSIGN(limit, params.Get("limit", kDefaultBlocks, 1, kMaxBlocks));
  json blocks = json::array();
  uint64_t h = std::min(before - 1, tip);
  for (; h >= 1 && blocks.size() < limit; --h) {
    EXPLORER_ASSIGN(block, store.GetBlock(h));
    EXPLORER_ASSIGN(summary, BlockJson(block, genesis));
    blocks.push_back(std::move(summary));
  }
  // `h` is the next height to list; 0 when the list reached the first block.
  return json{{"tip", tip},
              {"blocks", std::move(blocks)},
              {"next_before", h >= 1 ? json(h + 1) : json(nullptr)}};
}

Result<json> ApiBlock(const Store& store, const Genesis& genesis, std::string_view arg,
                      const Params& params) {
  if (Status s = params.Only({"tx_start", "tx_limit"}); !s.ok()) return s;
  EXPLORER_ASSIGN(tx_start, params.Get("tx_start", 0, 0));
  EXPLORER_ASSIGN(tx_limit, params.Get("tx_limit", kDefaultBlockTxs, 1, kMaxBlockTxs));
  uint64_t height = 0;
  if (auto h = ParseU64(arg)) {
    height = *h;
  } else if (auto id = FixedFromHex<32>(arg); id && arg.size() == 64) {
    auto found = store.GetBlockHeight(*id);
    if (!found.ok()) return found.status();
    height = *found;
  } else {
    return BadRequest(QuoteInput(arg) + " is neither a height nor a 64-digit block id");
  }
  EXPLORER_ASSIGN(block, BlockAt(store, height));
  EXPLORER_ASSIGN(j, BlockJson(block, genesis));
  DidNames names(store);
  json txs = json::array();
  const uint64_t count = static_cast<uint64_t>(block.block().txs_size());
  for (uint64_t i = tx_start; i < count && i < tx_start + tx_limit; ++i) {
    const auto& env = block.block().txs(static_cast<int>(i));
    EXPLORER_ASSIGN(receipt, store.GetReceipt({height, static_cast<uint32_t>(i)}, env));
    EXPLORER_ASSIGN(tx, TxJson(env, receipt, genesis, names, false));
    txs.push_back(std::move(tx));
  }
  j["tx_start"] = tx_start;
  j["txs"] = std::move(txs);
  j["tip"] = store.height();
  return j;
}

Result<json> ApiTx(const Store& store, const Genesis& genesis, std::string_view arg,
                   const Params& params) {
  if (Status s = params.Only({}); !s.ok()) return s;
  auto id = FixedFromHex<32>(arg);
  if (!id || arg.size() != 64) return BadRequest("a transaction id is 64 hex digits");
  EXPLORER_ASSIGN(loc, store.GetTxLocation(*id));
  EXPLORER_ASSIGN(block, store.GetBlock(loc.height));
  if (static_cast<int>(loc.index) >= block.block().txs_size()) {
    return Status::Corruption("transaction index outside its block");
  }
  EXPLORER_ASSIGN(receipt, store.GetReceipt(loc, *id));
  DidNames names(store);
  EXPLORER_ASSIGN(
      j, TxJson(block.block().txs(static_cast<int>(loc.index)), receipt, genesis, names, true));
  EXPLORER_ASSIGN(block_id, BlockId(block.block().header()));
  j["block_id"] = ToHex(block_id);
  j["time_ms"] = block.block().header().time_ms();
  return j;
}

Result<json> ApiDid(const Store& store, std::string_view did, const Params& params) {
  if (Status s = params.Only({"version"}); !s.ok()) return s;
  EXPLORER_ASSIGN(version, params.Get("version", 0, 1));
  auto id = ParseDid(did);
  if (!id) return Status::Invalid("invalid_did", QuoteInput(did) + " is not a valid DID");
  const uint64_t tip = store.height();
  StateAt state(store, tip);
  EXPLORER_ASSIGN(record, nation::ReadDid(state, *id));
  if (!record) {
    return Status::NotFound(QuoteInput(did) + " is not registered at height " +
                            std::to_string(tip));
  }
  // The latest version is resolved at `tip`, like the rest of the answer.
  DidQuery query;
  query.at_height = version == 0 ? tip : 0;
  query.version_id = version;
  EXPLORER_ASSIGN(answer, ResolveDidAt(store, did, query));
  if (answer.error == "notFound") {
    return Status::Error(Status::Code::kNotFound, "version_not_found",
                         QuoteInput(did) + " has no version " + std::to_string(version));
  }
  json versions = json::array();
  const uint64_t first =
      record->version > kMaxDidVersions ? record->version - kMaxDidVersions + 1 : 1;
  for (uint64_t v = first; v <= record->version; ++v) {
    EXPLORER_ASSIGN(h, nation::DidVersionHeight(state, *id, v));
    versions.push_back({{"version", v}, {"height", h ? json(*h) : json(nullptr)}});
  }
  EXPLORER_ASSIGN(citizenship, nation::ReadCitizenship(state, *id));
  return json{{"did", DidString(*id)},
              {"height", tip},
              {"version", answer.version_id},
              {"latest_version", record->version},
              {"resolved_at_height", answer.height},
              {"created", record->created},
              {"updated", record->updated},
              {"deactivated", record->deactivated.has_value()},
              {"controller_address", ToHex(AddressOf(record->controller_key))},
              {"resolution", json::parse(answer.result_json)},
              {"versions", std::move(versions)},
              {"citizenship", CitizenJson(citizenship, tip)}};
}

Result<json> ApiCitizens(const Store& store, const Params& params) {
  if (Status s = params.Only({"start", "limit"}); !s.ok()) return s;
  EXPLORER_ASSIGN(start, params.Get("start", 0, 0));
  EXPLORER_ASSIGN(limit, params.Get("limit", kDefaultCitizens, 1, kMaxCitizens));
  const uint64_t tip = store.height();
  StateAt state(store, tip);
  EXPLORER_ASSIGN(total, nation::CitizenCount(state));
  EXPLORER_ASSIGN(page, nation::ListCitizens(state, start, limit));
  json citizens = json::array();
  for (const auto& c : page) citizens.push_back(CitizenJson(c, tip));
  const uint64_t next = start + page.size();
  return json{{"height", tip},
              {"total", total},
              {"start", start},
              {"citizens", std::move(citizens)},
              {"next_start", next < total ? json(next) : json(nullptr)}};
}

Result<json> ApiProposals(const Store& store, const Genesis& genesis, const Params& params) {
  if (Status s = params.Only({"before", "limit"}); !s.ok()) return s;
  const uint64_t tip = store.height();
  StateAt state(store, tip);
  EXPLORER_ASSIGN(total, nation::ProposalCount(state));
  EXPLORER_ASSIGN(now_s, TimeAt(store, genesis, tip));
  EXPLORER_ASSIGN(before, params.Get("before", total + 1, 1));
  EXPLORER_ASSIGN(limit, params.Get("limit", kDefaultProposals, 1, kMaxProposals));
  json proposals = json::array();
  uint64_t id = std::min(before - 1, total);
  for (; id >= 1 && proposals.size() < limit; --id) {
    EXPLORER_ASSIGN(p, nation::ReadProposal(state, id));
    if (!p) continue;
    EXPLORER_ASSIGN(pj, ProposalJson(state, genesis, *p, tip, now_s));
    proposals.push_back(std::move(pj));
  }
  EXPLORER_ASSIGN(governance, GovernanceParams(state));
  return json{{"height", tip},
              {"time", now_s},
              {"total", total},
              {"governance", governance},
              {"proposals", std::move(proposals)},
              {"next_before", id >= 1 ? json(id + 1) : json(nullptr)}};
}

Result<json> ApiProposal(const Store& store, const Genesis& genesis, std::string_view arg,
                         const Params& params) {
  if (Status s = params.Only({}); !s.ok()) return s;
  auto id = ParseU64(arg);
  if (!id || *id == 0) return BadRequest("a proposal id is a positive integer");
  const uint64_t tip = store.height();
  StateAt state(store, tip);
  EXPLORER_ASSIGN(p, nation::ReadProposal(state, *id));
  if (!p) return Status::NotFound("no proposal " + std::to_string(*id));
  EXPLORER_ASSIGN(now_s, TimeAt(store, genesis, tip));
  EXPLORER_ASSIGN(j, ProposalJson(state, genesis, *p, tip, now_s));
  EXPLORER_ASSIGN(governance, GovernanceParams(state));
  j["height"] = tip;
  j["time"] = now_s;
  j["governance"] = governance;
  return j;
}

Result<json> ApiTreasury(const Store& store, const Params& params) {
  if (Status s = params.Only({"points"}); !s.ok()) return s;
  EXPLORER_ASSIGN(points, params.Get("points", kDefaultPoints, 2, kMaxPoints));
  const uint64_t tip = store.height();
  EXPLORER_ASSIGN(info, nation::ReadTreasury(StateAt(store, tip)));
  // The balance at `points` heights spread evenly over [first, tip], both ends included: from
  // genesis, or from the oldest state a pruning node keeps.
  json history = json::array();
  const uint64_t first = std::min(store.StateKeptFrom(), tip);
  const uint64_t n = std::min(points, tip - first + 1);
  uint64_t last = UINT64_MAX;
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t h = n == 1
                           ? tip
                           : first + static_cast<uint64_t>(
                                         static_cast<unsigned __int128>(tip - first) * i / (n - 1));
    if (h == last) continue;
    last = h;
    auto account = StateAt(store, h).Get(AccountKey(TreasuryAddress()));
    if (!account.ok() && account.status().reason() == "pruned") continue;  // pruned meanwhile
    if (!account.ok()) return account.status();
    uint64_t balance = 0;
    if (*account) {
      EXPLORER_ASSIGN(decoded, DecodeAccount(**account));
      balance = decoded.balance;
    }
    history.push_back({{"height", h}, {"balance", balance}});
  }
  return json{{"address", ToHex(TreasuryAddress())},
              {"height", tip},
              {"balance", info.balance},
              {"spent", info.spent},
              {"history", std::move(history)}};
}

// Fees per block and transfers touching the treasury in blocks [from, to]: ScanTreasuryMovements,
// as gRPC ListTreasuryMovements reads them (docs/NATION.md "Queries").
Result<json> ApiTreasuryMovements(const Store& store, const Params& params) {
  if (Status s = params.Only({"from", "to"}); !s.ok()) return s;
  const uint64_t tip = store.height();
  EXPLORER_ASSIGN(to_asked, params.Get("to", tip, 1));
  const uint64_t to = std::min(to_asked, tip);
  const uint64_t default_from = to >= kMaxTreasuryScanBlocks ? to - kMaxTreasuryScanBlocks + 1 : 1;
  EXPLORER_ASSIGN(from, params.Get("from", default_from, 1));
  if (from <= to && to - from >= kMaxTreasuryScanBlocks) {
    return BadRequest("from..to spans more than " + std::to_string(kMaxTreasuryScanBlocks) +
                      " blocks");
  }
  EXPLORER_ASSIGN(scan, ScanTreasuryMovements(store, from, to, kMaxTreasuryScanBlocks));
  json movements = json::array();
  for (const auto& m : scan.movements) {
    const bool fees = m.kind == "fees";
    movements.push_back({{"height", m.height},
                         {"tx_id", fees ? json(nullptr) : json(Hex(m.tx_id))},
                         {"kind", m.kind},
                         {"amount", m.amount},
                         {"counterparty", fees ? json(nullptr) : json(Hex(m.counterparty))},
                         {"proposal_id", m.proposal_id ? json(m.proposal_id) : json(nullptr)}});
  }
  return json{{"from", from}, {"to", to}, {"tip", tip}, {"movements", std::move(movements)}};
}

// ---- Routing. -----------------------------------------------------------------------------------

std::vector<std::string_view> Split(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    const auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

Result<json> RouteApi(const Store& store, const Genesis& genesis, std::string_view path,
                      const Params& params) {
  std::vector<std::string> parts;
  for (auto segment : Split(path)) {
    auto decoded = PercentDecode(segment);
    if (!decoded) return BadRequest("bad percent-encoding in the path");
    parts.push_back(std::move(*decoded));
  }
  auto is = [&](std::initializer_list<std::string_view> want) {
    return parts.size() == want.size() &&
           std::equal(want.begin(), want.end(), parts.begin(),
                      [](std::string_view w, const std::string& p) { return w == "*" || w == p; });
  };
  if (is({"status"})) return ApiStatus(store, genesis, params);
  if (is({"blocks"})) return ApiBlocks(store, genesis, params);
  if (is({"blocks", "*"})) return ApiBlock(store, genesis, parts[1], params);
  if (is({"tx", "*"})) return ApiTx(store, genesis, parts[1], params);
  if (is({"did", "*"})) return ApiDid(store, parts[1], params);
  if (is({"citizens"})) return ApiCitizens(store, params);
  if (is({"proposals"})) return ApiProposals(store, genesis, params);
  if (is({"proposals", "*"})) return ApiProposal(store, genesis, parts[1], params);
  if (is({"treasury"})) return ApiTreasury(store, params);
  if (is({"treasury", "movements"})) return ApiTreasuryMovements(store, params);
  return Status::NotFound("no API endpoint /api/" + QuoteInput(path));
}

HttpReply JsonReply(int status, const json& body) {
  HttpReply r;
  r.status = status;
  r.content_type = "application/json";
  // Chain strings are arbitrary bytes: invalid UTF-8 becomes U+FFFD rather than an exception.
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  r.headers = {{"Cache-Control", "no-store"}, {"X-Content-Type-Options", "nosniff"}};
  return r;
}

HttpReply ApiReply(const Store& store, const Genesis& genesis, std::string_view path,
                   std::string_view query) {
  auto params = Params::Parse(query);
  Result<json> answer =
      params.ok() ? RouteApi(store, genesis, path, *params) : Result<json>(params.status());
  if (answer.ok()) return JsonReply(200, *answer);
  const Status& s = answer.status();
  int status = 500;
  if (s.code() == Status::Code::kInvalidArgument) status = 400;
  if (s.code() == Status::Code::kNotFound) status = 404;
  return JsonReply(status, {{"error", s.reason()}, {"message", s.message()}});
}

std::string_view ContentTypeOf(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  return "application/octet-stream";
}

HttpReply AssetReply(std::string_view name) {
  for (const auto& a : ExplorerAssets()) {
    if (a.name != name) continue;
    HttpReply r;
    r.content_type = ContentTypeOf(name);
    r.body = std::string(a.data);
    r.headers = {{"Content-Security-Policy", kContentSecurityPolicy},
                 {"X-Content-Type-Options", "nosniff"},
                 {"Referrer-Policy", "no-referrer"},
                 {"Cache-Control", "no-cache"}};
    return r;
  }
  return {404, "text/plain", "not found\n", {}};
}

#undef EXPLORER_ASSIGN

}  // namespace

HttpReply ServeExplorer(const Store& store, const Genesis& genesis, std::string_view target) {
  const auto q = target.find('?');
  const std::string_view path = target.substr(0, q);
  const std::string_view query = q == std::string_view::npos ? "" : target.substr(q + 1);
  try {
    if (path == "/") return AssetReply("index.html");
    if (path.starts_with("/static/")) return AssetReply(path.substr(8));
    if (path.starts_with("/api/")) return ApiReply(store, genesis, path.substr(5), query);
  } catch (const std::exception& e) {
    // The HTTP thread serves everything else too: a bug here must not take it down.
    return JsonReply(500, {{"error", "internal"}, {"message", e.what()}});
  }
  return {404, "text/plain", "not found\n", {}};
}

}  // namespace civitas::node
