// Every refusal of the nation's law, each with the reason a citizen reads in the receipt.
#include "nation_fixture.h"

namespace civitas::nation::testing {
namespace {

constexpr const char* kNoDid =
    "the signer controls no DID (sign with the DID's current controller key)";

TEST_F(NationTest, AFailedVotePaysNothing) {
  MakeCitizen(kAlice);
  MakeCitizen(kBob);
  auto r = Do(Person(kAlice), ProposeSpend(Addr(kCarol), 1000, 0, 0, "a gift", kDeposit));
  const int64_t id = ReturnedInt(r);
  ASSERT_TRUE(Ok(Do(Person(kAlice), Vote(id, VoteChoice::kYes, 600))));
  ASSERT_TRUE(Ok(Do(Person(kBob), Vote(id, VoteChoice::kNo, 900))));
  Wait(kVotingPeriod);
  const uint64_t alice = Balance(Addr(kAlice));
  r = Do(Person(kCarol), ExecuteProposal(id));
  ASSERT_TRUE(Ok(r));
  EXPECT_TRUE(HasEvent(r, "governance.rejected"));
  EXPECT_FALSE(HasEvent(r, "treasury.spent"));
  EXPECT_EQ(Balance(Addr(kCarol)), kFunds - r.fee());
  // Quorum was reached, so the deposit goes back.
  EXPECT_EQ(Balance(Addr(kAlice)), alice + kDeposit);
  EXPECT_TRUE(
      Refused(Do(Person(kCarol), ExecuteProposal(id)), "this proposal has already been settled"));
}

TEST_F(NationTest, AProposalWithoutQuorumFailsAndForfeitsItsDeposit) {
  MakeCitizen(kAlice);
  const int64_t id = ReturnedInt(Do(Person(kAlice), ProposeText("more parks", 0, kDeposit)));
  ASSERT_TRUE(Ok(Do(Person(kAlice), Vote(id, VoteChoice::kYes, kQuorum - 1))));
  Wait(kVotingPeriod);
  const uint64_t treasury = Balance(TreasuryAddress());
  auto r = Do(Person(kBob), ExecuteProposal(id));
  ASSERT_TRUE(Ok(r));
  EXPECT_TRUE(HasEvent(r, "governance.rejected"));
  EXPECT_TRUE(HasEvent(r, "governance.deposit_forfeited"));
  EXPECT_EQ(Balance(TreasuryAddress()), treasury + kDeposit + r.fee());
}

TEST_F(NationTest, ANonCitizenCannotVoteOrPropose) {
  MakeCitizen(kAlice);
  const int64_t id = ReturnedInt(Do(Person(kAlice), ProposeText("more parks", 0, kDeposit)));
  // No DID at all.
  EXPECT_TRUE(
      Refused(Do(Person(kDave), Vote(id, VoteChoice::kYes, 100)), "the signer controls no DID"));
  // A DID, but not a citizen (an application pending is not enough).
  ASSERT_TRUE(Ok(Do(Person(kDave), RegisterDid(Person(kDave).public_key()))));
  ASSERT_TRUE(Ok(Do(Person(kDave), ApplyForCitizenship())));
  const uint64_t dave = Balance(Addr(kDave));
  auto r = Do(Person(kDave), Vote(id, VoteChoice::kYes, 100));
  EXPECT_TRUE(Refused(r, "not a citizen"));
  EXPECT_EQ(Balance(Addr(kDave)), dave - r.fee());  // the tokens sent with it came back
  EXPECT_TRUE(Refused(Do(Person(kDave), ProposeText("me too", 0, kDeposit)), "not a citizen"));
  EXPECT_EQ(Balance(GovernanceAddress()), kDeposit);
}

TEST_F(NationTest, ATokenCountsOncePerProposal) {
  MakeCitizen(kAlice);
  MakeCitizen(kBob);
  const int64_t id = ReturnedInt(Do(Person(kAlice), ProposeText("more parks", 0, kDeposit)));
  const uint64_t alice = Balance(Addr(kAlice));
  auto r = Do(Person(kAlice), Vote(id, VoteChoice::kYes, 5000));
  ASSERT_TRUE(Ok(r));
  // The tokens left Alice's account: she cannot hand them to Bob to vote again.
  EXPECT_EQ(Balance(Addr(kAlice)), alice - 5000 - r.fee());
  auto moved = Block({SignTransfer(Person(kAlice), Addr(kBob), alice - 1000)}).at(0);
  EXPECT_EQ(moved.status(), v1::TX_STATUS_FAILED);
  EXPECT_EQ(moved.reason(), "insufficient_funds");
  // She cannot vote twice, nor take them back before the end.
  EXPECT_TRUE(Refused(Do(Person(kAlice), Vote(id, VoteChoice::kYes, 10)),
                      "this citizen has already voted on this proposal"));
  EXPECT_TRUE(Refused(Do(Person(kAlice), WithdrawVote(id)),
                      "tokens stay locked until the voting period ends"));
  // A vote must lock something.
  EXPECT_TRUE(Refused(Do(Person(kBob), Vote(id, VoteChoice::kNo, 0)),
                      "a vote must lock tokens: send them with the call"));
  ASSERT_TRUE(Ok(Do(Person(kBob), Vote(id, VoteChoice::kNo, 3000))));
  const std::string p = "prop/" + std::string("\0\0\0\0\0\0\0\1", 8);
  EXPECT_EQ(*Storage(GovernanceAddress(), p + "/yes"), std::string("\0\0\0\0\0\0\x13\x88", 8));
  EXPECT_EQ(*Storage(GovernanceAddress(), p + "/no"), std::string("\0\0\0\0\0\0\x0b\xb8", 8));
  // After the end the tokens come back, and voting again is closed.
  Wait(kVotingPeriod);
  ASSERT_TRUE(Ok(Do(Person(kAlice), WithdrawVote(id))));
  EXPECT_TRUE(Refused(Do(Person(kAlice), Vote(id, VoteChoice::kYes, 10)),
                      "voting on this proposal has ended"));
}

TEST_F(NationTest, AnExpiredCitizenCannotVoteUntilRenewedInTime) {
  MakeCitizen(kAlice);
  MakeCitizen(kBob);
  // Bob renews in time; Alice lets it lapse.
  Wait(kValidity - 5);
  ASSERT_TRUE(Ok(Do(Person(kBob), RenewCitizenship())));
  Wait(10);
  EXPECT_TRUE(
      Refused(Do(Person(kAlice), ProposeText("x", 0, kDeposit)), "this citizenship has expired"));
  EXPECT_TRUE(
      Refused(Do(Person(kAlice), RenewCitizenship()), "this citizenship has expired; apply again"));
  const int64_t id = ReturnedInt(Do(Person(kBob), ProposeText("renewed", 0, kDeposit)));
  EXPECT_TRUE(
      Refused(Do(Person(kAlice), Vote(id, VoteChoice::kYes, 100)), "this citizenship has expired"));
  // She may apply again and be approved again.
  ASSERT_TRUE(Ok(Do(Person(kAlice), ApplyForCitizenship())));
  ASSERT_TRUE(Ok(Do(council_[0], CouncilDecide(Did(Person(kAlice)), CouncilAction::kApprove))));
  ASSERT_TRUE(Ok(Do(council_[2], CouncilDecide(Did(Person(kAlice)), CouncilAction::kApprove))));
  // She was not on the roll when that vote opened (issue 26); she is on the next one's.
  EXPECT_TRUE(Refused(Do(Person(kAlice), Vote(id, VoteChoice::kYes, 100)),
                      "this citizen was not on the roll when voting opened"));
  const int64_t next = ReturnedInt(Do(Person(kBob), ProposeText("again", 0, kDeposit)));
  EXPECT_TRUE(Ok(Do(Person(kAlice), Vote(next, VoteChoice::kYes, 100))));
}

TEST_F(NationTest, ASuspendedOrRevokedCitizenCannotVote) {
  MakeCitizen(kAlice);
  MakeCitizen(kBob);
  const int64_t id = ReturnedInt(Do(Person(kBob), ProposeText("order", 0, kDeposit)));
  const DidId alice = Did(Person(kAlice));
  ASSERT_TRUE(Ok(Do(council_[1], CouncilDecide(alice, CouncilAction::kSuspend))));
  // One approval of two: still a citizen.
  EXPECT_TRUE(Ok(Do(Person(kAlice), Vote(id, VoteChoice::kNo, 10))));
  auto r = Do(council_[2], CouncilDecide(alice, CouncilAction::kSuspend));
  ASSERT_TRUE(Ok(r));
  EXPECT_TRUE(HasEvent(r, "citizenship.suspended"));
  const int64_t id2 = ReturnedInt(Do(Person(kBob), ProposeText("order 2", 0, kDeposit)));
  EXPECT_TRUE(
      Refused(Do(Person(kAlice), Vote(id2, VoteChoice::kNo, 10)), "this citizenship is suspended"));
  EXPECT_TRUE(
      Refused(Do(Person(kAlice), RenewCitizenship()), "only a citizen in good standing may renew"));
  // Reinstated, she votes on what opens from then on (she was off the roll of id2); revoked,
  // never again.
  ASSERT_TRUE(Ok(Do(council_[0], CouncilDecide(alice, CouncilAction::kReinstate))));
  ASSERT_TRUE(Ok(Do(council_[1], CouncilDecide(alice, CouncilAction::kReinstate))));
  EXPECT_TRUE(Refused(Do(Person(kAlice), Vote(id2, VoteChoice::kNo, 10)),
                      "this citizen was not on the roll when voting opened"));
  const int64_t id2b = ReturnedInt(Do(Person(kBob), ProposeText("order 2b", 0, kDeposit)));
  EXPECT_TRUE(Ok(Do(Person(kAlice), Vote(id2b, VoteChoice::kNo, 10))));
  ASSERT_TRUE(Ok(Do(council_[0], CouncilDecide(alice, CouncilAction::kRevoke))));
  r = Do(council_[1], CouncilDecide(alice, CouncilAction::kRevoke));
  EXPECT_TRUE(HasEvent(r, "citizenship.revoked"));
  const int64_t id3 = ReturnedInt(Do(Person(kBob), ProposeText("order 3", 0, kDeposit)));
  EXPECT_TRUE(
      Refused(Do(Person(kAlice), Vote(id3, VoteChoice::kNo, 10)), "this citizenship was revoked"));
  EXPECT_TRUE(Refused(Do(Person(kAlice), ApplyForCitizenship()), "this citizenship was revoked"));
}

TEST_F(NationTest, ARotatedKeyWorksAndTheOldKeyIsRefused) {
  MakeCitizen(kAlice);
  const crypto::SecretKey fresh = crypto::SecretKey::Generate();
  Block({SignTransfer(Person(kAlice), AddressOfKey(fresh), 10'000'000)});
  auto r = Do(Person(kAlice), Rotation(Person(kAlice), fresh, "key-2"));
  ASSERT_TRUE(Ok(r));
  EXPECT_TRUE(HasEvent(r, "did.key_rotated"));
  // The old key can no longer act for the DID, nor as a citizen.
  EXPECT_TRUE(Refused(
      Do(Person(kAlice), SetDidService("home", "LinkedDomains", "https://a.example")), kNoDid));
  EXPECT_TRUE(
      Refused(Do(Person(kAlice), ProposeText("x", 0, kDeposit)), "the signer controls no DID"));
  // The new key does both: citizenship belongs to the DID, not to a key.
  EXPECT_TRUE(Ok(Do(fresh, SetDidService("home", "LinkedDomains", "https://a.example"))));
  const int64_t id = ReturnedInt(Do(fresh, ProposeText("key rotation works", 0, kDeposit)));
  EXPECT_EQ(id, 1);
  // The old key cannot register a new DID either: its DID exists.
  EXPECT_TRUE(Refused(Do(Person(kAlice), RegisterDid(Person(kAlice).public_key())),
                      "this DID is already registered"));
  // Revoking the controller key is refused; a rotated-away key id is not reused.
  EXPECT_TRUE(Refused(Do(fresh, RevokeDidKey("key-2")),
                      "the controller key cannot be revoked; rotate it instead"));
  EXPECT_TRUE(Refused(Do(fresh, AddDidKey("key-1", Person(kBob).public_key())),
                      "this key id is taken (key ids are never reused)"));
}

TEST_F(NationTest, ADeactivatedDidCannotAct) {
  MakeCitizen(kAlice);
  const int64_t id = ReturnedInt(Do(Person(kAlice), ProposeText("x", 0, kDeposit)));
  auto r = Do(Person(kAlice), DeactivateDid());
  ASSERT_TRUE(Ok(r));
  EXPECT_TRUE(HasEvent(r, "did.deactivated"));
  EXPECT_TRUE(Refused(Do(Person(kAlice), AddDidKey("key-9", Person(kBob).public_key())),
                      "this DID is deactivated"));
  EXPECT_TRUE(Refused(Do(Person(kAlice), DeactivateDid()), "this DID is deactivated"));
  EXPECT_TRUE(
      Refused(Do(Person(kAlice), Vote(id, VoteChoice::kYes, 10)), "this DID is deactivated"));
  EXPECT_TRUE(Refused(Do(Person(kAlice), RenewCitizenship()), "this DID is deactivated"));
}

TEST_F(NationTest, CouncilApprovalBelowMofNIssuesNothing) {
  ASSERT_TRUE(Ok(Do(Person(kAlice), RegisterDid(Person(kAlice).public_key()))));
  const DidId alice = Did(Person(kAlice));
  // No application yet.
  EXPECT_TRUE(Refused(Do(council_[0], CouncilDecide(alice, CouncilAction::kApprove)),
                      "no pending application for this DID"));
  ASSERT_TRUE(Ok(Do(Person(kAlice), ApplyForCitizenship())));
  EXPECT_TRUE(Refused(Do(Person(kBob), CouncilDecide(alice, CouncilAction::kApprove)),
                      "only a council member may decide"));
  auto r = Do(council_[0], CouncilDecide(alice, CouncilAction::kApprove));
  ASSERT_TRUE(Ok(r));
  EXPECT_TRUE(HasEvent(r, "citizenship.approval"));
  EXPECT_FALSE(HasEvent(r, "citizenship.issued"));
  // The same member twice still counts once.
  EXPECT_TRUE(Refused(Do(council_[0], CouncilDecide(alice, CouncilAction::kApprove)),
                      "this council member has already approved"));
  EXPECT_TRUE(Refused(Do(Person(kAlice), ProposeText("x", 0, kDeposit)), "not a citizen"));
  const std::string status = "c/" + std::string(AsStringView(alice)) + "/status";
  EXPECT_EQ(*Storage(CitizenshipAddress(), status), std::string("\0\0\0\0\0\0\0\1", 8));
  EXPECT_TRUE(Refused(Do(council_[0], CouncilDecide(alice, static_cast<CouncilAction>(7))),
                      "unknown council action (1 approve, 2 suspend, 3 reinstate, 4 revoke)"));
}

// Issue 22: a passed decision that cannot be carried out used to revert its execution, so the
// proposal stayed "voting" for ever with its deposit locked. It now ends as failed, with the
// reason, and the deposit returns (quorum was reached).
TEST_F(NationTest, ASpendLargerThanTheTreasuryFailsCleanly) {
  MakeCitizen(kAlice);
  const uint64_t too_much = Balance(TreasuryAddress()) * 2;
  const int64_t id =
      ReturnedInt(Do(Person(kAlice), ProposeSpend(Addr(kCarol), too_much, 0, 0, "", kDeposit)));
  ASSERT_TRUE(Ok(Do(Person(kAlice), Vote(id, VoteChoice::kYes, 2000))));
  Wait(kVotingPeriod);
  const uint64_t treasury = Balance(TreasuryAddress());
  const uint64_t alice = Balance(Addr(kAlice));
  auto r = Do(Person(kBob), ExecuteProposal(id));
  ASSERT_TRUE(Ok(r));
  EXPECT_TRUE(HasEvent(r, "governance.passed"));
  EXPECT_TRUE(HasEvent(r, "governance.failed"));
  EXPECT_TRUE(HasEvent(r, "governance.deposit_returned"));
  EXPECT_FALSE(HasEvent(r, "treasury.spent"));
  EXPECT_FALSE(HasEvent(r, "governance.executed"));
  const Proposal p = ProposalNow(id);
  EXPECT_EQ(p.status, ProposalStatus::kFailed);
  EXPECT_EQ(ProposalStatusName(p.status), "failed");
  EXPECT_EQ(p.failure, "the treasury holds less than the spend");
  EXPECT_EQ(Balance(Addr(kCarol)), kFunds);
  EXPECT_EQ(Balance(TreasuryAddress()), treasury + r.fee());
  EXPECT_EQ(Balance(Addr(kAlice)), alice + kDeposit);
  // Settled for good; voters still get their tokens back.
  EXPECT_TRUE(
      Refused(Do(Person(kBob), ExecuteProposal(id)), "this proposal has already been settled"));
  EXPECT_TRUE(Ok(Do(Person(kAlice), WithdrawVote(id))));
}

TEST_F(NationTest, OnlyGovernanceMovesTheTreasury) {
  const Address alice = Addr(kAlice);
  vm::Bytes args = vm::EncodeValues(
      std::vector<vm::Value>{vm::Value::FromBytes(vm::Bytes(alice.begin(), alice.end())),
                             vm::Value::Int(1000), vm::Value::Int(0)});
  ContractCall steal{TreasuryAddress(), "spend", std::string(args.begin(), args.end()), 0};
  const uint64_t treasury = Balance(TreasuryAddress());
  auto r = Do(council_[0], steal);
  EXPECT_TRUE(Refused(r, "only an executed governance decision moves the treasury's funds"));
  EXPECT_EQ(Balance(TreasuryAddress()), treasury + r.fee());
  // Nor does anyone but governance change the council or the parameters.
  vm::Bytes council_args = vm::EncodeValues(std::vector<vm::Value>{
      vm::Value::FromBytes(vm::Bytes(alice.begin(), alice.end())), vm::Value::Int(1)});
  ContractCall join{CitizenshipAddress(), "set_council",
                    std::string(council_args.begin(), council_args.end()), 0};
  EXPECT_TRUE(Refused(Do(council_[0], join), "only an executed governance decision may do this"));
}

TEST_F(NationTest, RegistrationNeedsTheKeyItself) {
  // Bob cannot register Alice's key: the signer must hold it.
  EXPECT_TRUE(Refused(Do(Person(kBob), RegisterDid(Person(kAlice).public_key())),
                      "the transaction must be signed by the key being registered"));
  ASSERT_TRUE(Ok(Do(Person(kAlice), RegisterDid(Person(kAlice).public_key()))));
  EXPECT_TRUE(Refused(Do(Person(kAlice), RegisterDid(Person(kAlice).public_key())),
                      "this key already controls a DID"));
  EXPECT_TRUE(Refused(Do(Person(kAlice), AddDidKey("bad id!", Person(kBob).public_key())),
                      "an id fragment uses only A-Z a-z 0-9 . _ -"));
}

}  // namespace
}  // namespace civitas::nation::testing
