// civitas: the citizen's and auditor's command-line client.
//   civitas keys new --out FILE | keys show --key FILE
//   civitas transfer --key FILE --to ADDRESS --amount N [--wait]
//   civitas deploy --key FILE --code FILE.casm|FILE.bin [--wait]
//   civitas call --key FILE --contract ADDRESS --function NAME [--arg V]... [--wait]
//   civitas account ADDRESS | tx TXID | block [HEIGHT] | status
// Global: --node HOST:PORT (default 127.0.0.1:26657), --output text|json.

#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "civitas/v1/node.grpc.pb.h"
#include "ledger/block.h"
#include "ledger/certified.h"
#include "ledger/did.h"
#include "ledger/genesis.h"
#include "ledger/tx.h"
#include "node/keyfile.h"
#include "tools/asm/assembler.h"
#include "vm/vm.h"

using namespace civitas;
using nlohmann::json;

namespace {

std::string Hex(const std::string& raw) { return ToHex(ToBytes(raw)); }

int Fail(const std::string& msg, const std::string& reason = "") {
  std::cerr << "error: " << msg;
  if (!reason.empty()) std::cerr << " [" << reason << "]";
  std::cerr << "\n";
  return 1;
}

int FailRpc(const grpc::Status& s, const grpc::ClientContext& ctx) {
  std::string reason;
  auto md = ctx.GetServerTrailingMetadata();
  auto it = md.find("civitas-reason");
  if (it != md.end()) reason = std::string(it->second.data(), it->second.size());
  return Fail(s.error_message(),
              reason.empty() ? "grpc code " + std::to_string(s.error_code()) : reason);
}

json ReceiptJson(const v1::Receipt& r) {
  json j{{"tx_id", Hex(r.tx_id())},
         {"height", r.height()},
         {"index", r.index()},
         {"status", r.status() == v1::TX_STATUS_SUCCESS ? "success" : "failed"},
         {"gas_used", r.gas_used()},
         {"fee", r.fee()}};
  if (!r.reason().empty()) j["reason"] = r.reason();
  if (!r.contract_address().empty()) j["contract_address"] = Hex(r.contract_address());
  if (!r.return_data().empty()) {
    auto values = vm::DecodeValues(vm::ByteView(
        reinterpret_cast<const uint8_t*>(r.return_data().data()), r.return_data().size()));
    if (values.ok()) {
      j["returns"] = json::array();
      for (const auto& v : *values) {
        if (v.is_int()) {
          j["returns"].push_back(v.as_int());
        } else {
          j["returns"].push_back("0x" + ToHex(v.as_bytes().data(), v.as_bytes().size()));
        }
      }
    }
  }
  j["events"] = json::array();
  for (const auto& e : r.events())
    j["events"].push_back({{"topic", e.topic()}, {"data", Hex(e.data())}});
  return j;
}

json HeaderJson(const v1::BlockHeader& h) {
  return {{"chain_id", h.chain_id()},
          {"height", h.height()},
          {"parent_id", Hex(h.parent_id())},
          {"tx_root", Hex(h.tx_root())},
          {"state_height", h.state_height()},
          {"state_root", Hex(h.state_root())},
          {"proposer", Hex(h.proposer())},
          {"time_ms", h.time_ms()},
          {"tx_count", h.tx_count()},
          {"epoch", h.epoch()},
          {"round", h.round()}};
}

void Print(const json& j, bool as_json) {
  if (as_json) {
    std::cout << j.dump() << "\n";
    return;
  }
  for (const auto& [k, v] : j.items()) {
    std::cout << k << ": " << (v.is_string() ? v.get<std::string>() : v.dump()) << "\n";
  }
}

// Fills in chain id and nonce (asked from the node unless given), signs with `key`, submits and
// prints the outcome. Returns the process exit code.
int SignAndSubmit(v1::Node::Stub& stub, const crypto::SecretKey& key, v1::TxBody body,
                  int64_t nonce, bool wait, bool as_json) {
  auto with_deadline = [](grpc::ClientContext& ctx, int secs) {
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(secs));
  };
  v1::GetStatusResponse st;
  {
    grpc::ClientContext ctx;
    with_deadline(ctx, 10);
    auto s = stub.GetStatus(&ctx, {}, &st);
    if (!s.ok()) return FailRpc(s, ctx);
  }
  if (nonce < 0) {
    grpc::ClientContext ctx;
    with_deadline(ctx, 10);
    v1::GetAccountRequest req;
    req.set_address(std::string(AsStringView(AddressOf(key.public_key()))));
    v1::GetAccountResponse resp;
    auto s = stub.GetAccount(&ctx, req, &resp);
    if (!s.ok()) return FailRpc(s, ctx);
    nonce = static_cast<int64_t>(resp.account().nonce());
  }
  body.set_chain_id(st.chain_id());
  body.set_nonce(static_cast<uint64_t>(nonce));
  v1::SubmitTransactionRequest req;
  *req.mutable_tx() = SignTx(key, body);
  req.set_wait_for_commit(wait);
  grpc::ClientContext ctx;
  with_deadline(ctx, 60);
  v1::SubmitTransactionResponse resp;
  auto s = stub.SubmitTransaction(&ctx, req, &resp);
  if (!s.ok()) return FailRpc(s, ctx);
  json j{{"tx_id", Hex(resp.tx_id())}, {"committed", resp.committed()}};
  if (resp.committed()) j["receipt"] = ReceiptJson(resp.receipt());
  Print(j, as_json);
  if (wait && !resp.committed()) return 3;
  if (resp.committed() && resp.receipt().status() != v1::TX_STATUS_SUCCESS) return 4;
  return 0;
}

// A call argument: an integer, 0x-prefixed hex bytes, or text.
vm::Value ParseArg(const std::string& a) {
  if (!a.empty() &&
      (std::isdigit(static_cast<unsigned char>(a[0])) || (a[0] == '-' && a.size() > 1))) {
    try {
      size_t used = 0;
      long long v = std::stoll(a, &used);
      if (used == a.size()) return vm::Value::Int(v);
    } catch (const std::exception&) {
    }
  }
  if (a.rfind("0x", 0) == 0) {
    if (auto b = FromHex(a.substr(2))) return vm::Value::FromBytes(vm::Bytes(b->begin(), b->end()));
  }
  return vm::Value::FromString(a);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"civitas: client for a Civitas node"};
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the subcommand
  std::string node_addr = "127.0.0.1:26657";
  std::string output = "text";
  app.add_option("--node", node_addr, "node gRPC address")->capture_default_str();
  app.add_option("--output,-o", output, "text or json")->check(CLI::IsMember({"text", "json"}));

  auto* keys = app.add_subcommand("keys", "manage key files");
  keys->require_subcommand(1);
  std::string key_path;
  auto* keys_new = keys->add_subcommand("new", "create a key file (mode 0600)");
  keys_new->add_option("--out", key_path, "path of the new key file")->required();
  auto* keys_show = keys->add_subcommand("show", "show a key's public key, address and DID");
  keys_show->add_option("--key", key_path, "key file")->required();

  std::string to, id;
  uint64_t amount = 0, gas_limit = 100000;
  int64_t nonce = -1;
  bool wait = false;
  auto* transfer = app.add_subcommand("transfer", "send native tokens");
  transfer->add_option("--key", key_path, "sender's key file")->required();
  transfer->add_option("--to", to, "recipient address (40 hex digits)")->required();
  transfer->add_option("--amount", amount, "amount")->required();
  transfer->add_option("--nonce", nonce, "sender nonce (default: ask the node)");
  transfer->add_option("--gas-limit", gas_limit, "gas limit")->capture_default_str();
  transfer->add_flag("--wait", wait, "wait for the commit and print the receipt");

  std::string code_path, function;
  std::vector<std::string> call_args;
  auto* deploy =
      app.add_subcommand("deploy", "deploy a contract (.casm source or assembled bytecode)");
  deploy->add_option("--key", key_path, "deployer's key file")->required();
  deploy->add_option("--code", code_path, "contract file: .casm is assembled first")->required();
  deploy->add_option("--nonce", nonce, "sender nonce (default: ask the node)");
  deploy->add_option("--gas-limit", gas_limit, "gas limit")->capture_default_str();
  deploy->add_flag("--wait", wait, "wait for the commit and print the receipt");
  auto* call = app.add_subcommand("call", "call an exported contract function");
  call->add_option("--key", key_path, "caller's key file")->required();
  call->add_option("--contract", to, "contract address")->required();
  call->add_option("--function", function, "function name")->required();
  call->add_option("--arg", call_args, "argument: integer, 0x-hex bytes or text (repeatable)");
  call->add_option("--amount", amount, "native tokens sent with the call");
  call->add_option("--nonce", nonce, "sender nonce (default: ask the node)");
  call->add_option("--gas-limit", gas_limit, "gas limit")->capture_default_str();
  call->add_flag("--wait", wait, "wait for the commit and print the receipt");

  bool prove = false;
  std::string genesis_path;
  auto* account = app.add_subcommand("account", "balance and nonce of an address");
  account->add_option("address", to, "address")->required();
  account->add_flag("--prove", prove,
                    "verify the answer (Merkle proof + commit certificate) against --genesis");
  account->add_option("--genesis", genesis_path, "the chain's genesis.json (council and chain id)");
  auto* tx = app.add_subcommand("tx", "a committed transaction and its receipt");
  tx->add_option("id", id, "transaction id (hex)")->required();
  uint64_t height = 0;
  auto* block = app.add_subcommand("block", "a committed block (latest by default)");
  block->add_option("height", height, "height");
  auto* status = app.add_subcommand("status", "the node's chain, height and state root");

  CLI11_PARSE(app, argc, argv);
  const bool as_json = output == "json";

  if (*keys_new || *keys_show) {
    crypto::SecretKey key = crypto::SecretKey::Generate();
    if (*keys_new) {
      Status s = node::WriteKeyFile(key_path, key);
      if (!s.ok()) return Fail(s.message(), s.reason());
    } else {
      auto k = node::ReadKeyFile(key_path);
      if (!k.ok()) return Fail(k.status().message(), k.status().reason());
      key = *k;
    }
    Print({{"public_key", ToHex(key.public_key())},
           {"address", ToHex(AddressOf(key.public_key()))},
           {"did", DeriveDid(key.public_key())}},
          as_json);
    return 0;
  }

  auto channel = grpc::CreateChannel(node_addr, grpc::InsecureChannelCredentials());
  auto stub = v1::Node::NewStub(channel);
  auto deadline = [](grpc::ClientContext& ctx, int secs) {
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(secs));
  };

  if (*status) {
    grpc::ClientContext ctx;
    deadline(ctx, 10);
    v1::GetStatusResponse resp;
    auto s = stub->GetStatus(&ctx, {}, &resp);
    if (!s.ok()) return FailRpc(s, ctx);
    Print({{"chain_id", resp.chain_id()},
           {"height", resp.height()},
           {"latest_block_id", Hex(resp.latest_block_id())},
           {"certified_state_height", resp.state_height()},
           {"certified_state_root", Hex(resp.state_root())},
           {"mempool_size", resp.mempool_size()}},
          as_json);
    return 0;
  }
  if (*account) {
    auto addr = ParseAddress(to);
    if (!addr) return Fail("address must be 40 hex digits", "bad_address");
    std::optional<Genesis> genesis;
    if (prove) {
      if (genesis_path.empty()) return Fail("--prove needs --genesis FILE", "bad_request");
      auto g = LoadGenesisFile(genesis_path);
      if (!g.ok()) return Fail(g.status().message(), g.status().reason());
      genesis = std::move(*g);
    }
    grpc::ClientContext ctx;
    deadline(ctx, 10);
    v1::GetAccountRequest req;
    req.set_address(std::string(AsStringView(*addr)));
    req.set_prove(prove);
    v1::GetAccountResponse resp;
    auto s = stub->GetAccount(&ctx, req, &resp);
    if (!s.ok()) return FailRpc(s, ctx);
    json j{{"address", ToHex(*addr)},
           {"balance", resp.account().balance()},
           {"nonce", resp.account().nonce()},
           {"height", resp.height()}};
    if (genesis) {
      // The proof shows the key present (its own leaf) or absent (an absent account reads as
      // zero); the claimed balance and nonce must be what it proves.
      Hash32 tree_key = TreeKey(AccountKey(*addr));
      std::optional<std::string> value;
      if (resp.proof().has_leaf() &&
          resp.proof().leaf_key() == std::string(AsStringView(tree_key))) {
        value = EncodeAccount({resp.account().balance(), resp.account().nonce()});
      } else if (resp.account().balance() != 0 || resp.account().nonce() != 0) {
        return Fail("the node claims a balance for an account its proof shows absent", "bad_proof");
      }
      Status v =
          VerifyCertifiedValue(genesis->chain_id, genesis->validator_set(), AccountKey(*addr),
                               value, resp.height(), resp.proof(), resp.certifying_block());
      if (!v.ok()) return Fail("the node's answer does not verify: " + v.message(), v.reason());
      j["verified"] = true;
      j["certified_by_block"] = resp.certifying_block().block().header().height();
    }
    Print(j, as_json);
    return 0;
  }
  if (*tx) {
    auto tx_id = FixedFromHex<32>(id);
    if (!tx_id) return Fail("transaction id must be 64 hex digits", "bad_tx_id");
    grpc::ClientContext ctx;
    deadline(ctx, 10);
    v1::GetTransactionRequest req;
    req.set_tx_id(std::string(AsStringView(*tx_id)));
    v1::GetTransactionResponse resp;
    auto s = stub->GetTransaction(&ctx, req, &resp);
    if (!s.ok()) return FailRpc(s, ctx);
    json j = ReceiptJson(resp.receipt());
    j["sender_public_key"] = Hex(resp.tx().public_key());
    Print(j, as_json);
    return 0;
  }
  if (*block) {
    grpc::ClientContext ctx;
    deadline(ctx, 10);
    v1::GetBlockRequest req;
    req.set_height(height);
    v1::GetBlockResponse resp;
    auto s = stub->GetBlock(&ctx, req, &resp);
    if (!s.ok()) return FailRpc(s, ctx);
    json j = HeaderJson(resp.block().block().header());
    j["block_id"] = Hex(resp.block_id());
    j["commit_signatures"] = resp.block().commit_qc().signers_size();
    Print(j, as_json);
    return 0;
  }
  if (*transfer || *deploy || *call) {
    auto key = node::ReadKeyFile(key_path);
    if (!key.ok()) return Fail(key.status().message(), key.status().reason());
    v1::TxBody body;
    body.set_gas_limit(gas_limit);
    if (*transfer) {
      auto addr = ParseAddress(to);
      if (!addr) return Fail("--to must be 40 hex digits", "bad_address");
      body.mutable_transfer()->set_to(std::string(AsStringView(*addr)));
      body.mutable_transfer()->set_amount(amount);
    } else if (*deploy) {
      std::ifstream in(code_path, std::ios::binary);
      if (!in) return Fail("cannot read " + code_path, "bad_code");
      std::string text((std::istreambuf_iterator<char>(in)), {});
      if (code_path.ends_with(".casm")) {
        auto code = casm::Assemble(text);
        if (!code.ok()) return Fail(code.message(), code.reason());
        text.assign(code->begin(), code->end());
      }
      body.mutable_deploy()->set_code(text);
    } else {
      auto addr = ParseAddress(to);
      if (!addr) return Fail("--contract must be 40 hex digits", "bad_address");
      std::vector<vm::Value> values;
      for (const auto& a : call_args) values.push_back(ParseArg(a));
      vm::Bytes args = vm::EncodeValues(values);
      body.mutable_call()->set_contract(std::string(AsStringView(*addr)));
      body.mutable_call()->set_function(function);
      body.mutable_call()->set_args(std::string(args.begin(), args.end()));
      body.mutable_call()->set_amount(amount);
    }
    return SignAndSubmit(*stub, *key, std::move(body), nonce, wait, as_json);
  }
  return 0;
}
