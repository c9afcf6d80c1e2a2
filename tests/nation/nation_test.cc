// The civic story, end to end through signed transactions: people register DIDs, apply, the
// council approves, citizens propose and vote on a treasury spend, it passes and pays out.
#include "genesis/nation_state.h"
#include "nation_fixture.h"

namespace civitas::nation::testing {
namespace {

TEST_F(NationTest, GenesisDeploysTheSystemContractsAtTheirAddresses) {
  ASSERT_EQ(genesis_.system_contracts.size(), 4u);
  for (const auto& c : genesis_.system_contracts) {
    EXPECT_EQ(c.address, SystemAddress(c.name));
    auto hash = state_.Get(CodeHashKey(c.address));
    ASSERT_TRUE(hash->has_value()) << c.name;
    EXPECT_EQ(**hash, std::string(AsStringView(c.code_hash)));
    EXPECT_TRUE(state_.Get(CodeKey(c.code_hash))->has_value());
  }
  EXPECT_EQ(genesis_.system_contracts[3].address, TreasuryAddress());
  EXPECT_EQ(DidRegistryAddress(), SystemAddress("did_registry"));
  EXPECT_EQ(CitizenshipAddress(), SystemAddress("citizenship"));
  EXPECT_EQ(GovernanceAddress(), SystemAddress("governance"));
}

TEST_F(NationTest, TheCivicStory) {
  // Alice and Bob register their DIDs and become citizens.
  auto r = Do(Person(kAlice), RegisterDid(Person(kAlice).public_key()));
  ASSERT_TRUE(Ok(r));
  EXPECT_TRUE(HasEvent(r, "did.registered"));
  ASSERT_TRUE(Ok(Do(Person(kAlice), ApplyForCitizenship())));
  r = Do(council_[0], CouncilDecide(Did(Person(kAlice)), CouncilAction::kApprove));
  ASSERT_TRUE(Ok(r));
  EXPECT_FALSE(HasEvent(r, "citizenship.issued"));  // one approval of two
  r = Do(council_[2], CouncilDecide(Did(Person(kAlice)), CouncilAction::kApprove));
  ASSERT_TRUE(Ok(r));
  EXPECT_TRUE(HasEvent(r, "citizenship.issued"));
  MakeCitizen(kBob);

  // Alice proposes to pay Carol 250000 from the treasury, with the deposit.
  const uint64_t alice_before = Balance(Addr(kAlice));
  r = Do(Person(kAlice), ProposeSpend(Addr(kCarol), 250'000, 0, 0, "build the library", kDeposit));
  ASSERT_TRUE(Ok(r));
  EXPECT_TRUE(HasEvent(r, "governance.proposed"));
  const int64_t id = ReturnedInt(r);
  EXPECT_EQ(id, 1);
  EXPECT_EQ(Balance(GovernanceAddress()), kDeposit);
  EXPECT_EQ(Balance(Addr(kAlice)), alice_before - kDeposit - r.fee());

  // Both vote yes, locking tokens.
  ASSERT_TRUE(Ok(Do(Person(kAlice), Vote(id, VoteChoice::kYes, 800))));
  ASSERT_TRUE(Ok(Do(Person(kBob), Vote(id, VoteChoice::kYes, 700))));
  EXPECT_EQ(Balance(GovernanceAddress()), kDeposit + 1500);

  // Too early: the period is open.
  EXPECT_TRUE(
      Refused(Do(Person(kBob), ExecuteProposal(id)), "voting on this proposal is still open"));
  EXPECT_EQ(Balance(Addr(kCarol)), kFunds);

  // At the end of the period anyone (Dave, not a citizen) may execute; Carol is paid.
  Wait(kVotingPeriod);
  const uint64_t treasury_before = Balance(TreasuryAddress());
  r = Do(Person(kDave), ExecuteProposal(id));
  ASSERT_TRUE(Ok(r));
  EXPECT_TRUE(HasEvent(r, "governance.passed"));
  EXPECT_TRUE(HasEvent(r, "governance.executed"));
  EXPECT_TRUE(HasEvent(r, "treasury.spent"));
  EXPECT_TRUE(HasEvent(r, "governance.deposit_returned"));
  EXPECT_EQ(Balance(Addr(kCarol)), kFunds + 250'000);
  EXPECT_EQ(Balance(TreasuryAddress()), treasury_before - 250'000 + r.fee());

  // Executed once only.
  EXPECT_TRUE(
      Refused(Do(Person(kDave), ExecuteProposal(id)), "this proposal has already been settled"));

  // The voters take their tokens back; the contract then holds nothing.
  ASSERT_TRUE(Ok(Do(Person(kAlice), WithdrawVote(id))));
  ASSERT_TRUE(Ok(Do(Person(kBob), WithdrawVote(id))));
  EXPECT_EQ(Balance(GovernanceAddress()), 0u);
  EXPECT_TRUE(Refused(Do(Person(kBob), WithdrawVote(id)),
                      "nothing is locked for this voter on this proposal"));
}

TEST_F(NationTest, FeesFlowIntoTheTreasuryContract) {
  const uint64_t before = Balance(TreasuryAddress());
  auto r = Do(Person(kAlice), RegisterDid(Person(kAlice).public_key()));
  ASSERT_TRUE(Ok(r));
  EXPECT_GT(r.fee(), 0u);
  EXPECT_EQ(Balance(TreasuryAddress()), before + r.fee());
}

}  // namespace
}  // namespace civitas::nation::testing

namespace civitas::nation::testing {
namespace {

const char* kPk = "f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9";

std::string MinimalGenesis(const std::string& extra) {
  return std::string(R"({"chain_id":"c","validators":[{"name":"v","public_key":")") + kPk +
         R"("}],"accounts":[])" + extra + "}";
}

TEST(NationGenesis, AGenesisBuiltInCodeGetsTheSystemContractsAndDefaults) {
  auto g = ParseGenesis(MinimalGenesis(""));
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  ASSERT_EQ(g->system_contracts.size(), 4u);
  EXPECT_EQ(g->system_contracts[0].name, "did_registry");
  EXPECT_EQ(g->council_approvals(), 1u);  // a majority of one
  auto json = nlohmann::json::parse(GenesisToJson(*g));
  EXPECT_EQ(json["system_contracts"][3]["address"], ToHex(TreasuryAddress()));
  EXPECT_EQ(json["system_contracts"][3]["code_hash"], ToHex(g->system_contracts[3].code_hash));
  EXPECT_EQ(json["nation"]["voting_period_s"], NationParams{}.voting_period_s);
  // Written out and read back, it is the same chain.
  auto again = ParseGenesis(GenesisToJson(*g));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->hash, g->hash);
}

TEST(NationGenesis, CodeHashesMustMatchThisBuild) {
  auto g = ParseGenesis(MinimalGenesis(""));
  auto json = nlohmann::json::parse(GenesisToJson(*g));
  json["system_contracts"][1]["code_hash"] = std::string(64, '0');
  auto bad = ParseGenesis(json.dump());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().reason(), "bad_genesis");
  EXPECT_NE(bad.status().message().find("citizenship"), std::string::npos);
  json = nlohmann::json::parse(GenesisToJson(*g));
  json["system_contracts"].erase(0);
  EXPECT_EQ(ParseGenesis(json.dump()).status().reason(), "bad_genesis");
}

TEST(NationGenesis, NationParametersAreReadAndChecked) {
  auto g = ParseGenesis(MinimalGenesis(
      R"(,"nation":{"council_approvals":1,"voting_period_s":7,"quorum":9,"threshold":66,)"
      R"("proposal_deposit":3,"timelock_s":2,"citizenship_validity":50})"));
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->nation.voting_period_s, 7u);
  EXPECT_EQ(g->nation.threshold, 66u);
  civitas::testing::MapState s(g->InitialState());
  EXPECT_EQ(**ReadParam(s, GovernanceAddress(), "timelock"), 2);
  // Kinds the genesis names no rules for vote by token with nation.quorum and threshold.
  EXPECT_EQ(**ReadParam(s, GovernanceAddress(), "spend.method"), 1);
  EXPECT_EQ(**ReadParam(s, GovernanceAddress(), "spend.quorum"), 9);
  EXPECT_EQ(**ReadParam(s, GovernanceAddress(), "upgrade.threshold"), 66);
  EXPECT_FALSE(ReadParam(s, GovernanceAddress(), "quorum")->has_value());
  auto ruled = ParseGenesis(MinimalGenesis(
      R"(,"nation":{"rules":{"text":{"method":"citizen","quorum":3,"threshold":60}}})"));
  ASSERT_TRUE(ruled.ok()) << ruled.status().ToString();
  civitas::testing::MapState rs(ruled->InitialState());
  EXPECT_EQ(**ReadParam(rs, GovernanceAddress(), "text.method"), 2);
  EXPECT_EQ(**ReadParam(rs, GovernanceAddress(), "text.quorum"), 3);
  EXPECT_EQ(**ReadParam(rs, GovernanceAddress(), "text.threshold"), 60);
  // The canonical JSON carries the rules, so the hash covers them.
  EXPECT_NE(GenesisToJson(*ruled, -1).find(R"("rules":{"text":{"method":"citizen")"),
            std::string::npos);
  EXPECT_EQ(**ReadParam(s, CitizenshipAddress(), "validity"), 50);
  auto council = *ReadCouncil(s);
  ASSERT_EQ(council.size(), 1u);
  EXPECT_EQ(council[0], AddressOf(*FixedFromHex<32>(kPk)));
  for (const char* bad :
       {R"(,"nation":{"council_approvals":2})", R"(,"nation":{"threshold":100})",
        R"(,"nation":{"voting_period_s":0})", R"(,"nation":{"voting_period":7})",
        R"(,"nation":{"timelock":2})", R"(,"nation":{"rules":{"law":{"method":"token"}}})",
        R"(,"nation":{"rules":{"text":{"method":"lottery"}}})",
        R"(,"nation":{"rules":{"text":{"quorum":0}}})",
        R"(,"nation":{"quorum":9223372036854775808})", R"(,"nation":{"council":["00"]})"}) {
    EXPECT_EQ(ParseGenesis(MinimalGenesis(bad)).status().reason(), "bad_genesis") << bad;
  }
}

}  // namespace
}  // namespace civitas::nation::testing
