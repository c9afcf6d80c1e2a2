#include "node/home.h"

#include <filesystem>
#include <fstream>

#include "ledger/keyfile.h"
#include "node/ceremony.h"

namespace civitas::node {
namespace fs = std::filesystem;

namespace {
Status WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Status::IOError("cannot write " + path);
  return Status::Ok();
}
}  // namespace

Status InitSoloHome(const InitOptions& opts) {
  Config config;
  config.home = opts.home;
  config.moniker = opts.moniker;
  if (fs::exists(config.GenesisPath())) {
    return Status::Error(
        Status::Code::kAlreadyExists, "exists",
        opts.home + " is already initialised (" + config.GenesisPath() + " exists)");
  }
  std::error_code ec;
  fs::create_directories(opts.home + "/config", ec);
  fs::create_directories(opts.home + "/keys", ec);
  if (ec) return Status::IOError("cannot create " + opts.home + ": " + ec.message());

  auto validator = crypto::SecretKey::Generate();
  auto op = crypto::SecretKey::Generate();
  Status s = WriteKeyFile(config.ValidatorKeyPath(), validator);
  if (!s.ok()) return s;
  s = WriteKeyFile(opts.home + "/keys/operator.json", op);
  if (!s.ok()) return s;

  Genesis g;
  g.chain_id = opts.chain_id;
  g.validators.push_back({opts.moniker, validator.public_key()});
  g.accounts.push_back({AddressOf(op.public_key()), opts.operator_balance});
  if (opts.heartbeat_ms != 0) g.params.heartbeat_ms = opts.heartbeat_ms;
  std::string text = GenesisToJson(g);
  auto parsed = ParseGenesis(text);  // the same checks a node applies at start
  if (!parsed.ok()) return parsed.status();
  s = WriteText(config.GenesisPath(), text);
  if (!s.ok()) return s;
  return WriteText(config.ConfigPath(), ConfigToToml(config));
}

Status InitTestnet(const TestnetOptions& opts) {
  if (opts.validators < 1 || opts.validators > 64 || opts.joiners > 64) {
    return Status::Invalid("bad_testnet", "validators must be in [1, 64], joiners at most 64");
  }
  const size_t nodes = opts.validators + opts.joiners;
  if (opts.base_port < 1024 || opts.base_port + 10 * static_cast<int>(nodes) > 65535) {
    return Status::Invalid("bad_testnet", "base port out of range");
  }
  std::error_code ec;
  if (fs::exists(opts.output + "/node0", ec)) {
    return Status::Error(Status::Code::kAlreadyExists, "exists",
                         opts.output + " already holds a testnet");
  }
  const std::string ceremony = opts.output + "/ceremony";
  fs::create_directories(opts.output + "/keys", ec);
  fs::create_directories(ceremony, ec);
  if (ec) return Status::IOError("cannot create " + opts.output + ": " + ec.message());
  auto op = crypto::SecretKey::Generate();
  Status s = WriteKeyFile(opts.output + "/keys/operator.json", op);
  if (!s.ok()) return s;

  // Each member: a home without genesis, then a signed offer.
  std::vector<Config> configs(nodes);
  std::vector<crypto::PublicKey> keys;
  std::vector<std::string> offers;
  for (size_t i = 0; i < nodes; ++i) {
    Config& c = configs[i];
    c.home = opts.output + "/node" + std::to_string(i);
    c.moniker = "node" + std::to_string(i);
    const int port = opts.base_port + 10 * static_cast<int>(i);
    c.p2p_listen = opts.host + ":" + std::to_string(port);
    c.grpc_listen = opts.host + ":" + std::to_string(port + 1);
    c.http_listen = opts.host + ":" + std::to_string(port + 2);
    c.block_interval_ms = opts.block_interval_ms;
    c.timeout_base_ms = std::max<uint32_t>(c.timeout_base_ms, 4 * opts.block_interval_ms);
    c.timeout_max_ms = std::max(c.timeout_max_ms, c.timeout_base_ms);
    auto key = InitMemberHome(c);
    if (!key.ok()) return key.status();
    keys.push_back(*key);
    auto offer = MakeHomeOffer(c.home, c.p2p_listen);
    if (!offer.ok()) return offer.status();
    offers.push_back(ceremony + "/" + c.moniker + ".offer.json");
    s = WriteNewFile(offers.back(), GenesisOfferToJson(*offer));
    if (!s.ok()) return s;
  }

  // The coordinator: the validators' offers, the operator's and every node's account (council
  // members sign citizenship decisions with their validator keys, the joiners' too once they are
  // on the council), the nation's parameters.
  const std::string draft = ceremony + "/draft.json";
  s = NewGenesisDraft(draft, opts.chain_id, 0);
  if (!s.ok()) return s;
  auto added = AddValidatorsToDraft(
      draft, std::vector<std::string>(offers.begin(), offers.begin() + opts.validators));
  if (!added.ok()) return added.status();
  s = AddAccountToDraft(draft, ToHex(AddressOf(op.public_key())), opts.operator_balance);
  for (size_t i = 0; i < nodes && s.ok(); ++i) {
    s = AddAccountToDraft(draft, ToHex(AddressOf(keys[i])), opts.validator_balance);
  }
  if (s.ok())
    s = SetDraftParam(draft, "nation.voting_period_s", std::to_string(opts.voting_period_s));
  if (s.ok()) s = SetDraftParam(draft, "params.gas_price", std::to_string(opts.gas_price));
  for (const auto& kind : opts.citizen_vote_kinds) {
    if (s.ok()) s = SetDraftParam(draft, "nation.rules." + kind + ".method", "citizen");
    if (s.ok()) s = SetDraftParam(draft, "nation.rules." + kind + ".quorum", "1");
  }
  if (s.ok() && opts.heartbeat_ms != 0) {
    s = SetDraftParam(draft, "params.heartbeat_ms", std::to_string(opts.heartbeat_ms));
  }
  if (!s.ok()) return s;
  const std::string genesis_file = opts.output + "/genesis.json";
  auto genesis = FinalizeDraft(draft, genesis_file);
  if (!genesis.ok()) return genesis.status();

  // Every member verifies the genesis against the hash and installs it. Joiners are outside the
  // council, so they install it unchecked; they and the validators admit each other as peers.
  for (size_t i = 0; i < nodes; ++i) {
    Config& c = configs[i];
    if (i < opts.validators) {
      auto v = VerifyGenesisForHome(genesis_file, c.home, ToHex(genesis->hash));
      if (!v.ok()) return v.status();
      s = InstallGenesis(c.home, *v);
    } else {
      s = WriteNewFile(c.GenesisPath(), GenesisToJson(*genesis));
    }
    if (!s.ok()) return s;
    if (opts.joiners == 0) continue;
    for (size_t j = 0; j < nodes; ++j) {
      if (j != i && (i >= opts.validators || j >= opts.validators)) {
        c.p2p_peers.push_back(ToHex(keys[j]) + "@" + configs[j].p2p_listen);
      }
    }
    s = WriteText(c.ConfigPath(), ConfigToToml(c));
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Result<crypto::PublicKey> JoinHome(const JoinOptions& opts) {
  auto genesis = LoadGenesisFile(opts.genesis_file);
  if (!genesis.ok()) return genesis.status();
  Config c;
  c.home = opts.home;
  c.moniker = opts.moniker;
  c.p2p_peers = opts.peers;
  if (!opts.p2p_listen.empty()) c.p2p_listen = opts.p2p_listen;
  if (!opts.grpc_listen.empty()) c.grpc_listen = opts.grpc_listen;
  if (!opts.http_listen.empty()) c.http_listen = opts.http_listen;
  if (fs::exists(c.GenesisPath())) {
    return Status::Error(Status::Code::kAlreadyExists, "exists",
                         opts.home + " is already initialised (" + c.GenesisPath() + " exists)");
  }
  Status s = ValidateConfig(c);
  if (!s.ok()) return s;
  std::error_code ec;
  fs::create_directories(opts.home + "/config", ec);
  if (ec) return Status::IOError("cannot create " + opts.home + ": " + ec.message());
  auto key = crypto::SecretKey::Generate();
  s = WriteKeyFile(c.ValidatorKeyPath(), key);
  if (!s.ok()) return s;
  fs::copy_file(opts.genesis_file, c.GenesisPath(), ec);
  if (ec) return Status::IOError("cannot copy " + opts.genesis_file + ": " + ec.message());
  s = WriteText(c.ConfigPath(), ConfigToToml(c));
  if (!s.ok()) return s;
  return key.public_key();
}

Result<LoadedHome> LoadHome(const std::string& home) {
  LoadedHome out;
  auto config = LoadConfig(home);
  if (!config.ok()) return config.status();
  out.config = std::move(*config);
  std::error_code ec;
  if (!fs::exists(out.config.GenesisPath(), ec)) {
    return Status::Error(Status::Code::kNotFound, "no_genesis",
                         home + " has no genesis yet (" + out.config.GenesisPath() +
                             "): install the council's with `civitasd genesis verify FILE --home " +
                             home + " --hash HASH` (docs/COUNCIL.md)");
  }
  auto genesis = LoadGenesisFile(out.config.GenesisPath());
  if (!genesis.ok()) return genesis.status();
  out.genesis = std::move(*genesis);
  return out;
}

Status CheckValidatorKey(const Config& config, const Genesis& genesis,
                         const crypto::PublicKey& key) {
  const GenesisValidator* holder = nullptr;
  const GenesisValidator* named = nullptr;
  for (const auto& v : genesis.validators) {
    if (v.public_key == key) holder = &v;
    if (v.name == config.moniker) named = &v;
  }
  const std::string path = config.ValidatorKeyPath();
  if (!holder && named) {
    return Status::Invalid("wrong_key", path + " holds the key " + ToHex(key) +
                                            ", but this node is genesis council member '" +
                                            config.moniker + "', whose key is " +
                                            ToHex(named->public_key));
  }
  // A key outside the genesis council is a node that joins later: it follows the chain until
  // governance adds its key.
  if (named && named != holder) {
    return Status::Invalid("wrong_key", path + " holds the key of council member '" + holder->name +
                                            "', but this node is '" + config.moniker +
                                            "', whose key is " + ToHex(named->public_key) +
                                            "; refusing to sign as another validator");
  }
  return Status::Ok();
}

}  // namespace civitas::node
