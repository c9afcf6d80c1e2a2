#include "consensus/replica.h"

#include <algorithm>

#include "consensus/codec.h"

namespace civitas::consensus {

namespace {

// Refusals tell whom they blame (Status::Blame): the node penalises a peer for Forged ones only.
// Dropped: what an honest validator may send (a restored leader repeating itself, views that
// differ around an epoch change); Forged: what none sends.
Status Drop(const char* reason, std::string message) {
  return Status::Invalid(reason, std::move(message)).WithBlame(Status::Blame::kStale);
}
Status Forged(const char* reason, std::string message) {
  return Status::PeerFault(reason, std::move(message));
}
Status Stale(std::string message) {
  return Status::Error(Status::Code::kFailedPrecondition, "stale", std::move(message))
      .WithBlame(Status::Blame::kStale);
}
Status Violation(std::string message) {
  return Status::Error(Status::Code::kInternal, "safety_violation", std::move(message));
}

// Blocks kept below the committed height, to answer peers that are catching up.
constexpr Height kKeepCommittedBlocks = 256;
// Rounds for which a replica remembers its own proposals: a QC of an older round that names
// another block of ours is no longer looked for.
constexpr Round kOwnRounds = 64;

}  // namespace

Replica::Replica(Config config, App& app)
    : config_(std::move(config)),
      vs_(config_.validators),
      cv_(vs_, config_.verifier ? *config_.verifier : default_verifier_),
      app_(app) {
  committed_ = vs_.Genesis();
  committed_qc_ = vs_.GenesisCert();
  high_qc_ = committed_qc_;
  blocks_.emplace(committed_.Id(), committed_);
}

Status Replica::Restore(const RecoveryData& data) {
  if (data.safety.epoch != vs_.epoch || data.last_committed.epoch != vs_.epoch) {
    return Status::Invalid("wrong_chain_or_epoch", "recovery data of another epoch");
  }
  if (data.last_committed_qc.block_id != data.last_committed.Id()) {
    return Status::Corruption("committed qc does not certify the committed block");
  }
  blocks_.clear();
  committed_ = data.last_committed;
  committed_qc_ = data.last_committed_qc;
  blocks_.emplace(committed_.Id(), committed_);
  for (const Block& b : data.blocks) {
    if (b.epoch == vs_.epoch && b.height > committed_.height) blocks_.emplace(b.Id(), b);
  }
  last_voted_round_ = data.safety.last_voted_round;
  preferred_round_ = data.safety.preferred_round;
  high_qc_ = data.safety.high_qc.round >= committed_qc_.round ? data.safety.high_qc : committed_qc_;
  if (high_qc_.epoch != vs_.epoch) high_qc_ = committed_qc_;
  return Status::Ok();
}

void Replica::Start(Actions& out) { AdvanceRound(std::max<Round>(high_qc_.round + 1, 1), out); }

SafetyData Replica::safety() const {
  return SafetyData{vs_.epoch, last_voted_round_, preferred_round_, high_qc_};
}

const Block* Replica::FindBlock(const Hash32& id) const {
  auto it = blocks_.find(id);
  return it == blocks_.end() ? nullptr : &it->second;
}

Status Replica::OnMessage(ReplicaId from, const Message& msg, Actions& out) {
  if (from >= vs_.n()) return Forged("unknown_signer", "message from outside the validator set");
  if (const auto* p = std::get_if<Proposal>(&msg)) return OnProposal(from, *p, out);
  if (const auto* v = std::get_if<Vote>(&msg)) return OnVote(from, *v, out);
  if (const auto* t = std::get_if<TimeoutMsg>(&msg)) return OnTimeoutMsg(from, *t, out);
  if (const auto* q = std::get_if<BlockRequest>(&msg)) return OnBlockRequest(from, *q, out);
  if (const auto* c = std::get_if<QcMsg>(&msg)) return OnQc(from, *c, out);
  return OnFetchedBlocks(from, std::get<BlockResponse>(msg), out);
}

// ---- certificates and rounds ----

Status Replica::ProcessQc(const QuorumCert& qc, ReplicaId from, Actions& out) {
  CheckOwnBlock(qc.round, qc.block_id, out);
  if (qc.round > high_qc_.round) high_qc_ = qc;
  Status st = TryCommit(qc, from, out);
  AdvanceRound(qc.round + 1, out);
  return st;
}

void Replica::ProcessTc(const TimeoutCert& tc, Actions& out) {
  if (!last_tc_ || tc.round > last_tc_->round) last_tc_ = tc;
  AdvanceRound(tc.round + 1, out);
}

// 2-chain rule: the QC certifies B; if B's parent P has round B.round - 1, P and everything
// below it commit.
Status Replica::TryCommit(const QuorumCert& qc, ReplicaId from, Actions& out) {
  if (qc.round <= committed_.round) return Status::Ok();
  auto need = [&](const Hash32& id) {
    if (!pending_commit_ || pending_commit_->round < qc.round) pending_commit_ = qc;
    RequestBlock(id, from, out);
    return Status::Ok();
  };
  const Block* b = FindBlock(qc.block_id);
  if (!b) return need(qc.block_id);
  const Block* p = FindBlock(b->parent_id);
  if (!p) return need(b->parent_id);
  if (p->round + 1 != b->round) return Status::Ok();
  if (p->height <= committed_.height) {
    if (p->height == committed_.height && b->parent_id != committed_.Id()) {
      return Violation("a certified 2-chain conflicts with the committed block");
    }
    return Status::Ok();
  }
  std::vector<const Block*> chain{p};
  while (chain.back()->height > committed_.height + 1) {
    const Block* parent = FindBlock(chain.back()->parent_id);
    if (!parent) return need(chain.back()->parent_id);
    chain.push_back(parent);
  }
  if (chain.back()->parent_id != committed_.Id() || chain.back()->height != committed_.height + 1) {
    return Violation("a certified 2-chain does not extend the committed chain");
  }
  QuorumCert certifying = b->qc;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    const Block& blk = **it;
    QuorumCert blk_qc = (it + 1 == chain.rend()) ? b->qc : (*(it + 1))->qc;
    out.push_back(CommitAction{blk, blk_qc});
  }
  committed_ = *p;
  committed_qc_ = b->qc;
  if (pending_commit_ && pending_commit_->round <= qc.round) pending_commit_.reset();
  Prune();
  return Status::Ok();
}

void Replica::AdvanceRound(Round r, Actions& out) {
  if (r <= round_) return;
  round_ = r;
  for (auto it = pending_proposals_.begin(); it != pending_proposals_.end();) {
    it = it->first < round_ ? pending_proposals_.erase(it) : std::next(it);
  }
  auto old = [&](Round x) { return x + 1 < round_; };
  std::erase_if(votes_, [&](const auto& kv) { return old(kv.first.first); });
  std::erase_if(certified_, [&](const auto& k) { return old(k.first); });
  std::erase_if(timeouts_, [&](const auto& kv) { return kv.first < round_; });
  std::erase_if(tc_formed_, [&](Round x) { return x < round_; });
  std::erase_if(proposals_seen_, [&](const auto& kv) { return kv.first < round_; });
  std::erase_if(voted_for_, [&](const auto& kv) { return old(kv.first); });
  std::erase_if(own_proposals_, [&](const auto& kv) { return kv.first + kOwnRounds < round_; });
  out.push_back(ScheduleTimerAction{round_, TimeoutFor(round_)});
  TryPropose(out);
}

uint64_t Replica::TimeoutFor(Round r) const {
  // Rounds since the last commit beyond the 3 a healthy pipeline needs double the timeout.
  Round gap = r > committed_.round + 3 ? r - committed_.round - 3 : 0;
  uint64_t d = config_.base_timeout_ms;
  for (Round i = 0; i < gap && d < config_.max_timeout_ms; ++i) d *= 2;
  d = std::min(d, config_.max_timeout_ms);
  // An idle leader waits up to the heartbeat before it proposes: the round lasts that longer.
  // Once this replica timed out in r the timer only paces retransmissions of its timeout.
  const bool idle = !txs_pending_ && timed_out_round_ < r;
  return idle ? d + config_.idle_round_ms : d;
}

void Replica::SetTransactionsPending(bool pending, Actions& out) {
  if (pending == txs_pending_) return;
  txs_pending_ = pending;
  if (config_.idle_round_ms == 0 || round_ == 0) return;
  if (pending) {
    out.push_back(ScheduleTimerAction{round_, TimeoutFor(round_), /*only_earlier=*/true});
    return;
  }
  // After a timeout the timer only paces retransmissions: it is not lengthened.
  if (timed_out_round_ >= round_ || idle_rearmed_round_ >= round_) return;
  idle_rearmed_round_ = round_;
  out.push_back(ScheduleTimerAction{round_, TimeoutFor(round_)});
}

void Replica::Persist(Actions& out) { out.push_back(PersistAction{safety(), std::nullopt}); }

// ---- proposing and voting ----

void Replica::TryPropose(Actions& out) {
  if (vs_.Leader(round_) != config_.self || proposed_round_ >= round_) return;
  std::optional<TimeoutCert> tc;
  if (high_qc_.round + 1 != round_) {
    if (!last_tc_ || last_tc_->round + 1 != round_) return;
    tc = last_tc_;
  }
  const Block* parent = FindBlock(high_qc_.block_id);
  if (!parent) {
    RequestBlock(high_qc_.block_id, static_cast<ReplicaId>(config_.self + 1) % vs_.n(), out);
    return;
  }
  std::optional<Bytes> payload = app_.MakePayload(*parent);
  if (!payload) return;
  Block block = MakeBlock(vs_.epoch, round_, parent->height + 1, high_qc_.block_id, config_.self,
                          high_qc_, std::move(*payload));
  Proposal p{std::move(block), std::move(tc), {}};
  p.sig = config_.signer->Sign(kProposalTag,
                               ProposalSigningBytes(vs_.chain_id, vs_.epoch, round_, p.block.Id()));
  proposed_round_ = round_;
  own_proposals_[round_] = p.block.Id();
  out.push_back(BroadcastAction{p});
  (void)OnProposal(config_.self, p, out);  // our own vote; failures are logged by nobody
}

Status Replica::OnProposal(ReplicaId from, const Proposal& p, Actions& out) {
  const Block& b = p.block;
  if (b.round + config_.max_future_rounds < round_) return Stale("proposal far behind");
  Status st = cv_.VerifyProposal(p);
  if (!st.ok()) return st;
  Hash32 id = b.Id();
  st = ProcessQc(b.qc, from, out);
  if (p.tc) ProcessTc(*p.tc, out);
  if (!st.ok()) return st;
  if (b.height > committed_.height) blocks_.emplace(id, b);
  if (b.round < round_) return Stale("proposal for an old round");
  if (b.proposer == config_.self) CheckOwnBlock(b.round, id, out);
  auto [seen, fresh] = proposals_seen_.emplace(b.round, id);
  if (!fresh && seen->second != id) {
    // Still safe: at most one vote per round. The second block is kept so it can be fetched.
    out.push_back(EquivocationAction{EquivocationAction::Kind::kProposal, b.proposer, b.round});
    return Drop("equivocation", "second proposal in round " + std::to_string(b.round));
  }
  if (!FindBlock(b.parent_id)) {
    pending_proposals_[b.round] = p;
    RequestBlock(b.parent_id, from, out);
    return Status::Ok();
  }
  return TryVote(p, out);
}

Status Replica::TryVote(const Proposal& p, Actions& out) {
  const Block& b = p.block;
  if (b.round != round_) return Stale("proposal not for the current round");
  if (b.round <= last_voted_round_) return Drop("already_voted", "round already voted");
  bool consecutive = b.qc.round + 1 == b.round;
  bool extends_tc = p.tc && p.tc->round + 1 == b.round && b.qc.round >= p.tc->MaxHighQcRound();
  if (!consecutive && !extends_tc) return Drop("unsafe", "qc below the tc's highest qc");
  const Block* parent = FindBlock(b.parent_id);
  if (!parent) return Stale("parent unknown");
  if (parent->round != b.qc.round || b.height != parent->height + 1) {
    return Forged("bad_block", "height or round does not follow the parent");
  }
  if (parent->height < committed_.height) return Drop("unsafe", "parent below committed height");
  Status st = app_.VerifyPayload(b, *parent);
  if (!st.ok()) return Drop("payload", st.ToString()).WithBlame(st.blame());  // the app's verdict

  last_voted_round_ = b.round;
  preferred_round_ = std::max(preferred_round_, b.qc.round);
  out.push_back(PersistAction{safety(), b});
  Vote v{vs_.epoch, b.round, b.Id(), config_.self, {}};
  v.sig =
      config_.signer->Sign(kVoteTag, VoteSigningBytes(vs_.chain_id, v.epoch, v.round, v.block_id));
  ReplicaId next = vs_.Leader(b.round + 1);
  if (next == config_.self) return AddVote(v, out);
  out.push_back(SendAction{next, v});
  return Status::Ok();
}

Status Replica::OnVote(ReplicaId /*from*/, const Vote& v, Actions& out) {
  if (v.round + 1 < round_) return Stale("vote for an old round");
  if (v.round > round_ + config_.max_future_rounds) return Stale("vote far ahead");
  if (vs_.Leader(v.round + 1) != config_.self) return Drop("wrong_leader", "not the next leader");
  Status st = cv_.VerifyVote(v);
  if (!st.ok()) return st;
  return AddVote(v, out);
}

Status Replica::AddVote(const Vote& v, Actions& out) {
  // A vote for another block than the voter's first in this round is evidence. It is still
  // counted as before: safety rests on honest voters, and a QC needs a quorum either way.
  auto [first, fresh] = voted_for_[v.round].emplace(v.voter, v.block_id);
  if (!fresh && first->second != v.block_id) {
    first->second = v.block_id;  // each further switch is reported once
    out.push_back(EquivocationAction{EquivocationAction::Kind::kVote, v.voter, v.round});
  }
  auto key = std::make_pair(v.round, v.block_id);
  if (certified_.count(key)) return Status::Ok();
  auto& sigs = votes_[key];
  if (!sigs.emplace(v.voter, v.sig).second) return Status::Ok();  // duplicate delivery
  if (sigs.size() < vs_.Quorum()) return Status::Ok();
  QuorumCert qc{vs_.epoch, v.round, v.block_id, {}};
  for (const auto& [signer, sig] : sigs) qc.sigs.push_back(SignerSig{signer, sig});
  certified_.insert(key);
  votes_.erase(key);
  return ProcessQc(qc, config_.self, out);
}

void Replica::AnnounceQc(Actions& out) {
  if (!AwaitingProposal() || announced_round_ >= round_ || high_qc_.round + 1 != round_) return;
  announced_round_ = round_;
  out.push_back(BroadcastAction{QcMsg{high_qc_}});
}

Status Replica::OnQc(ReplicaId from, const QcMsg& m, Actions& out) {
  const QuorumCert& qc = m.qc;
  if (qc.round <= high_qc_.round) return Stale("qc not above the highest known");
  if (qc.round > round_ + config_.max_future_rounds) return Stale("qc far ahead");
  Status st = cv_.VerifyQc(qc);
  if (!st.ok()) return st;
  return ProcessQc(qc, from, out);
}

// ---- timeouts ----

void Replica::OnLocalTimeout(Round round, Actions& out) {
  if (round != round_) return;
  if (timed_out_round_ < round) {
    timed_out_round_ = round;
    last_voted_round_ = std::max(last_voted_round_, round);
  }
  // Persist even on a retransmission: high_qc may have grown.
  Persist(out);
  TimeoutMsg t{vs_.epoch, round, high_qc_, std::nullopt, config_.self, {}};
  if (last_tc_ && last_tc_->round + 1 == round) t.last_tc = last_tc_;
  t.sig = config_.signer->Sign(kTimeoutTag,
                               TimeoutSigningBytes(vs_.chain_id, vs_.epoch, round, high_qc_.round));
  out.push_back(BroadcastAction{t});
  out.push_back(ScheduleTimerAction{round, TimeoutFor(round)});
  // Retry fetches that may have been lost, from another peer each time.
  for (const auto& id : wanted_) {
    ReplicaId peer = static_cast<ReplicaId>((config_.self + 1 + fetch_rotation_++) % vs_.n());
    if (peer == config_.self) peer = (peer + 1) % vs_.n();
    requested_at_.erase(id);
    RequestBlock(id, peer, out);
  }
  (void)AddTimeout(t, out);
}

Status Replica::OnTimeoutMsg(ReplicaId from, const TimeoutMsg& t, Actions& out) {
  if (t.round + config_.max_future_rounds < round_) return Stale("timeout far behind");
  if (t.round > round_ + config_.max_future_rounds) return Stale("timeout far ahead");
  Status st = cv_.VerifyTimeout(t);
  if (!st.ok()) return st;
  st = ProcessQc(t.high_qc, from, out);
  if (t.last_tc) ProcessTc(*t.last_tc, out);
  if (!st.ok()) return st;
  if (t.round < round_) return Status::Ok();
  return AddTimeout(t, out);
}

Status Replica::AddTimeout(const TimeoutMsg& t, Actions& out) {
  if (t.round < round_ || tc_formed_.count(t.round)) return Status::Ok();
  timeouts_[t.round][t.sender] = TimeoutSig{t.sender, t.high_qc.round, t.sig};
  // f+1 timeouts include an honest one: join so the round ends even if our timer is late.
  // (This may form a TC and move the round on, which prunes timeouts_.)
  if (t.round == round_ && timed_out_round_ < round_ && timeouts_[t.round].size() >= vs_.f() + 1) {
    OnLocalTimeout(round_, out);
  }
  auto it = timeouts_.find(t.round);
  if (it == timeouts_.end() || tc_formed_.count(t.round) || it->second.size() < vs_.Quorum()) {
    return Status::Ok();
  }
  TimeoutCert tc{vs_.epoch, t.round, {}};
  for (const auto& [signer, s] : it->second) tc.sigs.push_back(s);
  tc_formed_.insert(t.round);
  ProcessTc(tc, out);
  return Status::Ok();
}

// ---- block retrieval ----

void Replica::RequestBlock(const Hash32& id, ReplicaId peer, Actions& out) {
  if (blocks_.count(id)) return;
  wanted_.insert(id);
  auto [it, fresh] = requested_at_.emplace(id, round_);
  if (!fresh && it->second == round_) return;  // once per round and block
  it->second = round_;
  if (peer == config_.self) peer = static_cast<ReplicaId>((peer + 1) % vs_.n());
  out.push_back(FetchAction{peer, BlockRequest{id, kMaxBlocksPerResponse, committed_.height}});
}

Status Replica::OnBlockRequest(ReplicaId from, const BlockRequest& req, Actions& out) {
  BlockResponse resp;
  const Block* b = FindBlock(req.block_id);
  uint32_t max = std::min(req.max_blocks, kMaxBlocksPerResponse);
  while (b && resp.blocks.size() < max && b->height > req.stop_height) {
    resp.blocks.push_back(*b);
    b = b->round == 0 ? nullptr : FindBlock(b->parent_id);
  }
  if (resp.blocks.empty()) return Status::NotFound("no such block");
  out.push_back(SendAction{from, std::move(resp)});
  return Status::Ok();
}

Status Replica::OnFetchedBlocks(ReplicaId from, const BlockResponse& resp, Actions& out) {
  if (resp.blocks.size() > kMaxBlocksPerResponse) return Forged("bad_encoding", "too many blocks");
  bool useful = false;
  for (const Block& b : resp.blocks) {
    Hash32 id = b.Id();
    if (blocks_.count(id)) continue;
    // A block is accepted only when a verified QC or an accepted child names its hash.
    if (!wanted_.count(id)) continue;
    Status st = cv_.VerifyBlock(b);
    if (!st.ok()) return st;
    wanted_.erase(id);
    requested_at_.erase(id);
    if (b.height <= committed_.height) continue;
    blocks_.emplace(id, b);
    useful = true;
    if (!blocks_.count(b.parent_id) && b.height > committed_.height + 1) {
      wanted_.insert(b.parent_id);
    }
  }
  if (!useful) return Drop("unsolicited", "no wanted block in the response");
  // Ask for what is still missing below the blocks just received.
  for (const auto& id : std::set<Hash32>(wanted_)) RequestBlock(id, from, out);
  RetryPending(from, out);
  return Status::Ok();
}

void Replica::RetryPending(ReplicaId from, Actions& out) {
  if (pending_commit_) {
    QuorumCert qc = *pending_commit_;
    pending_commit_.reset();
    (void)TryCommit(qc, from, out);
  }
  auto it = pending_proposals_.find(round_);
  if (it != pending_proposals_.end() && FindBlock(it->second.block.parent_id)) {
    Proposal p = std::move(it->second);
    pending_proposals_.erase(it);
    (void)TryVote(p, out);
  }
  TryPropose(out);
}

void Replica::CheckOwnBlock(Round round, const Hash32& id, Actions& out) {
  auto it = own_proposals_.find(round);
  if (it == own_proposals_.end() || it->second == id) return;
  own_proposals_.erase(it);  // once per round
  out.push_back(EquivocationAction{EquivocationAction::Kind::kOwnKey, config_.self, round});
}

void Replica::Prune() {
  Height keep_from =
      committed_.height > kKeepCommittedBlocks ? committed_.height - kKeepCommittedBlocks : 0;
  std::erase_if(blocks_, [&](const auto& kv) { return kv.second.height < keep_from; });
  std::erase_if(wanted_, [&](const Hash32& id) { return blocks_.count(id) > 0; });
}

}  // namespace civitas::consensus
