#include "node/certified_answer.h"

#include <set>

#include "ledger/certified.h"
#include "ledger/chain.h"
#include "node/civic_queries.h"

namespace civitas::node {

Result<CertifyingBlock> LatestCertifyingBlock(const Store& store) {
  const uint64_t tip = store.height();
  if (tip == 0) {
    return Status::Error(Status::Code::kFailedPrecondition, "not_certified",
                         "no block has certified a state root yet");
  }
  auto block = store.GetBlock(tip);
  if (!block.ok()) return block.status();
  CertifyingBlock out;
  out.height = block->block().header().state_height();
  auto changes = EpochChangesUpTo(store, block->block().header().epoch());
  if (!changes.ok()) return changes.status();
  out.epoch_changes = std::move(*changes);
  out.block = std::move(*block);
  return out;
}

Result<v1::CertifiedState> ProveAnswer(const Store& store, const ProvedBuild& build) {
  auto cb = LatestCertifyingBlock(store);
  if (!cb.ok()) return cb.status();
  StateAt state(store, cb->height);
  RecordingReader recorder(state);
  std::set<uint64_t> dated;
  auto block_time = [&](uint64_t height) -> Result<uint64_t> {
    auto block = store.GetBlock(height);
    if (!block.ok()) return block.status();
    dated.insert(height);
    return block->block().header().time_ms();
  };
  Status s = build(recorder, cb->height, block_time);
  if (!s.ok()) return s;
  if (recorder.keys().size() > kMaxProvenEntries || dated.size() > kMaxDatedBlocks) {
    return Status::Error(Status::Code::kResourceExhausted, "too_large",
                         "the answer rests on more state than one proof may carry");
  }
  v1::CertifiedState out;
  out.set_height(cb->height);
  for (const auto& key : recorder.keys()) {
    auto proven = store.GetProven(key, cb->height);
    if (!proven.ok()) return proven.status();
    auto* e = out.add_entries();
    e->set_key(key);
    e->set_present(proven->value.has_value());
    if (proven->value) e->set_value(*proven->value);
    *e->mutable_proof() = ProofToProto(proven->proof);
  }
  for (uint64_t h : dated) {
    auto block = store.GetBlock(h);
    if (!block.ok()) return block.status();
    *out.add_dated_blocks() = std::move(*block);
  }
  for (auto& c : cb->epoch_changes) *out.add_epoch_changes() = std::move(c);
  *out.mutable_certifying_block() = std::move(cb->block);
  return out;
}

}  // namespace civitas::node
