#include "consensus/replica.h"

#include <gtest/gtest.h>

#include "consensus/codec.h"
#include "tests/consensus/test_util.h"

namespace civitas::consensus {
namespace {

using testing::Cluster;
using testing::KeyFor;
using testing::MakeQc;
using testing::MakeTc;
using testing::MakeValidators;
using testing::SignProposal;
using testing::TestApp;

template <typename T>
int IndexOf(
    const Actions& out, const std::function<bool(const T&)>& pred = [](const T&) { return true; }) {
  for (size_t i = 0; i < out.size(); ++i) {
    if (const T* a = std::get_if<T>(&out[i]); a && pred(*a)) return static_cast<int>(i);
  }
  return -1;
}

bool IsVote(const SendAction& s) { return std::holds_alternative<Vote>(s.msg); }

// One replica under test, fed by hand.
class ReplicaTest : public ::testing::Test {
 protected:
  explicit ReplicaTest(ReplicaId self = 0) : signer_(KeyFor(self)) {
    config_.validators = vs_;
    config_.self = self;
    config_.signer = &signer_;
    config_.base_timeout_ms = 100;
    config_.max_timeout_ms = 1600;
    replica_ = std::make_unique<Replica>(config_, app_);
    Actions out;
    replica_->Start(out);
  }

  Proposal FirstProposal(Bytes payload = {1}) {
    Block g = GenesisBlock(1);
    return SignProposal(vs_, MakeBlock(1, 1, 1, g.Id(), vs_.Leader(1), GenesisQc(1), payload));
  }

  ValidatorSet vs_ = MakeValidators(4);
  Bip340Signer signer_;
  TestApp app_;
  Config config_;
  std::unique_ptr<Replica> replica_;
};

TEST_F(ReplicaTest, PersistsSafetyDataBeforeTheVoteLeaves) {
  Actions out;
  ASSERT_TRUE(replica_->OnProposal(1, FirstProposal(), out).ok());
  int persist = IndexOf<PersistAction>(out);
  int vote = IndexOf<SendAction>(out, IsVote);
  ASSERT_GE(persist, 0);
  ASSERT_GE(vote, 0);
  EXPECT_LT(persist, vote);
  EXPECT_EQ(std::get<PersistAction>(out[persist]).data.last_voted_round, 1u);
  // The voted block is persisted too, so a certified block survives restarts of its voters.
  ASSERT_TRUE(std::get<PersistAction>(out[persist]).block.has_value());
  EXPECT_EQ(std::get<PersistAction>(out[persist]).block->Id(), FirstProposal().block.Id());
  const auto& send = std::get<SendAction>(out[vote]);
  EXPECT_EQ(send.to, vs_.Leader(2));
  EXPECT_EQ(std::get<Vote>(send.msg).block_id, FirstProposal().block.Id());
}

TEST_F(ReplicaTest, VotesAtMostOncePerRound) {
  Actions out;
  ASSERT_TRUE(replica_->OnProposal(1, FirstProposal({1}), out).ok());
  Actions again;
  Status st = replica_->OnProposal(1, FirstProposal({2}), again);
  EXPECT_EQ(st.reason(), "equivocation");
  EXPECT_EQ(IndexOf<SendAction>(again, IsVote), -1);
  // The same proposal delivered twice does not produce a second vote either.
  Actions dup;
  EXPECT_EQ(replica_->OnProposal(1, FirstProposal({1}), dup).reason(), "already_voted");
  EXPECT_EQ(IndexOf<SendAction>(dup, IsVote), -1);
}

// Issue 22: equivocation is absorbed (one vote per round) but reported, so the node can log
// and count it.
bool IsEquivocation(const Actions& out, EquivocationAction::Kind kind, ReplicaId signer,
                    Round round) {
  return IndexOf<EquivocationAction>(out, [&](const EquivocationAction& e) {
           return e.kind == kind && e.signer == signer && e.round == round;
         }) >= 0;
}

TEST_F(ReplicaTest, ReportsASecondProposalOfALeaderAsEquivocation) {
  Actions out;
  ASSERT_TRUE(replica_->OnProposal(1, FirstProposal({1}), out).ok());
  EXPECT_EQ(IndexOf<EquivocationAction>(out), -1);
  Actions again;
  EXPECT_EQ(replica_->OnProposal(1, FirstProposal({2}), again).reason(), "equivocation");
  EXPECT_TRUE(IsEquivocation(again, EquivocationAction::Kind::kProposal, 1, 1));
  // The same proposal again is a duplicate delivery, not evidence.
  Actions dup;
  (void)replica_->OnProposal(1, FirstProposal({1}), dup);
  EXPECT_EQ(IndexOf<EquivocationAction>(dup), -1);
}

TEST_F(ReplicaTest, ReportsASecondVoteOfAValidatorForAnotherBlockAsEquivocation) {
  // Replica 0 leads round 4, so votes of round 3 come to it.
  const Hash32 a = FirstProposal({1}).block.Id(), b = FirstProposal({2}).block.Id();
  Actions out;
  ASSERT_TRUE(replica_->OnVote(2, testing::SignVote(vs_, 2, 3, a), out).ok());
  ASSERT_TRUE(replica_->OnVote(2, testing::SignVote(vs_, 2, 3, a), out).ok());  // duplicate
  EXPECT_EQ(IndexOf<EquivocationAction>(out), -1);
  Actions again;
  EXPECT_TRUE(replica_->OnVote(2, testing::SignVote(vs_, 2, 3, b), again).ok());
  EXPECT_TRUE(IsEquivocation(again, EquivocationAction::Kind::kVote, 2, 3));
  Actions dup;
  EXPECT_TRUE(replica_->OnVote(2, testing::SignVote(vs_, 2, 3, b), dup).ok());
  EXPECT_EQ(IndexOf<EquivocationAction>(dup), -1) << "one report per conflicting vote";
}

TEST(ReplicaOwnKeyTest, ReportsABlockOfItsOwnKeyThatItDidNotPropose) {
  // A second process with the same key (replica 1, leader of round 1) proposes another block in
  // round 1, and the council certifies that one.
  ValidatorSet vs = MakeValidators(4);
  Bip340Signer signer(KeyFor(1));
  TestApp app;
  Config config;
  config.validators = vs;
  config.self = 1;
  config.signer = &signer;
  Replica replica(config, app);
  Actions out;
  replica.Start(out);
  int mine = IndexOf<BroadcastAction>(
      out, [](const BroadcastAction& b) { return std::holds_alternative<Proposal>(b.msg); });
  ASSERT_GE(mine, 0);
  const Hash32 own = std::get<Proposal>(std::get<BroadcastAction>(out[mine]).msg).block.Id();
  EXPECT_EQ(IndexOf<EquivocationAction>(out), -1);

  // Our own block certified: nothing to report.
  Actions fine;
  (void)replica.OnQc(2, QcMsg{MakeQc(vs, 1, own, {0, 2, 3})}, fine);
  EXPECT_EQ(IndexOf<EquivocationAction>(fine), -1);

  // Another start of the same replica, whose round-1 block the council did not certify.
  Replica other(config, app);
  Actions start;
  other.Start(start);
  Block g = GenesisBlock(1);
  Block twin = MakeBlock(1, 1, 1, g.Id(), 1, GenesisQc(1), Bytes{0x42});  // not TestApp's {1}
  ASSERT_NE(twin.Id(), own);
  Actions seen;
  (void)other.OnQc(2, QcMsg{MakeQc(vs, 1, twin.Id(), {0, 2, 3})}, seen);
  EXPECT_TRUE(IsEquivocation(seen, EquivocationAction::Kind::kOwnKey, 1, 1));
  // Once per round.
  Actions later;
  (void)other.OnProposal(2,
                         SignProposal(vs, MakeBlock(1, 2, 2, twin.Id(), 2,
                                                    MakeQc(vs, 1, twin.Id(), {0, 2, 3}), Bytes{2})),
                         later);
  EXPECT_EQ(IndexOf<EquivocationAction>(later), -1);
}

TEST_F(ReplicaTest, RestoredSafetyDataPreventsADoubleVoteAfterRestart) {
  Actions out;
  ASSERT_TRUE(replica_->OnProposal(1, FirstProposal({1}), out).ok());
  SafetyData saved = std::get<PersistAction>(out[IndexOf<PersistAction>(out)]).data;
  // Restart: a new Replica from the persisted data only.
  TestApp app;
  Replica restarted(config_, app);
  ASSERT_TRUE(restarted.Restore({saved, GenesisBlock(1), GenesisQc(1), {}}).ok());
  Actions start;
  restarted.Start(start);
  Actions again;
  EXPECT_EQ(restarted.OnProposal(1, FirstProposal({2}), again).reason(), "already_voted");
  EXPECT_EQ(IndexOf<SendAction>(again, IsVote), -1);
}

TEST_F(ReplicaTest, RefusesToVoteForAWrongStateRoot) {
  Actions out;
  Status st = replica_->OnProposal(1, FirstProposal({0xff}), out);
  EXPECT_EQ(st.reason(), "payload");
  EXPECT_EQ(app_.verified, 1);
  EXPECT_EQ(IndexOf<SendAction>(out, IsVote), -1);
  EXPECT_EQ(IndexOf<PersistAction>(out), -1);
}

TEST_F(ReplicaTest, DropsBadInputWithAReasonAndNoVote) {
  Proposal forged = FirstProposal();
  forged.sig[0] ^= 1;
  Actions out;
  EXPECT_EQ(replica_->OnProposal(1, forged, out).reason(), "bad_signature");
  Proposal no_quorum = FirstProposal();
  Block g = GenesisBlock(1);
  Block b = MakeBlock(1, 2, 2, no_quorum.block.Id(), vs_.Leader(2),
                      MakeQc(vs_, 1, no_quorum.block.Id(), {0, 1}), {});
  EXPECT_EQ(replica_->OnProposal(2, SignProposal(vs_, b), out).reason(), "no_quorum");
  Vote v = testing::SignVote(vs_, 0, 1, g.Id());
  v.voter = 7;
  EXPECT_FALSE(replica_->OnVote(0, v, out).ok());
  EXPECT_EQ(replica_->OnMessage(9, Message{v}, out).reason(), "unknown_signer");
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(replica_->round(), 1u);
}

TEST_F(ReplicaTest, RefusesAProposalThatIgnoresTheTimeoutCertificatesHighQc) {
  // TC for round 2 reports a QC of round 1 somewhere; a round-3 block extending genesis
  // (round 0) could fork a block committed through that QC.
  Block g = GenesisBlock(1);
  TimeoutCert tc = MakeTc(vs_, 2, {{0, 1}, {1, 0}, {3, 0}});
  Block b = MakeBlock(1, 3, 1, g.Id(), vs_.Leader(3), GenesisQc(1), Bytes{1});
  Actions out;
  EXPECT_EQ(replica_->OnProposal(3, SignProposal(vs_, b, tc), out).reason(), "unsafe");
  EXPECT_EQ(replica_->round(), 3u);  // the TC still moved the round on
  EXPECT_EQ(replica_->safety().last_voted_round, 0u);
  // With every high QC at round 0, the same extension is safe.
  TestApp app;
  Replica fresh(config_, app);
  Actions start, out2;
  fresh.Start(start);
  TimeoutCert tc0 = MakeTc(vs_, 2, {{0, 0}, {1, 0}, {3, 0}});
  EXPECT_TRUE(fresh.OnProposal(3, SignProposal(vs_, b, tc0), out2).ok());
  EXPECT_EQ(fresh.safety().last_voted_round, 3u);  // voted (the vote goes to itself)
}

TEST_F(ReplicaTest, TimeoutBacksOffWithoutProgressAndIsCapped) {
  std::vector<uint64_t> durations;
  Block g = GenesisBlock(1);
  for (Round r = 2; r <= 10; ++r) {
    TimeoutMsg t{1, r, GenesisQc(1), MakeTc(vs_, r - 1, {{1, 0}, {2, 0}, {3, 0}}), 1, {}};
    t.sig = Bip340Signer(KeyFor(1)).Sign(kTimeoutTag, TimeoutSigningBytes(vs_.chain_id, 1, r, 0));
    Actions out;
    ASSERT_TRUE(replica_->OnTimeoutMsg(1, t, out).ok());
    int i = IndexOf<ScheduleTimerAction>(out);
    ASSERT_GE(i, 0);
    EXPECT_EQ(std::get<ScheduleTimerAction>(out[i]).round, r);
    durations.push_back(std::get<ScheduleTimerAction>(out[i]).duration_ms);
  }
  EXPECT_EQ(durations, (std::vector<uint64_t>{100, 100, 200, 400, 800, 1600, 1600, 1600, 1600}));
}

TEST_F(ReplicaTest, LocalTimeoutPersistsThenBroadcastsAndStopsVoting) {
  Actions out;
  replica_->OnLocalTimeout(1, out);
  int persist = IndexOf<PersistAction>(out);
  int bcast = IndexOf<BroadcastAction>(out);
  ASSERT_GE(persist, 0);
  ASSERT_GT(bcast, persist);
  EXPECT_TRUE(std::holds_alternative<TimeoutMsg>(std::get<BroadcastAction>(out[bcast]).msg));
  Actions late;
  EXPECT_EQ(replica_->OnProposal(1, FirstProposal(), late).reason(), "already_voted");
  // A timer for an old round is ignored.
  Actions stale;
  replica_->OnLocalTimeout(0, stale);
  EXPECT_TRUE(stale.empty());
}

// The timers of ScheduleTimerAction in `out`, in order.
std::vector<std::pair<Round, uint64_t>> Timers(const Actions& out) {
  std::vector<std::pair<Round, uint64_t>> t;
  for (const Action& a : out) {
    if (const auto* s = std::get_if<ScheduleTimerAction>(&a))
      t.emplace_back(s->round, s->duration_ms);
  }
  return t;
}

using TimerList = std::vector<std::pair<Round, uint64_t>>;

// While no transaction is pending an idle leader waits up to the heartbeat before proposing:
// the round's timer grows by the heartbeat, and shrinks back to the normal timer (counted from
// the moment a transaction appears) so a crashed leader then costs one normal timeout.
TEST(ReplicaIdleTest, IdleRoundsLastAHeartbeatLongerUntilATransactionIsPending) {
  ValidatorSet vs = MakeValidators(4);
  Bip340Signer signer(KeyFor(0));
  TestApp app;
  Config config;
  config.validators = vs;
  config.self = 0;
  config.signer = &signer;
  config.base_timeout_ms = 100;
  config.max_timeout_ms = 1600;
  config.idle_round_ms = 5000;
  Replica replica(config, app);
  EXPECT_FALSE(replica.transactions_pending());
  Actions out;
  replica.Start(out);
  EXPECT_EQ(Timers(out), (TimerList{{1, 5100}}));
  out.clear();
  replica.SetTransactionsPending(true, out);
  EXPECT_EQ(Timers(out), (TimerList{{1, 100}}));
  out.clear();
  replica.SetTransactionsPending(true, out);  // no change, no new timer
  EXPECT_TRUE(out.empty());
  replica.SetTransactionsPending(false, out);
  EXPECT_EQ(Timers(out), (TimerList{{1, 5100}}));
  EXPECT_FALSE(std::get<ScheduleTimerAction>(out.back()).only_earlier);
  // A transaction brings the end of the round forward, never back (the node keeps the earlier
  // deadline); the round is lengthened at most once, so flapping cannot postpone it forever.
  out.clear();
  replica.SetTransactionsPending(true, out);
  ASSERT_EQ(Timers(out), (TimerList{{1, 100}}));
  EXPECT_TRUE(std::get<ScheduleTimerAction>(out.back()).only_earlier);
  out.clear();
  replica.SetTransactionsPending(false, out);
  EXPECT_TRUE(out.empty());
  // Timed out: the timer only paces retransmissions, at the normal period, idle or not.
  out.clear();
  replica.OnLocalTimeout(1, out);
  EXPECT_EQ(Timers(out), (TimerList{{1, 100}}));
  out.clear();
  replica.SetTransactionsPending(true, out);
  replica.SetTransactionsPending(false, out);
  EXPECT_EQ(Timers(out), (TimerList{{1, 100}}));  // brought forward only
  // The next round (entered by a TC) is idle again, with the back-off of the base part.
  out.clear();
  Actions tc_out;
  for (ReplicaId from : {1u, 2u, 3u}) {
    TimeoutMsg t{1, 1, GenesisQc(1), std::nullopt, from, {}};
    t.sig = Bip340Signer(KeyFor(from)).Sign(kTimeoutTag, TimeoutSigningBytes(vs.chain_id, 1, 1, 0));
    ASSERT_TRUE(replica.OnTimeoutMsg(from, t, tc_out).ok());
  }
  EXPECT_EQ(replica.round(), 2u);
  EXPECT_EQ(Timers(tc_out), (TimerList{{2, 5100}}));
}

TEST(ReplicaIdleTest, WithoutAHeartbeatPendingTransactionsChangeNoTimer) {
  ValidatorSet vs = MakeValidators(4);
  Bip340Signer signer(KeyFor(0));
  TestApp app;
  Config config;
  config.validators = vs;
  config.self = 0;
  config.signer = &signer;
  config.base_timeout_ms = 100;
  Replica replica(config, app);
  Actions out;
  replica.Start(out);
  EXPECT_EQ(Timers(out), (TimerList{{1, 100}}));
  out.clear();
  replica.SetTransactionsPending(true, out);
  replica.SetTransactionsPending(false, out);
  EXPECT_TRUE(out.empty());
}

TEST(ReplicaDeferTest, ALeaderWithoutAPayloadWaitsUntilToldItIsReady) {
  ValidatorSet vs = MakeValidators(4);
  Bip340Signer signer(KeyFor(1));  // leads round 1
  TestApp app;
  app.ready = false;
  Config config;
  config.validators = vs;
  config.self = 1;
  config.signer = &signer;
  Replica replica(config, app);
  Actions out;
  replica.Start(out);
  EXPECT_EQ(IndexOf<BroadcastAction>(out), -1);
  EXPECT_TRUE(replica.AwaitingProposal());
  out.clear();
  replica.ProposeIfReady(out);
  EXPECT_EQ(IndexOf<BroadcastAction>(out), -1);
  app.ready = true;
  replica.ProposeIfReady(out);
  int proposal = IndexOf<BroadcastAction>(
      out, [](const BroadcastAction& b) { return std::holds_alternative<Proposal>(b.msg); });
  ASSERT_GE(proposal, 0);
  EXPECT_EQ(std::get<Proposal>(std::get<BroadcastAction>(out[proposal]).msg).block.round, 1u);
  EXPECT_FALSE(replica.AwaitingProposal());
  out.clear();
  replica.ProposeIfReady(out);  // at most one proposal per round
  EXPECT_EQ(IndexOf<BroadcastAction>(out), -1);
}

// Rounds 1 and 2 get blocks; the leader of round 3 forms the QC of block 2, which commits
// block 1, and has nothing to propose. Announcing that QC commits block 1 everywhere and moves
// everyone to round 3, without a third block.
TEST(ClusterTest, ALeaderWithNothingToProposeAnnouncesItsQcAndBlockOneCommitsEverywhere) {
  Cluster c(4);
  for (ReplicaId i : {0u, 3u}) c.apps_[i]->ready = false;  // 3 leads round 3, 0 leads round 4
  c.Start();
  c.Run();
  EXPECT_EQ(c.commits_[3].size(), 1u);  // it formed the QC: block 1 commits for it alone
  for (ReplicaId i : {0u, 1u, 2u}) {
    EXPECT_TRUE(c.commits_[i].empty()) << i;
    EXPECT_EQ(c.replicas_[i]->round(), 2u) << i;
  }
  ASSERT_TRUE(c.replicas_[3]->AwaitingProposal());
  Actions none;
  c.replicas_[1]->AnnounceQc(none);  // not the leader of its round
  EXPECT_TRUE(none.empty());
  Actions out;
  c.replicas_[3]->AnnounceQc(out);
  ASSERT_EQ(out.size(), 1u);
  const auto& qc = std::get<QcMsg>(std::get<BroadcastAction>(out[0]).msg).qc;
  EXPECT_EQ(qc.round, 2u);
  c.Handle(3, out);
  c.Run();
  for (ReplicaId i = 0; i < 4; ++i) {
    ASSERT_EQ(c.commits_[i].size(), 1u) << i;
    EXPECT_EQ(c.commits_[i][0].Id(), c.commits_[3][0].Id());
    EXPECT_EQ(c.replicas_[i]->round(), 3u) << i;
    EXPECT_EQ(c.replicas_[i]->high_qc(), qc) << i;
  }
  Actions again;
  c.replicas_[3]->AnnounceQc(again);  // once per round
  EXPECT_TRUE(again.empty());
  // The leader still proposes in round 3 once it has something, on top of the announced QC.
  c.apps_[3]->ready = true;
  Actions proposal;
  c.replicas_[3]->ProposeIfReady(proposal);
  c.Handle(3, proposal);
  c.Run();
  EXPECT_EQ(c.replicas_[0]->round(), 4u);  // it formed the QC of block 3: block 2 commits
  EXPECT_EQ(c.commits_[0].size(), 2u);
  // Stale and forged QC messages change nothing.
  Actions ignored;
  EXPECT_EQ(c.replicas_[1]->OnQc(3, QcMsg{qc}, ignored).reason(), "stale");
  QuorumCert forged = c.replicas_[1]->high_qc();
  forged.round += 1;
  EXPECT_EQ(c.replicas_[1]->OnQc(3, QcMsg{forged}, ignored).reason(), "bad_signature");
  EXPECT_TRUE(ignored.empty());
  EXPECT_EQ(c.replicas_[1]->round(), 3u);
}

TEST(ClusterTest, HappyPathCommitsTheSameChainEverywhere) {
  Cluster c(4);
  c.Start();
  c.Run(3000);
  for (uint32_t i = 0; i < 4; ++i) {
    ASSERT_GE(c.commits_[i].size(), 20u) << i;
    for (size_t h = 0; h < c.commits_[i].size(); ++h) {
      EXPECT_EQ(c.commits_[i][h].height, h + 1);
      size_t common = std::min(c.commits_[0].size(), c.commits_[i].size());
      if (h < common) {
        EXPECT_EQ(c.commits_[i][h].Id(), c.commits_[0][h].Id());
      }
    }
  }
}

TEST(ClusterTest, TimeoutsRouteAroundACrashedLeaderAndALaggardCatchesUp) {
  Cluster c(4);
  c.cut = 1;  // leader of rounds 1, 5, 9, ...
  c.Start();
  for (int i = 0; i < 12; ++i) {
    c.Run(300);
    c.FireTimeouts();
  }
  for (ReplicaId r : {0u, 2u, 3u}) {
    EXPECT_GE(c.commits_[r].size(), 3u) << r;
    EXPECT_GT(c.replicas_[r]->round(), 8u);
  }
  EXPECT_TRUE(c.commits_[1].empty());
  // Replica 1 comes back: it fetches the blocks it missed and commits the same chain.
  c.cut = 1000;
  for (int i = 0; i < 6; ++i) {
    c.Run(300);
    c.FireTimeouts();
  }
  ASSERT_GE(c.commits_[1].size(), 3u);
  for (size_t h = 0; h < c.commits_[1].size() && h < c.commits_[0].size(); ++h) {
    EXPECT_EQ(c.commits_[1][h].Id(), c.commits_[0][h].Id()) << h;
  }
}

TEST(ClusterTest, ServesBlockRequestsNewestFirstAboveTheStopHeight) {
  Cluster c(4);
  c.Start();
  c.Run(400);
  const Replica& r0 = *c.replicas_[0];
  Actions out;
  ASSERT_TRUE(c.replicas_[0]->OnBlockRequest(2, BlockRequest{r0.committed().Id(), 5, 1}, out).ok());
  ASSERT_EQ(out.size(), 1u);
  const auto& resp = std::get<BlockResponse>(std::get<SendAction>(out[0]).msg);
  ASSERT_FALSE(resp.blocks.empty());
  EXPECT_LE(resp.blocks.size(), 5u);
  for (size_t i = 1; i < resp.blocks.size(); ++i) {
    EXPECT_EQ(resp.blocks[i].Id(), resp.blocks[i - 1].parent_id);
  }
  EXPECT_GT(resp.blocks.back().height, 1u);
  // An unsolicited block (no verified QC names it) is not taken.
  Actions none;
  EXPECT_EQ(c.replicas_[1]->OnFetchedBlocks(0, resp, none).reason(), "unsolicited");
}

}  // namespace
}  // namespace civitas::consensus
