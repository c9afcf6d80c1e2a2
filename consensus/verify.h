#pragma once

// Signatures and certificate checks. Every check returns Status::Ok() or
// Status::Invalid(reason, ...) where reason is one of: "wrong_chain_or_epoch", "unknown_signer",
// "duplicate_signer", "no_quorum", "bad_signature", "wrong_leader", "bad_block",
// "missing_tc", "bad_tc". Inputs come from peers: nothing here asserts on them. The refusal
// blames the peer (Status::Blame::kPeer) except "wrong_chain_or_epoch" and "wrong_leader"
// (kStale: views differ around an epoch change).

#include <string>
#include <string_view>
#include <vector>

#include "consensus/types.h"
#include "ledger/status.h"

namespace civitas::consensus {

// Signs with this replica's council key. Implementations must be deterministic for a given
// (tag, msg) so that a run replays exactly.
class Signer {
 public:
  virtual ~Signer() = default;
  virtual crypto::Signature Sign(std::string_view tag, const Bytes& msg) const = 0;
};

class Verifier {
 public:
  virtual ~Verifier() = default;
  virtual bool Verify(const crypto::PublicKey& pk, std::string_view tag, const Bytes& msg,
                      const crypto::Signature& sig) const = 0;
};

// BIP-340 over TaggedHash(tag, msg), with all-zero auxiliary randomness (BIP-340's
// deterministic mode: consensus holds no source of randomness).
class Bip340Signer final : public Signer {
 public:
  explicit Bip340Signer(crypto::SecretKey key) : key_(std::move(key)) {}
  crypto::Signature Sign(std::string_view tag, const Bytes& msg) const override;

 private:
  crypto::SecretKey key_;
};

class Bip340Verifier final : public Verifier {
 public:
  bool Verify(const crypto::PublicKey& pk, std::string_view tag, const Bytes& msg,
              const crypto::Signature& sig) const override;
};

// The smallest q with 2q - n > f, f = (n-1)/3: any two quorums share an honest validator.
// 2f+1 when n = 3f+1.
uint32_t DefaultQuorum(uint32_t n);

// The validators of one epoch, equal weight, ordered; ReplicaId is the index.
struct ValidatorSet {
  std::string chain_id;
  Epoch epoch = 0;
  std::vector<crypto::PublicKey> keys;
  uint32_t quorum = 0;  // 0 means DefaultQuorum(n); other values only for negative tests
  // Where the epoch's genesis block sits: the height and id of the block it continues (the
  // last block of the previous epoch; 0 and zeros for the first epoch).
  Height genesis_height = 0;
  Hash32 genesis_parent{};

  Block Genesis() const { return GenesisBlock(epoch, genesis_height, genesis_parent); }
  QuorumCert GenesisCert() const { return GenesisQc(epoch, genesis_height, genesis_parent); }

  uint32_t n() const { return static_cast<uint32_t>(keys.size()); }
  uint32_t Quorum() const { return quorum ? quorum : DefaultQuorum(n()); }
  uint32_t f() const { return (n() - 1) / 3; }
  ReplicaId Leader(Round round) const { return static_cast<ReplicaId>(round % n()); }
};

// Checks messages and certificates against one validator set. `validators` and `verifier`
// must outlive this object.
class CertVerifier {
 public:
  CertVerifier(const ValidatorSet& validators, const Verifier& verifier)
      : vs_(validators), verifier_(verifier) {}

  [[nodiscard]] Status VerifyQc(const QuorumCert& qc) const;
  [[nodiscard]] Status VerifyTc(const TimeoutCert& tc) const;
  [[nodiscard]] Status VerifyVote(const Vote& vote) const;
  // The signature, the high QC and the optional last TC.
  [[nodiscard]] Status VerifyTimeout(const TimeoutMsg& msg) const;
  // Leader, signature, structure (round above the QC, TC present and for round - 1 when the
  // QC is not for round - 1) and both certificates. Not the payload and not the parent.
  [[nodiscard]] Status VerifyProposal(const Proposal& p) const;
  // Structure of a block and its QC (used for fetched blocks, which the hash already binds).
  [[nodiscard]] Status VerifyBlock(const Block& b) const;

 private:
  Status CheckSigner(ReplicaId id, std::vector<bool>& seen) const;

  const ValidatorSet& vs_;
  const Verifier& verifier_;
};

}  // namespace civitas::consensus
