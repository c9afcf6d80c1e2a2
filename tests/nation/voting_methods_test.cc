// Issue 26: voting methods per proposal kind (token, citizen, quadratic), the voter as the
// citizen (DID), the roll fixed when voting opens, votes of citizens who lost their standing
// dropped when counted, counting in bounded batches, and a proposer withdrawing a proposal.
#include <iostream>

#include "nation_fixture.h"

namespace civitas::nation::testing {
namespace {

// Resolutions vote one citizen one vote (quorum 2 citizens); spends vote quadratically
// (quorum 100); the other kinds by token.
void CitizenTextQuadraticSpend(Genesis& g) {
  g.nation.rules["text"] = {"citizen", 2, 50};
  g.nation.rules["spend"] = {"quadratic", 100, 50};
}

class VotingMethodsTest : public NationTest {
 protected:
  VotingMethodsTest() : NationTest(0, CitizenTextQuadraticSpend) {}

  // The data of the one event `topic` of `r` ("" when there is none).
  static std::string EventData(const v1::Receipt& r, const std::string& topic) {
    for (const auto& e : r.events()) {
      if (e.topic() == topic) return e.data();
    }
    return "";
  }
};

TEST_F(VotingMethodsTest, EachKindHasItsRulesFixedWhenItOpens) {
  MakeCitizen(kAlice);
  const int64_t text = ReturnedInt(Do(Person(kAlice), ProposeText("more parks", 0, kDeposit)));
  const int64_t spend =
      ReturnedInt(Do(Person(kAlice), ProposeSpend(Addr(kCarol), 10, 0, 0, "a bench", kDeposit)));
  const int64_t param =
      ReturnedInt(Do(Person(kAlice), ProposeParam(GovernanceAddress(), "deposit", 600, kDeposit)));
  EXPECT_EQ(ProposalNow(text).method, VotingMethod::kCitizen);
  EXPECT_EQ(ProposalNow(text).quorum, 2u);
  EXPECT_EQ(ProposalNow(spend).method, VotingMethod::kQuadratic);
  EXPECT_EQ(ProposalNow(spend).quorum, 100u);
  EXPECT_EQ(ProposalNow(param).method, VotingMethod::kToken);
  EXPECT_EQ(ProposalNow(param).quorum, kQuorum);
  EXPECT_EQ(ProposalNow(param).threshold, 50u);
  EXPECT_EQ(ProposalNow(param).opened, height_);
}

// A citizen with no tokens to lock votes and wins; the whale loses, one citizen one vote.
TEST_F(VotingMethodsTest, UnderTheCitizenMethodTheWhaleLosesToTwoCitizens) {
  MakeCitizen(kAlice);
  MakeCitizen(kBob);
  MakeCitizen(kDave);
  const int64_t id = ReturnedInt(Do(Person(kAlice), ProposeText("a wall", 0, kDeposit)));
  // Tokens sent with a citizen vote are refused, and come back.
  EXPECT_TRUE(Refused(Do(Person(kAlice), Vote(id, VoteChoice::kYes, 1'000'000)),
                      "a vote under the citizen method locks no tokens: send none"));
  ASSERT_TRUE(Ok(Do(Person(kAlice), Vote(id, VoteChoice::kYes, 0))));
  const uint64_t dave = Balance(Addr(kDave));
  auto dave_vote = Do(Person(kDave), Vote(id, VoteChoice::kNo, 0));
  ASSERT_TRUE(Ok(dave_vote));
  EXPECT_EQ(Balance(Addr(kDave)), dave - dave_vote.fee());  // nothing locked, only the fee
  // The event names the citizen (16-byte DID id) and the choice, and carries no amount.
  const std::string voted = EventData(dave_vote, "governance.voted");
  ASSERT_EQ(voted.size(), 8u + 16u + 8u);
  EXPECT_EQ(voted.substr(8, 16), std::string(AsStringView(Did(Person(kDave)))));
  ASSERT_TRUE(Ok(Do(Person(kBob), Vote(id, VoteChoice::kNo, 0))));
  EXPECT_EQ(ProposalNow(id).yes, 1u);
  EXPECT_EQ(ProposalNow(id).no, 2u);
  Wait(kVotingPeriod);
  auto r = Do(Person(kDave), ExecuteProposal(id));
  ASSERT_TRUE(Ok(r));
  EXPECT_TRUE(HasEvent(r, "governance.rejected"));
  EXPECT_EQ(ProposalNow(id).status, ProposalStatus::kRejected);
  // Under token voting Alice's million tokens would have carried it.
}

// Weight = floor(sqrt(tokens locked)): 10,000 tokens weigh 100, three times 2,500 weigh 150.
TEST_F(VotingMethodsTest, UnderTheQuadraticMethodTheWhaleLosesToThreeSmallerHolders) {
  for (int p : {kAlice, kBob, kCarol, kDave}) MakeCitizen(p);
  const int64_t id = ReturnedInt(
      Do(Person(kAlice), ProposeSpend(Addr(kAlice), 5000, 0, 0, "to the whale", kDeposit)));
  ASSERT_TRUE(Ok(Do(Person(kAlice), Vote(id, VoteChoice::kYes, 10'000))));
  for (int p : {kBob, kCarol, kDave}) {
    ASSERT_TRUE(Ok(Do(Person(p), Vote(id, VoteChoice::kNo, 2'500))));
  }
  // Not a perfect square: floor(sqrt(99)) = 9.
  EXPECT_EQ(ProposalNow(id).yes, 100u);
  EXPECT_EQ(ProposalNow(id).no, 150u);
  EXPECT_EQ(ProposalNow(id).locked, 17'500u);
  Wait(kVotingPeriod);
  auto r = Do(Person(kBob), ExecuteProposal(id));
  ASSERT_TRUE(Ok(r));
  EXPECT_TRUE(HasEvent(r, "governance.rejected"));
  // The locked tokens come back whole, not their square roots.
  const uint64_t bob = Balance(Addr(kBob));
  auto w = Do(Person(kBob), WithdrawVote(id));
  ASSERT_TRUE(Ok(w));
  EXPECT_EQ(Balance(Addr(kBob)), bob + 2'500 - w.fee());
}

TEST_F(VotingMethodsTest, QuadraticWeightIsTheFloorOfTheSquareRoot) {
  for (int p : {kAlice, kBob, kCarol}) MakeCitizen(p);
  const int64_t id =
      ReturnedInt(Do(Person(kAlice), ProposeSpend(Addr(kCarol), 10, 0, 0, "a bench", kDeposit)));
  ASSERT_TRUE(Ok(Do(Person(kAlice), Vote(id, VoteChoice::kYes, 99))));     // 9
  ASSERT_TRUE(Ok(Do(Person(kBob), Vote(id, VoteChoice::kNo, 1))));         // 1
  ASSERT_TRUE(Ok(Do(Person(kCarol), Vote(id, VoteChoice::kAbstain, 2))));  // 1
  EXPECT_EQ(ProposalNow(id).yes, 9u);
  EXPECT_EQ(ProposalNow(id).no, 1u);
  EXPECT_EQ(ProposalNow(id).abstain, 1u);
}

TEST_F(VotingMethodsTest, ANonCitizenCannotVoteEvenWithoutTokens) {
  MakeCitizen(kAlice);
  const int64_t id = ReturnedInt(Do(Person(kAlice), ProposeText("a wall", 0, kDeposit)));
  ASSERT_TRUE(Ok(Do(Person(kCarol), RegisterDid(Person(kCarol).public_key()))));
  EXPECT_TRUE(Refused(Do(Person(kCarol), Vote(id, VoteChoice::kYes, 0)), "not a citizen"));
  EXPECT_EQ(ProposalNow(id).voters, 0u);
}

// The voter is the DID: after rotating its key, the citizen cannot vote a second time.
TEST_F(VotingMethodsTest, AKeyRotationNeverGivesASecondVote) {
  MakeCitizen(kAlice);
  MakeCitizen(kBob);
  const int64_t id = ReturnedInt(Do(Person(kAlice), ProposeText("a wall", 0, kDeposit)));
  ASSERT_TRUE(Ok(Do(Person(kBob), Vote(id, VoteChoice::kYes, 0))));
  const auto fresh = crypto::SecretKey::Generate();
  ASSERT_TRUE(Ok(Block({SignTransfer(Person(kBob), AddressOfKey(fresh), 10'000'000)}).at(0)));
  ASSERT_TRUE(Ok(Do(Person(kBob), Rotation(Person(kBob), fresh, "key-2"))));
  EXPECT_TRUE(Refused(Do(fresh, Vote(id, VoteChoice::kNo, 0)),
                      "this citizen has already voted on this proposal"));
  EXPECT_EQ(ProposalNow(id).voters, 1u);
  EXPECT_EQ(ProposalNow(id).yes, 1u);
}

// The roll: a citizen made after the proposal opened does not vote on it.
TEST_F(VotingMethodsTest, TheRollIsFixedWhenVotingOpens) {
  MakeCitizen(kAlice);
  const int64_t id = ReturnedInt(Do(Person(kAlice), ProposeText("a wall", 0, kDeposit)));
  MakeCitizen(kBob);
  EXPECT_TRUE(Refused(Do(Person(kBob), Vote(id, VoteChoice::kYes, 0)),
                      "this citizen was not on the roll when voting opened"));
  // On the next proposal Bob is on the roll.
  const int64_t next = ReturnedInt(Do(Person(kAlice), ProposeText("a gate", 0, kDeposit)));
  EXPECT_TRUE(Ok(Do(Person(kBob), Vote(next, VoteChoice::kYes, 0))));
}

// A vote whose citizen is revoked (or suspended) before the count is dropped from the tally.
TEST_F(VotingMethodsTest, ARevokedCitizensVoteIsDroppedWhenCounted) {
  for (int p : {kAlice, kBob, kDave}) MakeCitizen(p);
  const int64_t id = ReturnedInt(Do(Person(kAlice), ProposeText("a wall", 0, kDeposit)));
  ASSERT_TRUE(Ok(Do(Person(kAlice), Vote(id, VoteChoice::kNo, 0))));
  ASSERT_TRUE(Ok(Do(Person(kBob), Vote(id, VoteChoice::kYes, 0))));
  ASSERT_TRUE(Ok(Do(Person(kDave), Vote(id, VoteChoice::kYes, 0))));
  EXPECT_EQ(ProposalNow(id).yes, 2u);
  for (int m : {0, 1}) {
    ASSERT_TRUE(Ok(Do(council_[m], CouncilDecide(Did(Person(kBob)), CouncilAction::kRevoke))));
  }
  ASSERT_TRUE(Ok(Do(council_[0], CouncilDecide(Did(Person(kDave)), CouncilAction::kSuspend))));
  ASSERT_TRUE(Ok(Do(council_[1], CouncilDecide(Did(Person(kDave)), CouncilAction::kSuspend))));
  Wait(kVotingPeriod);
  auto r = Do(Person(kAlice), ExecuteProposal(id));
  ASSERT_TRUE(Ok(r));
  int dropped = 0;
  for (const auto& e : r.events()) dropped += e.topic() == "governance.vote_dropped";
  EXPECT_EQ(dropped, 2);
  const Proposal p = ProposalNow(id);
  EXPECT_EQ(p.yes, 0u);
  EXPECT_EQ(p.no, 1u);
  EXPECT_EQ(p.dropped, 2u);
  EXPECT_EQ(p.counted, 3u);
  // One vote left, below the quorum of two citizens.
  EXPECT_TRUE(HasEvent(r, "governance.rejected"));
}

// Counting takes at most 50 votes per execute: the gas of one call is bounded whatever the
// turnout, and a large turnout is counted over several calls.
// The voters' keys, made before the nation's genesis funds them (a base initialised first).
struct SixtyVoters {
  std::vector<crypto::SecretKey> voters_ = [] {
    std::vector<crypto::SecretKey> keys;
    for (int i = 0; i < 60; ++i) keys.push_back(crypto::SecretKey::Generate());
    return keys;
  }();
};

class CountingTest : protected SixtyVoters, public NationTest {
 protected:
  static constexpr uint64_t kLongPeriod = 100;
  CountingTest()
      : NationTest(0, [this](Genesis& g) {
          g.nation.rules["text"] = {"citizen", 1, 50};
          g.nation.voting_period_s = kLongPeriod;  // the votes take a dozen blocks
          for (const auto& k : voters_) g.accounts.push_back({AddressOf(k.public_key()), kFunds});
        }) {}

  void MakeVoter(const crypto::SecretKey& k) {
    ASSERT_TRUE(Ok(Do(k, RegisterDid(k.public_key()))));
    ASSERT_TRUE(Ok(Do(k, ApplyForCitizenship())));
    ASSERT_TRUE(Ok(Do(council_[0], CouncilDecide(Did(k), CouncilAction::kApprove))));
    ASSERT_TRUE(Ok(Do(council_[1], CouncilDecide(Did(k), CouncilAction::kApprove))));
  }
};

TEST_F(CountingTest, ALargeTurnoutIsCountedInBoundedBatches) {
  MakeCitizen(kAlice);
  for (const auto& k : voters_) ASSERT_NO_FATAL_FAILURE(MakeVoter(k));
  const int64_t id = ReturnedInt(Do(Person(kAlice), ProposeText("a wall", 0, kDeposit)));
  for (size_t i = 0; i < voters_.size(); i += 5) {  // blocks within the block gas limit
    std::vector<DecodedTx> votes;
    for (size_t j = i; j < i + 5; ++j)
      votes.push_back(Sign(voters_[j], Vote(id, VoteChoice::kYes, 0)));
    for (const auto& r : Block(votes)) ASSERT_TRUE(Ok(r));
  }
  // Two voters lose their citizenship before the count.
  for (int v : {3, 55}) {
    for (int m : {0, 1}) {
      ASSERT_TRUE(Ok(Do(council_[m], CouncilDecide(Did(voters_[v]), CouncilAction::kRevoke))));
    }
  }
  Wait(kLongPeriod);
  auto first = Do(Person(kAlice), ExecuteProposal(id));
  ASSERT_TRUE(Ok(first));
  EXPECT_FALSE(HasEvent(first, "governance.passed"));
  EXPECT_EQ(ProposalNow(id).counted, 50u);
  EXPECT_EQ(ProposalNow(id).status, ProposalStatus::kVoting);
  // The bound documented in docs/NATION.md ("The voter, the roll and the count"): one call
  // counts at most 50 votes, under 2,000,000 gas even were every one of them dropped.
  EXPECT_LT(first.gas_used(), 2'000'000u) << "gas of counting 50 votes: " << first.gas_used();
  auto second = Do(Person(kAlice), ExecuteProposal(id));
  ASSERT_TRUE(Ok(second));
  EXPECT_TRUE(HasEvent(second, "governance.passed"));
  const Proposal p = ProposalNow(id);
  EXPECT_EQ(p.counted, 60u);
  EXPECT_EQ(p.dropped, 2u);
  EXPECT_EQ(p.yes, 58u);
  std::cout << "counting gas: first call (50 votes, 1 dropped) " << first.gas_used()
            << ", second call (10 votes, 1 dropped, tally, execution) " << second.gas_used()
            << "\n";
}

TEST_F(VotingMethodsTest, AProposerWithdrawsAProposalAndGetsTheDepositBack) {
  MakeCitizen(kAlice);
  MakeCitizen(kBob);
  // A token-voted kind: Bob's locked tokens come back at once.
  const int64_t id =
      ReturnedInt(Do(Person(kAlice), ProposeParam(GovernanceAddress(), "deposit", 600, kDeposit)));
  ASSERT_TRUE(Ok(Do(Person(kBob), Vote(id, VoteChoice::kYes, 5000))));
  EXPECT_TRUE(
      Refused(Do(Person(kBob), CancelProposal(id)), "only the proposer may withdraw a proposal"));
  const uint64_t alice = Balance(Addr(kAlice));
  auto r = Do(Person(kAlice), CancelProposal(id));
  ASSERT_TRUE(Ok(r));
  EXPECT_TRUE(HasEvent(r, "governance.cancelled"));
  EXPECT_TRUE(HasEvent(r, "governance.deposit_returned"));
  EXPECT_EQ(Balance(Addr(kAlice)), alice + kDeposit - r.fee());
  EXPECT_EQ(ProposalNow(id).status, ProposalStatus::kWithdrawn);
  EXPECT_TRUE(Refused(Do(Person(kAlice), Vote(id, VoteChoice::kYes, 100)),
                      "voting on this proposal has ended"));
  EXPECT_TRUE(
      Refused(Do(Person(kAlice), ExecuteProposal(id)), "this proposal has already been settled"));
  // Voting has not ended, yet the tokens on a withdrawn proposal are free.
  const uint64_t bob = Balance(Addr(kBob));
  auto w = Do(Person(kBob), WithdrawVote(id));
  ASSERT_TRUE(Ok(w));
  EXPECT_EQ(Balance(Addr(kBob)), bob + 5000 - w.fee());
  EXPECT_TRUE(Refused(Do(Person(kAlice), CancelProposal(id)),
                      "a proposal can be withdrawn only while voting is open"));
}

TEST_F(VotingMethodsTest, AProposalCannotBeWithdrawnAfterVotingEnds) {
  MakeCitizen(kAlice);
  const int64_t id = ReturnedInt(Do(Person(kAlice), ProposeText("a wall", 0, kDeposit)));
  Wait(kVotingPeriod);
  EXPECT_TRUE(Refused(Do(Person(kAlice), CancelProposal(id)),
                      "a proposal can be withdrawn only while voting is open"));
}

// Switching a kind's method is a parameter decision; its quorum is brought to what the deciding
// vote showed reachable in the new unit.
TEST_F(VotingMethodsTest, AKindsMethodChangesByDecision) {
  for (int p : {kAlice, kBob, kCarol}) MakeCitizen(p);
  EXPECT_TRUE(
      Refused(Do(Person(kAlice), ProposeParam(GovernanceAddress(), "council.method", 4, kDeposit)),
              "a voting method is 1 (token), 2 (citizen) or 3 (quadratic)"));
  EXPECT_TRUE(Refused(
      Do(Person(kAlice), ProposeParam(GovernanceAddress(), "council.quorum", 999, kDeposit)),
      "the quorum is 1000 to 90000000000000000 tokens"));
  const int64_t id = ReturnedInt(
      Do(Person(kAlice), ProposeParam(GovernanceAddress(), "council.method", 2, kDeposit)));
  for (int p : {kAlice, kBob, kCarol}) {
    ASSERT_TRUE(Ok(Do(Person(p), Vote(id, VoteChoice::kYes, 1000))));
  }
  Wait(kVotingPeriod);
  auto r = Do(Person(kBob), ExecuteProposal(id));
  ASSERT_TRUE(Ok(r));
  EXPECT_TRUE(HasEvent(r, "governance.executed"));
  EXPECT_EQ(**ReadParam(state_, GovernanceAddress(), "council.method"), 2);
  // 1,000 tokens of quorum became at most the 3 citizens who decided it.
  EXPECT_EQ(**ReadParam(state_, GovernanceAddress(), "council.quorum"), 3);
}

}  // namespace
}  // namespace civitas::nation::testing
