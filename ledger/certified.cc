#include "ledger/certified.h"

#include "ledger/state.h"

namespace civitas {
namespace {
Hash32 H32(const std::string& s) {
  Hash32 h{};
  std::copy_n(s.begin(), std::min<size_t>(32, s.size()), h.begin());
  return h;
}
}  // namespace

smt::Proof ProofFromProto(const v1::StateProof& p) {
  smt::Proof out;
  for (const auto& s : p.siblings()) out.siblings.push_back(H32(s));
  out.has_leaf = p.has_leaf();
  out.leaf_key = H32(p.leaf_key());
  out.leaf_value_hash = H32(p.leaf_value_hash());
  return out;
}

v1::StateProof ProofToProto(const smt::Proof& p) {
  v1::StateProof out;
  for (const auto& s : p.siblings) out.add_siblings(std::string(AsStringView(s)));
  out.set_has_leaf(p.has_leaf);
  if (p.has_leaf) {
    out.set_leaf_key(std::string(AsStringView(p.leaf_key)));
    out.set_leaf_value_hash(std::string(AsStringView(p.leaf_value_hash)));
  }
  return out;
}

Result<Epoch> FollowEpochChanges(
    std::string_view chain_id, const Epoch& first,
    const google::protobuf::RepeatedPtrField<v1::EpochChange>& changes) {
  Epoch epoch = first;
  for (const auto& change : changes) {
    const std::string which = "epoch change to " + std::to_string(epoch.number + 1) + ": ";
    const auto& header = change.last_block().block().header();
    if (header.chain_id() != chain_id || header.epoch() != epoch.number) {
      return Status::Invalid(
          "bad_proof", which + "the last block is not of epoch " + std::to_string(epoch.number));
    }
    Status s = VerifyCommitCertificate(change.last_block(), chain_id, epoch.validators);
    if (!s.ok()) return Status::Invalid("bad_proof", which + "certificate: " + s.message());
    for (const auto& sib : change.proof().siblings()) {
      if (sib.size() != 32) return Status::Invalid("bad_proof", which + "bad sibling");
    }
    auto root = FixedFromBytes<32>(header.state_root());
    if (!root) return Status::Invalid("bad_proof", which + "state root of the wrong length");
    s = smt::VerifyProof(*root, TreeKey(ValidatorsKey()),
                         crypto::Sha256(change.validators_record()),
                         ProofFromProto(change.proof()));
    if (!s.ok()) return Status::Invalid("bad_proof", which + s.message());
    auto record = DecodeValidators(change.validators_record());
    if (!record.ok()) return Status::Invalid("bad_proof", which + record.status().message());
    auto next = NextEpoch(epoch, header.height(), header.state_height(), *record);
    if (!next) return Status::Invalid("bad_proof", which + "the record does not change the set");
    epoch = std::move(*next);
  }
  return epoch;
}

Status VerifyCertifiedValue(std::string_view chain_id, const Epoch& first,
                            const google::protobuf::RepeatedPtrField<v1::EpochChange>& changes,
                            std::string_view key, const std::optional<std::string>& value,
                            uint64_t height, const v1::StateProof& proof,
                            const v1::CommittedBlock& certifying) {
  auto epoch = FollowEpochChanges(chain_id, first, changes);
  if (!epoch.ok()) return epoch.status();
  if (certifying.block().header().epoch() != epoch->number) {
    return Status::Invalid("bad_proof", "the certifying block is of epoch " +
                                            std::to_string(certifying.block().header().epoch()) +
                                            ", the changes shown reach epoch " +
                                            std::to_string(epoch->number));
  }
  return VerifyCertifiedValue(chain_id, epoch->validators, key, value, height, proof, certifying);
}

Status VerifyCertifiedValue(std::string_view chain_id, const ValidatorSet& council,
                            std::string_view key, const std::optional<std::string>& value,
                            uint64_t height, const v1::StateProof& proof,
                            const v1::CommittedBlock& certifying) {
  for (const auto& s : proof.siblings()) {
    if (s.size() != 32) return Status::Invalid("bad_proof", "sibling of the wrong length");
  }
  if (proof.has_leaf() && (proof.leaf_key().size() != 32 || proof.leaf_value_hash().size() != 32)) {
    return Status::Invalid("bad_proof", "leaf of the wrong length");
  }
  const auto& header = certifying.block().header();
  if (header.chain_id() != chain_id) return Status::Invalid("bad_proof", "block of another chain");
  if (header.state_height() != height) {
    return Status::Invalid("bad_proof", "the block certifies height " +
                                            std::to_string(header.state_height()) + ", not " +
                                            std::to_string(height));
  }
  Status s = VerifyCommitCertificate(certifying, chain_id, council);
  if (!s.ok()) return Status::Invalid("bad_proof", "certificate: " + s.message());
  auto root = FixedFromBytes<32>(header.state_root());
  if (!root) return Status::Invalid("bad_proof", "state root of the wrong length");
  std::optional<Hash32> value_hash;
  if (value) value_hash = crypto::Sha256(*value);
  return smt::VerifyProof(*root, TreeKey(key), value_hash, ProofFromProto(proof));
}

}  // namespace civitas
