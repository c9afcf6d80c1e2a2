#pragma once

// Validating, building and committing the next block on top of a Store. The block producer,
// block sync and the auditor's replay all go through these functions, so a block is checked
// the same way wherever it comes from (docs/PROTOCOL.md, "Block validity").

#include <vector>

#include "ledger/block.h"
#include "ledger/executor.h"
#include "ledger/genesis.h"
#include "ledger/store.h"

namespace civitas {

// A block checked against the tip of a store and executed, not yet written.
struct PreparedBlock {
  v1::Block block;
  Hash32 id{};
  std::vector<DecodedTx> txs;
  std::vector<Hash32> tx_ids;
  BlockExecution exec;
  Hash32 new_root{};  // state root after this block
  smt::NodeBatch nodes;
};

// Decodes a block's transactions and checks each as DecodeAndCheckTx does; signatures only
// when `verify_signatures`.
Result<std::vector<DecodedTx>> DecodeBlockTxs(const v1::Block& block, const Genesis& genesis,
                                              bool verify_signatures);

// Checks `block` as block store.height()+1: header linkage (chain id, height, parent id, time),
// proposer in the council, transaction count and root, the certified state root of the parent,
// every transaction (signatures unless `signatures_checked`), nonces; then executes it.
// Reasons: bad_block, bad_nonce, or a transaction's reason. Writes nothing.
Result<PreparedBlock> PrepareBlock(const Store& store, const Genesis& genesis,
                                   const v1::Block& block, bool signatures_checked = false);

// Builds the next block from transactions already checked (signatures verified), as proposer
// `proposer_key` at `time_ms` (raised to the parent's time if lower).
Result<PreparedBlock> BuildBlock(const Store& store, const Genesis& genesis,
                                 const crypto::PublicKey& proposer, uint64_t time_ms,
                                 std::vector<DecodedTx> txs);

// Writes a prepared block with the certificate that commits it, after checking the certificate
// against the genesis council.
Status CommitPrepared(Store& store, const Genesis& genesis, const PreparedBlock& prepared,
                      const v1::QuorumCert& commit_qc);

}  // namespace civitas
