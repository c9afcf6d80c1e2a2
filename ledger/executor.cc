#include "ledger/executor.h"

#include "ledger/civic_calls.h"
#include "ledger/vm_host.h"

namespace civitas {
namespace {

struct ActionOutcome {
  bool ok = true;
  std::string reason;
  uint64_t gas = 0;  // gas used beyond the intrinsic gas
};

std::string Str(const Address& a) { return std::string(AsStringView(a)); }

void AddTransferEvent(v1::Receipt& receipt, const Address& from, const Address& to,
                      uint64_t amount) {
  auto* ev = receipt.add_events();
  ev->set_topic("transfer");
  Bytes data;
  Append(data, from);
  Append(data, to);
  PutU64(data, amount);
  ev->set_data(std::string(AsStringView(data)));
}

Result<ActionOutcome> Deploy(const ChainParams& params, CallContext& ctx, const DecodedTx& tx,
                             uint64_t nonce, uint64_t gas_available, v1::Receipt& receipt) {
  const std::string& code = tx.body.deploy().code();
  uint64_t gas = params.deploy_byte_gas * code.size();
  if (gas > gas_available) return ActionOutcome{false, "out_of_gas", gas_available};
  auto module =
      vm::Validate(vm::ByteView(reinterpret_cast<const uint8_t*>(code.data()), code.size()));
  if (!module.ok()) return ActionOutcome{false, "bad_code: " + module.reason(), gas};
  Address addr = ContractAddress(tx.sender, nonce);
  auto existing = ctx.state.Get(CodeHashKey(addr));
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) return ActionOutcome{false, "contract_exists", gas};
  Hash32 hash = crypto::Sha256(code);
  ctx.state.Set(CodeKey(hash), code);
  ctx.state.Set(CodeHashKey(addr), std::string(AsStringView(hash)));
  receipt.set_contract_address(Str(addr));
  return ActionOutcome{true, "", gas};
}

// A contract call: the body's CallContract, or the call a typed civic action stands for.
Result<ActionOutcome> Call(CallContext& ctx, const DecodedTx& tx, const nation::ContractCall& call,
                           uint64_t gas_available, v1::Receipt& receipt) {
  const Address& contract = call.contract;
  auto module = LoadContract(ctx, contract);
  if (!module.ok()) {
    if (module.status().code() == Status::Code::kNotFound)
      return ActionOutcome{false, "no_contract", 0};
    return module.status();
  }
  auto args = vm::DecodeValues(
      vm::ByteView(reinterpret_cast<const uint8_t*>(call.args.data()), call.args.size()));
  if (!args.ok()) return ActionOutcome{false, "bad_arguments: " + args.reason(), 0};
  if (call.amount > 0) {
    auto moved = MoveTokens(ctx.state, tx.sender, contract, call.amount);
    if (!moved.ok()) return moved.status();
    if (!*moved) return ActionOutcome{false, "insufficient_funds", 0};
  }
  LedgerHost host(ctx, contract, tx.sender);
  vm::ExecResult r = vm::Execute(**module, call.function, std::move(*args), gas_available, host);
  if (!host.storage_error().ok()) return host.storage_error();
  if (!r.ok()) {
    return ActionOutcome{false, std::string(vm::ExecStatusName(r.status)) + ": " + r.reason,
                         r.gas_used};
  }
  vm::Bytes ret = vm::EncodeValues(r.returns);
  receipt.set_return_data(std::string(ret.begin(), ret.end()));
  return ActionOutcome{true, "", r.gas_used};
}

Result<ActionOutcome> RunAction(const ChainParams& params, CallContext& ctx, const DecodedTx& tx,
                                uint64_t nonce, uint64_t gas_available, v1::Receipt& receipt) {
  switch (tx.body.action_case()) {
    case v1::TxBody::kTransfer: {
      const auto& t = tx.body.transfer();
      Address to = *AddressFromBytes(t.to());
      auto moved = MoveTokens(ctx.state, tx.sender, to, t.amount());
      if (!moved.ok()) return moved.status();
      if (!*moved) return ActionOutcome{false, "insufficient_funds", 0};
      AddTransferEvent(receipt, tx.sender, to, t.amount());
      return ActionOutcome{};
    }
    case v1::TxBody::kDeploy:
      return Deploy(params, ctx, tx, nonce, gas_available, receipt);
    case v1::TxBody::kCall: {
      const auto& c = tx.body.call();
      nation::ContractCall call{*AddressFromBytes(c.contract()), c.function(), c.args(),
                                c.amount()};
      return Call(ctx, tx, call, gas_available, receipt);
    }
    default: {
      // A typed civic action runs exactly as the contract call it stands for.
      auto civic = nation::CivicCallOf(tx.body);
      if (!civic.ok() || !civic->has_value()) return ActionOutcome{false, "malformed_tx", 0};
      return Call(ctx, tx, **civic, gas_available, receipt);
    }
  }
}

}  // namespace

uint64_t MaxFee(const ChainParams& params, const DecodedTx& tx) {
  return tx.body.gas_limit() * params.gas_price;
}

uint64_t MaxDebit(const ChainParams& params, const DecodedTx& tx) {
  uint64_t amount = 0;
  switch (tx.body.action_case()) {
    case v1::TxBody::kTransfer:
      amount = tx.body.transfer().amount();
      break;
    case v1::TxBody::kDeploy:
      break;
    case v1::TxBody::kCall:
      amount = tx.body.call().amount();
      break;
    default: {
      auto civic = nation::CivicCallOf(tx.body);
      if (civic.ok() && civic->has_value()) amount = (*civic)->amount;
    }
  }
  const uint64_t fee = MaxFee(params, tx);
  return amount > UINT64_MAX - fee ? UINT64_MAX : fee + amount;
}

uint64_t BlockGas(const std::vector<DecodedTx>& txs) {
  uint64_t gas = 0;
  for (const auto& tx : txs) gas += tx.body.gas_limit();
  return gas;
}

Status CheckBlockGas(const ChainParams& params, const std::vector<DecodedTx>& txs) {
  const uint64_t gas = BlockGas(txs);
  if (gas <= params.max_block_gas) return Status::Ok();
  return Status::PeerFault("block_gas_exceeded",
                           "the block's transactions ask for " + std::to_string(gas) +
                               " gas in all, above the chain's max_block_gas of " +
                               std::to_string(params.max_block_gas));
}

Result<BlockExecution> ExecuteBlock(const ChainParams& params, const StateReader& state,
                                    const BlockContext& block, const std::vector<DecodedTx>& txs) {
  if (Status limit = CheckBlockGas(params, txs); !limit.ok()) return limit;
  StateOverlay s(state);
  std::map<Hash32, std::shared_ptr<const vm::Module>> modules;
  BlockExecution out;
  out.receipts.reserve(txs.size());
  size_t block_receipt_bytes = 0;  // of the receipts so far (at most kMaxBlockReceiptBytes + ...)
  for (size_t i = 0; i < txs.size(); ++i) {
    const DecodedTx& tx = txs[i];
    v1::Receipt receipt;
    receipt.set_tx_id(std::string(AsStringView(tx.id)));
    receipt.set_height(block.height);
    receipt.set_index(static_cast<uint32_t>(i));

    auto sender = s.GetAccount(tx.sender);
    if (!sender.ok()) return sender.status();
    const uint64_t nonce = tx.body.nonce();
    if (nonce != sender->nonce) {
      return Status::Invalid("bad_nonce", "transaction " + std::to_string(i) + " has nonce " +
                                              std::to_string(nonce) + ", account expects " +
                                              std::to_string(sender->nonce));
    }
    // A block may hold only transactions whose largest fee their sender can pay when they run
    // (docs/PROTOCOL.md, "Fees"): a fee that is not covered would let a sender without funds
    // use the chain's gas for free.
    const uint64_t max_fee = MaxFee(params, tx);
    if (sender->balance < max_fee) {
      return Status::Invalid("insufficient_funds_for_fee",
                             "transaction " + std::to_string(i) + ": sender's balance " +
                                 std::to_string(sender->balance) + " is below its maximum fee " +
                                 std::to_string(max_fee) + " (gas_limit x gas_price)");
    }
    // The nonce is consumed whatever the action does.
    sender->nonce += 1;
    s.SetAccount(tx.sender, *sender);
    // Reserve the largest fee so the action cannot spend it; release it afterwards.
    sender->balance -= max_fee;
    s.SetAccount(tx.sender, *sender);
    const size_t mark = s.Snapshot();
    const uint64_t intrinsic = IntrinsicGas(params, tx.size);
    CallContext ctx{s, tx.sender, block.height, block.time_ms, {}, modules};
    auto r = RunAction(params, ctx, tx, nonce, tx.body.gas_limit() - intrinsic, receipt);
    if (!r.ok()) return r.status();
    ActionOutcome outcome = *r;
    const uint64_t gas_used = intrinsic + outcome.gas;
    // gas_used <= gas_limit, so the released reservation covers the fee.
    const uint64_t fee = gas_used * params.gas_price;
    receipt.set_gas_used(gas_used);
    receipt.set_fee(fee);
    if (outcome.ok) {
      // The receipt limits (docs/PROTOCOL.md, "Receipt limits"), on the receipt as it would be
      // stored: too much of it fails the transaction as running out of gas does.
      if (ctx.events.size() > kMaxTxEvents) {
        outcome = {false, "too_many_events", outcome.gas};
      } else {
        for (auto& e : ctx.events) *receipt.add_events() = std::move(e);
        receipt.set_status(v1::TX_STATUS_SUCCESS);
        const size_t size = receipt.ByteSizeLong();
        if (size > kMaxTxReceiptBytes) {
          outcome = {false, "receipt_too_large", outcome.gas};
        } else if (block_receipt_bytes + size > kMaxBlockReceiptBytes) {
          outcome = {false, "block_receipts_full", outcome.gas};
        }
      }
    }
    if (!outcome.ok) {
      s.RevertTo(mark);
      receipt.clear_events();
      receipt.clear_contract_address();
      receipt.clear_return_data();
    }
    auto acct = s.GetAccount(tx.sender);
    if (!acct.ok()) return acct.status();
    acct->balance += max_fee;
    s.SetAccount(tx.sender, *acct);
    auto paid = MoveTokens(s, tx.sender, TreasuryAddress(), fee);
    if (!paid.ok()) return paid.status();
    if (!*paid) return Status::Corruption("treasury balance overflows");

    receipt.set_status(outcome.ok ? v1::TX_STATUS_SUCCESS : v1::TX_STATUS_FAILED);
    receipt.set_reason(outcome.reason.substr(0, kMaxReceiptReasonBytes));
    block_receipt_bytes += receipt.ByteSizeLong();
    out.receipts.push_back(std::move(receipt));
    s.Settle();
  }
  out.writes = std::move(s).TakeWrites();
  return out;
}

}  // namespace civitas
