// Queries: account (optionally proved), tx, block, status.

#include <optional>

#include "ledger/block.h"
#include "ledger/certified.h"
#include "ledger/genesis.h"
#include "tools/cli/cli.h"

namespace civitas::cli {
namespace {

class Query : public Commands {
 public:
  void Register(CLI::App& app) override {
    account_ = app.add_subcommand("account", "balance and nonce of an address");
    account_->add_option("address", address_, "address")->required();
    account_->add_flag("--prove", prove_,
                       "verify the answer (Merkle proof + commit certificate) against --genesis");
    account_->add_option("--genesis", genesis_path_,
                         "the chain's genesis.json (council and chain id)");
    tx_ = app.add_subcommand("tx", "a committed transaction and its receipt");
    tx_->add_option("id", id_, "transaction id (hex)")->required();
    block_ = app.add_subcommand("block", "a committed block (latest by default)");
    height_option_ = block_->add_option("height", height_, "height (default: the latest block)");
    status_ = app.add_subcommand("status", "the node's chain, height and state root");
  }

  std::optional<int> Run(const Globals& g) override {
    if (*status_) return Status(g);
    if (*account_) return Account(g);
    if (*tx_) return Tx(g);
    if (*block_) return Block(g);
    return std::nullopt;
  }

 private:
  int Status(const Globals& g) {
    auto stub = Connect(g);
    grpc::ClientContext ctx;
    SetDeadline(ctx, 10);
    v1::GetStatusResponse resp;
    auto s = stub->GetStatus(&ctx, {}, &resp);
    if (!s.ok()) return FailRpc(s, ctx);
    json validators = json::array();
    for (const auto& k : resp.validators()) validators.push_back(Hex(k));
    Print({{"chain_id", resp.chain_id()},
           {"height", resp.height()},
           {"latest_block_id", Hex(resp.latest_block_id())},
           {"certified_state_height", resp.state_height()},
           {"certified_state_root", Hex(resp.state_root())},
           {"mempool_size", resp.mempool_size()},
           {"epoch", resp.epoch()},
           {"epoch_start_height", resp.epoch_start_height()},
           {"validators", validators},
           {"version", resp.version()},
           {"commit", resp.commit()},
           {"catching_up", resp.catching_up()},
           {"peers", resp.peers()}},
          g.json());
    return 0;
  }

  int Account(const Globals& g) {
    auto addr = ParseAddress(address_);
    if (!addr) return Fail("address must be 40 hex digits", "bad_address");
    std::optional<Genesis> genesis;
    if (prove_) {
      if (genesis_path_.empty()) return Fail("--prove needs --genesis FILE", "bad_request");
      auto gen = LoadGenesisFile(genesis_path_);
      if (!gen.ok()) return Fail(gen.status());
      genesis = std::move(*gen);
    }
    auto stub = Connect(g);
    grpc::ClientContext ctx;
    SetDeadline(ctx, 10);
    v1::GetAccountRequest req;
    req.set_address(std::string(AsStringView(*addr)));
    req.set_prove(prove_);
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
      civitas::Status v = VerifyCertifiedValue(
          genesis->chain_id, genesis->first_epoch(), resp.epoch_changes(), AccountKey(*addr), value,
          resp.height(), resp.proof(), resp.certifying_block());
      if (!v.ok()) return Fail("the node's answer does not verify: " + v.message(), v.reason());
      j["verified"] = true;
      j["certified_by_block"] = resp.certifying_block().block().header().height();
      j["epoch"] = resp.certifying_block().block().header().epoch();
    }
    Print(j, g.json());
    return 0;
  }

  int Tx(const Globals& g) {
    auto tx_id = FixedFromHex<32>(id_);
    if (!tx_id) return Fail("transaction id must be 64 hex digits", "bad_tx_id");
    auto stub = Connect(g);
    grpc::ClientContext ctx;
    SetDeadline(ctx, 10);
    v1::GetTransactionRequest req;
    req.set_tx_id(std::string(AsStringView(*tx_id)));
    v1::GetTransactionResponse resp;
    auto s = stub->GetTransaction(&ctx, req, &resp);
    if (!s.ok()) return FailRpc(s, ctx);
    json j = ReceiptJson(resp.receipt());
    j["sender_public_key"] = Hex(resp.tx().public_key());
    Print(j, g.json());
    return 0;
  }

  int Block(const Globals& g) {
    auto stub = Connect(g);
    grpc::ClientContext ctx;
    SetDeadline(ctx, 10);
    v1::GetBlockRequest req;
    if (height_option_->count() > 0) req.set_height(height_);  // else the latest block
    v1::GetBlockResponse resp;
    auto s = stub->GetBlock(&ctx, req, &resp);
    if (!s.ok()) return FailRpc(s, ctx);
    json j = HeaderJson(resp.block().block().header());
    j["block_id"] = Hex(resp.block_id());
    j["commit_signatures"] = resp.block().commit_qc().signers_size();
    Print(j, g.json());
    return 0;
  }

  CLI::App* account_ = nullptr;
  CLI::App* tx_ = nullptr;
  CLI::App* block_ = nullptr;
  CLI::App* status_ = nullptr;
  std::string address_, id_, genesis_path_;
  bool prove_ = false;
  uint64_t height_ = 0;
  CLI::Option* height_option_ = nullptr;
};

}  // namespace

std::unique_ptr<Commands> QueryCommands() { return std::make_unique<Query>(); }

}  // namespace civitas::cli
