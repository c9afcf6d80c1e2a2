#include "ledger/chain.h"

#include "ledger/certified.h"
#include "ledger/civic_calls.h"

namespace civitas {
namespace {

// A block against the rules: whoever sent it is to blame (Status::Blame::kPeer).
Status BadBlock(uint64_t height, const std::string& msg) {
  return Status::PeerFault("bad_block", "block " + std::to_string(height) + ": " + msg);
}

std::string Str(const Hash32& h) { return std::string(AsStringView(h)); }

// True when a transaction of the block changed the council.
bool CouncilChanged(const BlockExecution& exec) {
  const std::string citizenship(AsStringView(nation::CitizenshipAddress()));
  for (const auto& r : exec.receipts) {
    if (r.status() != v1::TX_STATUS_SUCCESS) continue;
    for (const auto& e : r.events()) {
      if (e.contract() == citizenship && (e.topic() == "citizenship.council_added" ||
                                          e.topic() == "citizenship.council_removed")) {
        return true;
      }
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

Status CheckHeader(const Genesis& genesis, const Epoch& epoch, const v1::Block& block,
                   uint64_t parent_time_ms) {
  const auto& h = block.header();
  const uint64_t height = h.height();
  if (h.chain_id() != genesis.chain_id) return BadBlock(height, "wrong chain id");
  if (h.time_ms() < parent_time_ms) return BadBlock(height, "time goes backwards");
  if (h.epoch() != epoch.number) {
    return BadBlock(height, "epoch " + std::to_string(h.epoch()) + ", expected " +
                                std::to_string(epoch.number));
  }
  auto proposer = FixedFromBytes<32>(h.proposer());
  if (!proposer || !epoch.validators.Contains(*proposer)) {
    return BadBlock(height, "proposer is not a validator of epoch " + std::to_string(epoch.number));
  }
  if (static_cast<size_t>(block.txs_size()) > kMaxBlockTxs ||
      block.ByteSizeLong() > kMaxBlockBytes) {
    return BadBlock(height, "block exceeds the size caps");
  }
  if (h.tx_count() != static_cast<uint32_t>(block.txs_size())) {
    return BadBlock(height, "tx_count does not match the transactions");
  }
  if (h.parent_id().size() != 32 || h.tx_root().size() != 32 || h.state_root().size() != 32) {
    return BadBlock(height, "hash field of the wrong length");
  }
  return Status::Ok();
}

namespace {

// The checks of PrepareBlock that need no transaction: header linkage to the store's tip, the
// header fields, and the certified state.
Status CheckOnTip(const Store& store, const Genesis& genesis, const v1::Block& block) {
  const auto& h = block.header();
  const StoreTip tip = store.tip();
  const uint64_t height = tip.height + 1;
  if (h.height() != height)
    return BadBlock(h.height(), "expected height " + std::to_string(height));
  if (h.parent_id() != Str(tip.id)) return BadBlock(height, "parent id is not the tip's id");
  Status s = CheckHeader(genesis, store.CurrentEpoch(), block, tip.time_ms);
  if (!s.ok()) return s;
  // The certified state is one this store executed, never older than the parent's.
  if (h.state_height() > tip.height || h.state_height() < tip.state_height) {
    return BadBlock(height, "certified state height " + std::to_string(h.state_height()) +
                                " is outside [" + std::to_string(tip.state_height) + ", " +
                                std::to_string(tip.height) + "]");
  }
  auto root = store.StateRoot(h.state_height());
  if (!root.ok()) return root.status();
  if (h.state_root() != Str(*root)) {
    // This node's execution against the proposer's: either may be wrong.
    return BadBlock(height, "certified state root differs from this node's execution of height " +
                                std::to_string(h.state_height()))
        .WithBlame(Status::Blame::kLocal);
  }
  return Status::Ok();
}

// The rest of PrepareBlock once `txs` (the block's, decoded and checked) are at hand.
Result<PreparedBlock> PrepareWithTxs(const Store& store, const Genesis& genesis,
                                     const v1::Block& block, std::vector<DecodedTx> txs) {
  const uint64_t height = block.header().height();
  PreparedBlock p;
  p.txs = std::move(txs);
  p.tx_ids.reserve(p.txs.size());
  for (const auto& tx : p.txs) p.tx_ids.push_back(tx.id);
  if (block.header().tx_root() != Str(MerkleRoot(p.tx_ids))) {
    return BadBlock(height, "tx_root does not match");
  }
  auto id = BlockId(block.header());
  if (!id.ok()) return id.status();
  p.id = *id;
  p.block = block;
  return Execute(store, genesis, std::move(p));
}

}  // namespace

Result<PreparedBlock> PrepareBlock(const Store& store, const Genesis& genesis,
                                   const v1::Block& block) {
  Status s = CheckOnTip(store, genesis, block);
  if (!s.ok()) return s;
  auto txs = DecodeBlockTxs(block, genesis, /*verify_signatures=*/true);
  if (!txs.ok()) return txs.status();
  return PrepareWithTxs(store, genesis, block, std::move(*txs));
}

Result<PreparedBlock> PrepareDecodedBlock(const Store& store, const Genesis& genesis,
                                          const v1::Block& block, std::vector<DecodedTx> txs) {
  if (txs.size() != static_cast<size_t>(block.txs_size())) {
    return Status::Error(Status::Code::kInternal, "internal",
                         "decoded transactions do not match the block");
  }
  Status s = CheckOnTip(store, genesis, block);
  if (!s.ok()) return s;
  return PrepareWithTxs(store, genesis, block, std::move(txs));
}

v1::Block AssembleBlock(const Genesis& genesis, const BlockTemplate& t,
                        const crypto::PublicKey& proposer, uint64_t time_ms,
                        const std::vector<DecodedTx>& txs) {
  v1::Block block;
  auto* h = block.mutable_header();
  h->set_chain_id(genesis.chain_id);
  h->set_height(t.height);
  h->set_parent_id(Str(t.parent_id));
  h->set_state_height(t.state_height);
  h->set_state_root(Str(t.state_root));
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
  h->set_tx_root(Str(MerkleRoot(ids)));
  return block;
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
