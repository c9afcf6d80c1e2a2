// The nation through the API of an in-process node: citizens sign typed civic transactions and
// submit them over gRPC; the DID resolves over gRPC and HTTP; citizens list in pages; the
// treasury pays a passed spend; blocks and events stream from a height and the streams resume;
// chain strings that are not UTF-8 cannot break an answer.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <cctype>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "civitas/v1/node.grpc.pb.h"
#include "ledger/civic_calls.h"
#include "ledger/did.h"
#include "node/node.h"
#include "node_client.h"
#include "test_chain.h"
#include "tools/asm/assembler.h"

namespace civitas::node {
namespace {

constexpr uint64_t kFunds = 100'000'000;
constexpr uint64_t kTreasuryFunds = 1'000'000;
constexpr uint64_t kDeposit = 500;
// Seconds of block time: the votes below must land within it on a busy machine.
constexpr uint64_t kVotingPeriod = 4;
constexpr uint64_t kQuorum = 1000;

class CivicApiTest : public ::testing::Test {
 protected:
  enum Person { kAlice, kBob, kCarol, kDave, kPeople };

  void SetUp() override {
    auto nation = civitas::testing::MakeSoloNation({.chain_id = "civitas-civic-api",
                                                    .people = kPeople,
                                                    .funds = kFunds,
                                                    .treasury_funds = kTreasuryFunds,
                                                    .voting_period_s = kVotingPeriod,
                                                    .quorum = kQuorum,
                                                    .proposal_deposit = kDeposit});
    council_ = nation.council;
    people_ = nation.people;
    genesis_ = nation.genesis;

    home_ = civitas::testing::TestDir("civic-api");
    Config config;
    config.home = home_;
    config.grpc_listen = "127.0.0.1:0";
    config.http_listen = "127.0.0.1:0";
    config.p2p_listen = "127.0.0.1:0";
    config.block_interval_ms = 20;
    config.timeout_base_ms = 500;
    auto node = Node::Open(config, genesis_, council_);
    ASSERT_TRUE(node.ok()) << node.status().ToString();
    node_ = std::move(*node);
    ASSERT_TRUE(node_->Start().ok());
    stub_ = v1::Node::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(node_->grpc_port()),
                                                  grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    if (node_) node_->Stop();
    node_.reset();
    std::filesystem::remove_all(home_);
  }

  // A signed transaction whose body carries `fill`'s typed action.
  template <typename Fill>
  v1::Transaction Sign(const crypto::SecretKey& key, Fill fill) {
    v1::TxBody body;
    body.set_chain_id(genesis_.chain_id);
    body.set_nonce(nonces_[AddressOf(key.public_key())]++);
    body.set_gas_limit(3'000'000);
    fill(body);
    return SignTx(key, body);
  }

  using Outcome = civitas::testing::SubmitOutcome;
  Outcome Submit(const v1::Transaction& tx, bool wait = true) {
    return civitas::testing::SubmitTx(*stub_, tx, wait);
  }
  // Submits and waits for the commit; returns the receipt.
  template <typename Fill>
  v1::Receipt Do(const crypto::SecretKey& key, Fill fill) {
    auto out = Submit(Sign(key, fill));
    EXPECT_TRUE(out.status.ok()) << out.status.error_message() << " " << out.reason;
    EXPECT_TRUE(out.resp.committed());
    return out.resp.receipt();
  }
  static std::string Reason(const grpc::ClientContext& ctx) {
    return civitas::testing::ReasonOf(ctx);
  }
  static ::testing::AssertionResult Ok(const v1::Receipt& r) {
    if (r.status() == v1::TX_STATUS_SUCCESS) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "receipt failed: " << r.reason();
  }
  static bool HasEvent(const v1::Receipt& r, const std::string& topic) {
    for (const auto& e : r.events()) {
      if (e.topic() == topic) return true;
    }
    return false;
  }

  std::string Did(int p) const { return DeriveDid(people_[p].public_key()); }
  Address Addr(int p) const { return AddressOf(people_[p].public_key()); }
  uint64_t Balance(const Address& a) {
    v1::GetAccountRequest req;
    req.set_address(std::string(AsStringView(a)));
    v1::GetAccountResponse resp;
    grpc::ClientContext ctx;
    EXPECT_TRUE(stub_->GetAccount(&ctx, req, &resp).ok());
    return resp.account().balance();
  }
  uint64_t BlockTimeMs(uint64_t height) {
    v1::GetBlockRequest req;
    req.set_height(height);
    v1::GetBlockResponse resp;
    grpc::ClientContext ctx;
    EXPECT_TRUE(stub_->GetBlock(&ctx, req, &resp).ok());
    return resp.block().block().header().time_ms();
  }
  // "YYYY-MM-DDThh:mm:ssZ" by the C library, to check the node's own conversion against.
  static std::string UtcSeconds(uint64_t time_ms) {
    const time_t t = static_cast<time_t>(time_ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
  }
  // Blocks until a block whose time (seconds) is at least `time_s` is committed (bounded):
  // voting periods are block time (docs/NATION.md, "Time"), and the idle node makes blocks.
  void WaitForBlockTime(uint64_t time_s) {
    for (int i = 0; i < 10'000; ++i) {
      const uint64_t h = node_->store().height();
      auto b = node_->store().GetBlock(h);
      ASSERT_TRUE(b.ok()) << b.status().ToString();
      if (b->block().header().time_ms() / 1000 >= time_s) return;
      ASSERT_TRUE(node_->WaitForHeight(h + 1, 30'000)) << "no block after " << h;
    }
    FAIL() << "block time " << time_s << " not reached";
  }
  // Blocks until block `height` is committed (bounded).
  void WaitForHeight(uint64_t height) {
    ASSERT_TRUE(node_->WaitForHeight(height, 30'000)) << "height " << height << " not reached";
  }

  v1::Receipt RegisterDid(int p) {
    return Do(people_[p], [&](v1::TxBody& b) {
      b.mutable_register_did()->set_public_key(std::string(AsStringView(people_[p].public_key())));
    });
  }
  v1::Receipt Apply(int p) {
    return Do(people_[p], [](v1::TxBody& b) { b.mutable_apply_for_citizenship(); });
  }
  v1::Receipt Decide(const crypto::SecretKey& who, int p, v1::CouncilAction action) {
    return Do(who, [&](v1::TxBody& b) {
      b.mutable_council_decision()->set_did(Did(p));
      b.mutable_council_decision()->set_action(action);
    });
  }
  v1::Transaction VoteTx(int p, uint64_t id, v1::VoteChoice choice, uint64_t weight) {
    return Sign(people_[p], [&](v1::TxBody& b) {
      b.mutable_vote()->set_proposal_id(id);
      b.mutable_vote()->set_choice(choice);
      b.mutable_vote()->set_weight(weight);
    });
  }
  v1::GetProposalResponse Proposal(uint64_t id) {
    v1::GetProposalRequest req;
    req.set_id(id);
    v1::GetProposalResponse resp;
    grpc::ClientContext ctx;
    EXPECT_TRUE(stub_->GetProposal(&ctx, req, &resp).ok());
    return resp;
  }

  // Alice and Bob become citizens through typed transactions; Carol only registers her DID.
  void FoundTheNation() {
    for (int p : {kAlice, kBob, kCarol}) {
      auto r = RegisterDid(p);
      ASSERT_TRUE(Ok(r));
      EXPECT_TRUE(HasEvent(r, "did.registered"));
    }
    for (int p : {kAlice, kBob}) {
      ASSERT_TRUE(Ok(Apply(p)));
      auto r = Decide(council_, p, v1::COUNCIL_ACTION_APPROVE);
      ASSERT_TRUE(Ok(r));
      EXPECT_TRUE(HasEvent(r, "citizenship.issued"));
    }
  }

  std::string HttpGet(const std::string& path) {
    return civitas::testing::HttpGet(node_->http_port(), path);
  }

  Genesis genesis_;
  crypto::SecretKey council_ = crypto::SecretKey::Generate();
  std::vector<crypto::SecretKey> people_;
  std::map<Address, uint64_t> nonces_;
  std::string home_;
  std::unique_ptr<Node> node_;
  std::unique_ptr<v1::Node::Stub> stub_;
};

TEST_F(CivicApiTest, TheCivicStoryThroughTheApi) {
  ASSERT_NO_FATAL_FAILURE(FoundTheNation());

  // Alice proposes that the treasury pays Carol 1000 tokens.
  auto proposed = Do(people_[kAlice], [&](v1::TxBody& b) {
    auto* s = b.mutable_propose_spend();
    s->set_to(std::string(AsStringView(Addr(kCarol))));
    s->set_amount(1000);
    s->set_note("a bridge over the river");
    s->set_deposit(kDeposit);
  });
  ASSERT_TRUE(Ok(proposed));
  EXPECT_TRUE(HasEvent(proposed, "governance.proposed"));
  auto p = Proposal(1).proposal();
  EXPECT_EQ(p.kind(), "spend");
  EXPECT_EQ(p.status(), "voting");
  EXPECT_EQ(p.text(), "a bridge over the river");
  EXPECT_EQ(p.end(), p.start() + kVotingPeriod);

  // Both citizens vote yes, in one block; Carol, who is no citizen, is refused.
  auto alice_vote = Submit(VoteTx(kAlice, 1, v1::VOTE_CHOICE_YES, 600), false);
  auto bob_vote = Submit(VoteTx(kBob, 1, v1::VOTE_CHOICE_YES, 500));
  ASSERT_TRUE(alice_vote.status.ok()) << alice_vote.reason;
  ASSERT_TRUE(bob_vote.resp.committed());
  EXPECT_TRUE(Ok(bob_vote.resp.receipt()));
  auto carol_vote = Submit(VoteTx(kCarol, 1, v1::VOTE_CHOICE_NO, 5000));
  EXPECT_EQ(carol_vote.resp.receipt().status(), v1::TX_STATUS_FAILED);
  EXPECT_EQ(carol_vote.resp.receipt().reason(), "revert: not a citizen");
  p = Proposal(1).proposal();
  EXPECT_EQ(p.tally().yes(), 1100u);
  EXPECT_EQ(p.tally().no(), 0u);
  EXPECT_TRUE(p.tally().quorum_reached());
  EXPECT_TRUE(p.tally().passing());
  // Citizens see their part (ListMyVotes): Alice's DID voted yes, her address locked 600.
  auto my_votes = [&](int person, bool with_address) {
    v1::ListMyVotesRequest req;
    req.set_did(Did(person));
    if (with_address) req.set_address(std::string(AsStringView(Addr(person))));
    v1::ListMyVotesResponse resp;
    grpc::ClientContext ctx;
    EXPECT_TRUE(stub_->ListMyVotes(&ctx, req, &resp).ok());
    return resp;
  };
  auto alice_votes = my_votes(kAlice, true);
  ASSERT_EQ(alice_votes.votes_size(), 1);
  EXPECT_EQ(alice_votes.votes(0).proposal_id(), 1u);
  EXPECT_EQ(alice_votes.votes(0).choice(), "yes");
  EXPECT_EQ(alice_votes.votes(0).method(), "token");
  EXPECT_EQ(alice_votes.votes(0).weight(), 600u);
  EXPECT_EQ(alice_votes.votes(0).locked(), 600u);
  EXPECT_EQ(alice_votes.locked(), 600u);
  EXPECT_EQ(my_votes(kCarol, false).votes_size(), 0);  // her vote was refused

  // Executing before the end is refused; after it, the spend is paid.
  const uint64_t carol_before = Balance(Addr(kCarol));
  auto early =
      Do(people_[kBob], [](v1::TxBody& b) { b.mutable_execute_proposal()->set_proposal_id(1); });
  EXPECT_EQ(early.status(), v1::TX_STATUS_FAILED);
  EXPECT_EQ(early.reason().rfind("revert: ", 0), 0u) << early.reason();
  ASSERT_NO_FATAL_FAILURE(WaitForBlockTime(p.end()));
  auto executed =
      Do(people_[kBob], [](v1::TxBody& b) { b.mutable_execute_proposal()->set_proposal_id(1); });
  ASSERT_TRUE(Ok(executed));
  EXPECT_TRUE(HasEvent(executed, "governance.passed"));
  EXPECT_TRUE(HasEvent(executed, "treasury.spent"));
  EXPECT_EQ(Balance(Addr(kCarol)), carol_before + 1000);
  EXPECT_EQ(Proposal(1).proposal().status(), "executed");
  // The vote ended: Alice's locked tokens may be withdrawn.
  alice_votes = my_votes(kAlice, true);
  ASSERT_EQ(alice_votes.votes_size(), 1);
  EXPECT_TRUE(alice_votes.votes(0).withdrawable());
  {
    v1::ListMyVotesRequest req;  // neither a DID nor an address
    v1::ListMyVotesResponse resp;
    grpc::ClientContext ctx;
    auto s = stub_->ListMyVotes(&ctx, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }

  v1::GetTreasuryResponse treasury;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub_->GetTreasury(&ctx, {}, &treasury).ok());
  }
  EXPECT_EQ(treasury.spent(), 1000u);
  EXPECT_EQ(treasury.address(), std::string(AsStringView(TreasuryAddress())));
  EXPECT_EQ(treasury.balance(), Balance(TreasuryAddress()));

  // The payment is among the treasury's movements, with the proposal that decided it; fees
  // flowed in.
  v1::ListTreasuryMovementsResponse moves;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub_->ListTreasuryMovements(&ctx, {}, &moves).ok());
  }
  bool paid = false, fees = false;
  for (const auto& m : moves.movements()) {
    if (m.kind() == "out" && m.proposal_id() == 1 && m.amount() == 1000 &&
        m.counterparty() == std::string(AsStringView(Addr(kCarol)))) {
      paid = true;
      EXPECT_EQ(m.height(), executed.height());
    }
    fees = fees || (m.kind() == "fees" && m.amount() > 0);
  }
  EXPECT_TRUE(paid);
  EXPECT_TRUE(fees);

  // The voters take their tokens back.
  auto withdrawn =
      Do(people_[kAlice], [](v1::TxBody& b) { b.mutable_withdraw_vote()->set_proposal_id(1); });
  EXPECT_TRUE(Ok(withdrawn));

  v1::ListProposalsResponse list;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub_->ListProposals(&ctx, {}, &list).ok());
  }
  ASSERT_EQ(list.proposals_size(), 1);
  EXPECT_EQ(list.total(), 1u);
  EXPECT_EQ(list.proposals(0).status(), "executed");
  EXPECT_EQ(list.proposals(0).tally().yes(), 1100u);
}

TEST_F(CivicApiTest, RefusalsCarryReasons) {
  ASSERT_NO_FATAL_FAILURE(FoundTheNation());
  // Dave has no DID: he can neither apply nor propose.
  auto r = Do(people_[kDave], [](v1::TxBody& b) { b.mutable_apply_for_citizenship(); });
  EXPECT_EQ(r.status(), v1::TX_STATUS_FAILED);
  EXPECT_EQ(r.reason().rfind("revert: ", 0), 0u) << r.reason();
  r = Do(people_[kDave], [](v1::TxBody& b) {
    b.mutable_propose_text()->set_text("me too");
    b.mutable_propose_text()->set_deposit(kDeposit);
  });
  EXPECT_EQ(r.reason(), "revert: the signer controls no DID");
  // Carol applies; Bob is not on the council, so his approval is refused and issues nothing.
  ASSERT_TRUE(Ok(Apply(kCarol)));
  r = Decide(people_[kBob], kCarol, v1::COUNCIL_ACTION_APPROVE);
  EXPECT_EQ(r.reason(), "revert: only a council member may decide");
  v1::GetCitizenshipRequest creq;
  creq.set_did(Did(kCarol));
  v1::GetCitizenshipResponse cresp;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub_->GetCitizenship(&ctx, creq, &cresp).ok());
  }
  EXPECT_EQ(cresp.citizenship().status(), "applied");
  EXPECT_FALSE(cresp.citizenship().in_good_standing());
  // A rotated key works and the old one is refused.
  auto rotated = crypto::SecretKey::Generate();
  r = Do(people_[kAlice], [&](v1::TxBody& b) {
    b.mutable_transfer()->set_to(std::string(AsStringView(AddressOf(rotated.public_key()))));
    b.mutable_transfer()->set_amount(10'000'000);
  });
  ASSERT_TRUE(Ok(r));
  // The new key consents: it signs the rotation message over the DID's current version.
  v1::ResolveDidRequest dreq;
  dreq.set_did(Did(kAlice));
  v1::ResolveDidResponse dresp;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub_->ResolveDid(&ctx, dreq, &dresp).ok());
  }
  const crypto::Signature consent = nation::SignDidRotation(
      rotated, *ParseDid(Did(kAlice)), people_[kAlice].public_key(), dresp.version_id());
  r = Do(people_[kAlice], [&](v1::TxBody& b) {
    b.mutable_rotate_did_key()->set_fragment("key-2");
    b.mutable_rotate_did_key()->set_public_key(std::string(AsStringView(rotated.public_key())));
    b.mutable_rotate_did_key()->set_signature(std::string(AsStringView(consent)));
  });
  ASSERT_TRUE(Ok(r));
  auto text = [](v1::TxBody& b) {
    b.mutable_propose_text()->set_text("a law");
    b.mutable_propose_text()->set_deposit(kDeposit);
  };
  EXPECT_EQ(Do(people_[kAlice], text).reason(), "revert: the signer controls no DID");
  EXPECT_TRUE(Ok(Do(rotated, text)));

  // A malformed typed action is refused at the API with a reason, before any state is read.
  auto bad = Submit(Sign(people_[kDave], [](v1::TxBody& b) {
    b.mutable_register_did()->set_public_key(std::string(31, '\x01'));
  }));
  --nonces_[Addr(kDave)];
  EXPECT_EQ(bad.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(bad.reason, "malformed_tx");
  EXPECT_NE(bad.status.error_message().find("register_did.public_key"), std::string::npos);
  bad = Submit(Sign(people_[kDave], [](v1::TxBody& b) {
    b.mutable_council_decision()->set_did("did:civitas:nope");
    b.mutable_council_decision()->set_action(v1::COUNCIL_ACTION_APPROVE);
  }));
  --nonces_[Addr(kDave)];
  EXPECT_EQ(bad.reason, "malformed_tx");
}

TEST_F(CivicApiTest, DidResolvesOverGrpcAndHttp) {
  ASSERT_NO_FATAL_FAILURE(FoundTheNation());
  const std::string did = Did(kAlice);
  const uint64_t registered_at = [&] {
    v1::ResolveDidRequest req;
    req.set_did(did);
    v1::ResolveDidResponse resp;
    grpc::ClientContext ctx;
    EXPECT_TRUE(stub_->ResolveDid(&ctx, req, &resp).ok());
    return resp.created();
  }();
  ASSERT_GT(registered_at, 0u);
  auto service = Do(people_[kAlice], [](v1::TxBody& b) {
    auto* s = b.mutable_set_did_service();
    s->set_fragment("home");
    s->set_type("LinkedDomains");
    s->set_endpoint("https://alice.example");
  });
  ASSERT_TRUE(Ok(service));

  auto resolve = [&](v1::ResolveDidRequest req, v1::ResolveDidResponse* resp, std::string* reason) {
    grpc::ClientContext ctx;
    grpc::Status st = stub_->ResolveDid(&ctx, req, resp);
    *reason = Reason(ctx);
    return st;
  };
  v1::ResolveDidRequest req;
  req.set_did(did);
  v1::ResolveDidResponse now;
  std::string reason;
  ASSERT_TRUE(resolve(req, &now, &reason).ok());
  EXPECT_EQ(now.version_id(), 2u);
  EXPECT_EQ(now.updated(), service.height());
  EXPECT_NE(now.result_json().find("\"id\":\"" + did + "\""), std::string::npos);
  EXPECT_NE(now.result_json().find("https://alice.example"), std::string::npos);
  // created and updated are W3C (XML Schema) datetimes in UTC, to the second: the header times
  // of the blocks at the heights the registry keeps, which stay available as *Height.
  auto meta = nlohmann::json::parse(now.result_json())["didDocumentMetadata"];
  EXPECT_EQ(meta["createdHeight"], registered_at);
  EXPECT_EQ(meta["updatedHeight"], service.height());
  EXPECT_EQ(meta["versionId"], "2");
  // YYYY-MM-DDTHH:MM:SSZ (no <regex>: GCC 12 warns inside it under the sanitizers).
  auto is_datetime = [](const std::string& s) {
    const std::string shape = "dddd-dd-ddTdd:dd:ddZ";
    if (s.size() != shape.size()) return false;
    for (size_t i = 0; i < s.size(); ++i) {
      if (shape[i] == 'd' ? !std::isdigit(static_cast<unsigned char>(s[i])) : s[i] != shape[i]) {
        return false;
      }
    }
    return true;
  };
  ASSERT_TRUE(meta["created"].is_string());
  ASSERT_TRUE(meta["updated"].is_string());
  EXPECT_TRUE(is_datetime(meta["created"].get<std::string>())) << meta;
  EXPECT_TRUE(is_datetime(meta["updated"].get<std::string>())) << meta;
  EXPECT_EQ(meta["created"], UtcSeconds(BlockTimeMs(registered_at)));
  EXPECT_EQ(meta["updated"], UtcSeconds(BlockTimeMs(service.height())));

  // As it was at registration, by height and by version: no service yet.
  req.set_at_height(registered_at);
  v1::ResolveDidResponse then;
  ASSERT_TRUE(resolve(req, &then, &reason).ok());
  EXPECT_EQ(then.version_id(), 1u);
  EXPECT_EQ(then.result_json().find("alice.example"), std::string::npos);
  req.set_at_height(0);
  req.set_version_id(1);
  v1::ResolveDidResponse v1_answer;
  ASSERT_TRUE(resolve(req, &v1_answer, &reason).ok());
  EXPECT_EQ(v1_answer.result_json(), then.result_json());
  // Before registration (Carol registered after Alice, so not at height 1 = "latest" + 1),
  // and an unknown version: NOT_FOUND.
  req.set_version_id(0);
  req.set_did(Did(kCarol));
  v1::ResolveDidResponse carol;
  ASSERT_TRUE(resolve(req, &carol, &reason).ok());
  ASSERT_GT(carol.created(), 1u);
  req.set_at_height(carol.created() - 1);
  v1::ResolveDidResponse none;
  EXPECT_EQ(resolve(req, &none, &reason).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(reason, "not_found");
  req.set_did(did);
  req.set_at_height(0);
  req.set_version_id(9);
  EXPECT_EQ(resolve(req, &none, &reason).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(reason, "version_not_found");
  req.set_version_id(0);
  req.set_at_height(1'000'000'000);
  EXPECT_EQ(resolve(req, &none, &reason).error_code(), grpc::StatusCode::OUT_OF_RANGE);
  req.set_at_height(0);
  req.set_did("did:civitas:0OIl");
  EXPECT_EQ(resolve(req, &none, &reason).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(reason, "invalid_did");
  req.set_did(DeriveDid(crypto::SecretKey::Generate().public_key()));
  EXPECT_EQ(resolve(req, &none, &reason).error_code(), grpc::StatusCode::NOT_FOUND);

  // The HTTP resolver returns the same result; the DID may be percent-encoded.
  std::string http = HttpGet("/1.0/identifiers/" + did);
  ASSERT_NE(http.find("200 OK"), std::string::npos) << http;
  EXPECT_NE(http.find("application/ld+json;profile=\"https://w3id.org/did-resolution\""),
            std::string::npos);
  EXPECT_EQ(http.substr(http.find("\r\n\r\n") + 4), now.result_json());
  std::string encoded = did;
  encoded.replace(3, 1, "%3A");
  encoded.replace(encoded.find(':'), 1, "%3a");
  EXPECT_NE(HttpGet("/1.0/identifiers/" + encoded).find("200 OK"), std::string::npos);
  http = HttpGet("/1.0/identifiers/" + did + "?versionId=1");
  EXPECT_EQ(http.substr(http.find("\r\n\r\n") + 4), then.result_json());
  http = HttpGet("/1.0/identifiers/" + did + "?versionTime=2000-01-01T00:00:00Z");
  EXPECT_NE(http.find("404 Not Found"), std::string::npos) << http;
  EXPECT_NE(http.find("\"error\":\"notFound\""), std::string::npos);
  http = HttpGet("/1.0/identifiers/" + did + "?versionTime=2999-01-01T00:00:00Z");
  EXPECT_NE(http.find("200 OK"), std::string::npos) << http;
  http = HttpGet("/1.0/identifiers/did:civitas:not-base58!");
  EXPECT_NE(http.find("400 Bad Request"), std::string::npos) << http;
  EXPECT_NE(http.find("invalidDid"), std::string::npos);
  http = HttpGet("/1.0/identifiers/" + DeriveDid(crypto::SecretKey::Generate().public_key()));
  EXPECT_NE(http.find("404 Not Found"), std::string::npos) << http;
  EXPECT_NE(HttpGet("/1.0/identifiers/" + did + "?versionTime=yesterday").find("400"),
            std::string::npos);

  // A deactivated DID: 410 Gone with its (empty) document and the metadata.
  ASSERT_TRUE(Ok(Do(people_[kCarol], [](v1::TxBody& b) { b.mutable_deactivate_did(); })));
  http = HttpGet("/1.0/identifiers/" + Did(kCarol));
  EXPECT_NE(http.find("410 Gone"), std::string::npos) << http;
  EXPECT_NE(http.find("\"deactivated\":true"), std::string::npos);
}

TEST_F(CivicApiTest, CitizensListInPages) {
  ASSERT_NO_FATAL_FAILURE(FoundTheNation());
  ASSERT_TRUE(Ok(Apply(kCarol)));
  ASSERT_TRUE(Ok(Decide(council_, kCarol, v1::COUNCIL_ACTION_APPROVE)));
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    v1::ListCitizensRequest req;
    req.set_page_size(2);
    req.set_page_token(token);
    v1::ListCitizensResponse resp;
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub_->ListCitizens(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.total(), 3u);
    EXPECT_LE(resp.citizens_size(), 2);
    for (const auto& c : resp.citizens()) {
      seen.push_back(c.did());
      EXPECT_EQ(c.status(), "citizen");
      EXPECT_TRUE(c.in_good_standing());
    }
    token = resp.next_page_token();
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(pages, 2);
  EXPECT_EQ(seen, (std::vector<std::string>{Did(kAlice), Did(kBob), Did(kCarol)}));

  v1::ListCitizensRequest bad;
  bad.set_page_token("not-a-token");
  v1::ListCitizensResponse resp;
  grpc::ClientContext ctx;
  EXPECT_EQ(stub_->ListCitizens(&ctx, bad, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Reason(ctx), "bad_page_token");

  v1::GetCitizenshipRequest creq;
  creq.set_did(Did(kDave));
  v1::GetCitizenshipResponse cresp;
  grpc::ClientContext c2;
  ASSERT_TRUE(stub_->GetCitizenship(&c2, creq, &cresp).ok());
  EXPECT_EQ(cresp.citizenship().status(), "none");
}

TEST_F(CivicApiTest, BlocksStreamFromAHeightAndResume) {
  ASSERT_TRUE(Ok(RegisterDid(kAlice)));
  const uint64_t first_tip = node_->store().height();

  // Read five blocks from height 1, then hang up.
  uint64_t last = 0;
  {
    v1::StreamBlocksRequest req;
    req.set_from_height(1);
    grpc::ClientContext ctx;
    auto reader = stub_->StreamBlocks(&ctx, req);
    v1::StreamBlocksResponse msg;
    for (uint64_t want = 1; want <= 5 && reader->Read(&msg); ++want) {
      EXPECT_EQ(msg.block().block().header().height(), want);
      EXPECT_EQ(msg.receipts_size(), msg.block().block().txs_size());
      last = want;
    }
    ctx.TryCancel();
    reader->Finish().IgnoreError();
  }
  ASSERT_EQ(last, 5u);

  // Resume after the last block received, past the tip of the first call: the stream waits for
  // new commits and carries the transaction committed meanwhile, with its receipt.
  v1::StreamBlocksRequest req;
  req.set_from_height(last + 1);
  grpc::ClientContext ctx;
  auto reader = stub_->StreamBlocks(&ctx, req);
  auto submitted = Submit(Sign(people_[kBob], [&](v1::TxBody& b) {
    b.mutable_register_did()->set_public_key(std::string(AsStringView(people_[kBob].public_key())));
  }));
  ASSERT_TRUE(submitted.resp.committed());
  const uint64_t target = submitted.resp.receipt().height();
  ASSERT_GT(target, first_tip);
  v1::StreamBlocksResponse msg;
  bool found = false;
  for (uint64_t want = last + 1; want <= target && reader->Read(&msg); ++want) {
    ASSERT_EQ(msg.block().block().header().height(), want);
    for (const auto& r : msg.receipts()) found = found || r.tx_id() == submitted.resp.tx_id();
  }
  EXPECT_TRUE(found);
  ctx.TryCancel();
  reader->Finish().IgnoreError();

  // ListBlocks pages through the same heights.
  v1::ListBlocksRequest lreq;
  lreq.set_from_height(2);
  lreq.set_to_height(6);
  lreq.set_page_size(3);
  v1::ListBlocksResponse lresp;
  {
    grpc::ClientContext c;
    ASSERT_TRUE(stub_->ListBlocks(&c, lreq, &lresp).ok());
  }
  ASSERT_EQ(lresp.blocks_size(), 3);
  EXPECT_EQ(lresp.blocks(0).block().block().header().height(), 2u);
  ASSERT_EQ(lresp.next_page_token(), "5");
  lreq.set_page_token(lresp.next_page_token());
  {
    grpc::ClientContext c;
    ASSERT_TRUE(stub_->ListBlocks(&c, lreq, &lresp).ok());
  }
  ASSERT_EQ(lresp.blocks_size(), 2);
  EXPECT_EQ(lresp.blocks(1).block().block().header().height(), 6u);
  EXPECT_TRUE(lresp.next_page_token().empty());
}

// An open event stream with a deadline, so a test that expects more than arrives fails rather
// than hangs.
struct EventStream {
  grpc::ClientContext ctx;
  std::unique_ptr<grpc::ClientReader<v1::StreamEventsResponse>> reader;

  EventStream(v1::Node::Stub& stub, const v1::StreamEventsRequest& req) {
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    reader = stub.StreamEvents(&ctx, req);
  }
  ~EventStream() {
    ctx.TryCancel();
    reader->Finish().IgnoreError();
  }
  v1::StreamEventsResponse Next() {
    v1::StreamEventsResponse msg;
    EXPECT_TRUE(reader->Read(&msg)) << "the stream ended";
    return msg;
  }
};

v1::StreamEventsRequest EventsFrom(uint64_t height, std::string topic_prefix,
                                   std::string contract = "") {
  v1::StreamEventsRequest req;
  req.set_from_height(height);
  req.set_topic_prefix(std::move(topic_prefix));
  req.set_contract(std::move(contract));
  return req;
}

TEST_F(CivicApiTest, EventsStreamReplaysFiltersAndResumes) {
  std::vector<v1::Receipt> registered;
  for (int p : {kAlice, kBob, kCarol}) registered.push_back(RegisterDid(p));
  for (const auto& r : registered) ASSERT_TRUE(Ok(r));
  const std::string registry(AsStringView(nation::DidRegistryAddress()));
  const std::string citizenship(AsStringView(nation::CitizenshipAddress()));

  // Committed before the stream opens: replayed in order, with their positions.
  EventStream dids(*stub_, EventsFrom(0, "did."));
  for (const auto& r : registered) {
    auto msg = dids.Next();
    EXPECT_EQ(msg.height(), r.height());
    EXPECT_EQ(msg.tx_index(), r.index());
    EXPECT_EQ(msg.tx_id(), r.tx_id());
    EXPECT_EQ(msg.event().topic(), "did.registered");
    EXPECT_EQ(msg.event().contract(), registry);
    ASSERT_LT(msg.event_index(), static_cast<uint32_t>(r.events_size()));
    EXPECT_EQ(msg.event().data(), r.events(static_cast<int>(msg.event_index())).data());
  }

  // New ones arrive as they commit; events of other topics (Alice's application, committed
  // first) do not.
  ASSERT_TRUE(Ok(Apply(kAlice)));
  auto service = Do(people_[kAlice], [](v1::TxBody& b) {
    auto* s = b.mutable_set_did_service();
    s->set_fragment("home");
    s->set_type("LinkedDomains");
    s->set_endpoint("https://alice.example");
  });
  ASSERT_TRUE(Ok(service));
  auto next = dids.Next();
  EXPECT_EQ(next.event().topic(), "did.service_set");
  EXPECT_EQ(next.height(), service.height());
  EXPECT_EQ(next.tx_id(), service.tx_id());

  // By contract: only the citizenship contract's events, here Alice's application.
  {
    EventStream by_contract(*stub_, EventsFrom(1, "", citizenship));
    auto msg = by_contract.Next();
    EXPECT_EQ(msg.event().contract(), citizenship);
    EXPECT_EQ(msg.event().topic(), "citizenship.applied");
  }
  // Both filters must hold: the registry's events under "did.key" (none yet), then a new one.
  {
    EventStream both(*stub_, EventsFrom(1, "did.key", registry));
    auto added = Do(people_[kBob], [](v1::TxBody& b) {
      b.mutable_add_did_key()->set_fragment("key-2");
      b.mutable_add_did_key()->set_public_key(
          std::string(AsStringView(crypto::SecretKey::Generate().public_key())));
    });
    ASSERT_TRUE(Ok(added));
    auto msg = both.Next();
    EXPECT_EQ(msg.event().topic(), "did.key_added");
    EXPECT_EQ(msg.tx_id(), added.tx_id());
  }

  // Resuming from the height after Bob's registration starts with Carol's.
  {
    ASSERT_LT(registered[1].height(), registered[2].height());
    EventStream resumed(*stub_, EventsFrom(registered[1].height() + 1, "did.registered"));
    auto msg = resumed.Next();
    EXPECT_EQ(msg.height(), registered[2].height());
    EXPECT_EQ(msg.tx_id(), registered[2].tx_id());
  }

  // A contract that is not a 20-byte address is refused with a reason.
  {
    grpc::ClientContext ctx;
    auto reader = stub_->StreamEvents(&ctx, EventsFrom(1, "", std::string(19, '\x01')));
    v1::StreamEventsResponse msg;
    EXPECT_FALSE(reader->Read(&msg));
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(Reason(ctx), "malformed_request");
  }

  // A node that stops ends an open stream itself, waiting for a block that will never come.
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  auto reader = stub_->StreamEvents(&ctx, EventsFrom(node_->store().height() + 1, ""));
  ASSERT_TRUE(Ok(Apply(kBob)));
  v1::StreamEventsResponse msg;
  ASSERT_TRUE(reader->Read(&msg));  // the stream is open on the server
  node_->Stop();
  node_.reset();
  while (reader->Read(&msg)) {
  }
  grpc::Status end = reader->Finish();
  EXPECT_EQ(end.error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_EQ(end.error_message(), "stream ended");  // the handler's, not gRPC's forced cancel
}

TEST_F(CivicApiTest, ServiceEndpointThatIsNotUtf8StillResolves) {
  ASSERT_TRUE(Ok(RegisterDid(kAlice)));
  // A typed action cannot carry these bytes (its endpoint is a proto3 string); a raw call of
  // the registry can.
  auto raw = Do(people_[kAlice], [](v1::TxBody& b) {
    nation::SetCall(nation::SetDidService("home", "LinkedDomains", "https://a.example/\xff\xfe"),
                    &b);
  });
  ASSERT_TRUE(Ok(raw));
  const std::string replaced = "https://a.example/\xEF\xBF\xBD\xEF\xBF\xBD";  // U+FFFD twice

  v1::ResolveDidRequest req;
  req.set_did(Did(kAlice));
  v1::ResolveDidResponse resp;
  {
    grpc::ClientContext ctx;
    grpc::Status st = stub_->ResolveDid(&ctx, req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }
  EXPECT_EQ(resp.updated(), raw.height());
  EXPECT_NE(resp.result_json().find(replaced), std::string::npos) << resp.result_json();
  EXPECT_FALSE(nlohmann::json::parse(resp.result_json(), nullptr, false).is_discarded());

  std::string http = HttpGet("/1.0/identifiers/" + Did(kAlice));
  ASSERT_NE(http.find("200 OK"), std::string::npos) << http;
  EXPECT_EQ(http.substr(http.find("\r\n\r\n") + 4), resp.result_json());
  http = HttpGet("/api/did/" + Did(kAlice));
  ASSERT_NE(http.find("200 OK"), std::string::npos) << http;
  EXPECT_NE(http.find(replaced), std::string::npos);

  // The node is still up and still commits.
  EXPECT_NE(HttpGet("/healthz").find("200 OK"), std::string::npos);
  EXPECT_TRUE(Ok(Apply(kAlice)));
}

// Issue 22, attack 7: a user contract emits events that look like the treasury's (a `transfer`
// out of the treasury with a `treasury.spent` for proposal 1, and transfers into it). The
// treasury's movements must not show them; a real transfer to the treasury still shows.
TEST_F(CivicApiTest, ForgedTreasuryEventsAreNotMovements) {
  const std::string treasury_hex = "0x" + ToHex(TreasuryAddress());
  auto code = casm::Assemble(R"(
export func forge(payee)
  push "transfer"
  push )" + treasury_hex + R"(
  get payee
  concat
  push 777
  itob
  concat
  emit
  push "treasury.spent"
  get payee
  push 777
  itob
  concat
  push 1
  itob
  concat
  emit
  push "transfer"
  get payee
  push )" + treasury_hex + R"(
  concat
  push 555
  itob
  concat
  emit
  push "transfer"
  self
  push )" + treasury_hex + R"(
  concat
  push 556
  itob
  concat
  emit
  ret
end
)");
  ASSERT_TRUE(code.ok()) << code.reason() << " " << code.message();
  auto deployed = Do(people_[kDave], [&](v1::TxBody& b) {
    b.mutable_deploy()->set_code(std::string(code->begin(), code->end()));
  });
  ASSERT_TRUE(Ok(deployed));
  const std::string contract = deployed.contract_address();
  const std::string payee(AsStringView(Addr(kCarol)));
  auto forged = Do(people_[kDave], [&](v1::TxBody& b) {
    b.mutable_call()->set_contract(contract);
    b.mutable_call()->set_function("forge");
    vm::Bytes args = vm::EncodeValues(std::vector<vm::Value>{vm::Value::FromString(payee)});
    b.mutable_call()->set_args(std::string(args.begin(), args.end()));
  });
  ASSERT_TRUE(Ok(forged));
  ASSERT_TRUE(HasEvent(forged, "treasury.spent"));  // the lookalikes are in the receipt
  auto real = Do(people_[kDave], [&](v1::TxBody& b) {
    b.mutable_transfer()->set_to(std::string(AsStringView(TreasuryAddress())));
    b.mutable_transfer()->set_amount(321);
  });
  ASSERT_TRUE(Ok(real));

  v1::ListTreasuryMovementsResponse moves;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub_->ListTreasuryMovements(&ctx, {}, &moves).ok());
  }
  bool real_in = false;
  for (const auto& m : moves.movements()) {
    EXPECT_NE(m.tx_id(), forged.tx_id())
        << m.kind() << " " << m.amount() << " proposal " << m.proposal_id();
    EXPECT_EQ(m.proposal_id(), 0u);
    if (m.kind() == "in" && m.tx_id() == real.tx_id()) {
      real_in = true;
      EXPECT_EQ(m.amount(), 321u);
      EXPECT_EQ(m.counterparty(), std::string(AsStringView(Addr(kDave))));
    }
  }
  EXPECT_TRUE(real_in);
}

}  // namespace
}  // namespace civitas::node
