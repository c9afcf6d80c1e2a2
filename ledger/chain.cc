#include "ledger/chain.h"

#include "ledger/certified.h"
#include "ledger/civic_calls.h"

namespace civitas {
namespace {

// True when a transaction of the block changed the council.
bool CouncilChanged(const BlockExecution& exec) {
  for (const auto& r : exec.receipts) {
    if (r.status() != v1::TX_STATUS_SUCCESS) continue;
    for (const auto& e : r.events()) {
      if (nation::ChangesCouncil(e)) return true;
    }
  }
  return false;
}

// Executes block p (checked, on top of the store's tip) and tells whether it ends its epoch.
Result<PreparedBlock> Execute(const Store& store, const Genesis& genesis, PreparedBlock p) {
  const uint64_t height = p.block.header().height();
  // Does this block end its epoch? Only the record in the state it certifies counts.
  const uint64_t state_height = p.block.header().state_height();
  auto record = store.GetProven(ValidatorsKey(), state_height);
  if (!record.ok()) return record.status();
  std::optional<ValidatorsRecord> certified;
  if (record->value) {
    auto r = DecodeValidators(*record->value);
    if (!r.ok()) return r.status();
    certified = std::move(*r);
  }
  p.epoch = store.CurrentEpoch();
  p.next_epoch = NextEpoch(p.epoch, height, state_height, certified);
  p.certified_validators = std::move(*record);
  auto exec = ExecuteBlock(genesis.params, store, {height, p.block.header().time_ms()}, p.txs);
  if (!exec.ok()) return exec.status();
  p.exec = std::move(*exec);
  if (CouncilChanged(p.exec)) {
    // The council's validator keys, on record for the next epoch (ledger/epoch.h).
    StateOverlay after(store);
    for (const auto& [k, v] : p.exec.writes) {
      if (v) {
        after.Set(k, *v);
      } else {
        after.Delete(k);
      }
    }
    auto keys = ReadCouncilKeys(after);
    if (!keys.ok()) return keys.status();
    p.exec.writes[ValidatorsKey()] = EncodeValidators({height, std::move(*keys)});
  }
  smt::Tree tree(store);
  auto root = store.StateRoot(height - 1);
  if (!root.ok()) return root.status();
  auto new_root = ApplyWrites(tree, *root, p.exec.writes, &p.nodes, &p.removed_nodes);
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
                                                       ": " + tx.status().message())
          .WithBlame(tx.status().blame());
    }
    txs.push_back(std::move(*tx));
  }
  return txs;
}

namespace {

// The rule book's view of a store: the tip is the parent and its state the executed one;
// nothing is pending (blocks are executed as they are written).
class TipReader final : public ProposalReader {
 public:
  explicit TipReader(const Store& store) : store_(store), tip_(store.tip()) {}
  ProposalParent Parent() const override {
    return {tip_.id, tip_.height, tip_.time_ms, tip_.state_height};
  }
  uint64_t ExecutedHeight() const override { return tip_.height; }
  Result<Hash32> StateRoot(uint64_t height) const override { return store_.StateRoot(height); }
  const StateReader& ExecutedState() const override { return store_; }
  std::vector<const DecodedTx*> PendingTxs() const override { return {}; }

 private:
  const Store& store_;
  const StoreTip tip_;
};

// Executes `block`, checked by the rule book, with `txs` its transactions decoded and verified.
Result<PreparedBlock> ExecuteChecked(const Store& store, const Genesis& genesis,
                                     const v1::Block& block, std::vector<DecodedTx> txs) {
  PreparedBlock p;
  p.txs = std::move(txs);
  p.tx_ids.reserve(p.txs.size());
  for (const auto& tx : p.txs) p.tx_ids.push_back(tx.id);
  auto id = BlockId(block.header());
  if (!id.ok()) return id.status();
  p.id = *id;
  p.block = block;
  return Execute(store, genesis, std::move(p));
}

}  // namespace

Result<PreparedBlock> PrepareBlock(const Store& store, const Genesis& genesis,
                                   const v1::Block& block) {
  // The rules first, signatures last: a block against the rules costs no verification.
  auto txs = DecodeBlockTxs(block, genesis, /*verify_signatures=*/false);
  if (!txs.ok()) return txs.status();
  Status s = CheckProposal(genesis, store.CurrentEpoch(), TipReader(store), block, *txs);
  if (!s.ok()) return s;
  for (size_t i = 0; i < txs->size(); ++i) {
    Status sig = CheckTxSignature((*txs)[i]);
    if (!sig.ok()) {
      return Status::Invalid(sig.reason(), "transaction " + std::to_string(i) + " of block " +
                                               std::to_string(block.header().height()) + ": " +
                                               sig.message())
          .WithBlame(sig.blame());
    }
  }
  return ExecuteChecked(store, genesis, block, std::move(*txs));
}

Result<PreparedBlock> PrepareDecodedBlock(const Store& store, const Genesis& genesis,
                                          const v1::Block& block, std::vector<DecodedTx> txs) {
  Status s = CheckProposal(genesis, store.CurrentEpoch(), TipReader(store), block, txs);
  if (!s.ok()) return s;
  return ExecuteChecked(store, genesis, block, std::move(txs));
}

BlockTemplate NextOnTip(const Store& store) {
  const StoreTip tip = store.tip();
  BlockTemplate t;
  t.height = tip.height + 1;
  t.parent_id = tip.id;
  t.parent_time_ms = tip.time_ms;
  t.state_height = tip.height;
  t.state_root = tip.state_root;
  t.epoch = store.CurrentEpoch().number;
  t.round = tip.height + 1;
  return t;
}

Result<PreparedBlock> BuildBlock(const Store& store, const Genesis& genesis,
                                 const crypto::PublicKey& proposer, uint64_t time_ms,
                                 std::vector<DecodedTx> txs) {
  PreparedBlock p;
  p.block = AssembleBlock(genesis, NextOnTip(store), proposer, time_ms, txs);
  for (const auto& tx : txs) p.tx_ids.push_back(tx.id);
  p.txs = std::move(txs);
  auto id = BlockId(p.block.header());
  if (!id.ok()) return id.status();
  p.id = *id;
  return Execute(store, genesis, std::move(p));
}

v1::CommittedBlock WithCertificate(const PreparedBlock& prepared, const v1::QuorumCert& commit_qc,
                                   const std::string& consensus_header) {
  v1::CommittedBlock committed;
  *committed.mutable_block() = prepared.block;
  *committed.mutable_commit_qc() = commit_qc;
  committed.set_consensus_header(consensus_header);
  return committed;
}

namespace {

Status Write(Store& store, const PreparedBlock& prepared, const v1::CommittedBlock& committed,
             Durability durability) {
  std::optional<EpochEnd> epoch_end;
  if (prepared.next_epoch) {
    epoch_end.emplace();
    epoch_end->next = *prepared.next_epoch;
    // The record the epoch change rests on (NextEpoch read it): the new keys, under the root
    // this block certifies.
    const ProvenValue& v = prepared.certified_validators;
    epoch_end->change.set_validators_record(v.value.value_or(""));
    *epoch_end->change.mutable_proof() = ProofToProto(v.proof);
  }
  return store.CommitBlock(committed, prepared.id, prepared.tx_ids, prepared.exec,
                           prepared.new_root, prepared.nodes, prepared.removed_nodes, epoch_end,
                           durability);
}

}  // namespace

Status CommitPrepared(Store& store, const Genesis& genesis, const PreparedBlock& prepared,
                      const v1::QuorumCert& commit_qc, const std::string& consensus_header,
                      Durability durability) {
  const v1::CommittedBlock committed = WithCertificate(prepared, commit_qc, consensus_header);
  Status s = VerifyCommitCertificate(committed, genesis.chain_id, prepared.epoch.validators);
  if (!s.ok()) return s;
  return Write(store, prepared, committed, durability);
}

Status CommitVerifiedBlock(Store& store, const PreparedBlock& prepared,
                           const v1::CommittedBlock& committed, Durability durability) {
  return Write(store, prepared, committed, durability);
}

Result<std::vector<v1::EpochChange>> EpochChangesUpTo(const Store& store, uint64_t up_to) {
  std::vector<v1::EpochChange> out;
  for (const Epoch& e : store.Epochs()) {
    if (e.number == 0 || e.number > up_to) continue;
    auto last = store.GetBlock(e.start_height - 1);
    if (!last.ok()) return last.status();
    auto recorded = store.GetEpochChange(e.number);
    if (!recorded.ok()) return recorded.status();
    v1::EpochChange change;
    if (recorded->has_value()) {
      change = std::move(**recorded);
    } else {  // a ledger from before the records: prove it from the state, if still there
      auto proven = store.GetProven(ValidatorsKey(), last->block().header().state_height());
      if (!proven.ok()) return proven.status();
      change.set_validators_record(proven->value.value_or(""));
      *change.mutable_proof() = ProofToProto(proven->proof);
    }
    if (change.validators_record().empty()) {
      return Status::Corruption("the validators record is missing");
    }
    *change.mutable_last_block() = std::move(*last);
    out.push_back(std::move(change));
  }
  return out;
}

}  // namespace civitas
