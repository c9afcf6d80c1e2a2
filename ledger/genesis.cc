#include "ledger/genesis.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "ledger/epoch.h"
#include "ledger/system_contracts.h"

namespace civitas {
namespace {

using nlohmann::json;

// An integer as contracts store it: 8 bytes big-endian.
std::string Int(uint64_t v) {
  Bytes b;
  PutU64(b, v);
  return std::string(AsStringView(b));
}

json NationToJson(const Genesis& g) {
  json council = json::array();
  for (const auto& a : g.council()) council.push_back(ToHex(a));
  const NationParams& n = g.nation;
  json out = {{"council", council},
              {"council_approvals", g.council_approvals()},
              {"citizenship_validity", n.citizenship_validity},
              {"voting_period_s", n.voting_period_s},
              {"quorum", n.quorum},
              {"threshold", n.threshold},
              {"proposal_deposit", n.proposal_deposit},
              {"timelock_s", n.timelock_s}};
  if (!n.rules.empty()) {
    json rules = json::object();
    for (const auto& [kind, r] : n.rules) {
      rules[kind] = {{"method", r.method}, {"quorum", r.quorum}, {"threshold", r.threshold}};
    }
    out["rules"] = rules;
  }
  return out;
}

Status Bad(const std::string& msg) { return Status::Invalid("bad_genesis", msg); }

}  // namespace

NationParams::KindRules NationParams::RulesOf(const std::string& kind) const {
  auto it = rules.find(kind);
  return it != rules.end() ? it->second : KindRules{"token", quorum, threshold};
}

namespace {

bool ValidChainId(const std::string& id) {
  if (id.empty() || id.size() > kMaxChainIdLength) return false;
  for (char c : id) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
      return false;
  }
  return true;
}

json ToJson(const Genesis& g) {
  json j;
  j["chain_id"] = g.chain_id;
  j["genesis_time_ms"] = g.genesis_time_ms;
  j["validators"] = json::array();
  for (const auto& v : g.validators) {
    json jv = {{"name", v.name}, {"public_key", ToHex(v.public_key)}};
    if (!v.p2p.empty()) jv["p2p"] = v.p2p;
    j["validators"].push_back(jv);
  }
  j["accounts"] = json::array();
  for (const auto& a : g.accounts) {
    j["accounts"].push_back({{"address", ToHex(a.address)}, {"balance", a.balance}});
  }
  j["params"] = {{"gas_price", g.params.gas_price},
                 {"max_tx_gas", g.params.max_tx_gas},
                 {"tx_base_gas", g.params.tx_base_gas},
                 {"tx_byte_gas", g.params.tx_byte_gas},
                 {"deploy_byte_gas", g.params.deploy_byte_gas},
                 {"max_block_gas", g.params.max_block_gas}};
  // Written only when it is not the default, so the genesis files (and hashes) written before
  // the parameter existed stay what they were.
  if (g.params.heartbeat_ms != kDefaultHeartbeatMs) {
    j["params"]["heartbeat_ms"] = g.params.heartbeat_ms;
  }
  j["nation"] = NationToJson(g);
  j["system_contracts"] = json::array();
  for (const auto& c : BuiltSystemContracts()) {
    j["system_contracts"].push_back(
        {{"name", c.name}, {"address", ToHex(c.address)}, {"code_hash", ToHex(c.code_hash)}});
  }
  return j;
}

Status ParseNation(const json& j, Genesis& g) {
  NationParams& n = g.nation;
  if (j.contains("council")) {
    std::set<Address> seen;
    for (const auto& a : j["council"]) {
      auto addr = ParseAddress(a.get<std::string>());
      if (!addr) return Bad("nation.council: an address is 40 hex digits");
      if (!seen.insert(*addr).second) return Bad("nation.council: a member is listed twice");
      n.council.push_back(*addr);
    }
  }
  n.council_approvals = j.value("council_approvals", n.council_approvals);
  n.citizenship_validity = j.value("citizenship_validity", n.citizenship_validity);
  // Before issue 26 these two counted blocks; a file that still says so is refused rather than
  // read as seconds (a period of 17280 blocks is a day, 17280 seconds under five hours).
  for (const char* old_name : {"voting_period", "timelock"}) {
    if (j.contains(old_name)) {
      return Bad(std::string("nation.") + old_name +
                 " counted blocks; periods are seconds of block time now: use nation." + old_name +
                 "_s");
    }
  }
  n.voting_period_s = j.value("voting_period_s", n.voting_period_s);
  n.quorum = j.value("quorum", n.quorum);
  n.threshold = j.value("threshold", n.threshold);
  n.proposal_deposit = j.value("proposal_deposit", n.proposal_deposit);
  n.timelock_s = j.value("timelock_s", n.timelock_s);
  if (j.contains("rules")) {
    const json& rules = j["rules"];
    if (!rules.is_object()) return Bad("nation.rules is an object of proposal kinds");
    for (const auto& item : rules.items()) {
      const std::string& kind = item.key();
      const json& r = item.value();
      if (std::find_if(std::begin(kProposalKinds), std::end(kProposalKinds),
                       [&](const char* k) { return kind == k; }) == std::end(kProposalKinds)) {
        return Bad("nation.rules: unknown proposal kind '" + kind +
                   "' (text, spend, parameter, council, upgrade)");
      }
      if (!r.is_object()) return Bad("nation.rules." + kind + " is an object");
      NationParams::KindRules k{"token", n.quorum, n.threshold};
      k.method = r.value("method", k.method);
      k.quorum = r.value("quorum", k.quorum);
      k.threshold = r.value("threshold", k.threshold);
      if (k.method != "token" && k.method != "citizen" && k.method != "quadratic") {
        return Bad("nation.rules." + kind + ".method is token, citizen or quadratic");
      }
      if (k.quorum < 1 || k.quorum > static_cast<uint64_t>(INT64_MAX)) {
        return Bad("nation.rules." + kind + ".quorum must be at least 1 and fit 64 bits");
      }
      if (k.threshold > 99) {
        return Bad("nation.rules." + kind + ".threshold is a percentage below 100");
      }
      n.rules[kind] = k;
    }
  }
  return Status::Ok();
}

Status CheckNation(const Genesis& g, bool draft) {
  const NationParams& n = g.nation;
  const uint64_t kMax = static_cast<uint64_t>(INT64_MAX);
  for (uint64_t v : {n.council_approvals, n.citizenship_validity, n.voting_period_s, n.quorum,
                     n.threshold, n.proposal_deposit, n.timelock_s}) {
    if (v > kMax) return Bad("nation: every parameter must fit a signed 64-bit integer");
  }
  const uint64_t members = g.council().size();
  // A draft's default council grows as validators are added: its bound is checked at the end.
  const bool council_incomplete = draft && n.council.empty();
  if (members == 0 && !council_incomplete) return Bad("nation: the council is empty");
  if (!council_incomplete && (g.council_approvals() < 1 || g.council_approvals() > members)) {
    return Bad("nation.council_approvals must be between 1 and the size of the council");
  }
  if (n.citizenship_validity < 1) return Bad("nation.citizenship_validity must be at least 1");
  if (n.voting_period_s < 1) return Bad("nation.voting_period_s must be at least 1");
  if (n.threshold > 99) return Bad("nation.threshold is a percentage below 100");
  return Status::Ok();
}

Status CheckSystemContracts(const json& list) {
  const auto& built = BuiltSystemContracts();
  if (!list.is_array() || list.size() != built.size()) {
    return Bad("system_contracts must list the " + std::to_string(built.size()) +
               " system contracts of this build");
  }
  for (size_t i = 0; i < built.size(); ++i) {
    const auto& c = built[i];
    const json& e = list[i];
    if (e.at("name").get<std::string>() != c.name) {
      return Bad("system_contracts[" + std::to_string(i) + "] must be " + c.name);
    }
    auto addr = ParseAddress(e.at("address").get<std::string>());
    if (!addr || *addr != c.address) {
      return Bad("system contract " + c.name + " must be at " + ToHex(c.address));
    }
    auto hash = FixedFromHex<32>(e.at("code_hash").get<std::string>());
    if (!hash || *hash != c.code_hash) {
      return Bad("system contract " + c.name + ": code_hash " +
                 e.at("code_hash").get<std::string>() + " does not match this build's " +
                 ToHex(c.code_hash));
    }
  }
  return Status::Ok();
}

}  // namespace

const std::vector<GenesisContract>& BuiltSystemContracts() {
  static const std::vector<GenesisContract> contracts = [] {
    std::vector<GenesisContract> out;
    for (const auto& c : nation::SystemContracts()) {
      out.push_back({std::string(c.name), SystemAddress(c.name), crypto::Sha256(c.code)});
    }
    return out;
  }();
  return contracts;
}

std::vector<Address> Genesis::council() const {
  if (!nation.council.empty()) return nation.council;
  std::vector<Address> out;
  for (const auto& v : validators) out.push_back(AddressOf(v.public_key));
  return out;
}

uint64_t Genesis::council_approvals() const {
  if (nation.council_approvals != 0) return nation.council_approvals;
  return council().size() / 2 + 1;
}

ValidatorSet Genesis::validator_set() const {
  std::vector<crypto::PublicKey> keys;
  for (const auto& v : validators) keys.push_back(v.public_key);
  return ValidatorSet(std::move(keys));
}

StateWrites Genesis::InitialState() const {
  StateWrites w;
  for (const auto& a : accounts) w[AccountKey(a.address)] = EncodeAccount({a.balance, 0});
  // The system contracts, at their fixed addresses.
  for (const auto& c : nation::SystemContracts()) {
    Hash32 code_hash = crypto::Sha256(c.code);
    w[CodeKey(code_hash)] = std::string(c.code);
    w[CodeHashKey(SystemAddress(c.name))] = std::string(AsStringView(code_hash));
  }
  // Their founding storage (layouts in genesis/contracts/*.casm and docs/NATION.md).
  const Address citizenship = SystemAddress("citizenship");
  const std::vector<Address> members = council();
  w[StorageKey(citizenship, "param/approvals")] = Int(council_approvals());
  w[StorageKey(citizenship, "param/validity")] = Int(nation.citizenship_validity);
  w[StorageKey(citizenship, "council/n")] = Int(members.size());
  for (size_t i = 0; i < members.size(); ++i) {
    w[StorageKey(citizenship, "council/" + Int(i))] = std::string(AsStringView(members[i]));
    w[StorageKey(citizenship, "member/" + std::string(AsStringView(members[i])))] = Int(1);
  }
  // Council members who run a genesis validator have that validator's key on record; the
  // validator set of epoch 0 is the genesis validators (ledger/epoch.h).
  ValidatorsRecord record;
  for (const auto& v : validators) {
    Address a = AddressOf(v.public_key);
    if (std::find(members.begin(), members.end(), a) != members.end()) {
      w[StorageKey(citizenship, "key/" + std::string(AsStringView(a)))] =
          std::string(AsStringView(v.public_key));
    }
    record.keys.push_back(v.public_key);
  }
  w[ValidatorsKey()] = EncodeValidators(record);
  const Address governance = SystemAddress("governance");
  w[StorageKey(governance, "param/voting_period")] = Int(nation.voting_period_s);
  for (const char* kind : kProposalKinds) {
    const NationParams::KindRules r = nation.RulesOf(kind);
    const uint64_t method = r.method == "citizen" ? 2 : r.method == "quadratic" ? 3 : 1;
    w[StorageKey(governance, std::string("param/") + kind + ".method")] = Int(method);
    w[StorageKey(governance, std::string("param/") + kind + ".quorum")] = Int(r.quorum);
    w[StorageKey(governance, std::string("param/") + kind + ".threshold")] = Int(r.threshold);
  }
  w[StorageKey(governance, "param/deposit")] = Int(nation.proposal_deposit);
  w[StorageKey(governance, "param/timelock")] = Int(nation.timelock_s);
  return w;
}

bool ValidP2pEndpoint(std::string_view e) {
  auto colon = e.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string_view host = e.substr(0, colon), port = e.substr(colon + 1);
  if (port.empty() || port.size() > 5) return false;
  uint32_t p = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    p = p * 10 + static_cast<uint32_t>(c - '0');
  }
  if (p == 0 || p > 65535) return false;
  if (host.front() == '[') {  // an IPv6 literal
    if (host.size() < 4 || host.back() != ']') return false;
    for (char c : host.substr(1, host.size() - 2)) {
      if (!(std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.')) return false;
    }
    return true;
  }
  if (host.size() > 253) return false;
  for (char c : host) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.')) return false;
  }
  return true;
}

namespace {

Result<Genesis> Parse(std::string_view text, bool draft) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Bad("not a JSON object");
  Genesis g;
  try {
    g.chain_id = j.at("chain_id").get<std::string>();
    if (!ValidChainId(g.chain_id)) {
      return Bad("chain_id must be 1-64 characters of [A-Za-z0-9._-]");
    }
    g.genesis_time_ms = j.value("genesis_time_ms", uint64_t{0});
    std::set<crypto::PublicKey> keys;
    for (const auto& v : j.at("validators")) {
      GenesisValidator gv;
      gv.name = v.value("name", std::string());
      gv.p2p = v.value("p2p", std::string());
      if (!gv.p2p.empty() && !ValidP2pEndpoint(gv.p2p)) {
        return Bad("validator " + gv.name + ": p2p '" + gv.p2p + "' is not host:port");
      }
      auto pk = FixedFromHex<32>(v.at("public_key").get<std::string>());
      if (!pk || !crypto::IsValidPublicKey(*pk)) return Bad("validator public_key is invalid");
      if (!keys.insert(*pk).second) return Bad("validator listed twice");
      gv.public_key = *pk;
      g.validators.push_back(gv);
    }
    if (g.validators.empty() && !draft) return Bad("at least one validator is needed");
    if (g.validators.size() > kMaxValidators) {
      return Bad("at most " + std::to_string(kMaxValidators) + " validators");
    }
    std::set<Address> addrs;
    uint64_t supply = 0;
    for (const auto& a : j.at("accounts")) {
      GenesisAccount ga;
      auto addr = ParseAddress(a.at("address").get<std::string>());
      if (!addr) return Bad("account address must be 40 hex digits");
      if (!addrs.insert(*addr).second) return Bad("account listed twice");
      ga.address = *addr;
      ga.balance = a.at("balance").get<uint64_t>();
      if (supply > UINT64_MAX - ga.balance) return Bad("total supply overflows 64 bits");
      supply += ga.balance;
      g.accounts.push_back(ga);
    }
    if (j.contains("params")) {
      const auto& p = j["params"];
      g.params.gas_price = p.value("gas_price", g.params.gas_price);
      g.params.max_tx_gas = p.value("max_tx_gas", g.params.max_tx_gas);
      g.params.tx_base_gas = p.value("tx_base_gas", g.params.tx_base_gas);
      g.params.tx_byte_gas = p.value("tx_byte_gas", g.params.tx_byte_gas);
      g.params.deploy_byte_gas = p.value("deploy_byte_gas", g.params.deploy_byte_gas);
      g.params.max_block_gas = p.value("max_block_gas", g.params.max_block_gas);
      g.params.heartbeat_ms = p.value("heartbeat_ms", g.params.heartbeat_ms);
    }
    if (j.contains("nation")) {
      Status s = ParseNation(j["nation"], g);
      if (!s.ok()) return s;
    }
    // A file written before the system contracts existed gets this build's; a file that names
    // them must name exactly this build's code.
    if (j.contains("system_contracts")) {
      Status s = CheckSystemContracts(j["system_contracts"]);
      if (!s.ok()) return s;
    }
    g.system_contracts = BuiltSystemContracts();
  } catch (const json::exception& e) {
    return Bad(std::string("missing or mistyped field: ") + e.what());
  }
  const auto& p = g.params;
  if (p.max_tx_gas == 0 || p.max_tx_gas > (uint64_t{1} << 40) ||
      p.gas_price > (uint64_t{1} << 20)) {
    return Bad("params: max_tx_gas must be in [1, 2^40] and gas_price at most 2^20");
  }
  if (p.tx_base_gas + p.tx_byte_gas * kMaxTxBytes > p.max_tx_gas) {
    return Bad("params: the intrinsic gas of the largest transaction exceeds max_tx_gas");
  }
  if (p.max_block_gas < p.max_tx_gas || p.max_block_gas > kMaxBlockGasBound) {
    return Bad("params: max_block_gas must be in [max_tx_gas, 2^40]");
  }
  if (p.heartbeat_ms < kMinHeartbeatMs || p.heartbeat_ms > kMaxHeartbeatMs) {
    return Bad("params: heartbeat_ms must be in [10, 3600000]");
  }
  Status nation = CheckNation(g, draft);
  if (!nation.ok()) return nation;
  g.hash = crypto::Sha256(ToJson(g).dump());
  return g;
}

}  // namespace

Result<Genesis> ParseGenesis(std::string_view text) { return Parse(text, /*draft=*/false); }
Result<Genesis> ParseGenesisDraft(std::string_view text) { return Parse(text, /*draft=*/true); }

Result<Genesis> LoadGenesisFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::IOError("cannot read genesis file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseGenesis(ss.str());
}

std::string GenesisToJson(const Genesis& g, int indent) { return ToJson(g).dump(indent) + "\n"; }

}  // namespace civitas
