#include "ledger/proposal.h"

#include <algorithm>

#include "ledger/pending.h"

namespace civitas {
namespace {

// A block against the rules: whoever sent it is to blame.
Status RuleBroken(uint64_t height, const std::string& msg) {
  return Status::PeerFault("bad_block", "block " + std::to_string(height) + ": " + msg);
}

std::string HashStr(const Hash32& h) { return std::string(AsStringView(h)); }

}  // namespace

Status CheckHeader(const Genesis& genesis, const Epoch& epoch, const v1::Block& block,
                   uint64_t parent_time_ms) {
  const auto& h = block.header();
  const uint64_t height = h.height();
  if (h.chain_id() != genesis.chain_id) return RuleBroken(height, "wrong chain id");
  if (h.time_ms() < parent_time_ms) return RuleBroken(height, "time goes backwards");
  if (h.epoch() != epoch.number) {
    return RuleBroken(height, "epoch " + std::to_string(h.epoch()) + ", expected " +
                                  std::to_string(epoch.number));
  }
  auto proposer = FixedFromBytes<32>(h.proposer());
  if (!proposer || !epoch.validators.Contains(*proposer)) {
    return RuleBroken(height,
                      "proposer is not a validator of epoch " + std::to_string(epoch.number));
  }
  if (static_cast<size_t>(block.txs_size()) > kMaxBlockTxs ||
      block.ByteSizeLong() > kMaxBlockBytes) {
    return RuleBroken(height, "block exceeds the size caps");
  }
  if (h.tx_count() != static_cast<uint32_t>(block.txs_size())) {
    return RuleBroken(height, "tx_count does not match the transactions");
  }
  if (h.parent_id().size() != 32 || h.tx_root().size() != 32 || h.state_root().size() != 32) {
    return RuleBroken(height, "hash field of the wrong length");
  }
  return Status::Ok();
}

Status CheckProposal(const Genesis& genesis, const Epoch& epoch, const ProposalReader& reader,
                     const v1::Block& block, const std::vector<DecodedTx>& txs) {
  const auto& h = block.header();
  const ProposalParent parent = reader.Parent();
  const uint64_t height = parent.height + 1;
  if (h.height() != height) {
    return RuleBroken(h.height(), "expected height " + std::to_string(height));
  }
  if (h.parent_id() != HashStr(parent.id)) {
    return RuleBroken(height, "parent id is not the parent's block id");
  }
  Status s = CheckHeader(genesis, epoch, block, parent.time_ms);
  if (!s.ok()) return s;

  // The certified state: one this node executed, never older than the parent's.
  const uint64_t executed = reader.ExecutedHeight();
  if (h.state_height() < parent.state_height || h.state_height() >= height) {
    return RuleBroken(height, "certified state height " + std::to_string(h.state_height()) +
                                  " is outside [" + std::to_string(parent.state_height) + ", " +
                                  std::to_string(height - 1) + "]");
  }
  if (h.state_height() > executed) {
    return Status::Error(Status::Code::kFailedPrecondition, "not_executed",
                         "block " + std::to_string(height) + ": certified height " +
                             std::to_string(h.state_height()) +
                             " is above this node's executed height " + std::to_string(executed))
        .WithBlame(Status::Blame::kLocal);
  }
  auto root = reader.StateRoot(h.state_height());
  if (!root.ok()) return root.status();
  if (h.state_root() != HashStr(*root)) {
    // This node's execution against the proposer's: either may be wrong.
    return RuleBroken(height, "certified state root differs from this node's execution of height " +
                                  std::to_string(h.state_height()))
        .WithBlame(Status::Blame::kLocal);
  }

  if (txs.size() != static_cast<size_t>(block.txs_size())) {
    return Status::Error(Status::Code::kInternal, "internal",
                         "decoded transactions do not match the block");
  }
  std::vector<Hash32> ids;
  ids.reserve(txs.size());
  for (const auto& tx : txs) ids.push_back(tx.id);
  if (h.tx_root() != HashStr(MerkleRoot(ids))) return RuleBroken(height, "tx_root does not match");

  // Nonces run in sequence per sender from the executed state through the pending
  // transactions, so a transaction already executed or pending, or twice in this block, fails
  // here: its id covers the sender's key and the nonce. Every maximum fee must be covered by
  // what is sure to remain of its sender's balance when it runs, so that executing the block
  // cannot fail the fee rule (ExecuteBlock, insufficient_funds_for_fee).
  PendingSenders senders(reader.ExecutedState(), genesis.params);
  s = senders.TrackAll(reader.PendingTxs());
  if (!s.ok()) return s;
  for (size_t i = 0; i < txs.size(); ++i) {
    s = senders.CheckAndTrack(txs[i], i);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

v1::Block AssembleBlock(const Genesis& genesis, const BlockTemplate& t,
                        const crypto::PublicKey& proposer, uint64_t time_ms,
                        const std::vector<DecodedTx>& txs) {
  v1::Block block;
  auto* h = block.mutable_header();
  h->set_chain_id(genesis.chain_id);
  h->set_height(t.height);
  h->set_parent_id(HashStr(t.parent_id));
  h->set_state_height(t.state_height);
  h->set_state_root(HashStr(t.state_root));
  h->set_proposer(std::string(AsStringView(proposer)));
  h->set_time_ms(std::max(time_ms, t.parent_time_ms));
  h->set_tx_count(static_cast<uint32_t>(txs.size()));
  h->set_epoch(t.epoch);
  h->set_round(t.round);
  std::vector<Hash32> ids;
  ids.reserve(txs.size());
  for (const auto& tx : txs) {
    *block.add_txs() = tx.envelope;
    ids.push_back(tx.id);
  }
  h->set_tx_root(HashStr(MerkleRoot(ids)));
  return block;
}

}  // namespace civitas
