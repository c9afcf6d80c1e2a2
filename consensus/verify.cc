#include "consensus/verify.h"

#include "consensus/codec.h"

namespace civitas::consensus {

crypto::Signature Bip340Signer::Sign(std::string_view tag, const Bytes& msg) const {
  static const Hash32 kZeroAux{};
  return key_.Sign(crypto::TaggedHash(tag, msg), &kZeroAux);
}

bool Bip340Verifier::Verify(const crypto::PublicKey& pk, std::string_view tag, const Bytes& msg,
                            const crypto::Signature& sig) const {
  return crypto::VerifyTagged(pk, tag, AsStringView(msg), sig);
}

uint32_t DefaultQuorum(uint32_t n) {
  uint32_t f = n == 0 ? 0 : (n - 1) / 3;
  return (n + f) / 2 + 1;
}

namespace {
// A message no honest validator signs or sends: the sender is to blame.
Status Bad(const char* reason, std::string message) {
  return Status::PeerFault(reason, std::move(message));
}
// A message of another epoch or for another leader: views differ around an epoch change.
Status OtherView(const char* reason, std::string message) {
  return Status::Invalid(reason, std::move(message)).WithBlame(Status::Blame::kStale);
}
}  // namespace

Status CertVerifier::CheckSigner(ReplicaId id, std::vector<bool>& seen) const {
  if (id >= vs_.n()) return Bad("unknown_signer", "signer " + std::to_string(id));
  if (seen[id]) return Bad("duplicate_signer", "signer " + std::to_string(id));
  seen[id] = true;
  return Status::Ok();
}

Status CertVerifier::VerifyQc(const QuorumCert& qc) const {
  if (qc.epoch != vs_.epoch) return OtherView("wrong_chain_or_epoch", "qc epoch");
  if (qc.round == 0) {
    // Only the genesis QC has round 0; it carries no signatures.
    if (!qc.sigs.empty() || qc.block_id != vs_.Genesis().Id()) {
      return Bad("bad_signature", "round-0 qc is not the genesis qc");
    }
    return Status::Ok();
  }
  if (qc.sigs.size() < vs_.Quorum()) return Bad("no_quorum", "qc signatures below quorum");
  std::vector<bool> seen(vs_.n());
  Bytes msg = VoteSigningBytes(vs_.chain_id, qc.epoch, qc.round, qc.block_id);
  for (const auto& s : qc.sigs) {
    Status st = CheckSigner(s.signer, seen);
    if (!st.ok()) return st;
  }
  for (const auto& s : qc.sigs) {
    if (!verifier_.Verify(vs_.keys[s.signer], kVoteTag, msg, s.sig)) {
      return Bad("bad_signature", "qc signature of " + std::to_string(s.signer));
    }
  }
  return Status::Ok();
}

Status CertVerifier::VerifyTc(const TimeoutCert& tc) const {
  if (tc.epoch != vs_.epoch) return OtherView("wrong_chain_or_epoch", "tc epoch");
  if (tc.round == 0) return Bad("bad_tc", "tc for round 0");
  if (tc.sigs.size() < vs_.Quorum()) return Bad("no_quorum", "tc signatures below quorum");
  std::vector<bool> seen(vs_.n());
  for (const auto& s : tc.sigs) {
    Status st = CheckSigner(s.signer, seen);
    if (!st.ok()) return st;
    if (s.high_qc_round >= tc.round) return Bad("bad_tc", "high qc round not below tc round");
  }
  for (const auto& s : tc.sigs) {
    Bytes msg = TimeoutSigningBytes(vs_.chain_id, tc.epoch, tc.round, s.high_qc_round);
    if (!verifier_.Verify(vs_.keys[s.signer], kTimeoutTag, msg, s.sig)) {
      return Bad("bad_signature", "tc signature of " + std::to_string(s.signer));
    }
  }
  return Status::Ok();
}

Status CertVerifier::VerifyVote(const Vote& v) const {
  if (v.epoch != vs_.epoch) return OtherView("wrong_chain_or_epoch", "vote epoch");
  if (v.voter >= vs_.n()) return Bad("unknown_signer", "voter " + std::to_string(v.voter));
  if (v.round == 0) return Bad("bad_block", "vote for round 0");
  Bytes msg = VoteSigningBytes(vs_.chain_id, v.epoch, v.round, v.block_id);
  if (!verifier_.Verify(vs_.keys[v.voter], kVoteTag, msg, v.sig)) {
    return Bad("bad_signature", "vote of " + std::to_string(v.voter));
  }
  return Status::Ok();
}

Status CertVerifier::VerifyTimeout(const TimeoutMsg& t) const {
  if (t.epoch != vs_.epoch) return OtherView("wrong_chain_or_epoch", "timeout epoch");
  if (t.sender >= vs_.n()) return Bad("unknown_signer", "sender " + std::to_string(t.sender));
  if (t.round == 0 || t.high_qc.round >= t.round) {
    return Bad("bad_tc", "timeout high qc not below its round");
  }
  if (t.last_tc && t.last_tc->round + 1 != t.round) return Bad("bad_tc", "last tc round");
  Bytes msg = TimeoutSigningBytes(vs_.chain_id, t.epoch, t.round, t.high_qc.round);
  if (!verifier_.Verify(vs_.keys[t.sender], kTimeoutTag, msg, t.sig)) {
    return Bad("bad_signature", "timeout of " + std::to_string(t.sender));
  }
  Status st = VerifyQc(t.high_qc);
  if (!st.ok()) return st;
  if (t.last_tc) return VerifyTc(*t.last_tc);
  return Status::Ok();
}

Status CertVerifier::VerifyBlock(const Block& b) const {
  if (b.epoch != vs_.epoch) return OtherView("wrong_chain_or_epoch", "block epoch");
  if (b.proposer >= vs_.n()) return Bad("unknown_signer", "proposer");
  if (b.round <= b.qc.round) return Bad("bad_block", "block round not above its qc round");
  if (b.qc.block_id != b.parent_id) return Bad("bad_block", "qc does not certify the parent");
  if (b.height == 0) return Bad("bad_block", "height 0 is genesis only");
  return VerifyQc(b.qc);
}

Status CertVerifier::VerifyProposal(const Proposal& p) const {
  const Block& b = p.block;
  if (b.epoch != vs_.epoch) return OtherView("wrong_chain_or_epoch", "proposal epoch");
  if (b.proposer >= vs_.n()) return Bad("unknown_signer", "proposer");
  if (b.proposer != vs_.Leader(b.round)) return OtherView("wrong_leader", "not the round's leader");
  Bytes msg = ProposalSigningBytes(vs_.chain_id, b.epoch, b.round, b.Id());
  if (!verifier_.Verify(vs_.keys[b.proposer], kProposalTag, msg, p.sig)) {
    return Bad("bad_signature", "proposal signature");
  }
  if (b.qc.round + 1 != b.round) {
    if (!p.tc) return Bad("missing_tc", "round skips without a timeout certificate");
    if (p.tc->round + 1 != b.round) return Bad("bad_tc", "tc is not for the previous round");
  }
  Status st = VerifyBlock(b);
  if (!st.ok()) return st;
  if (p.tc) return VerifyTc(*p.tc);
  return Status::Ok();
}

}  // namespace civitas::consensus
