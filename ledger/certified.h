#pragma once

// Checking an answer about state without trusting the node that gave it: a value, its Merkle
// proof against a state root, and the committed block whose header carries that root under a
// quorum certificate of the council.

#include <optional>
#include <string>

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

}  // namespace civitas
