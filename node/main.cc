// civitasd: the Civitas node. Subcommands: init, genesis (the ceremony: offer, new,
// add-validator, add-account, set, finalize, verify), testnet, join, start, status, replay,
// compact, export, config validate.

#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "ledger/block.h"
#include "ledger/keyfile.h"
#include "ledger/store.h"
#include "node/backup.h"
#include "node/ceremony.h"
#include "node/cli_parse.h"
#include "node/export.h"
#include "node/home.h"
#include "node/log.h"
#include "node/node.h"
#include "node/replay.h"

using namespace civitas;
using namespace civitas::node;

namespace {

int Die(const Status& s) {
  std::cerr << "error: " << s.message() << " [" << s.reason() << "]\n";
  return 1;
}

void SetUpLogging(const Config& c) {
  auto levels = ParseLogLevels(c.log_level);  // checked by ValidateConfig
  auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>("node", sink);
  logger->set_formatter(MakeLogFormatter(c.log_format, c.moniker));
  logger->set_level(levels.ok() ? levels->modules[0] : spdlog::level::info);
  spdlog::set_default_logger(logger);
  if (levels.ok()) SetUpLoggers(*levels, sink, c.log_format, c.moniker);
}

// Every connection and every open table file takes a descriptor; the usual soft limit of 1024
// is reached by a few hundred idle clients. Raise it to the hard limit, as databases and other
// node software do (up to 65536).
void RaiseFileLimit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  const rlim_t want = std::min<rlim_t>(lim.rlim_max, 65536);
  if (lim.rlim_cur >= want) return;
  rlim_t before = lim.rlim_cur;
  lim.rlim_cur = want;
  if (setrlimit(RLIMIT_NOFILE, &lim) == 0) {
    spdlog::debug("open file limit raised from {} to {}", before, lim.rlim_cur);
  }
}

// Debian's librocksdb keeps its assertions, and some damaged table files (a flipped properties
// block, with RocksDB 7.8) trip one before any checksum is checked. The process must stop
// either way; this says what the abort most likely means. Set before the handler is installed.
std::string abort_note;
void NoteAbort(int) {
  (void)!::write(2, abort_note.data(), abort_note.size());
  ::signal(SIGABRT, SIG_DFL);
  ::raise(SIGABRT);
}

// The bytes of RocksDB's table files in `dir` (its logs and options files aside).
uint64_t TableBytes(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".sst") total += e.file_size(ec);
  }
  return total;
}

// Tells systemd (Type=notify, packaging/civitasd@.service) about the service's state. Only
// under a service manager that set NOTIFY_SOCKET; a failure to reach it is logged, not fatal.
void NotifyServiceManager(const std::string& state) {
  if (::getenv("NOTIFY_SOCKET") == nullptr) return;
  const int r = sd_notify(0, state.c_str());
  if (r < 0) spdlog::warn("sd_notify({}) failed: {}", state.substr(0, state.find('\n')), -r);
}

struct StartFlags {
  std::string grpc_listen, http_listen, p2p_listen, log_level;
  int block_interval_ms = 0;
  std::optional<uint64_t> state_history;
};

int CmdStart(const std::string& home, const StartFlags& flags) {
  // Signals are taken by a dedicated thread so the rest of the node never sees them. They are
  // blocked first of all, so one that arrives during start-up waits for that thread.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  auto loaded = LoadHome(home);
  if (!loaded.ok()) return Die(loaded.status());
  Config config = loaded->config;
  if (!flags.grpc_listen.empty()) config.grpc_listen = flags.grpc_listen;
  if (!flags.http_listen.empty()) config.http_listen = flags.http_listen;
  if (!flags.p2p_listen.empty()) config.p2p_listen = flags.p2p_listen;
  if (flags.block_interval_ms > 0) {
    config.block_interval_ms = static_cast<uint32_t>(flags.block_interval_ms);
  }
  if (!flags.log_level.empty()) config.log_level = flags.log_level;
  if (flags.state_history) config.state_history = *flags.state_history;
  Status s = ValidateConfig(config);
  if (!s.ok()) return Die(s);
  SetUpLogging(config);
  auto key = ReadKeyFile(config.ValidatorKeyPath());
  if (!key.ok()) return Die(key.status());
  s = CheckValidatorKey(config, loaded->genesis, key->public_key());
  if (!s.ok()) return Die(s);
  RaiseFileLimit();

  abort_note = "error: civitasd aborted while opening the ledger at " + config.DataPath() +
               " (see above); the ledger is probably damaged. Refusing to start; restore the " +
               "data directory from a backup, or move it away and let the node resync from its " +
               "peers into an empty one [corruption]\n";
  ::signal(SIGABRT, NoteAbort);
  auto node = Node::Open(config, loaded->genesis, std::move(*key));
  ::signal(SIGABRT, SIG_DFL);
  if (!node.ok()) return Die(node.status());
  spdlog::info("chain {} at height {}", loaded->genesis.chain_id, (*node)->store().height());
  s = (*node)->Start();
  if (!s.ok()) return Die(s);
  // Serving: the API and P2P ports are bound and the validator runs.
  NotifyServiceManager("READY=1\nSTATUS=serving chain " + loaded->genesis.chain_id +
                       " from height " + std::to_string((*node)->store().height()));
  // The signal thread outlives the node: it reaches it only through `live`, cleared (under its
  // lock) before the node stops.
  struct Live {
    std::mutex mu;
    Node* node = nullptr;
  };
  auto live = std::make_shared<Live>();
  live->node = node->get();
  std::thread([live, signals, home, flags] {
    int sig = 0;
    // SIGHUP: reload the peer list and the log levels from the config file (docs/OPERATIONS.md,
    // "Reloading"); anything else in the file waits for a restart.
    while (sigwait(&signals, &sig) == 0 && sig == SIGHUP) {
      auto reloaded = LoadHome(home);
      Status st = reloaded.ok() ? ValidateConfig(reloaded->config) : reloaded.status();
      std::string level = flags.log_level;
      if (st.ok() && level.empty()) level = reloaded->config.log_level;
      auto levels = ParseLogLevels(level);
      if (st.ok() && !levels.ok()) st = levels.status();
      if (st.ok()) {
        std::lock_guard lock(live->mu);
        if (!live->node) break;
        st = live->node->ReloadPeers(reloaded->config.p2p_peers);
      }
      if (!st.ok()) {
        spdlog::warn("SIGHUP: config not reloaded, nothing changed: {}", st.ToString());
        continue;
      }
      SetLogLevels(*levels);
      spdlog::info("SIGHUP: reloaded p2p.peers ({}) and log.level \"{}\"",
                   reloaded->config.p2p_peers.size(), level);
    }
    std::lock_guard lock(live->mu);
    if (!live->node) return;
    spdlog::info("signal {}: shutting down", sig);
    live->node->RequestStop();  // the main thread stops and destroys the node
  }).detach();
  s = (*node)->Wait();
  {
    std::lock_guard lock(live->mu);
    live->node = nullptr;
  }
  NotifyServiceManager("STOPPING=1\nSTATUS=stopping");
  (*node)->Stop();
  if (!s.ok()) return Die(s);
  spdlog::info("stopped at height {}", (*node)->store().height());
  return 0;
}

int CmdStatus(const std::string& home) {
  auto loaded = LoadHome(home);
  if (!loaded.ok()) return Die(loaded.status());
  auto store = Store::Open(loaded->config.DataPath(), loaded->genesis, Store::Mode::kReadOnly);
  if (!store.ok()) return Die(store.status());
  nlohmann::json j;
  const Config& c = loaded->config;
  j["moniker"] = c.moniker;
  j["chain_id"] = loaded->genesis.chain_id;
  uint64_t height = (*store)->height();
  j["height"] = height;
  j["latest_block_id"] = nullptr;
  j["certified_state_height"] = nullptr;
  j["certified_state_root"] = nullptr;
  if (height > 0) {
    auto block = (*store)->GetBlock(height);
    if (!block.ok()) return Die(block.status());
    const auto& h = block->block().header();
    j["latest_block_id"] = ToHex(*BlockId(h));
    j["latest_block_time_ms"] = h.time_ms();
    j["certified_state_height"] = h.state_height();
    j["certified_state_root"] = ToHex(ToBytes(h.state_root()));
  }
  auto root = (*store)->StateRoot(height);
  if (root.ok()) j["executed_state_root"] = ToHex(*root);
  // Past states readable from this height on (above 0 once pruned: docs/STORAGE.md).
  j["state_kept_from"] = (*store)->StateKeptFrom();
  j["listen"] = {{"grpc", c.grpc_listen}, {"http", c.http_listen}, {"p2p", c.p2p_listen}};
  // Of this binary (the running node's own is in GetStatus).
  j["version"] = std::string(BuildVersion());
  j["commit"] = std::string(BuildCommit());
  std::cout << j.dump(2) << "\n";
  return 0;
}

int CmdCompact(const std::string& home) {
  auto loaded = LoadHome(home);
  if (!loaded.ok()) return Die(loaded.status());
  const Config& c = loaded->config;
  auto store = Store::Open(c.DataPath(), loaded->genesis, Store::Mode::kReadWrite,
                           StoreOptions{c.state_history});
  if (!store.ok()) return Die(store.status());
  const auto before = TableBytes(c.DataPath());
  Status s = (*store)->Compact();
  if (!s.ok()) return Die(s);
  store->reset();  // closed: the files compaction replaced are gone
  nlohmann::json j;
  j["table_bytes_before"] = before;
  j["table_bytes_after"] = TableBytes(c.DataPath());
  std::cout << j.dump(2) << "\n";
  return 0;
}

int CmdReplay(const std::string& home) {
  auto loaded = LoadHome(home);
  if (!loaded.ok()) return Die(loaded.status());
  std::string scratch = home + "/replay-scratch";
  std::cerr << "replaying " << loaded->genesis.chain_id << " from genesis\n";
  auto report = Replay(loaded->config.DataPath(), scratch, loaded->genesis,
                       [](uint64_t done, uint64_t total, double secs) {
                         std::fprintf(stderr, "  height %lu / %lu  (%.0f blocks/s)\n",
                                      static_cast<unsigned long>(done),
                                      static_cast<unsigned long>(total), done / secs);
                       });
  double secs = std::max(report.seconds, 1e-9);
  if (!report.ok) {
    std::cerr << "replay FAILED at height " << report.first_bad_height << ": " << report.error
              << "\n";
    return 2;
  }
  std::printf(
      "replay OK: %lu blocks, %lu transactions in %.2f s (%.0f blocks/s, %.0f tx/s), %lu "
      "signatures verified\n",
      static_cast<unsigned long>(report.blocks), static_cast<unsigned long>(report.txs),
      report.seconds, report.blocks / secs, report.txs / secs,
      static_cast<unsigned long>(report.signatures));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"civitasd: a Civitas council node"};
  AddVersionFlag(app, "civitasd");
  app.require_subcommand(1);
  std::string home;
  auto add_home = [&](CLI::App* cmd) {
    cmd->add_option("--home", home, "node home directory (default: $CIVITAS_HOME)")
        ->envname("CIVITAS_HOME")
        ->required();
  };

  InitOptions init;
  bool solo = false;
  Config member;
  auto* init_cmd = app.add_subcommand(
      "init",
      "create a council member's home: validator key and config, no genesis yet (the "
      "ceremony's first step, docs/COUNCIL.md); --solo: a one-validator chain");
  add_home(init_cmd);
  init_cmd->add_flag("--solo", solo,
                     "write a one-validator chain: genesis with this node alone and a funded "
                     "operator key in HOME/keys/operator.json");
  auto* chain_id_opt = init_cmd->add_option("--chain-id", init.chain_id, "chain id (with --solo)")
                           ->capture_default_str();
  init_cmd->add_option("--moniker", init.moniker, "node name")->capture_default_str();
  init_cmd->add_option("--p2p-listen", member.p2p_listen, "P2P address (host:port)")
      ->capture_default_str();
  init_cmd->add_option("--grpc-listen", member.grpc_listen, "gRPC address (host:port)")
      ->capture_default_str();
  init_cmd->add_option("--http-listen", member.http_listen, "HTTP address (host:port)")
      ->capture_default_str();

  // The genesis ceremony (docs/COUNCIL.md).
  auto* genesis_cmd = app.add_subcommand("genesis", "the genesis ceremony (docs/COUNCIL.md)");
  genesis_cmd->require_subcommand(1);
  std::string p2p, out_file, draft, chain_id, expected_hash, genesis_file, address, param_key,
      param_value;
  std::vector<std::string> offer_files;
  uint64_t amount = 0;
  std::optional<uint64_t> genesis_time_ms;
  auto* offer_cmd = genesis_cmd->add_subcommand(
      "offer", "member: write this validator's signed offer (moniker, key, P2P endpoint)");
  add_home(offer_cmd);
  offer_cmd->add_option("--p2p", p2p, "where the other members reach this node: HOST:PORT")
      ->required();
  offer_cmd->add_option("--out", out_file, "offer file (default: standard output)");
  auto* new_cmd = genesis_cmd->add_subcommand("new", "coordinator: start a draft genesis");
  new_cmd->add_option("--chain-id", chain_id, "the new chain's id")->required();
  new_cmd->add_option("--out", draft, "the draft file to create")->required();
  new_cmd->add_option("--genesis-time-ms", genesis_time_ms,
                      "Unix milliseconds of genesis (default: now)");
  auto* addval_cmd = genesis_cmd->add_subcommand(
      "add-validator", "coordinator: add members' offers (signatures checked) to the council");
  addval_cmd->add_option("--draft", draft, "draft file")->required();
  addval_cmd->add_option("offers", offer_files, "offer files")->required();
  auto* addacct_cmd =
      genesis_cmd->add_subcommand("add-account", "coordinator: fund an account at genesis");
  addacct_cmd->add_option("--draft", draft, "draft file")->required();
  addacct_cmd->add_option("address", address, "account address (40 hex digits)")->required();
  addacct_cmd->add_option("amount", amount, "initial balance")->required();
  auto* set_cmd = genesis_cmd->add_subcommand(
      "set", "coordinator: set a chain or nation parameter (params.*, nation.*, genesis_time_ms)");
  set_cmd->add_option("--draft", draft, "draft file")->required();
  set_cmd->add_option("key", param_key, "e.g. params.gas_price, nation.voting_period_s")
      ->required();
  set_cmd
      ->add_option("value", param_value, "an integer (nation.council: addresses, comma-separated)")
      ->required();
  auto* finalize_cmd = genesis_cmd->add_subcommand(
      "finalize", "coordinator: check the draft and write genesis.json; prints its hash");
  finalize_cmd->add_option("--draft", draft, "draft file")->required();
  finalize_cmd->add_option("--out", out_file, "the genesis file to create")->required();
  auto* verify_cmd = genesis_cmd->add_subcommand(
      "verify", "member: check a genesis (hash, this node in the council), show it and install it");
  verify_cmd->add_option("file", genesis_file, "genesis.json from the coordinator")->required();
  add_home(verify_cmd);
  verify_cmd->add_option("--hash", expected_hash, "the hash the council agreed on (hex)");

  TestnetOptions testnet;
  auto* testnet_cmd =
      app.add_subcommand("testnet", "write the homes of an N-validator network on one host");
  testnet_cmd->add_option("--validators", testnet.validators, "number of validators")
      ->capture_default_str();
  testnet_cmd->add_option("--output", testnet.output, "directory for the node homes")->required();
  testnet_cmd->add_option("--chain-id", testnet.chain_id, "chain id")->capture_default_str();
  testnet_cmd->add_option("--host", testnet.host, "address every node listens on")
      ->capture_default_str();
  testnet_cmd
      ->add_option("--base-port", testnet.base_port,
                   "node i uses base+10i (P2P), +1 (gRPC), +2 (HTTP)")
      ->capture_default_str();
  testnet_cmd
      ->add_option("--block-interval-ms", testnet.block_interval_ms,
                   "consensus.block_interval_ms of every node (how long an empty block's commit "
                   "may wait for the next synced write)")
      ->capture_default_str();
  testnet_cmd
      ->add_option("--heartbeat-ms", testnet.heartbeat_ms,
                   "genesis params.heartbeat_ms: an idle council's empty-block interval (0: the "
                   "default, 60000)")
      ->capture_default_str();
  testnet_cmd
      ->add_option("--voting-period", testnet.voting_period_s,
                   "seconds of block time a governance proposal is open for votes")
      ->capture_default_str();

  testnet_cmd->add_option("--citizen-vote", testnet.citizen_vote_kinds,
                          "proposal kinds voted one citizen one vote, quorum 1 (text, spend, "
                          "parameter, council, upgrade; repeatable)");
  testnet_cmd
      ->add_option("--gas-price", testnet.gas_price,
                   "fee units per gas (0: free transactions, for benchmarks)")
      ->capture_default_str();
  testnet_cmd
      ->add_option("--joiners", testnet.joiners,
                   "extra node homes outside the genesis council, for council changes")
      ->capture_default_str();

  JoinOptions join;
  auto* join_cmd = app.add_subcommand(
      "join", "create the home of a node joining an existing chain; prints its validator key");
  add_home(join_cmd);
  join_cmd->add_option("--genesis", join.genesis_file, "the chain's genesis.json")->required();
  join_cmd->add_option("--peer", join.peers, "a peer to follow the chain from: KEY@HOST:PORT")
      ->required();
  join_cmd->add_option("--moniker", join.moniker, "node name")->capture_default_str();
  join_cmd->add_option("--p2p-listen", join.p2p_listen, "P2P address (host:port)");
  join_cmd->add_option("--grpc-listen", join.grpc_listen, "gRPC address (host:port)");
  join_cmd->add_option("--http-listen", join.http_listen, "HTTP address (host:port)");

  StartFlags flags;
  auto* start = app.add_subcommand("start", "run the node");
  add_home(start);
  start->add_option("--grpc-listen", flags.grpc_listen, "override grpc.listen");
  start->add_option("--http-listen", flags.http_listen, "override http.listen");
  start->add_option("--p2p-listen", flags.p2p_listen, "override p2p.listen");
  start->add_option("--block-interval-ms", flags.block_interval_ms,
                    "override consensus.block_interval_ms");
  start->add_option("--log-level", flags.log_level, "override log.level");
  start->add_option("--state-history", flags.state_history, "override storage.state_history");

  auto* status =
      app.add_subcommand("status", "print the node's height, block id and state root as JSON");
  add_home(status);
  auto* replay = app.add_subcommand("replay", "re-execute and verify the whole chain from genesis");
  add_home(replay);
  auto* compact = app.add_subcommand(
      "compact",
      "node stopped: rewrite the ledger compactly, giving back the space of pruned state");
  add_home(compact);
  ExportOptions export_opts;
  std::string export_out;
  auto* exp = app.add_subcommand("export", "write blocks, transactions or events as JSONL or CSV");
  add_home(exp);
  exp->add_option("--what", export_opts.what, "blocks, txs or events")
      ->check(CLI::IsMember({"blocks", "txs", "events"}))
      ->capture_default_str();
  exp->add_option("--format", export_opts.format, "jsonl or csv")
      ->check(CLI::IsMember({"jsonl", "csv"}))
      ->capture_default_str();
  exp->add_option("--from", export_opts.from, "first height")->capture_default_str();
  exp->add_option("--to", export_opts.to, "last height (default: latest)");
  exp->add_option("--out", export_out, "output file (default: standard output)");
  std::string backup_out, restore_from;
  auto* backup = app.add_subcommand(
      "backup",
      "write a verified backup of the ledger into a new folder; online through the running node");
  add_home(backup);
  backup->add_option("--out", backup_out, "the new backup folder")->required();
  auto* restore = app.add_subcommand(
      "restore", "check a backup and install its ledger as HOME/data (which must not exist)");
  restore->add_option("--from", restore_from, "a folder written by civitasd backup")->required();
  add_home(restore);
  auto* config = app.add_subcommand("config", "configuration tools");
  auto* validate = config->add_subcommand("validate", "check config.toml and genesis.json");
  add_home(validate);
  config->require_subcommand(1);

  if (auto code = ParseCommandLine(app, argc, argv)) return *code;

  if (*init_cmd) {
    init.home = home;
    if (solo) {
      Status s = InitSoloHome(init);
      if (!s.ok()) return Die(s);
      std::cout << "initialised " << home << " for chain " << init.chain_id << "\n";
      return 0;
    }
    if (chain_id_opt->count() > 0) {
      return Die(
          Status::Invalid("bad_flags",
                          "--chain-id goes with --solo; a council's chain id is chosen by the "
                          "ceremony's coordinator (civitasd genesis new, docs/COUNCIL.md)"));
    }
    member.home = home;
    member.moniker = init.moniker;
    auto pk = InitMemberHome(member);
    if (!pk.ok()) return Die(pk.status());
    std::cout << "initialised " << home << " for council member " << member.moniker
              << "; its validator key is " << ToHex(*pk) << "\nnext: civitasd genesis offer --home "
              << home
              << " --p2p HOST:PORT --out FILE, and send FILE to the coordinator "
                 "(docs/COUNCIL.md)\n";
    return 0;
  }
  if (*offer_cmd) {
    auto offer = MakeHomeOffer(home, p2p);
    if (!offer.ok()) return Die(offer.status());
    const std::string text = GenesisOfferToJson(*offer);
    if (out_file.empty()) {
      std::cout << text;
      return 0;
    }
    Status s = WriteNewFile(out_file, text);
    if (!s.ok()) return Die(s);
    std::cout << "wrote the offer of " << offer->moniker << " (key " << ToHex(offer->public_key)
              << ", p2p " << offer->p2p << ") to " << out_file << "\n";
    return 0;
  }
  if (*new_cmd) {
    const uint64_t t = genesis_time_ms.value_or(
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count()));
    Status s = NewGenesisDraft(draft, chain_id, t);
    if (!s.ok()) return Die(s);
    std::cout << "started the draft genesis of chain " << chain_id << " in " << draft << "\n";
    return 0;
  }
  if (*addval_cmd) {
    auto added = AddValidatorsToDraft(draft, offer_files);
    if (!added.ok()) return Die(added.status());
    for (const auto& o : *added) {
      std::cout << "added validator " << o.moniker << " (key " << ToHex(o.public_key) << ", p2p "
                << o.p2p << ")\n";
    }
    return 0;
  }
  if (*addacct_cmd) {
    Status s = AddAccountToDraft(draft, address, amount);
    if (!s.ok()) return Die(s);
    std::cout << "added account " << address << " with " << amount << "\n";
    return 0;
  }
  if (*set_cmd) {
    Status s = SetDraftParam(draft, param_key, param_value);
    if (!s.ok()) return Die(s);
    std::cout << "set " << param_key << " = " << param_value << "\n";
    return 0;
  }
  if (*finalize_cmd) {
    auto g = FinalizeDraft(draft, out_file);
    if (!g.ok()) return Die(g.status());
    std::cout << "wrote " << out_file << "\ngenesis hash " << ToHex(g->hash)
              << "\nsend the file to every member and tell them the hash by another channel\n";
    return 0;
  }
  if (*verify_cmd) {
    auto v = VerifyGenesisForHome(genesis_file, home, expected_hash);
    if (!v.ok()) return Die(v.status());
    std::cout << DescribeGenesis(v->genesis, &v->mine);
    Status s = InstallGenesis(home, *v);
    if (!s.ok()) return Die(s);
    if (v->already_installed) {
      std::cout << "this genesis is installed in " << home << " already\n";
    } else {
      std::cout << "installed as " << home << "/config/genesis.json"
                << (expected_hash.empty()
                        ? "; compare the hash above with the other members' before starting"
                        : "; its hash is the one given")
                << "\n";
    }
    return 0;
  }
  if (*testnet_cmd) {
    Status s = InitTestnet(testnet);
    if (!s.ok()) return Die(s);
    std::cout << "wrote " << testnet.validators + testnet.joiners << " node homes under "
              << testnet.output << " for chain " << testnet.chain_id
              << "; start each with `civitasd start --home " << testnet.output << "/node<i>`\n";
    return 0;
  }
  if (*join_cmd) {
    join.home = home;
    auto key = JoinHome(join);
    if (!key.ok()) return Die(key.status());
    std::cout << "initialised " << home << "; its validator key is " << ToHex(*key)
              << "\nit follows the chain once started, and validates from the epoch after "
                 "governance adds this key to the council\n";
    return 0;
  }
  if (*start) return CmdStart(home, flags);
  if (*status) return CmdStatus(home);
  if (*replay) return CmdReplay(home);
  if (*compact) return CmdCompact(home);
  if (*backup) {
    auto manifest = BackupHome(home, backup_out);
    if (!manifest.ok()) return Die(manifest.status());
    std::cout << *manifest;
    return 0;
  }
  if (*restore) {
    auto manifest = RestoreHome(restore_from, home);
    if (!manifest.ok()) return Die(manifest.status());
    std::cout << *manifest;
    return 0;
  }
  if (*exp) {
    auto loaded = LoadHome(home);
    if (!loaded.ok()) return Die(loaded.status());
    auto store = Store::Open(loaded->config.DataPath(), loaded->genesis, Store::Mode::kReadOnly);
    if (!store.ok()) return Die(store.status());
    std::ofstream file;
    if (!export_out.empty()) file.open(export_out, std::ios::trunc);
    std::ostream& out = export_out.empty() ? std::cout : file;
    Status s = Export(**store, export_opts, out);
    if (!s.ok()) return Die(s);
    return 0;
  }
  if (*validate) {
    auto loaded = LoadHome(home);
    if (!loaded.ok()) return Die(loaded.status());
    std::cout << "config and genesis OK (chain " << loaded->genesis.chain_id << ")\n";
    return 0;
  }
  return 0;
}
