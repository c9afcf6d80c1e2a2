#include "node/home.h"

#include <filesystem>
#include <fstream>

#include "node/keyfile.h"

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

Status InitHome(const InitOptions& opts) {
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
  std::string text = GenesisToJson(g);
  auto parsed = ParseGenesis(text);  // the same checks a node applies at start
  if (!parsed.ok()) return parsed.status();
  s = WriteText(config.GenesisPath(), text);
  if (!s.ok()) return s;
  return WriteText(config.ConfigPath(), ConfigToToml(config));
}

Result<LoadedHome> LoadHome(const std::string& home) {
  LoadedHome out;
  auto config = LoadConfig(home);
  if (!config.ok()) return config.status();
  out.config = std::move(*config);
  auto genesis = LoadGenesisFile(out.config.GenesisPath());
  if (!genesis.ok()) return genesis.status();
  out.genesis = std::move(*genesis);
  return out;
}

}  // namespace civitas::node
