#include "node/ceremony.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "ledger/address.h"
#include "ledger/keyfile.h"
#include "node/home.h"

namespace civitas::node {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

Status Exists(const std::string& what) {
  return Status::Error(Status::Code::kAlreadyExists, "exists", what);
}
Status BadDraft(const std::string& msg) { return Status::Invalid("bad_draft", msg); }

Result<std::string> ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Status::IOError("cannot read " + path);
  return ss.str();
}

// Writes through a temporary file and a rename, so a failed write leaves `path` as it was.
Status ReplaceFile(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc | std::ios::binary);
    out << text;
    out.close();
    if (!out) {
      std::error_code ec;
      fs::remove(tmp, ec);
      return Status::IOError("cannot write " + tmp);
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return Status::IOError("cannot replace " + path + ": " + ec.message());
  return Status::Ok();
}

Result<json> LoadDraft(const std::string& path) {
  auto text = ReadText(path);
  if (!text.ok()) return text.status();
  json j = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return BadDraft(path + " is not a JSON object");
  auto parsed = ParseGenesisDraft(*text);
  if (!parsed.ok()) return BadDraft(path + ": " + parsed.status().message());
  return j;
}

// Checks the changed draft as ParseGenesis would and writes it; on a refusal nothing changes.
Status StoreDraft(const std::string& path, const json& j) {
  const std::string text = j.dump(2) + "\n";
  auto parsed = ParseGenesisDraft(text);
  if (!parsed.ok()) return parsed.status();
  return ReplaceFile(path, text);
}

// A decimal uint64 (the whole range: balances may need all 20 digits).
std::optional<uint64_t> ParseAmount(const std::string& s) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string Thousands(uint64_t v) {
  std::string s = std::to_string(v), out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i > 0 && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return out;
}

}  // namespace

Status WriteNewFile(const std::string& path, const std::string& text) {
  std::error_code ec;
  if (fs::exists(path, ec)) return Exists(path + " exists already; refusing to overwrite it");
  return ReplaceFile(path, text);
}

Result<crypto::PublicKey> InitMemberHome(const Config& config) {
  for (const std::string& p :
       {config.ValidatorKeyPath(), config.ConfigPath(), config.GenesisPath()}) {
    std::error_code ec;
    if (fs::exists(p, ec))
      return Exists(config.home + " is already initialised (" + p + " exists)");
  }
  if (!ValidMoniker(config.moniker)) {
    return Status::Invalid("bad_config", "moniker '" + config.moniker +
                                             "' must be 1-64 characters of [A-Za-z0-9._-] (it "
                                             "names this member in the genesis council)");
  }
  Status s = ValidateConfig(config);
  if (!s.ok()) return s;
  std::error_code ec;
  fs::create_directories(config.home + "/config", ec);
  if (ec) return Status::IOError("cannot create " + config.home + ": " + ec.message());
  auto key = crypto::SecretKey::Generate();
  s = WriteKeyFile(config.ValidatorKeyPath(), key);
  if (!s.ok()) return s;
  s = ReplaceFile(config.ConfigPath(), ConfigToToml(config));
  if (!s.ok()) return s;
  return key.public_key();
}

Result<GenesisOffer> MakeHomeOffer(const std::string& home, const std::string& p2p) {
  auto config = LoadConfig(home);
  if (!config.ok()) return config.status();
  auto key = ReadKeyFile(config->ValidatorKeyPath());
  if (!key.ok()) return key.status();
  return MakeGenesisOffer(*key, config->moniker, p2p);
}

Result<GenesisOffer> ReadGenesisOfferFile(const std::string& path) {
  auto text = ReadText(path);
  if (!text.ok()) return text.status();
  auto offer = ParseGenesisOffer(*text);
  if (!offer.ok()) {
    return Status::Invalid(offer.status().reason(),
                           "offer " + path + " is refused: " + offer.status().message());
  }
  return offer;
}

Status NewGenesisDraft(const std::string& path, const std::string& chain_id,
                       uint64_t genesis_time_ms) {
  json j;
  j["chain_id"] = chain_id;
  j["genesis_time_ms"] = genesis_time_ms;
  j["validators"] = json::array();
  j["accounts"] = json::array();
  const std::string text = j.dump(2) + "\n";
  auto parsed = ParseGenesisDraft(text);
  if (!parsed.ok()) return parsed.status();
  return WriteNewFile(path, text);
}

Result<std::vector<GenesisOffer>> AddValidatorsToDraft(const std::string& draft,
                                                       const std::vector<std::string>& offers) {
  auto j = LoadDraft(draft);
  if (!j.ok()) return j.status();
  std::set<std::string> names, keys, endpoints;
  for (const auto& v : (*j)["validators"]) {
    names.insert(v.value("name", std::string()));
    keys.insert(v.value("public_key", std::string()));
    if (v.contains("p2p")) endpoints.insert(v.value("p2p", std::string()));
  }
  std::vector<GenesisOffer> added;
  for (const std::string& path : offers) {
    auto offer = ReadGenesisOfferFile(path);
    if (!offer.ok()) return offer.status();
    const std::string key = ToHex(offer->public_key);
    auto dup = [&](const std::string& what) {
      return Status::Invalid("duplicate_validator", "offer " + path + " is refused: " + what +
                                                        " is already in the draft " + draft);
    };
    if (!keys.insert(key).second) return dup("its public key " + key);
    if (!names.insert(offer->moniker).second) return dup("its moniker '" + offer->moniker + "'");
    if (!endpoints.insert(offer->p2p).second) return dup("its endpoint " + offer->p2p);
    (*j)["validators"].push_back(
        {{"name", offer->moniker}, {"public_key", key}, {"p2p", offer->p2p}});
    added.push_back(*offer);
  }
  Status s = StoreDraft(draft, *j);
  if (!s.ok()) return s;
  return added;
}

Status AddAccountToDraft(const std::string& draft, const std::string& address, uint64_t amount) {
  auto addr = ParseAddress(address);
  if (!addr || address.size() != 40) {
    return Status::Invalid("bad_draft", "account address '" + address + "' is not 40 hex digits");
  }
  auto j = LoadDraft(draft);
  if (!j.ok()) return j.status();
  for (const auto& a : (*j)["accounts"]) {
    if (ParseAddress(a.value("address", std::string())) == addr) {
      return BadDraft("account " + ToHex(*addr) + " is already in the draft " + draft);
    }
  }
  (*j)["accounts"].push_back({{"address", ToHex(*addr)}, {"balance", amount}});
  return StoreDraft(draft, *j);
}

Status SetDraftParam(const std::string& draft, const std::string& key, const std::string& value) {
  static const std::set<std::string> kIntegers = {
      "genesis_time_ms",          "params.gas_price",
      "params.max_tx_gas",        "params.tx_base_gas",
      "params.tx_byte_gas",       "params.deploy_byte_gas",
      "params.max_block_gas",     "params.heartbeat_ms",
      "nation.council_approvals", "nation.citizenship_validity",
      "nation.voting_period_s",   "nation.quorum",
      "nation.threshold",         "nation.proposal_deposit",
      "nation.timelock_s"};
  auto j = LoadDraft(draft);
  if (!j.ok()) return j.status();
  const auto dot = key.find('.');
  json& parent = dot == std::string::npos ? *j : (*j)[key.substr(0, dot)];
  const std::string field = dot == std::string::npos ? key : key.substr(dot + 1);
  if (kIntegers.count(key)) {
    auto v = ParseAmount(value);
    if (!v) return BadDraft(key + " takes a non-negative decimal integer, not '" + value + "'");
    parent[field] = *v;
  } else if (key == "nation.council") {
    json list = json::array();
    std::stringstream ss(value);
    for (std::string item; std::getline(ss, item, ',');) {
      auto addr = ParseAddress(item);
      if (!addr || item.size() != 40) {
        return BadDraft("nation.council: '" + item + "' is not an address of 40 hex digits");
      }
      list.push_back(ToHex(*addr));
    }
    parent[field] = list;
  } else if (key.rfind("nation.rules.", 0) == 0) {
    // nation.rules.<kind>.<method|quorum|threshold>: one kind's voting rules (docs/NATION.md).
    const std::string rest = key.substr(std::string("nation.rules.").size());
    const auto sep = rest.find('.');
    const std::string kind = rest.substr(0, sep);
    const std::string what = sep == std::string::npos ? "" : rest.substr(sep + 1);
    const bool known_kind = std::find(std::begin(kProposalKinds), std::end(kProposalKinds), kind) !=
                            std::end(kProposalKinds);
    if (!known_kind || (what != "method" && what != "quorum" && what != "threshold")) {
      return BadDraft("unknown parameter '" + key +
                      "' (nation.rules.<text|spend|parameter|council|upgrade>."
                      "<method|quorum|threshold>)");
    }
    json& rules = (*j)["nation"]["rules"][kind];
    if (what == "method") {
      if (value != "token" && value != "citizen" && value != "quadratic") {
        return BadDraft(key + " is token, citizen or quadratic, not '" + value + "'");
      }
      rules[what] = value;
    } else {
      auto v = ParseAmount(value);
      if (!v) return BadDraft(key + " takes a non-negative decimal integer, not '" + value + "'");
      rules[what] = *v;
    }
  } else if (key == "nation.voting_period" || key == "nation.timelock") {
    return BadDraft(key + " counted blocks; periods are seconds of block time now: use " + key +
                    "_s");
  } else {
    std::string known = "nation.council";
    for (const auto& k : kIntegers) known += ", " + k;
    return BadDraft("unknown parameter '" + key + "' (known: " + known + ")");
  }
  return StoreDraft(draft, *j);
}

Result<Genesis> FinalizeDraft(const std::string& draft, const std::string& out) {
  auto text = ReadText(draft);
  if (!text.ok()) return text.status();
  auto g = ParseGenesis(*text);
  if (!g.ok()) {
    return Status::Invalid(g.status().reason(), draft + ": " + g.status().message());
  }
  Status s = WriteNewFile(out, GenesisToJson(*g));
  if (!s.ok()) return s;
  return g;
}

Result<VerifiedGenesis> VerifyGenesisForHome(const std::string& file, const std::string& home,
                                             const std::string& expected_hash) {
  VerifiedGenesis v;
  auto text = ReadText(file);
  if (!text.ok()) return text.status();
  v.text = *text;
  auto g = ParseGenesis(v.text);
  if (!g.ok()) return Status::Invalid(g.status().reason(), file + ": " + g.status().message());
  v.genesis = std::move(*g);
  if (!expected_hash.empty()) {
    auto want = FixedFromHex<32>(expected_hash);
    if (!want) {
      return Status::Invalid("bad_hash", "--hash '" + expected_hash + "' is not 64 hex digits");
    }
    if (*want != v.genesis.hash) {
      return Status::Invalid(
          "hash_mismatch", file + " has the hash " + ToHex(v.genesis.hash) + ", not the expected " +
                               expected_hash +
                               ": it is not the genesis the council agreed on; not installed");
    }
  }
  auto config = LoadConfig(home);
  if (!config.ok()) return config.status();
  auto key = ReadKeyFile(config->ValidatorKeyPath());
  if (!key.ok()) return key.status();
  v.mine = key->public_key();
  bool member = false;
  for (const auto& val : v.genesis.validators) member = member || val.public_key == v.mine;
  if (!member) {
    return Status::Invalid("not_in_council",
                           "the council of " + file + " does not contain this node's key " +
                               ToHex(v.mine) + " (" + config->ValidatorKeyPath() +
                               "): it is not this council's genesis, or the coordinator left "
                               "this member's offer out; not installed");
  }
  Status s = CheckValidatorKey(*config, v.genesis, v.mine);
  if (!s.ok()) return s;
  std::error_code ec;
  if (fs::exists(config->GenesisPath(), ec)) {
    auto installed = LoadGenesisFile(config->GenesisPath());
    if (!installed.ok() || installed->hash != v.genesis.hash) {
      return Exists(config->GenesisPath() + " holds another genesis" +
                    (installed.ok() ? " (hash " + ToHex(installed->hash) + ")" : "") +
                    "; refusing to replace it");
    }
    v.already_installed = true;
  }
  return v;
}

Status InstallGenesis(const std::string& home, const VerifiedGenesis& v) {
  if (v.already_installed) return Status::Ok();
  Config c;
  c.home = home;
  return WriteNewFile(c.GenesisPath(), v.text);
}

std::string DescribeGenesis(const Genesis& g, const crypto::PublicKey* mine) {
  std::ostringstream o;
  const size_t n = g.validators.size();
  o << "genesis hash " << ToHex(g.hash) << "\n";
  const std::time_t secs = static_cast<std::time_t>(g.genesis_time_ms / 1000);
  std::tm tm{};
  char when[32] = "?";
  if (gmtime_r(&secs, &tm)) std::strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
  o << "chain " << g.chain_id << ", genesis time " << when << " (" << g.genesis_time_ms << " ms)\n";
  o << "council: " << n << " validator" << (n == 1 ? "" : "s") << ", a block needs the votes of "
    << g.validator_set().quorum() << "\n";
  for (const auto& v : g.validators) {
    o << "  " << (v.name.empty() ? "(no name)" : v.name) << "  key " << ToHex(v.public_key)
      << "  p2p " << (v.p2p.empty() ? "(none)" : v.p2p)
      << (mine && *mine == v.public_key ? "  <- this node" : "") << "\n";
  }
  uint64_t supply = 0;
  for (const auto& a : g.accounts) supply += a.balance;
  o << "accounts: " << g.accounts.size() << ", holding " << Thousands(supply) << " tokens in all\n";
  for (const auto& a : g.accounts) {
    o << "  " << ToHex(a.address) << "  " << Thousands(a.balance) << "\n";
  }
  const auto& p = g.params;
  o << "fees: " << p.gas_price << " token units per unit of gas; a transaction may use at most "
    << Thousands(p.max_tx_gas) << " gas; intrinsic gas " << p.tx_base_gas << " plus "
    << p.tx_byte_gas << " per byte (" << p.deploy_byte_gas << " per deployed code byte); a block "
    << "holds at most " << Thousands(p.max_block_gas) << " gas\n";
  o << "idle council: at most one empty (heartbeat) block every " << Thousands(p.heartbeat_ms)
    << " ms\n";
  const auto& nat = g.nation;
  const auto council = g.council();
  o << "citizenship: approved by " << g.council_approvals() << " of " << council.size()
    << (nat.council.empty() ? " council members (the validators' accounts)" : " council members")
    << ", valid for " << Thousands(nat.citizenship_validity) << " blocks\n";
  if (!nat.council.empty()) {
    for (const auto& a : council) o << "  " << ToHex(a) << "\n";
  }
  o << "governance: votes last " << Thousands(nat.voting_period_s) << " s of block time; quorum "
    << Thousands(nat.quorum) << " tokens; a proposal passes with more than " << nat.threshold
    << "% yes of yes + no; deposit " << Thousands(nat.proposal_deposit) << " tokens; timelock "
    << Thousands(nat.timelock_s) << " s\n";
  o << "system contracts:\n";
  for (const auto& c : g.system_contracts) {
    o << "  " << c.name << " at " << ToHex(c.address) << ", code " << ToHex(c.code_hash) << "\n";
  }
  return o.str();
}

}  // namespace civitas::node
