// Decisions that change the nation: parameters, the council, the law's own code; and time in the
// law: sunsets and timelocks.
#include <fstream>
#include <sstream>

#include "ledger/epoch.h"
#include "nation_fixture.h"
#include "tools/asm/assembler.h"

namespace civitas::nation::testing {
namespace {

constexpr uint64_t kWeight = kQuorum;  // enough to pass alone

class AmendmentTest : public NationTest {
 protected:
  // Alice (a citizen) proposes; she votes yes with the quorum; the period ends; Bob executes.
  v1::Receipt Decide(const ContractCall& proposal) {
    auto r = Do(Person(kAlice), proposal);
    EXPECT_TRUE(Ok(r));
    last_id_ = ReturnedInt(r);
    EXPECT_TRUE(Ok(Do(Person(kAlice), Vote(last_id_, VoteChoice::kYes, kWeight))));
    Wait(kVotingPeriod);
    return Do(Person(kBob), ExecuteProposal(last_id_));
  }
  int64_t Ask(const Address& contract, const std::string& function,
              const std::vector<vm::Value>& args) {
    vm::Bytes a = vm::EncodeValues(args);
    auto r = Do(Person(kDave), {contract, function, std::string(a.begin(), a.end()), 0});
    auto v = vm::DecodeValues(vm::ByteView(reinterpret_cast<const uint8_t*>(r.return_data().data()),
                                           r.return_data().size()));
    EXPECT_TRUE(Ok(r));
    EXPECT_TRUE(v.ok() && !v->empty() && (*v)[0].is_int());
    return v.ok() && !v->empty() ? (*v)[0].as_int() : -1;  // the first result
  }
  void SetUp() override { MakeCitizen(kAlice); }
  int64_t last_id_ = 0;
};

TEST_F(AmendmentTest, ParameterChangeOfGovernanceItself) {
  auto r = Decide(ProposeParam(GovernanceAddress(), "voting_period", 30, kDeposit));
  ASSERT_TRUE(Ok(r));
  EXPECT_TRUE(HasEvent(r, "governance.param"));
  EXPECT_EQ(Ask(GovernanceAddress(), "param", {vm::Value::FromString("voting_period")}), 30);
  // A proposal opened now stays open for 30 blocks.
  const int64_t id = ReturnedInt(Do(Person(kAlice), ProposeText("slow down", 0, kDeposit)));
  ASSERT_TRUE(Ok(Do(Person(kAlice), Vote(id, VoteChoice::kYes, kWeight))));
  Wait(kVotingPeriod + 5);
  EXPECT_TRUE(
      Refused(Do(Person(kBob), ExecuteProposal(id)), "voting on this proposal is still open"));
  Wait(30);
  EXPECT_TRUE(Ok(Do(Person(kBob), ExecuteProposal(id))));
}

TEST_F(AmendmentTest, ParameterChangeOfCitizenship) {
  ASSERT_TRUE(Ok(Decide(ProposeParam(CitizenshipAddress(), "approvals", 3, kDeposit))));
  // Now two approvals are not enough; the third issues.
  ASSERT_TRUE(Ok(Do(Person(kCarol), RegisterDid(Person(kCarol).public_key()))));
  ASSERT_TRUE(Ok(Do(Person(kCarol), ApplyForCitizenship())));
  const DidId carol = Did(Person(kCarol));
  EXPECT_FALSE(HasEvent(Do(council_[0], CouncilDecide(carol, CouncilAction::kApprove)),
                        "citizenship.issued"));
  EXPECT_FALSE(HasEvent(Do(council_[1], CouncilDecide(carol, CouncilAction::kApprove)),
                        "citizenship.issued"));
  EXPECT_TRUE(HasEvent(Do(council_[2], CouncilDecide(carol, CouncilAction::kApprove)),
                       "citizenship.issued"));
}

TEST_F(AmendmentTest, ParameterChangesAreChecked) {
  EXPECT_TRUE(Refused(Do(Person(kAlice), ProposeParam(CitizenshipAddress(), "colour", 1, kDeposit)),
                      "that contract has no such parameter"));
  EXPECT_TRUE(Refused(Do(Person(kAlice), ProposeParam(GovernanceAddress(), "colour", 1, kDeposit)),
                      "no such governance parameter"));
  // Values out of their bounds are refused when proposed (docs/NATION.md, "Parameter bounds").
  EXPECT_TRUE(
      Refused(Do(Person(kAlice), ProposeParam(CitizenshipAddress(), "approvals", 4, kDeposit)),
              "approvals must be between 1 and the size of the council"));
  EXPECT_TRUE(Refused(
      Do(Person(kAlice), ProposeParam(GovernanceAddress(), "text.threshold", 100, kDeposit)),
      "the threshold is a percentage from 50 to 99"));
}

TEST_F(AmendmentTest, CouncilChange) {
  ASSERT_TRUE(Ok(Do(Person(kCarol), RegisterDid(Person(kCarol).public_key()))));
  ASSERT_TRUE(Ok(Do(Person(kCarol), ApplyForCitizenship())));
  const DidId carol = Did(Person(kCarol));
  EXPECT_TRUE(Refused(Do(Person(kDave), CouncilDecide(carol, CouncilAction::kApprove)),
                      "only a council member may decide"));
  // A joining member is named by its validator key, not its address.
  EXPECT_TRUE(
      Refused(Do(Person(kAlice), ProposeCouncilChange(AsStringView(Addr(kDave)), true, kDeposit)),
              "a joining member is named by its 32-byte validator key, a leaving one by "
              "its address or key"));
  const crypto::PublicKey dave_key = Person(kDave).public_key();
  auto r = Decide(ProposeCouncilChange(AsStringView(dave_key), true, kDeposit));
  ASSERT_TRUE(Ok(r));
  EXPECT_TRUE(HasEvent(r, "citizenship.council_added"));
  // The council records Dave's address and his validator key, which joins the validator set.
  EXPECT_EQ(*Storage(CitizenshipAddress(), "key/" + std::string(AsStringView(Addr(kDave)))),
            std::string(AsStringView(dave_key)));
  auto keys = ReadCouncilKeys(state_);
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->size(), 4u);
  EXPECT_EQ(keys->back(), dave_key);
  ASSERT_TRUE(Ok(Do(Person(kDave), CouncilDecide(carol, CouncilAction::kApprove))));
  // And a member leaves.
  r = Decide(ProposeCouncilChange(AsStringView(AddressOfKey(council_[0])), false, kDeposit));
  ASSERT_TRUE(Ok(r));
  EXPECT_TRUE(HasEvent(r, "citizenship.council_removed"));
  EXPECT_TRUE(Refused(Do(council_[0], CouncilDecide(carol, CouncilAction::kApprove)),
                      "only a council member may decide"));
  EXPECT_TRUE(HasEvent(Do(council_[2], CouncilDecide(carol, CouncilAction::kApprove)),
                       "citizenship.issued"));
  EXPECT_EQ(*Storage(CitizenshipAddress(), "council/n"), std::string("\0\0\0\0\0\0\0\3", 8));
  // The council never shrinks below the approvals it needs (2 of 3 -> 2 of 2 -> refused).
  // A member may also be named by its key when it leaves; its key leaves the record with it.
  ASSERT_TRUE(
      Ok(Decide(ProposeCouncilChange(AsStringView(council_[1].public_key()), false, kDeposit))));
  EXPECT_FALSE(
      Storage(CitizenshipAddress(), "key/" + std::string(AsStringView(AddressOfKey(council_[1]))))
          .has_value());
  keys = ReadCouncilKeys(state_);
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(*keys, (std::vector<crypto::PublicKey>{dave_key, council_[2].public_key()}));
  EXPECT_TRUE(
      Refused(Do(Person(kAlice),
                 ProposeCouncilChange(AsStringView(AddressOfKey(council_[2])), false, kDeposit)),
              "the council cannot be smaller than the approvals it needs"));
}

std::string UpgradedTreasury() {
  std::ifstream in(std::string(CIVITAS_SOURCE_DIR) + "/genesis/contracts/treasury.casm");
  std::stringstream ss;
  ss << in.rdbuf();
  auto code = casm::Assemble(ss.str() + "\nexport func version() -> 1\n  push 2\n  ret\nend\n");
  EXPECT_TRUE(code.ok()) << code.ToString();
  return code.ok() ? std::string(code->begin(), code->end()) : std::string();
}

TEST_F(AmendmentTest, ContractUpgradeKeepsStorageAndBalance) {
  // A spend first, so the treasury has storage to keep.
  ASSERT_TRUE(Ok(Decide(ProposeSpend(Addr(kCarol), 123, 0, 0, "", kDeposit))));
  v1::TxBody body;
  body.set_chain_id(genesis_.chain_id);
  body.set_nonce(nonces_[Addr(kBob)]++);
  body.set_gas_limit(3'000'000);
  const std::string code = UpgradedTreasury();
  body.mutable_deploy()->set_code(code);
  auto deployed =
      Block({*DecodeAndCheckTx(SignTx(Person(kBob), body), genesis_.chain_id, genesis_.params)})
          .at(0);
  ASSERT_TRUE(Ok(deployed));
  const Address source = *AddressFromBytes(deployed.contract_address());
  // Before the amendment the treasury has no `version`.
  EXPECT_EQ(Do(Person(kDave), {TreasuryAddress(), "version", std::string(1, '\0'), 0}).reason(),
            "bad_call: no_such_function");

  const uint64_t balance = Balance(TreasuryAddress());
  auto r = Decide(ProposeUpgrade(TreasuryAddress(), source, kDeposit));
  ASSERT_TRUE(Ok(r));
  EXPECT_EQ(**state_.Get(CodeHashKey(TreasuryAddress())),
            std::string(AsStringView(crypto::Sha256(code))));
  EXPECT_EQ(Ask(TreasuryAddress(), "version", {}), 2);
  EXPECT_EQ(Ask(TreasuryAddress(), "spent", {}), 123);
  EXPECT_GE(Balance(TreasuryAddress()), balance);
}

TEST_F(AmendmentTest, UpgradeFromNowhereIsRefusedAndOnlyGovernanceUpgrades) {
  Address nowhere{};
  nowhere.fill(0x77);
  auto r = Decide(ProposeUpgrade(TreasuryAddress(), nowhere, kDeposit));
  ASSERT_TRUE(Ok(r));
  EXPECT_TRUE(HasEvent(r, "governance.failed"));
  EXPECT_EQ(ProposalNow(last_id_).status, ProposalStatus::kFailed);
  EXPECT_EQ(ProposalNow(last_id_).failure,
            "the upgrade was refused: no contract code at the target or the source");
  // A contract other than governance gets ok = 0 from setcode.
  auto code =
      casm::Assemble("export func up(t, s) -> 1\n  get t\n  get s\n  setcode\n  ret\nend\n");
  ASSERT_TRUE(code.ok());
  v1::TxBody body;
  body.set_chain_id(genesis_.chain_id);
  body.set_nonce(nonces_[Addr(kBob)]++);
  body.set_gas_limit(3'000'000);
  body.mutable_deploy()->set_code(std::string(code->begin(), code->end()));
  auto deployed =
      Block({*DecodeAndCheckTx(SignTx(Person(kBob), body), genesis_.chain_id, genesis_.params)})
          .at(0);
  ASSERT_TRUE(Ok(deployed));
  const Address rogue = *AddressFromBytes(deployed.contract_address());
  auto tb = TreasuryAddress();
  EXPECT_EQ(Ask(rogue, "up",
                {vm::Value::FromBytes(vm::Bytes(tb.begin(), tb.end())),
                 vm::Value::FromBytes(vm::Bytes(rogue.begin(), rogue.end()))}),
            0);
  EXPECT_EQ(**state_.Get(CodeHashKey(TreasuryAddress())),
            std::string(AsStringView(genesis_.system_contracts[3].code_hash)));
}

TEST_F(AmendmentTest, ALawLapsesAtItsSunset) {
  const uint64_t sunset = height_ + kVotingPeriod + 20;
  ASSERT_TRUE(Ok(Decide(ProposeText("a curfew for the summer", sunset, kDeposit))));
  const vm::Value id = vm::Value::Int(last_id_);
  EXPECT_EQ(Ask(GovernanceAddress(), "in_force", {id}), 1);
  Wait(20);
  EXPECT_EQ(Ask(GovernanceAddress(), "in_force", {id}), 0);
  EXPECT_TRUE(Refused(Do(Person(kAlice), ProposeText("too late", height_, kDeposit)),
                      "a sunset height must be in the future (or 0 for none)"));
}

TEST_F(AmendmentTest, ARecurringSpendPaysEachIntervalUntilItsSunset) {
  const uint64_t p = height_ + 1;  // the proposal's height
  EXPECT_TRUE(Refused(Do(Person(kAlice), ProposeSpend(Addr(kCarol), 100, 5, 0, "", kDeposit)),
                      "a recurring spend needs a sunset height"));
  ASSERT_TRUE(Ok(Decide(ProposeSpend(Addr(kCarol), 100, 5, p + 31, "a stipend", kDeposit))));
  const int64_t id = last_id_;
  EXPECT_EQ(Balance(Addr(kCarol)), kFunds + 100);  // the first payment
  EXPECT_TRUE(Refused(Do(Person(kDave), PayRecurringSpend(id)), "no payment is due yet"));
  Wait(4);
  ASSERT_TRUE(Ok(Do(Person(kDave), PayRecurringSpend(id))));
  EXPECT_EQ(Balance(Addr(kCarol)), kFunds + 200);
  Wait(100);  // long past the sunset: only the intervals before it are paid
  auto r = Do(Person(kDave), PayRecurringSpend(id));
  ASSERT_TRUE(Ok(r));
  EXPECT_TRUE(HasEvent(r, "governance.paid"));
  const uint64_t paid = Balance(Addr(kCarol)) - kFunds;
  EXPECT_EQ(paid % 100, 0u);
  EXPECT_LE(paid, 100u * (1 + (31 - 11) / 5));
  EXPECT_TRUE(Refused(Do(Person(kDave), PayRecurringSpend(id)), "no payment is due yet"));
}

class TimelockedNation : public NationTest {
 protected:
  TimelockedNation() : NationTest(/*timelock=*/5) {}
};

TEST_F(TimelockedNation, APassedDecisionWaitsForItsTimelock) {
  MakeCitizen(kAlice);
  const int64_t id = ReturnedInt(
      Do(Person(kAlice), ProposeSpend(Addr(kCarol), 777, 0, 0, "after a pause", kDeposit)));
  ASSERT_TRUE(Ok(Do(Person(kAlice), Vote(id, VoteChoice::kYes, kQuorum))));
  Wait(kVotingPeriod);
  auto r = Do(Person(kBob), ExecuteProposal(id));
  ASSERT_TRUE(Ok(r));
  EXPECT_TRUE(HasEvent(r, "governance.passed"));
  EXPECT_FALSE(HasEvent(r, "governance.executed"));
  EXPECT_EQ(Balance(Addr(kCarol)), kFunds);
  EXPECT_TRUE(Refused(Do(Person(kBob), ExecuteProposal(id)),
                      "this decision is timelocked until its eta time"));
  Wait(5);
  r = Do(Person(kBob), ExecuteProposal(id));
  ASSERT_TRUE(Ok(r));
  EXPECT_TRUE(HasEvent(r, "governance.executed"));
  EXPECT_EQ(Balance(Addr(kCarol)), kFunds + 777);
}

}  // namespace
}  // namespace civitas::nation::testing
