#pragma once

// Helpers shared by the consensus unit tests: deterministic keys, certificates built by hand,
// and a synchronous in-memory network that delivers every message in FIFO order.

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "consensus/codec.h"
#include "consensus/replica.h"
#include "consensus/verify.h"

namespace civitas::consensus::testing {

inline constexpr char kChain[] = "civitas-test";

inline crypto::SecretKey KeyFor(uint32_t i) {
  Hash32 secret{};
  secret[31] = static_cast<uint8_t>(i + 1);
  return crypto::SecretKey::FromBytes(secret).value();
}

inline ValidatorSet MakeValidators(uint32_t n, Epoch epoch = 1) {
  ValidatorSet vs;
  vs.chain_id = kChain;
  vs.epoch = epoch;
  for (uint32_t i = 0; i < n; ++i) vs.keys.push_back(KeyFor(i).public_key());
  return vs;
}

inline Vote SignVote(const ValidatorSet& vs, ReplicaId voter, Round round, const Hash32& id) {
  Vote v{vs.epoch, round, id, voter, {}};
  v.sig = Bip340Signer(KeyFor(voter))
              .Sign(kVoteTag, VoteSigningBytes(vs.chain_id, vs.epoch, round, id));
  return v;
}

inline QuorumCert MakeQc(const ValidatorSet& vs, Round round, const Hash32& id,
                         std::vector<ReplicaId> signers) {
  QuorumCert qc{vs.epoch, round, id, {}};
  for (ReplicaId s : signers) qc.sigs.push_back({s, SignVote(vs, s, round, id).sig});
  return qc;
}

inline TimeoutCert MakeTc(const ValidatorSet& vs, Round round,
                          std::vector<std::pair<ReplicaId, Round>> signers) {
  TimeoutCert tc{vs.epoch, round, {}};
  for (auto [s, hqr] : signers) {
    tc.sigs.push_back({s, hqr,
                       Bip340Signer(KeyFor(s)).Sign(
                           kTimeoutTag, TimeoutSigningBytes(vs.chain_id, vs.epoch, round, hqr))});
  }
  return tc;
}

inline Proposal SignProposal(const ValidatorSet& vs, Block b, std::optional<TimeoutCert> tc = {}) {
  Proposal p{std::move(b), std::move(tc), {}};
  p.sig = Bip340Signer(KeyFor(p.block.proposer))
              .Sign(kProposalTag,
                    ProposalSigningBytes(vs.chain_id, vs.epoch, p.block.round, p.block.Id()));
  return p;
}

// Payload = one byte; refuses payloads equal to 0xff (a stand-in for a wrong state root).
class TestApp : public App {
 public:
  std::optional<Bytes> MakePayload(const Block& parent) override {
    if (!ready) return std::nullopt;
    return Bytes{static_cast<uint8_t>(parent.height + 1)};
  }
  Status VerifyPayload(const Block& block, const Block&) override {
    ++verified;
    if (!block.payload.empty() && block.payload[0] == 0xff) {
      return Status::Invalid("state_root_mismatch", "claimed root differs");
    }
    return Status::Ok();
  }
  int verified = 0;
  bool ready = true;  // false: MakePayload defers the proposal
};

// n replicas wired by a FIFO queue; `cut` drops every message to or from a replica.
class Cluster {
 public:
  explicit Cluster(uint32_t n) : vs_(MakeValidators(n)) {
    for (uint32_t i = 0; i < n; ++i) {
      signers_.push_back(std::make_unique<Bip340Signer>(KeyFor(i)));
      apps_.push_back(std::make_unique<TestApp>());
      commits_.emplace_back();
      Config c;
      c.validators = vs_;
      c.self = i;
      c.signer = signers_.back().get();
      replicas_.push_back(std::make_unique<Replica>(c, *apps_.back()));
    }
  }

  void Start() {
    for (uint32_t i = 0; i < replicas_.size(); ++i) {
      Actions out;
      replicas_[i]->Start(out);
      Handle(i, out);
    }
  }

  // Delivers queued messages until none is left or `max` were delivered.
  void Run(size_t max = 100000) {
    while (!queue_.empty() && max-- > 0) {
      auto [from, to, msg] = queue_.front();
      queue_.pop_front();
      if (down(from) || down(to)) continue;
      Actions out;
      (void)replicas_[to]->OnMessage(from, msg, out);
      Handle(to, out);
    }
  }

  void FireTimeouts() {
    for (uint32_t i = 0; i < replicas_.size(); ++i) {
      if (down(i)) continue;
      Actions out;
      replicas_[i]->OnLocalTimeout(replicas_[i]->round(), out);
      Handle(i, out);
    }
  }

  void Handle(ReplicaId self, const Actions& out) {
    for (const auto& a : out) {
      if (const auto* s = std::get_if<SendAction>(&a)) {
        queue_.push_back({self, s->to, s->msg});
      } else if (const auto* b = std::get_if<BroadcastAction>(&a)) {
        for (uint32_t j = 0; j < replicas_.size(); ++j) {
          if (j != self) queue_.push_back({self, j, b->msg});
        }
      } else if (const auto* c = std::get_if<CommitAction>(&a)) {
        commits_[self].push_back(c->block);
      } else if (const auto* f = std::get_if<FetchAction>(&a)) {
        queue_.push_back({self, f->peer, f->request});
      }
    }
  }

  bool down(ReplicaId r) const { return r == cut; }

  struct Envelope {
    ReplicaId from, to;
    Message msg;
  };
  ValidatorSet vs_;
  std::vector<std::unique_ptr<Bip340Signer>> signers_;
  std::vector<std::unique_ptr<TestApp>> apps_;
  std::vector<std::unique_ptr<Replica>> replicas_;
  std::vector<std::vector<Block>> commits_;
  std::deque<Envelope> queue_;
  ReplicaId cut = 1000;
};

}  // namespace civitas::consensus::testing
