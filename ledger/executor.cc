#include "ledger/executor.h"

namespace civitas {
namespace {

struct TxOutcome {
  bool ok = true;
  std::string reason;
};

// Adds `amount` to an account, refusing an overflow.
Result<bool> Credit(StateOverlay& s, const Address& to, uint64_t amount) {
  auto acct = s.GetAccount(to);
  if (!acct.ok()) return acct.status();
  if (acct->balance > UINT64_MAX - amount) return false;
  acct->balance += amount;
  s.SetAccount(to, *acct);
  return true;
}

Result<TxOutcome> ExecuteAction(StateOverlay& s, const DecodedTx& tx, v1::Receipt& receipt) {
  const auto& body = tx.body;
  switch (body.action_case()) {
    case v1::TxBody::kTransfer: {
      const auto& t = body.transfer();
      auto to = AddressFromBytes(t.to());
      if (!to) return TxOutcome{false, "malformed_tx"};
      auto from = s.GetAccount(tx.sender);
      if (!from.ok()) return from.status();
      if (from->balance < t.amount()) return TxOutcome{false, "insufficient_funds"};
      from->balance -= t.amount();
      s.SetAccount(tx.sender, *from);
      auto credited = Credit(s, *to, t.amount());
      if (!credited.ok()) return credited.status();
      if (!*credited) return TxOutcome{false, "balance_overflow"};
      auto* ev = receipt.add_events();
      ev->set_topic("transfer");
      Bytes data;
      Append(data, tx.sender);
      Append(data, *to);
      PutU64(data, t.amount());
      ev->set_data(std::string(AsStringView(data)));
      return TxOutcome{};
    }
    default:
      return TxOutcome{false, "unsupported_action"};
  }
}

}  // namespace

Result<BlockExecution> ExecuteBlock(const ChainParams& params, const StateReader& state,
                                    uint64_t height, const std::vector<DecodedTx>& txs) {
  StateOverlay s(state);
  BlockExecution out;
  out.receipts.reserve(txs.size());
  for (size_t i = 0; i < txs.size(); ++i) {
    const DecodedTx& tx = txs[i];
    v1::Receipt receipt;
    receipt.set_tx_id(std::string(AsStringView(tx.id)));
    receipt.set_height(height);
    receipt.set_index(static_cast<uint32_t>(i));

    auto sender = s.GetAccount(tx.sender);
    if (!sender.ok()) return sender.status();
    if (tx.body.nonce() != sender->nonce) {
      return Status::Invalid("bad_nonce", "transaction " + std::to_string(i) + " has nonce " +
                                              std::to_string(tx.body.nonce()) +
                                              ", account expects " + std::to_string(sender->nonce));
    }
    // The nonce is consumed and the fee paid whatever the action does. gas_limit and gas_price
    // are bounded at genesis so the product fits (checked in LoadGenesis).
    uint64_t gas_used = IntrinsicGas(params, tx.size);
    uint64_t fee = gas_used * params.gas_price;
    sender->nonce += 1;
    TxOutcome outcome;
    if (sender->balance < fee) {
      fee = sender->balance;
      outcome = {false, "insufficient_funds_for_fee"};
    }
    sender->balance -= fee;
    s.SetAccount(tx.sender, *sender);
    auto credited = Credit(s, TreasuryAddress(), fee);
    if (!credited.ok()) return credited.status();

    if (outcome.ok) {
      size_t mark = s.Snapshot();
      auto r = ExecuteAction(s, tx, receipt);
      if (!r.ok()) return r.status();
      outcome = *r;
      if (!outcome.ok) {
        s.RevertTo(mark);
        receipt.clear_events();
      }
    }
    receipt.set_status(outcome.ok ? v1::TX_STATUS_SUCCESS : v1::TX_STATUS_FAILED);
    receipt.set_reason(outcome.reason);
    receipt.set_gas_used(gas_used);
    receipt.set_fee(fee);
    out.receipts.push_back(std::move(receipt));
  }
  out.writes = s.writes();
  return out;
}

}  // namespace civitas
