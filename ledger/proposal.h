#pragma once

// One rule book for blocks: what a proposed block must satisfy on top of its parent, wherever
// it comes from. The proposer checks the block it built, a voting validator the leader's
// proposal (node/validator.cc, VerifyPayload), block sync and the auditor's replay the next
// committed block (ledger/chain.h, PrepareBlock). docs/PROTOCOL.md, "Block validity", lists
// the rules; their reasons are these.
//
// No storage here: the checks read the parent's facts and this node's executed state through
// ProposalReader, so they run against a store (chain.cc), against a validator's view with
// pending ancestors, or against a fake in tests.

#include <vector>

#include "ledger/block.h"
#include "ledger/epoch.h"
#include "ledger/genesis.h"
#include "ledger/state.h"
#include "ledger/tx.h"

namespace civitas {

// The ledger facts of a proposal's parent: the genesis block (zero id, height 0, genesis time,
// state height 0), or a block proposed or committed before.
struct ProposalParent {
  Hash32 id{};
  uint64_t height = 0;
  uint64_t time_ms = 0;
  uint64_t state_height = 0;  // the height the parent's header certifies
};

// What CheckProposal reads. Implementations need not be thread-safe; one check at a time.
class ProposalReader {
 public:
  virtual ~ProposalReader() = default;
  virtual ProposalParent Parent() const = 0;
  // The highest height this node has executed: a proposal may certify no later state.
  virtual uint64_t ExecutedHeight() const = 0;
  // The state root after executed height `height` (<= ExecutedHeight()).
  virtual Result<Hash32> StateRoot(uint64_t height) const = 0;
  // The state after ExecutedHeight(): accounts' nonces and balances.
  virtual const StateReader& ExecutedState() const = 0;
  // The transactions of the blocks between the executed state and the proposal (ordered,
  // not yet executed), oldest first. Empty when the parent is the executed tip.
  virtual std::vector<const DecodedTx*> PendingTxs() const = 0;
};

// Checks `block` as the child of reader.Parent() in `epoch`:
//  - header: height = parent's + 1, parent id, and CheckHeader (chain id, caps, epoch, proposer,
//    tx_count, hash lengths, time not before the parent's);
//  - certified state: state_height between the parent's and ExecutedHeight(), state_root the
//    root this node computed for it;
//  - tx_root over `txs`;
//  - per sender, from ExecutedState() through PendingTxs() and then `txs`: nonces in sequence
//    and every maximum fee covered by what is sure to remain of the balance (PendingSenders).
// `txs` must be the block's transactions, decoded and checked without state (DecodeBlockTxs);
// their signatures are the caller's to verify, before or after.
// Reasons: bad_block (a state root this node computed otherwise: Blame::kLocal, any other:
// Blame::kPeer), not_executed (kFailedPrecondition, Blame::kLocal: the state height is above
// what this node has executed, so it cannot check it yet), bad_nonce and
// insufficient_funds_for_fee (Blame::kPeer), or the reader's own error.
Status CheckProposal(const Genesis& genesis, const Epoch& epoch, const ProposalReader& reader,
                     const v1::Block& block, const std::vector<DecodedTx>& txs);

// What a new block must say about its parent and the state it certifies.
struct BlockTemplate {
  uint64_t height = 0;
  Hash32 parent_id{};  // ledger block id of the parent (zero for height 1)
  uint64_t parent_time_ms = 0;
  uint64_t state_height = 0;  // a height the proposer has executed
  Hash32 state_root{};        // the state root after state_height
  uint64_t epoch = 0;
  uint64_t round = 0;
};

// The block `t` describes, proposed by `proposer` at `time_ms` (raised to the parent's time
// if lower), holding `txs` (already checked) in order. Not executed; the proposer checks it
// with CheckProposal before proposing it.
v1::Block AssembleBlock(const Genesis& genesis, const BlockTemplate& t,
                        const crypto::PublicKey& proposer, uint64_t time_ms,
                        const std::vector<DecodedTx>& txs);

// Checks the header fields that need no state: chain id, size caps, the epoch's number and the
// proposer among its validators, transaction count, time not before `parent_time_ms`, hash
// field lengths. Reasons: bad_block (Blame::kPeer).
Status CheckHeader(const Genesis& genesis, const Epoch& epoch, const v1::Block& block,
                   uint64_t parent_time_ms);

}  // namespace civitas
