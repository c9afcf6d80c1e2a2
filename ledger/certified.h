#pragma once

// Checking an answer about state without trusting the node that gave it: a value, its Merkle
// proof against a state root, and the committed block whose header carries that root under a
// quorum certificate of the council.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "civitas/v1/types.pb.h"
#include "ledger/block.h"
#include "ledger/epoch.h"
#include "ledger/smt.h"

namespace civitas {

smt::Proof ProofFromProto(const v1::StateProof& p);
v1::StateProof ProofToProto(const smt::Proof& p);

// OK when `value` (nullopt: absent) is what state key `key` held at `height`: the proof leads
// to the state root in `certifying.block().header()`, that header certifies `height`, and the
// block's commit certificate is signed by a quorum of `council` on `chain_id`. Reason: bad_proof.
Status VerifyCertifiedValue(std::string_view chain_id, const ValidatorSet& council,
                            std::string_view key, const std::optional<std::string>& value,
                            uint64_t height, const v1::StateProof& proof,
                            const v1::CommittedBlock& certifying);

// The epoch reached by following `changes` from `first` (the genesis epoch): each change's
// last block must be of the current epoch, under its validators' certificate, and its proven
// record must name the next validator set by the epoch rule (ledger/epoch.h). Reason: bad_proof.
Result<Epoch> FollowEpochChanges(
    std::string_view chain_id, const Epoch& first,
    const google::protobuf::RepeatedPtrField<v1::EpochChange>& changes);

// VerifyCertifiedValue for a block of any epoch: the validators that must have signed it are
// found by FollowEpochChanges from `first`, and the block must belong to that epoch.
Status VerifyCertifiedValue(std::string_view chain_id, const Epoch& first,
                            const google::protobuf::RepeatedPtrField<v1::EpochChange>& changes,
                            std::string_view key, const std::optional<std::string>& value,
                            uint64_t height, const v1::StateProof& proof,
                            const v1::CommittedBlock& certifying);

// ---- Answers built from many state entries (docs/PROTOCOL.md, "Certified state"). ----------

// The most entries, dated blocks and key bytes a CertifiedState may hold: a bundle is hostile
// input, and no answer of the API reads more.
inline constexpr size_t kMaxProvenEntries = 4096;
inline constexpr size_t kMaxDatedBlocks = 16;
inline constexpr size_t kMaxProvenKeyBytes = 1024;

// The state a verified CertifiedState shows: the proven entries at `height()`, nothing else.
// Reading a key the bundle does not prove fails with reason bad_proof (the node left out an entry
// its answer rests on), so rebuilding an answer from it either uses proven data only or fails.
// Immutable after VerifyCertifiedState; safe for concurrent readers.
class ProvenState final : public StateReader {
 public:
  Result<std::optional<std::string>> Get(std::string_view key) const override;

  uint64_t height() const { return height_; }  // the certified state height
  const v1::BlockHeader& certifying_header() const { return certifying_header_; }
  uint64_t epoch() const { return certifying_header_.epoch(); }
  size_t entry_count() const { return entries_.size(); }
  // The header time of the proven committed block at `height` (a dated block of the bundle, or
  // the certifying block); reason bad_proof when the bundle holds none.
  Result<uint64_t> BlockTime(uint64_t height) const;

 private:
  friend Result<ProvenState> VerifyCertifiedState(std::string_view, const Epoch&,
                                                  const v1::CertifiedState&);
  uint64_t height_ = 0;
  v1::BlockHeader certifying_header_;
  std::map<std::string, std::optional<std::string>, std::less<>> entries_;
  std::map<uint64_t, uint64_t> block_times_;  // height -> time_ms
};

// Checks a bundle against the genesis epoch `first` of chain `chain_id`: the epoch changes
// (FollowEpochChanges), the certifying block's certificate by the council of its epoch and that
// it certifies `bundle.height`, every entry's proof under its state root (each key at most once),
// and every dated block's certificate by the council of the epoch it belongs to. Bounds:
// kMaxProvenEntries, kMaxDatedBlocks, kMaxProvenKeyBytes. Reason: bad_proof, with a message that
// says what failed.
Result<ProvenState> VerifyCertifiedState(std::string_view chain_id, const Epoch& first,
                                         const v1::CertifiedState& bundle);

}  // namespace civitas
