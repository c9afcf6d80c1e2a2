#pragma once

// Deterministic execution of a block's transactions (docs/PROTOCOL.md, "Execution").

#include <vector>

#include "civitas/v1/types.pb.h"
#include "ledger/params.h"
#include "ledger/state.h"
#include "ledger/tx.h"

namespace civitas {

struct BlockExecution {
  std::vector<v1::Receipt> receipts;  // one per transaction, in block order
  StateWrites writes;                 // every state change of the block
};

// What contracts see of the block they run in.
struct BlockContext {
  uint64_t height = 0;
  uint64_t time_ms = 0;
};

// The largest fee `tx` may pay: gas_limit x gas_price (fits 64 bits: both are bounded at
// genesis).
uint64_t MaxFee(const ChainParams& params, const DecodedTx& tx);

// The most `tx` can take from its sender's balance: MaxFee plus the tokens its action sends
// (a transfer's amount, a call's amount, a civic action's deposit or weight), saturating at
// 2^64 - 1. Only a sender's own transactions lower its balance, so a balance B covers the
// maximum fee of a transaction whenever B minus the MaxDebit of the sender's transactions
// before it is at least its MaxFee: what admission and proposers check before execution
// (docs/PROTOCOL.md, "Fees").
uint64_t MaxDebit(const ChainParams& params, const DecodedTx& tx);

// The sum of the gas limits of `txs`: what the block gas limit bounds (cannot overflow: at most
// kMaxBlockTxs limits of at most 2^40 each, as DecodeAndCheckTx bounds them by max_tx_gas).
uint64_t BlockGas(const std::vector<DecodedTx>& txs);

// The consensus rule of docs/PROTOCOL.md, "Block gas limit": BlockGas(txs) is at most
// params.max_block_gas. Reason: block_gas_exceeded (the message gives both figures).
Status CheckBlockGas(const ChainParams& params, const std::vector<DecodedTx>& txs);

// Executes `txs` (decoded, signatures already checked) in order on top of `state`, the committed
// state after block height-1. Every included transaction consumes its nonce and pays its fee to
// the treasury; one that cannot complete is a FAILED receipt with a reason and changes nothing
// else. Fails only if the block is invalid (over the block gas limit: reason
// block_gas_exceeded, before anything runs; a nonce out of sequence: reason bad_nonce; a sender
// whose balance, when its transaction runs, is below that transaction's MaxFee: reason
// insufficient_funds_for_fee) or storage fails; then the caller must write nothing.
Result<BlockExecution> ExecuteBlock(const ChainParams& params, const StateReader& state,
                                    const BlockContext& block, const std::vector<DecodedTx>& txs);

}  // namespace civitas
