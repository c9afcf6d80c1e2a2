#include "ledger/block.h"

#include <algorithm>
#include <set>

namespace civitas {

Result<Bytes> HeaderBytes(const v1::BlockHeader& h) {
  if (h.parent_id().size() != 32 || h.tx_root().size() != 32 || h.state_root().size() != 32 ||
      h.proposer().size() != 32) {
    return Status::Invalid("malformed_block", "header hash or key field of the wrong length");
  }
  Bytes out;
  out.reserve(4 + h.chain_id().size() + 8 * 5 + 4 + 32 * 4);
  PutLengthPrefixed(out, h.chain_id());
  PutU64(out, h.height());
  Append(out, h.parent_id());
  Append(out, h.tx_root());
  PutU64(out, h.state_height());
  Append(out, h.state_root());
  Append(out, h.proposer());
  PutU64(out, h.time_ms());
  PutU32(out, h.tx_count());
  PutU64(out, h.epoch());
  PutU64(out, h.round());
  return out;
}

Result<Hash32> BlockId(const v1::BlockHeader& header) {
  auto bytes = HeaderBytes(header);
  if (!bytes.ok()) return bytes.status();
  return crypto::TaggedHash(kBlockIdTag, *bytes);
}

namespace {
Hash32 MerkleRange(const std::vector<Hash32>& leaves, size_t begin, size_t end) {
  crypto::Sha256Hasher h;
  if (end - begin == 1) {
    const uint8_t prefix = 0;
    return h.Update(&prefix, 1).Update(leaves[begin]).Finish();
  }
  size_t split = 1;
  while (split * 2 < end - begin) split *= 2;
  Hash32 left = MerkleRange(leaves, begin, begin + split);
  Hash32 right = MerkleRange(leaves, begin + split, end);
  const uint8_t prefix = 1;
  return h.Update(&prefix, 1).Update(left).Update(right).Finish();
}
}  // namespace

Hash32 MerkleRoot(const std::vector<Hash32>& leaves) {
  if (leaves.empty()) return crypto::Sha256("");
  return MerkleRange(leaves, 0, leaves.size());
}

bool ValidatorSet::Contains(const crypto::PublicKey& pk) const {
  return std::find(keys_.begin(), keys_.end(), pk) != keys_.end();
}

Status VerifyQuorumCert(const v1::QuorumCert& qc, std::string_view chain_id,
                        const ValidatorSet& validators) {
  auto block_id = FixedFromBytes<32>(qc.block_id());
  if (!block_id) return Status::PeerFault("bad_qc", "block id must be 32 bytes");
  if (static_cast<size_t>(qc.signers_size()) > validators.size()) {
    return Status::PeerFault("bad_qc", "more signers than validators");
  }
  Bytes msg = VoteBytes(chain_id, qc.epoch(), qc.round(), *block_id);
  std::set<crypto::PublicKey> seen;
  for (const auto& s : qc.signers()) {
    auto pk = FixedFromBytes<32>(s.public_key());
    auto sig = FixedFromBytes<64>(s.signature());
    if (!pk || !sig)
      return Status::PeerFault("bad_qc", "signer key or signature of the wrong length");
    if (!validators.Contains(*pk)) return Status::PeerFault("bad_qc", "signer is not a validator");
    if (!seen.insert(*pk).second) return Status::PeerFault("bad_qc", "duplicate signer");
    if (!crypto::VerifyTagged(*pk, kVoteTag, AsStringView(msg), *sig)) {
      return Status::PeerFault("bad_qc", "vote signature does not verify");
    }
  }
  if (seen.size() < validators.quorum()) {
    return Status::PeerFault("bad_qc", "only " + std::to_string(seen.size()) + " of the " +
                                           std::to_string(validators.quorum()) + " votes needed");
  }
  return Status::Ok();
}

Result<ConsensusHeaderPrefix> ParseConsensusHeaderPrefix(std::string_view header) {
  constexpr size_t kPrefix = 8 * 3 + 32 * 2;
  if (header.size() < kPrefix) return Status::PeerFault("bad_qc", "consensus header too short");
  const auto* p = reinterpret_cast<const uint8_t*>(header.data());
  ConsensusHeaderPrefix out;
  out.epoch = GetU64(p);
  out.round = GetU64(p + 8);
  out.height = GetU64(p + 16);
  std::copy_n(p + 24, 32, out.parent_id.begin());
  std::copy_n(p + 56, 32, out.payload_digest.begin());
  return out;
}

std::string CanonicalBlockBytes(const v1::Block& block) {
  std::string out;
  // Messages without maps or unknown fields serialize the same way everywhere: fields in
  // number order, defaults omitted.
  block.SerializeToString(&out);
  return out;
}

Status VerifyCommitCertificate(const v1::CommittedBlock& cb, std::string_view chain_id,
                               const ValidatorSet& validators) {
  const auto& qc = cb.commit_qc();
  Status s = VerifyQuorumCert(qc, chain_id, validators);
  if (!s.ok()) return s;
  const std::string& header = cb.consensus_header();
  Hash32 id = crypto::TaggedHash(kConsensusBlockTag, header);
  if (qc.block_id() != AsStringView(id)) {
    return Status::PeerFault("bad_qc", "certificate is for another consensus block");
  }
  auto prefix = ParseConsensusHeaderPrefix(header);
  if (!prefix.ok()) return prefix.status();
  const auto& h = cb.block().header();
  if (prefix->epoch != qc.epoch() || prefix->round != qc.round() || prefix->epoch != h.epoch() ||
      prefix->round != h.round() || prefix->height != h.height()) {
    return Status::PeerFault("bad_qc",
                             "consensus header does not match the block's height, "
                             "epoch or round");
  }
  if (prefix->payload_digest != crypto::Sha256(CanonicalBlockBytes(cb.block()))) {
    return Status::PeerFault("bad_qc", "consensus header does not carry this block");
  }
  return Status::Ok();
}

void AddVote(v1::QuorumCert& qc, std::string_view chain_id, const crypto::SecretKey& key) {
  Hash32 id{};
  std::copy_n(qc.block_id().begin(), std::min<size_t>(32, qc.block_id().size()), id.begin());
  Bytes msg = VoteBytes(chain_id, qc.epoch(), qc.round(), id);
  auto sig = crypto::SignTagged(key, kVoteTag, AsStringView(msg));
  auto* s = qc.add_signers();
  s->set_public_key(std::string(AsStringView(key.public_key())));
  s->set_signature(std::string(AsStringView(sig)));
}

}  // namespace civitas
