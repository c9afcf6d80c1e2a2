#include "ledger/certified.h"

#include "ledger/state.h"

namespace civitas {
namespace {
std::string KeyHex(std::string_view k) {
  return ToHex(reinterpret_cast<const uint8_t*>(k.data()), k.size());
}
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

namespace {

// FollowEpochChanges, keeping every epoch passed through (first, then each change's) in
// `passed` when it is not null.
Result<Epoch> FollowEpochs(std::string_view chain_id, const Epoch& first,
                           const google::protobuf::RepeatedPtrField<v1::EpochChange>& changes,
                           std::vector<Epoch>* passed) {
  Epoch epoch = first;
  if (passed) passed->push_back(epoch);
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
    if (passed) passed->push_back(epoch);
  }
  return epoch;
}

}  // namespace

Result<Epoch> FollowEpochChanges(
    std::string_view chain_id, const Epoch& first,
    const google::protobuf::RepeatedPtrField<v1::EpochChange>& changes) {
  return FollowEpochs(chain_id, first, changes, nullptr);
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

Result<std::optional<std::string>> ProvenState::Get(std::string_view key) const {
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    return Status::Invalid("bad_proof", "the answer rests on state key " + KeyHex(key) +
                                            ", which the node did not prove");
  }
  return it->second;
}

Result<uint64_t> ProvenState::BlockTime(uint64_t height) const {
  auto it = block_times_.find(height);
  if (it == block_times_.end()) {
    return Status::Invalid("bad_proof", "the answer shows the time of block " +
                                            std::to_string(height) +
                                            ", which the node did not prove");
  }
  return it->second;
}

Result<ProvenState> VerifyCertifiedState(std::string_view chain_id, const Epoch& first,
                                         const v1::CertifiedState& bundle) {
  if (static_cast<size_t>(bundle.entries_size()) > kMaxProvenEntries) {
    return Status::Invalid("bad_proof",
                           "more than " + std::to_string(kMaxProvenEntries) + " proven entries");
  }
  if (static_cast<size_t>(bundle.dated_blocks_size()) > kMaxDatedBlocks) {
    return Status::Invalid("bad_proof",
                           "more than " + std::to_string(kMaxDatedBlocks) + " dated blocks");
  }
  std::vector<Epoch> epochs;
  auto epoch = FollowEpochs(chain_id, first, bundle.epoch_changes(), &epochs);
  if (!epoch.ok()) return epoch.status();
  const auto& header = bundle.certifying_block().block().header();
  if (header.epoch() != epoch->number) {
    return Status::Invalid("bad_proof",
                           "the certifying block is of epoch " + std::to_string(header.epoch()) +
                               ", the changes shown reach epoch " + std::to_string(epoch->number));
  }
  if (header.chain_id() != chain_id) return Status::Invalid("bad_proof", "block of another chain");
  if (header.state_height() != bundle.height()) {
    return Status::Invalid("bad_proof", "the block certifies height " +
                                            std::to_string(header.state_height()) + ", not " +
                                            std::to_string(bundle.height()));
  }
  Status s = VerifyCommitCertificate(bundle.certifying_block(), chain_id, epoch->validators);
  if (!s.ok()) return Status::Invalid("bad_proof", "certificate: " + s.message());
  auto root = FixedFromBytes<32>(header.state_root());
  if (!root) return Status::Invalid("bad_proof", "state root of the wrong length");

  ProvenState out;
  out.height_ = bundle.height();
  out.certifying_header_ = header;
  out.block_times_[header.height()] = header.time_ms();
  for (const auto& e : bundle.entries()) {
    if (e.key().empty() || e.key().size() > kMaxProvenKeyBytes) {
      return Status::Invalid("bad_proof",
                             "a proven key of " + std::to_string(e.key().size()) + " bytes");
    }
    if (!e.present() && !e.value().empty()) {
      return Status::Invalid("bad_proof", "an absent entry with a value: " + KeyHex(e.key()));
    }
    const auto& p = e.proof();
    for (const auto& sib : p.siblings()) {
      if (sib.size() != 32) return Status::Invalid("bad_proof", "sibling of the wrong length");
    }
    if (p.has_leaf() && (p.leaf_key().size() != 32 || p.leaf_value_hash().size() != 32)) {
      return Status::Invalid("bad_proof", "leaf of the wrong length");
    }
    std::optional<Hash32> value_hash;
    if (e.present()) value_hash = crypto::Sha256(e.value());
    s = smt::VerifyProof(*root, TreeKey(e.key()), value_hash, ProofFromProto(p));
    if (!s.ok()) {
      return Status::Invalid("bad_proof", "state key " + KeyHex(e.key()) + ": " + s.message());
    }
    std::optional<std::string> value;
    if (e.present()) value = e.value();
    if (!out.entries_.emplace(e.key(), std::move(value)).second) {
      return Status::Invalid("bad_proof", "state key " + KeyHex(e.key()) + " proven twice");
    }
  }
  for (const auto& b : bundle.dated_blocks()) {
    const auto& h = b.block().header();
    if (h.chain_id() != chain_id) return Status::Invalid("bad_proof", "block of another chain");
    // The epoch a height belongs to: the last one starting at or below it.
    const Epoch* of = nullptr;
    for (const auto& e : epochs) {
      if (e.start_height <= h.height()) of = &e;
    }
    if (of == nullptr || of->number != h.epoch() || h.height() > header.height()) {
      return Status::Invalid("bad_proof", "dated block " + std::to_string(h.height()) +
                                              " is not of an epoch the changes shown cover");
    }
    s = VerifyCommitCertificate(b, chain_id, of->validators);
    if (!s.ok()) {
      return Status::Invalid("bad_proof", "dated block " + std::to_string(h.height()) +
                                              " certificate: " + s.message());
    }
    out.block_times_[h.height()] = h.time_ms();
  }
  return out;
}

}  // namespace civitas
