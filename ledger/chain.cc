#include "ledger/chain.h"

namespace civitas {
namespace {

Status BadBlock(uint64_t height, const std::string& msg) {
  return Status::Invalid("bad_block", "block " + std::to_string(height) + ": " + msg);
}

std::string Str(const Hash32& h) { return std::string(AsStringView(h)); }

// The header fields a new block must carry on top of the store's tip.
struct Tip {
  uint64_t height = 0;
  Hash32 id{};
  uint64_t time_ms = 0;
  Hash32 state_root{};
};

Result<Tip> ReadTip(const Store& store, const Genesis& genesis) {
  Tip tip;
  tip.height = store.height();
  tip.time_ms = genesis.genesis_time_ms;
  if (tip.height > 0) {
    auto parent = store.GetBlock(tip.height);
    if (!parent.ok()) return parent.status();
    auto id = BlockId(parent->block().header());
    if (!id.ok())
      return Status::Corruption("stored block " + std::to_string(tip.height) + " is damaged");
    tip.id = *id;
    tip.time_ms = parent->block().header().time_ms();
  }
  auto root = store.StateRoot(tip.height);
  if (!root.ok()) return root.status();
  tip.state_root = *root;
  return tip;
}

Result<PreparedBlock> Execute(const Store& store, const Genesis& genesis, PreparedBlock p) {
  const uint64_t height = p.block.header().height();
  auto exec = ExecuteBlock(genesis.params, store, {height, p.block.header().time_ms()}, p.txs);
  if (!exec.ok()) return exec.status();
  p.exec = std::move(*exec);
  smt::Tree tree(store);
  auto root = store.StateRoot(height - 1);
  if (!root.ok()) return root.status();
  auto new_root = ApplyWrites(tree, *root, p.exec.writes, &p.nodes);
  if (!new_root.ok()) return new_root.status();
  p.new_root = *new_root;
  return p;
}

}  // namespace

Result<std::vector<DecodedTx>> DecodeBlockTxs(const v1::Block& block, const Genesis& genesis,
                                              bool verify_signatures) {
  std::vector<DecodedTx> txs;
  txs.reserve(block.txs_size());
  for (int i = 0; i < block.txs_size(); ++i) {
    auto tx = DecodeAndCheckTx(block.txs(i), genesis.chain_id, genesis.params, verify_signatures);
    if (!tx.ok()) {
      return Status::Invalid(tx.status().reason(), "transaction " + std::to_string(i) +
                                                       " of block " +
                                                       std::to_string(block.header().height()) +
                                                       ": " + tx.status().message());
    }
    txs.push_back(std::move(*tx));
  }
  return txs;
}

Result<PreparedBlock> PrepareBlock(const Store& store, const Genesis& genesis,
                                   const v1::Block& block, bool signatures_checked) {
  const auto& h = block.header();
  auto tip = ReadTip(store, genesis);
  if (!tip.ok()) return tip.status();
  const uint64_t height = tip->height + 1;
  if (h.height() != height)
    return BadBlock(h.height(), "expected height " + std::to_string(height));
  if (h.chain_id() != genesis.chain_id) return BadBlock(height, "wrong chain id");
  if (h.parent_id() != Str(tip->id)) return BadBlock(height, "parent id is not the tip's id");
  if (h.time_ms() < tip->time_ms) return BadBlock(height, "time goes backwards");
  if (h.state_height() != tip->height || h.state_root() != Str(tip->state_root)) {
    return BadBlock(height, "certified state root differs from this node's execution of height " +
                                std::to_string(tip->height));
  }
  auto proposer = FixedFromBytes<32>(h.proposer());
  if (!proposer || !genesis.validator_set().Contains(*proposer)) {
    return BadBlock(height, "proposer is not a council validator");
  }
  if (h.epoch() != 0) return BadBlock(height, "unknown epoch");
  if (static_cast<size_t>(block.txs_size()) > kMaxBlockTxs ||
      block.ByteSizeLong() > kMaxBlockBytes) {
    return BadBlock(height, "block exceeds the size caps");
  }
  if (h.tx_count() != static_cast<uint32_t>(block.txs_size())) {
    return BadBlock(height, "tx_count does not match the transactions");
  }
  PreparedBlock p;
  auto txs = DecodeBlockTxs(block, genesis, !signatures_checked);
  if (!txs.ok()) return txs.status();
  p.txs = std::move(*txs);
  for (const auto& tx : p.txs) p.tx_ids.push_back(tx.id);
  if (h.tx_root() != Str(MerkleRoot(p.tx_ids))) return BadBlock(height, "tx_root does not match");
  auto id = BlockId(h);
  if (!id.ok()) return id.status();
  p.id = *id;
  p.block = block;
  return Execute(store, genesis, std::move(p));
}

Result<PreparedBlock> BuildBlock(const Store& store, const Genesis& genesis,
                                 const crypto::PublicKey& proposer, uint64_t time_ms,
                                 std::vector<DecodedTx> txs) {
  auto tip = ReadTip(store, genesis);
  if (!tip.ok()) return tip.status();
  PreparedBlock p;
  auto* h = p.block.mutable_header();
  h->set_chain_id(genesis.chain_id);
  h->set_height(tip->height + 1);
  h->set_parent_id(Str(tip->id));
  h->set_state_height(tip->height);
  h->set_state_root(Str(tip->state_root));
  h->set_proposer(std::string(AsStringView(proposer)));
  h->set_time_ms(std::max(time_ms, tip->time_ms));
  h->set_tx_count(static_cast<uint32_t>(txs.size()));
  h->set_round(tip->height + 1);
  for (const auto& tx : txs) {
    *p.block.add_txs() = tx.envelope;
    p.tx_ids.push_back(tx.id);
  }
  h->set_tx_root(Str(MerkleRoot(p.tx_ids)));
  p.txs = std::move(txs);
  auto id = BlockId(*h);
  if (!id.ok()) return id.status();
  p.id = *id;
  return Execute(store, genesis, std::move(p));
}

Status CommitPrepared(Store& store, const Genesis& genesis, const PreparedBlock& prepared,
                      const v1::QuorumCert& commit_qc) {
  if (commit_qc.block_id() != Str(prepared.id)) {
    return Status::Invalid("bad_qc", "certificate is for another block");
  }
  Status s = VerifyQuorumCert(commit_qc, genesis.chain_id, genesis.validator_set());
  if (!s.ok()) return s;
  v1::CommittedBlock committed;
  *committed.mutable_block() = prepared.block;
  *committed.mutable_commit_qc() = commit_qc;
  return store.CommitBlock(committed, prepared.id, prepared.tx_ids, prepared.exec,
                           prepared.new_root, prepared.nodes);
}

}  // namespace civitas
