// Transactions: transfer | deploy | call (sign and submit), sign (offline) and broadcast.

#include <fstream>
#include <iostream>
#include <sstream>

#include "ledger/tx.h"
#include "tools/cli/cli.h"
#include "tools/wallet/tx_builder.h"

namespace civitas::cli {
namespace {

using wallet::TxRequest;

// The options that describe an action, shared by the online and offline forms.
struct ActionOptions {
  std::string key;
  TxRequest request;
  std::string code_path;
};

void AddActionOptions(CLI::App* cmd, TxRequest::Kind kind, ActionOptions& o) {
  switch (kind) {
    case TxRequest::Kind::kTransfer:
      cmd->add_option("--to", o.request.to, "recipient address (40 hex digits)")->required();
      cmd->add_option("--amount", o.request.amount, "amount")->required();
      break;
    case TxRequest::Kind::kDeploy:
      cmd->add_option("--code", o.code_path, "contract file: .casm is assembled first")->required();
      break;
    case TxRequest::Kind::kCall:
      cmd->add_option("--contract", o.request.to, "contract address")->required();
      cmd->add_option("--function", o.request.function, "function name")->required();
      cmd->add_option("--arg", o.request.args,
                      "argument: integer, 0x-hex bytes or text (repeatable)");
      cmd->add_option("--amount", o.request.amount, "native tokens sent with the call");
      break;
  }
  cmd->add_option("--gas-limit", o.request.gas_limit, "gas limit")->capture_default_str();
}

class Tx : public Commands {
 public:
  void Register(CLI::App& app) override {
    struct Kind {
      const char* name;
      const char* help;
      TxRequest::Kind kind;
    };
    const Kind kinds[] = {
        {"transfer", "send native tokens", TxRequest::Kind::kTransfer},
        {"deploy", "deploy a contract (.casm source or assembled bytecode)",
         TxRequest::Kind::kDeploy},
        {"call", "call an exported contract function", TxRequest::Kind::kCall},
    };
    for (const auto& k : kinds) {
      auto* cmd = app.add_subcommand(k.name, k.help);
      cmd->add_option("--key", online_.key,
                      "sender's key file (plain or encrypted) or keyring key name")
          ->required();
      cmd->add_option("--nonce", nonce_, "sender nonce (default: ask the node)");
      cmd->add_flag("--wait", wait_, "wait for the commit and print the receipt");
      AddActionOptions(cmd, k.kind, online_);
      online_cmds_.push_back({cmd, k.kind});
    }

    sign_ = app.add_subcommand(
        "sign", "build and sign a transaction without contacting a node (see broadcast)");
    sign_->require_subcommand(1);
    for (const auto& k : kinds) {
      auto* cmd = sign_->add_subcommand(k.name, k.help);
      cmd->add_option("--key", offline_.key,
                      "sender's key file (plain or encrypted) or keyring key name")
          ->required();
      cmd->add_option("--chain-id", offline_.request.chain_id, "the chain's id")->required();
      cmd->add_option("--nonce", offline_.request.nonce, "the sender's next nonce")->required();
      cmd->add_option("--out", out_, "write the envelope (hex) to this file instead of stdout");
      AddActionOptions(cmd, k.kind, offline_);
      sign_cmds_.push_back({cmd, k.kind});
    }

    broadcast_ = app.add_subcommand("broadcast", "submit a signed envelope made by `civitas sign`");
    broadcast_->add_option("envelope", envelope_path_, "file with the envelope (hex or JSON), or -")
        ->required();
    broadcast_->add_flag("--wait", wait_, "wait for the commit and print the receipt");
  }

  std::optional<int> Run(const Globals& g) override {
    for (const auto& [cmd, kind] : online_cmds_) {
      if (*cmd) return Online(g, kind);
    }
    for (const auto& [cmd, kind] : sign_cmds_) {
      if (*cmd) return Sign(g, kind);
    }
    if (*broadcast_) return Broadcast(g);
    return std::nullopt;
  }

 private:
  Result<v1::TxBody> Body(ActionOptions& o, TxRequest::Kind kind) {
    o.request.kind = kind;
    if (kind == TxRequest::Kind::kDeploy) {
      auto code = LoadCode(o.code_path);
      if (!code.ok()) return code.status();
      o.request.code = std::move(*code);
    }
    return wallet::BuildTxBody(o.request);
  }

  // Fills in chain id and nonce (asked from the node unless --nonce), signs and submits.
  int Online(const Globals& g, TxRequest::Kind kind) {
    auto key = LoadSigningKey(online_.key, g);
    if (!key.ok()) return Fail(key.status());
    auto stub = Connect(g);
    TxContext tc;
    if (int rc = QueryTxContext(*stub, AddressOf(key->public_key()), nonce_, &tc)) return rc;
    online_.request.chain_id = tc.chain_id;
    online_.request.nonce = tc.nonce;
    auto body = Body(online_, kind);
    if (!body.ok()) return Fail(body.status());
    return Submit(*stub, wallet::SignOffline(*key, *body), wait_, g.json());
  }

  int Sign(const Globals& g, TxRequest::Kind kind) {
    auto key = LoadSigningKey(offline_.key, g);
    if (!key.ok()) return Fail(key.status());
    auto body = Body(offline_, kind);
    if (!body.ok()) return Fail(body.status());
    v1::Transaction tx = wallet::SignOffline(*key, *body);
    const std::string hex = wallet::EnvelopeToHex(tx);
    const std::string tx_id = ToHex(TxId(key->public_key(), tx.body()));
    if (!out_.empty()) {
      std::ofstream f(out_, std::ios::trunc);
      if (!(f << hex << "\n") || !f.flush()) return Fail("cannot write " + out_, "io_error");
    }
    json j{{"tx_id", tx_id},
           {"sender", ToHex(AddressOf(key->public_key()))},
           {"chain_id", body->chain_id()},
           {"nonce", body->nonce()},
           {"envelope", hex}};
    if (!out_.empty()) j["file"] = out_;
    if (g.json()) {
      Print(j, true);
    } else if (out_.empty()) {
      std::cout << hex << "\n";  // stdout carries the envelope alone, ready for a pipe
      std::cerr << "tx_id: " << tx_id << "\n";
    } else {
      j.erase("envelope");
      Print(j, false);
    }
    return 0;
  }

  int Broadcast(const Globals& g) {
    std::string text;
    if (envelope_path_ == "-") {
      std::stringstream ss;
      ss << std::cin.rdbuf();
      text = ss.str();
    } else {
      std::ifstream in(envelope_path_, std::ios::binary);
      if (!in) return Fail("cannot read " + envelope_path_, "io_error");
      text.assign(std::istreambuf_iterator<char>(in), {});
    }
    auto tx = wallet::ParseEnvelope(text);
    if (!tx.ok()) return Fail(tx.status());
    // Refuse locally what the node would refuse anyway, with the same reasons.
    auto info = wallet::CheckEnvelope(*tx);
    if (!info.ok()) return Fail(info.status());
    auto stub = Connect(g);
    return Submit(*stub, *tx, wait_, g.json());
  }

  ActionOptions online_, offline_;
  std::vector<std::pair<CLI::App*, TxRequest::Kind>> online_cmds_, sign_cmds_;
  CLI::App* sign_ = nullptr;
  CLI::App* broadcast_ = nullptr;
  int64_t nonce_ = -1;
  bool wait_ = false;
  std::string out_, envelope_path_;
};

}  // namespace

std::unique_ptr<Commands> TxCommands() { return std::make_unique<Tx>(); }

}  // namespace civitas::cli
