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

// Executes `txs` (decoded, signatures already checked) in order on top of `state`, the committed
// state after block height-1. Every included transaction consumes its nonce and pays its fee to
// the treasury; one that cannot complete is a FAILED receipt with a reason and changes nothing
// else. Fails only if the block is invalid (a nonce out of sequence: reason bad_nonce) or storage
// fails; then the caller must write nothing.
Result<BlockExecution> ExecuteBlock(const ChainParams& params, const StateReader& state,
                                    const BlockContext& block, const std::vector<DecodedTx>& txs);

}  // namespace civitas
