#pragma once

// Validating, building and committing the next block on top of a Store. Block sync and the
// auditor's replay go through these functions; they check a block by the rule book
// (ledger/proposal.h) that the proposer and the voting validator use too, so a block is checked
// the same way wherever it comes from (docs/PROTOCOL.md, "Block validity").

#include <vector>

#include "ledger/block.h"
#include "ledger/executor.h"
#include "ledger/genesis.h"
#include "ledger/proposal.h"
#include "ledger/store.h"

namespace civitas {

// A block checked against the tip of a store and executed, not yet written.
struct PreparedBlock {
  v1::Block block;
  Hash32 id{};
  std::vector<DecodedTx> txs;
  std::vector<Hash32> tx_ids;
  BlockExecution exec;
  Hash32 new_root{};                  // state root after this block
  smt::NodeBatch nodes;               // state-tree nodes built (smt::Tree::Apply)
  std::vector<Hash32> removed_nodes;  // and those the new tree no longer has
  Epoch epoch;                        // the epoch the block belongs to
  std::optional<Epoch> next_epoch;    // set when the block ends its epoch (ledger/epoch.h)
  ProvenValue certified_validators;   // the validators record in the certified state
};

// Decodes a block's transactions and checks each as DecodeAndCheckTx does; signatures only
// when `verify_signatures`.
Result<std::vector<DecodedTx>> DecodeBlockTxs(const v1::Block& block, const Genesis& genesis,
                                              bool verify_signatures);

// Checks `block` as block store.height()+1 by the rule book (CheckProposal, ledger/proposal.h,
// with the store's tip as the parent and nothing pending), then every transaction's signature;
// then executes it and tells whether it ends its epoch. Reasons: CheckProposal's, or a
// transaction's. Writes nothing.
Result<PreparedBlock> PrepareBlock(const Store& store, const Genesis& genesis,
                                   const v1::Block& block);

// PrepareBlock for a caller that has already decoded and checked the block's transactions,
// signatures included: `txs` must be what DecodeBlockTxs(block, genesis, true) returns (the
// auditor's replay does that ahead, on other threads). Everything else is checked as there.
Result<PreparedBlock> PrepareDecodedBlock(const Store& store, const Genesis& genesis,
                                          const v1::Block& block, std::vector<DecodedTx> txs);

// The template of the block after the store's tip, certifying the tip's state.
BlockTemplate NextOnTip(const Store& store);

// Assembles the block after the store's tip (NextOnTip) and executes it. For tools and tests
// that extend a chain one block at a time; the validator proposes through AssembleBlock.
Result<PreparedBlock> BuildBlock(const Store& store, const Genesis& genesis,
                                 const crypto::PublicKey& proposer, uint64_t time_ms,
                                 std::vector<DecodedTx> txs);

// Writes a prepared block with the certificate that commits it (a QC on the consensus block
// whose header is `consensus_header`), after VerifyCommitCertificate against the validators of
// the block's epoch; a block that ends its epoch also records the next one. `durability` as
// in Store::CommitBlock.
Status CommitPrepared(Store& store, const Genesis& genesis, const PreparedBlock& prepared,
                      const v1::QuorumCert& commit_qc, const std::string& consensus_header,
                      Durability durability = Durability::kSynced);

// `prepared.block` with the certificate that commits it: a QC on the consensus block whose
// header is `consensus_header`. What CommitPrepared and CommitVerifiedBlock write.
v1::CommittedBlock WithCertificate(const PreparedBlock& prepared, const v1::QuorumCert& commit_qc,
                                   const std::string& consensus_header);

// CommitPrepared for a caller that has already checked the certificate: `committed` holds
// `prepared.block` with the certificate that commits it, and VerifyCommitCertificate(committed,
// genesis.chain_id, prepared.epoch.validators) returned OK, or the certificate is the
// conversion of a consensus QC whose signatures the replica verified. Writes it as
// CommitPrepared does.
Status CommitVerifiedBlock(Store& store, const PreparedBlock& prepared,
                           const v1::CommittedBlock& committed,
                           Durability durability = Durability::kSynced);

// The proofs of the store's validator-set changes up to epoch `up_to` (v1::EpochChange, as
// FollowEpochChanges checks them), oldest first.
Result<std::vector<v1::EpochChange>> EpochChangesUpTo(const Store& store, uint64_t up_to);

}  // namespace civitas
