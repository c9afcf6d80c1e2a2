// The genesis ceremony (node/ceremony.h, docs/COUNCIL.md): each step's refusals (which leave
// the files as they were), and a whole ceremony of three homes.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "ledger/address.h"
#include "node/ceremony.h"
#include "node/home.h"
#include "test_chain.h"

namespace civitas::node {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class CeremonyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = civitas::testing::TestDir("ceremony");
    fs::create_directories(dir_);
    draft_ = dir_ + "/draft.json";
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A member home (no genesis) and its offer file; returns the offer file.
  std::string Member(const std::string& name, int port) {
    Config c;
    c.home = dir_ + "/" + name;
    c.moniker = name;
    c.p2p_listen = "127.0.0.1:" + std::to_string(port);
    auto key = InitMemberHome(c);
    EXPECT_TRUE(key.ok()) << key.status().ToString();
    keys_[name] = *key;
    auto offer = MakeHomeOffer(c.home, "127.0.0.1:" + std::to_string(port));
    EXPECT_TRUE(offer.ok()) << offer.status().ToString();
    const std::string path = dir_ + "/" + name + ".offer.json";
    EXPECT_TRUE(WriteNewFile(path, GenesisOfferToJson(*offer)).ok());
    return path;
  }
  std::string Home(const std::string& name) { return dir_ + "/" + name; }

  // Expects `s` refused with `reason` and a message naming `named`, and the draft unchanged.
  void ExpectRefused(const Status& s, const std::string& reason, const std::string& named,
                     const std::string& draft_before) {
    EXPECT_EQ(s.reason(), reason) << s.ToString();
    EXPECT_NE(s.message().find(named), std::string::npos) << s.message();
    EXPECT_EQ(Slurp(draft_), draft_before);
  }

  std::string dir_, draft_;
  std::map<std::string, crypto::PublicKey> keys_;
};

TEST_F(CeremonyTest, ThreeMembersFormACouncil) {
  const std::string a = Member("alice", 26656), b = Member("bob", 26666),
                    c = Member("carol", 26676);
  // A member's home has a key and a config but no genesis: it cannot start yet.
  EXPECT_FALSE(fs::exists(Home("alice") + "/config/genesis.json"));
  EXPECT_FALSE(LoadHome(Home("alice")).ok());

  ASSERT_TRUE(NewGenesisDraft(draft_, "ceremony-test", 1700000000000).ok());
  auto added = AddValidatorsToDraft(draft_, {a, b, c});
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  EXPECT_EQ(added->size(), 3u);
  auto citizen = crypto::SecretKey::Generate();
  ASSERT_TRUE(AddAccountToDraft(draft_, ToHex(AddressOf(citizen.public_key())), 5000).ok());
  ASSERT_TRUE(SetDraftParam(draft_, "nation.voting_period_s", "77").ok());
  ASSERT_TRUE(SetDraftParam(draft_, "params.gas_price", "3").ok());
  ASSERT_TRUE(SetDraftParam(draft_, "nation.rules.text.method", "citizen").ok());
  ASSERT_TRUE(SetDraftParam(draft_, "nation.rules.text.quorum", "2").ok());
  auto g = FinalizeDraft(draft_, dir_ + "/genesis.json");
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  ASSERT_EQ(g->validators.size(), 3u);
  EXPECT_EQ(g->validators[1].name, "bob");
  EXPECT_EQ(g->validators[1].public_key, keys_["bob"]);
  EXPECT_EQ(g->validators[1].p2p, "127.0.0.1:26666");
  EXPECT_EQ(g->nation.voting_period_s, 77u);
  EXPECT_EQ(g->nation.RulesOf("text").method, "citizen");
  EXPECT_EQ(g->nation.RulesOf("text").quorum, 2u);
  EXPECT_EQ(g->nation.RulesOf("spend").method, "token");
  EXPECT_EQ(g->params.gas_price, 3u);
  EXPECT_EQ(g->accounts.size(), 1u);
  EXPECT_EQ(g->genesis_time_ms, 1700000000000u);

  for (const std::string name : {"alice", "bob", "carol"}) {
    auto v = VerifyGenesisForHome(dir_ + "/genesis.json", Home(name), ToHex(g->hash));
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    const std::string words = DescribeGenesis(v->genesis, &v->mine);
    EXPECT_NE(words.find(ToHex(g->hash)), std::string::npos);
    EXPECT_NE(words.find(name + "  key " + ToHex(keys_[name]) + "  p2p 127.0.0.1:"),
              std::string::npos)
        << words;
    EXPECT_NE(words.find("<- this node"), std::string::npos);
    ASSERT_TRUE(InstallGenesis(Home(name), *v).ok());
    auto loaded = LoadHome(Home(name));
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    EXPECT_EQ(loaded->genesis.hash, g->hash);
  }
  // Verifying again is harmless; the installed file is the coordinator's, byte for byte.
  auto again = VerifyGenesisForHome(dir_ + "/genesis.json", Home("bob"), "");
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->already_installed);
  EXPECT_EQ(Slurp(Home("bob") + "/config/genesis.json"), Slurp(dir_ + "/genesis.json"));
}

TEST_F(CeremonyTest, OfferWithBadSignatureIsRefused) {
  const std::string a = Member("alice", 26656), b = Member("bob", 26666);
  ASSERT_TRUE(NewGenesisDraft(draft_, "ceremony-test", 0).ok());
  const std::string before = Slurp(draft_);
  // Someone changes bob's endpoint on the way to the coordinator.
  std::string text = Slurp(b);
  text.replace(text.find("127.0.0.1:26666"), 15, "203.0.113.9:266");
  std::ofstream(b, std::ios::trunc) << text;
  auto r = AddValidatorsToDraft(draft_, {a, b});
  ExpectRefused(r.status(), "bad_offer", b, before);
  EXPECT_NE(r.status().message().find("signature"), std::string::npos);
}

TEST_F(CeremonyTest, DuplicateValidatorIsRefused) {
  const std::string a = Member("alice", 26656), b = Member("bob", 26666);
  ASSERT_TRUE(NewGenesisDraft(draft_, "ceremony-test", 0).ok());
  ASSERT_TRUE(AddValidatorsToDraft(draft_, {a}).ok());
  std::string before = Slurp(draft_);
  // The same offer twice (in one call and in a later one).
  ExpectRefused(AddValidatorsToDraft(draft_, {b, b}).status(), "duplicate_validator", b, before);
  ExpectRefused(AddValidatorsToDraft(draft_, {a}).status(), "duplicate_validator", a, before);
  // Another key under a name already taken.
  Config c;
  c.home = Home("alice2");
  c.moniker = "alice";
  ASSERT_TRUE(InitMemberHome(c).ok());
  auto offer = MakeHomeOffer(c.home, "127.0.0.1:27000");
  ASSERT_TRUE(offer.ok());
  const std::string a2 = dir_ + "/alice2.offer.json";
  ASSERT_TRUE(WriteNewFile(a2, GenesisOfferToJson(*offer)).ok());
  auto r = AddValidatorsToDraft(draft_, {a2});
  ExpectRefused(r.status(), "duplicate_validator", a2, before);
  EXPECT_NE(r.status().message().find("moniker 'alice'"), std::string::npos);
}

TEST_F(CeremonyTest, BadParametersAndAccountsAreRefused) {
  const std::string a = Member("alice", 26656);
  ASSERT_TRUE(NewGenesisDraft(draft_, "ceremony-test", 0).ok());
  ASSERT_TRUE(AddValidatorsToDraft(draft_, {a}).ok());
  const std::string before = Slurp(draft_);
  ExpectRefused(SetDraftParam(draft_, "nation.threshold", "100"), "bad_genesis", "threshold",
                before);
  ExpectRefused(SetDraftParam(draft_, "params.gas_price", "2000000"), "bad_genesis", "gas_price",
                before);
  ExpectRefused(SetDraftParam(draft_, "nation.voting_period_s", "-1"), "bad_draft",
                "nation.voting_period_s", before);
  // A kind's voting rules (issue 26); an unknown kind or method is refused.
  ExpectRefused(SetDraftParam(draft_, "nation.rules.law.method", "citizen"), "bad_draft",
                "nation.rules.<text", before);
  ExpectRefused(SetDraftParam(draft_, "nation.rules.text.method", "lottery"), "bad_draft",
                "token, citizen or quadratic", before);
  // The name that counted blocks is refused, not read as seconds (issue 26).
  ExpectRefused(SetDraftParam(draft_, "nation.voting_period", "17280"), "bad_draft",
                "seconds of block time", before);
  ExpectRefused(SetDraftParam(draft_, "nation.colour", "1"), "bad_draft", "nation.colour", before);
  const std::string addr = std::string(40, 'a');
  ASSERT_TRUE(AddAccountToDraft(draft_, addr, UINT64_MAX).ok());
  const std::string funded = Slurp(draft_);
  ExpectRefused(AddAccountToDraft(draft_, addr, 1), "bad_draft", addr, funded);
  ExpectRefused(AddAccountToDraft(draft_, std::string(40, 'b'), 1), "bad_genesis", "supply",
                funded);
  ExpectRefused(AddAccountToDraft(draft_, "abc", 1), "bad_draft", "abc", funded);
  // Approvals beyond the council wait for finalize, which refuses them.
  ASSERT_TRUE(SetDraftParam(draft_, "nation.council_approvals", "2").ok());
  auto g = FinalizeDraft(draft_, dir_ + "/genesis.json");
  EXPECT_EQ(g.status().reason(), "bad_genesis");
  EXPECT_NE(g.status().message().find("council_approvals"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir_ + "/genesis.json"));
  // A draft without validators does not finalize; an existing draft is not overwritten.
  EXPECT_EQ(NewGenesisDraft(draft_, "other", 0).reason(), "exists");
  ASSERT_TRUE(NewGenesisDraft(dir_ + "/empty.json", "ceremony-test", 0).ok());
  EXPECT_EQ(FinalizeDraft(dir_ + "/empty.json", dir_ + "/genesis.json").status().reason(),
            "bad_genesis");
}

class GenesisVerifyTest : public CeremonyTest {
 protected:
  // A finalized genesis of alice and bob; carol has a home but no offer in it.
  void SetUp() override {
    CeremonyTest::SetUp();
    const std::string a = Member("alice", 26656), b = Member("bob", 26666);
    Member("carol", 26676);
    ASSERT_TRUE(NewGenesisDraft(draft_, "ceremony-test", 0).ok());
    ASSERT_TRUE(AddValidatorsToDraft(draft_, {a, b}).ok());
    auto g = FinalizeDraft(draft_, dir_ + "/genesis.json");
    ASSERT_TRUE(g.ok());
    hash_ = ToHex(g->hash);
  }
  std::string hash_;
};

TEST_F(GenesisVerifyTest, GenesisWithoutMyKeyIsRefused) {
  auto v = VerifyGenesisForHome(dir_ + "/genesis.json", Home("carol"), hash_);
  EXPECT_EQ(v.status().reason(), "not_in_council");
  EXPECT_NE(v.status().message().find(ToHex(keys_["carol"])), std::string::npos);
  EXPECT_FALSE(fs::exists(Home("carol") + "/config/genesis.json"));
}

TEST_F(GenesisVerifyTest, HashMismatchIsRefused) {
  // A tampered file: one more funded account.
  std::string text = Slurp(dir_ + "/genesis.json");
  text.replace(
      text.find("\"accounts\": []"), 14,
      "\"accounts\": [{\"address\": \"" + std::string(40, 'e') + "\", \"balance\": 1000000}]");
  std::ofstream(dir_ + "/tampered.json") << text;
  auto v = VerifyGenesisForHome(dir_ + "/tampered.json", Home("alice"), hash_);
  EXPECT_EQ(v.status().reason(), "hash_mismatch");
  EXPECT_NE(v.status().message().find(hash_), std::string::npos);
  EXPECT_FALSE(fs::exists(Home("alice") + "/config/genesis.json"));
  EXPECT_EQ(VerifyGenesisForHome(dir_ + "/genesis.json", Home("alice"), "12").status().reason(),
            "bad_hash");
}

TEST_F(GenesisVerifyTest, AnotherInstalledGenesisIsNotReplaced) {
  auto v = VerifyGenesisForHome(dir_ + "/genesis.json", Home("alice"), hash_);
  ASSERT_TRUE(v.ok());
  ASSERT_TRUE(InstallGenesis(Home("alice"), *v).ok());
  const std::string installed = Slurp(Home("alice") + "/config/genesis.json");
  // A second ceremony with another chain id.
  ASSERT_TRUE(NewGenesisDraft(dir_ + "/d2.json", "ceremony-two", 0).ok());
  ASSERT_TRUE(AddValidatorsToDraft(dir_ + "/d2.json", {dir_ + "/alice.offer.json"}).ok());
  ASSERT_TRUE(FinalizeDraft(dir_ + "/d2.json", dir_ + "/g2.json").ok());
  auto other = VerifyGenesisForHome(dir_ + "/g2.json", Home("alice"), "");
  EXPECT_EQ(other.status().reason(), "exists");
  EXPECT_EQ(Slurp(Home("alice") + "/config/genesis.json"), installed);
}

TEST_F(CeremonyTest, MemberHomeIsNotOverwritten) {
  Member("alice", 26656);
  const std::string key = Slurp(Home("alice") + "/config/validator_key.json");
  Config c;
  c.home = Home("alice");
  EXPECT_EQ(InitMemberHome(c).status().reason(), "exists");
  EXPECT_EQ(Slurp(Home("alice") + "/config/validator_key.json"), key);
  c.home = Home("zed");
  c.moniker = "two words";
  EXPECT_EQ(InitMemberHome(c).status().reason(), "bad_config");
  EXPECT_FALSE(fs::exists(Home("zed")));
}

}  // namespace
}  // namespace civitas::node
