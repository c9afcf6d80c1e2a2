#pragma once

// Blocks: canonical header bytes, block ids, transaction roots, vote bytes and quorum
// certificates. Formats: docs/PROTOCOL.md, "Blocks" and "Certificates".

#include <vector>

#include "civitas/v1/types.pb.h"
#include "ledger/crypto.h"
#include "ledger/status.h"
#include "ledger/vote.h"

namespace civitas {

inline constexpr std::string_view kBlockIdTag = "civitas/block/v1";

// The canonical bytes of a header (fixed order, big-endian, length-prefixed chain id).
// Fails on fields of the wrong length.
Result<Bytes> HeaderBytes(const v1::BlockHeader& header);
// block id = TaggedHash("civitas/block/v1", HeaderBytes(header)).
Result<Hash32> BlockId(const v1::BlockHeader& header);

// Merkle root of transaction ids, RFC 6962 shape: leaf = SHA256(0x00 || id),
// node = SHA256(0x01 || left || right), the left subtree holding the largest power of two
// below n leaves; the root of no leaves is SHA256("").
Hash32 MerkleRoot(const std::vector<Hash32>& leaves);

// The council of an epoch: validators of equal weight.
class ValidatorSet {
 public:
  ValidatorSet() = default;
  explicit ValidatorSet(std::vector<crypto::PublicKey> keys) : keys_(std::move(keys)) {}
  size_t size() const { return keys_.size(); }
  // Largest f with n >= 3f + 1.
  size_t max_faulty() const { return keys_.empty() ? 0 : (keys_.size() - 1) / 3; }
  // The smallest q with 2q - n > f: any two quorums share an honest validator. 2f + 1 when
  // n = 3f + 1; the same rule as consensus::DefaultQuorum.
  size_t quorum() const { return (keys_.size() + max_faulty()) / 2 + 1; }
  bool Contains(const crypto::PublicKey& pk) const;
  const std::vector<crypto::PublicKey>& keys() const { return keys_; }

 private:
  std::vector<crypto::PublicKey> keys_;
};

// Checks a QC: distinct signers, all in `validators`, at least a quorum, every signature valid
// over VoteBytes(chain_id, qc.epoch, qc.round, qc.block_id). Reasons: bad_qc.
Status VerifyQuorumCert(const v1::QuorumCert& qc, std::string_view chain_id,
                        const ValidatorSet& validators);

// The fixed-width start of a consensus block header (docs/CONSENSUS.md, "Header"): what the
// ledger needs to bind a certificate to a block without the consensus module.
struct ConsensusHeaderPrefix {
  uint64_t epoch = 0;
  uint64_t round = 0;
  uint64_t height = 0;
  Hash32 parent_id{};
  Hash32 payload_digest{};
};
Result<ConsensusHeaderPrefix> ParseConsensusHeaderPrefix(std::string_view header);

// The canonical serialization of a block: what a consensus payload carries. A payload whose
// bytes differ from the canonical serialization of what they decode to is refused.
std::string CanonicalBlockBytes(const v1::Block& block);

// Checks that `cb.commit_qc` is a valid council certificate (VerifyQuorumCert) for the
// consensus header `cb.consensus_header`, and that this header carries `cb.block`: same epoch,
// round and height, payload digest = SHA-256 of CanonicalBlockBytes(block). Reasons: bad_qc.
Status VerifyCommitCertificate(const v1::CommittedBlock& cb, std::string_view chain_id,
                               const ValidatorSet& validators);

// Signs a vote and adds it to `qc` (whose epoch, round and block id must be set).
void AddVote(v1::QuorumCert& qc, std::string_view chain_id, const crypto::SecretKey& key);

}  // namespace civitas
