#include "ledger/genesis.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace civitas {
namespace {

using nlohmann::json;

Status Bad(const std::string& msg) { return Status::Invalid("bad_genesis", msg); }

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
    j["validators"].push_back({{"name", v.name}, {"public_key", ToHex(v.public_key)}});
  }
  j["accounts"] = json::array();
  for (const auto& a : g.accounts) {
    j["accounts"].push_back({{"address", ToHex(a.address)}, {"balance", a.balance}});
  }
  j["params"] = {{"gas_price", g.params.gas_price},
                 {"max_tx_gas", g.params.max_tx_gas},
                 {"tx_base_gas", g.params.tx_base_gas},
                 {"tx_byte_gas", g.params.tx_byte_gas},
                 {"deploy_byte_gas", g.params.deploy_byte_gas}};
  return j;
}

}  // namespace

ValidatorSet Genesis::validator_set() const {
  std::vector<crypto::PublicKey> keys;
  for (const auto& v : validators) keys.push_back(v.public_key);
  return ValidatorSet(std::move(keys));
}

StateWrites Genesis::InitialState() const {
  StateWrites w;
  for (const auto& a : accounts) w[AccountKey(a.address)] = EncodeAccount({a.balance, 0});
  return w;
}

Result<Genesis> ParseGenesis(std::string_view text) {
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
      auto pk = FixedFromHex<32>(v.at("public_key").get<std::string>());
      if (!pk || !crypto::IsValidPublicKey(*pk)) return Bad("validator public_key is invalid");
      if (!keys.insert(*pk).second) return Bad("validator listed twice");
      gv.public_key = *pk;
      g.validators.push_back(gv);
    }
    if (g.validators.empty()) return Bad("at least one validator is needed");
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
    }
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
  g.hash = crypto::Sha256(ToJson(g).dump());
  return g;
}

Result<Genesis> LoadGenesisFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::IOError("cannot read genesis file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseGenesis(ss.str());
}

std::string GenesisToJson(const Genesis& g, int indent) { return ToJson(g).dump(indent) + "\n"; }

}  // namespace civitas
