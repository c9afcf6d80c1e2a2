// Proved answers of the nation's queries (docs/PROTOCOL.md, "Certified state") and the offline
// citizenship credential (docs/NATION.md, "Citizenship credential"), against an in-process node.
// Every lie is built by editing a real answer: a field, the height, the root, an entry, the
// council; each must be caught. Every tampering of a credential must be refused with its reason.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "civitas/v1/node.grpc.pb.h"
#include "genesis/credential.h"
#include "genesis/proven_answers.h"
#include "ledger/base58.h"
#include "ledger/civic_calls.h"
#include "ledger/did.h"
#include "ledger/keyfile.h"
#include "node/node.h"
#include "node_client.h"
#include "test_chain.h"

namespace civitas::node {
namespace {

constexpr uint64_t kProvedFunds = 100'000'000;
constexpr uint64_t kProvedDeposit = 500;

class ProvedAnswersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    council_ = crypto::SecretKey::Generate();
    alice_ = crypto::SecretKey::Generate();
    bob_ = crypto::SecretKey::Generate();
    Genesis g;
    g.chain_id = "civitas-proved";
    g.validators.push_back({"council-0", council_.public_key()});
    for (const auto* k : {&council_, &alice_, &bob_}) {
      g.accounts.push_back({AddressOf(k->public_key()), kProvedFunds});
    }
    g.accounts.push_back({TreasuryAddress(), 1'000'000});
    g.nation.citizenship_validity = 100'000;
    g.nation.voting_period_s = 1000;
    g.nation.quorum = 1000;
    g.nation.threshold = 50;
    g.nation.proposal_deposit = kProvedDeposit;
    g.params.heartbeat_ms = civitas::testing::kTestHeartbeatMs;  // heights grow while idle
    auto parsed = ParseGenesis(GenesisToJson(g));
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    genesis_ = *parsed;

    home_ = civitas::testing::TestDir("proved-answers");
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

  template <typename Fill>
  v1::Receipt Do(const crypto::SecretKey& key, Fill fill) {
    v1::TxBody body;
    body.set_chain_id(genesis_.chain_id);
    body.set_nonce(nonces_[AddressOf(key.public_key())]++);
    body.set_gas_limit(3'000'000);
    fill(body);
    auto out = civitas::testing::SubmitTx(*stub_, SignTx(key, body), true);
    EXPECT_TRUE(out.status.ok()) << out.status.error_message() << " " << out.reason;
    EXPECT_TRUE(out.resp.committed());
    EXPECT_EQ(out.resp.receipt().status(), v1::TX_STATUS_SUCCESS) << out.resp.receipt().reason();
    last_height_ = std::max(last_height_, out.resp.receipt().height());
    return out.resp.receipt();
  }

  // Blocks until a committed header certifies the state after the last transaction.
  void WaitCertified() {
    auto certified = [&] {
      auto tip = node_->store().GetBlock(node_->store().height());
      return tip.ok() ? tip->block().header().state_height() : 0;
    };
    for (int i = 0; i < 100 && certified() < last_height_; ++i) {
      node_->WaitForHeight(node_->store().height() + 1, 10'000);
    }
    ASSERT_GE(certified(), last_height_);
  }

  std::string Did(const crypto::SecretKey& k) const { return DeriveDid(k.public_key()); }

  // Alice becomes a citizen; Bob proposes a text; Alice votes on it.
  void FoundTheNation() {
    Do(alice_, [&](v1::TxBody& b) {
      b.mutable_register_did()->set_public_key(std::string(AsStringView(alice_.public_key())));
    });
    Do(bob_, [&](v1::TxBody& b) {
      b.mutable_register_did()->set_public_key(std::string(AsStringView(bob_.public_key())));
    });
    Do(alice_, [](v1::TxBody& b) { b.mutable_apply_for_citizenship(); });
    Do(council_, [&](v1::TxBody& b) {
      b.mutable_council_decision()->set_did(Did(alice_));
      b.mutable_council_decision()->set_action(v1::COUNCIL_ACTION_APPROVE);
    });
    Do(alice_, [](v1::TxBody& b) {
      b.mutable_propose_text()->set_text("a resolution");
      b.mutable_propose_text()->set_deposit(kProvedDeposit);
    });
    Do(alice_, [](v1::TxBody& b) {
      b.mutable_vote()->set_proposal_id(1);
      b.mutable_vote()->set_choice(v1::VOTE_CHOICE_YES);
      b.mutable_vote()->set_weight(700);
    });
    WaitCertified();
  }

  template <typename Req, typename Resp, typename Method>
  Resp Ask(Method method, Req req) {
    req.set_prove(true);
    Resp resp;
    grpc::ClientContext ctx;
    auto s = (stub_.get()->*method)(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_TRUE(resp.has_proof());
    return resp;
  }
  v1::GetCitizenshipResponse Citizenship(const std::string& did) {
    v1::GetCitizenshipRequest req;
    req.set_did(did);
    return Ask<v1::GetCitizenshipRequest, v1::GetCitizenshipResponse>(
        &v1::Node::Stub::GetCitizenship, req);
  }

  // The lies every proved answer must be caught in: the height, the certified root, the
  // certificate, a proven entry's value, a missing entry, a council the genesis does not name.
  template <typename Resp, typename CheckFn>
  void ExpectCommonLiesCaught(const Resp& truth, CheckFn check) {
    ASSERT_TRUE(check(truth, genesis_.first_epoch()).ok())
        << check(truth, genesis_.first_epoch()).status().ToString();
    auto expect_caught = [&](const Resp& lie, const char* what) {
      auto r = check(lie, genesis_.first_epoch());
      EXPECT_FALSE(r.ok()) << what;
      if (!r.ok()) {
        EXPECT_EQ(r.status().reason(), "bad_proof") << what << ": " << r.status().ToString();
      }
    };
    Resp lie = truth;
    lie.set_height(truth.height() - 1);
    expect_caught(lie, "height");
    lie = truth;
    lie.mutable_proof()->set_height(truth.proof().height() - 1);
    lie.set_height(truth.height() - 1);
    expect_caught(lie, "height of answer and bundle");
    lie = truth;
    lie.mutable_proof()
        ->mutable_certifying_block()
        ->mutable_block()
        ->mutable_header()
        ->mutable_state_root()
        ->at(0) ^= 1;
    expect_caught(lie, "root");
    lie = truth;
    lie.mutable_proof()
        ->mutable_certifying_block()
        ->mutable_commit_qc()
        ->mutable_signers(0)
        ->mutable_signature()
        ->at(0) ^= 1;
    expect_caught(lie, "certificate");
    ASSERT_GT(truth.proof().entries_size(), 0);
    for (int i = 0; i < truth.proof().entries_size(); ++i) {
      lie = truth;
      auto* e = lie.mutable_proof()->mutable_entries(i);
      if (e->present()) {
        e->mutable_value()->push_back('\x01');
      } else {
        e->set_present(true);
        e->set_value(std::string(8, '\0'));
      }
      expect_caught(lie, "entry value");
      lie = truth;
      lie.mutable_proof()->mutable_entries()->DeleteSubrange(i, 1);
      expect_caught(lie, "missing entry");
    }
    lie = truth;
    lie.clear_proof();
    expect_caught(lie, "no proof");
    // The same answer checked by a client whose genesis names another council.
    auto other = civitas::testing::MakeTestChain(1).genesis.first_epoch();
    auto r = check(truth, other);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.status().reason(), "bad_proof");
  }

  Genesis genesis_;
  crypto::SecretKey council_ = crypto::SecretKey::Generate();
  crypto::SecretKey alice_ = crypto::SecretKey::Generate();
  crypto::SecretKey bob_ = crypto::SecretKey::Generate();
  std::map<Address, uint64_t> nonces_;
  uint64_t last_height_ = 0;
  std::string home_;
  std::unique_ptr<Node> node_;
  std::unique_ptr<v1::Node::Stub> stub_;
};

TEST_F(ProvedAnswersTest, CitizenshipAnswerIsCheckedAndEveryLieCaught) {
  FoundTheNation();
  const auto id = *ParseDid(Did(alice_));
  auto truth = Citizenship(Did(alice_));
  EXPECT_EQ(truth.citizenship().status(), "citizen");
  EXPECT_TRUE(truth.citizenship().in_good_standing());
  EXPECT_EQ(truth.citizenship().controller(), Did(alice_) + "#key-1");
  auto check = [&](const v1::GetCitizenshipResponse& r, const Epoch& first) {
    return nation::CheckCitizenshipAnswer(genesis_.chain_id, first, id, r);
  };
  ExpectCommonLiesCaught(truth, check);
  // Lies about each field of the record.
  std::vector<std::function<void(v1::CitizenshipRecord*)>> edits = {
      [](auto* c) { c->set_status("suspended"); },
      [](auto* c) { c->set_in_good_standing(false); },
      [](auto* c) { c->set_expiry(c->expiry() + 1); },
      [](auto* c) { c->set_since(c->since() + 1); },
      [](auto* c) { c->set_applied(c->applied() + 1); },
      [](auto* c) { c->set_controller_key(std::string(32, '\x02')); },
      [&](auto* c) { c->set_did(Did(bob_)); },
  };
  for (size_t i = 0; i < edits.size(); ++i) {
    auto lie = truth;
    edits[i](lie.mutable_citizenship());
    auto r = check(lie, genesis_.first_epoch());
    ASSERT_FALSE(r.ok()) << "edit " << i;
    EXPECT_EQ(r.status().reason(), "bad_proof");
  }
  // A true answer about Bob is not an answer about Alice.
  auto bob = Citizenship(Did(bob_));
  EXPECT_EQ(bob.citizenship().status(), "none");
  EXPECT_FALSE(check(bob, genesis_.first_epoch()).ok());
  // prove answers only at the latest certified height.
  v1::GetCitizenshipRequest req;
  req.set_did(Did(alice_));
  req.set_prove(true);
  req.set_at_height(1);
  v1::GetCitizenshipResponse resp;
  grpc::ClientContext ctx;
  auto s = stub_->GetCitizenship(&ctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(civitas::testing::ReasonOf(ctx), "invalid_request");
}

TEST_F(ProvedAnswersTest, DidAnswerIsCheckedWithItsBlockTimes) {
  FoundTheNation();
  v1::ResolveDidRequest req;
  req.set_did(Did(alice_));
  auto truth = Ask<v1::ResolveDidRequest, v1::ResolveDidResponse>(&v1::Node::Stub::ResolveDid, req);
  EXPECT_GE(truth.proof().dated_blocks_size(), 1);
  auto check = [&](const v1::ResolveDidResponse& r, const Epoch& first) {
    return nation::CheckDidAnswer(genesis_.chain_id, first, Did(alice_), r);
  };
  ExpectCommonLiesCaught(truth, check);
  auto lie = truth;
  auto doc = nlohmann::json::parse(truth.result_json());
  doc["didDocument"]["verificationMethod"][0]["publicKeyMultibase"] = "zQ3shbogus";
  lie.set_result_json(doc.dump());
  EXPECT_EQ(check(lie, genesis_.first_epoch()).status().reason(), "bad_proof");
  lie = truth;
  lie.set_deactivated(true);
  EXPECT_EQ(check(lie, genesis_.first_epoch()).status().reason(), "bad_proof");
  lie = truth;
  lie.set_version_id(truth.version_id() + 1);
  EXPECT_EQ(check(lie, genesis_.first_epoch()).status().reason(), "bad_proof");
  // The time shown comes from a certified block: a forged block time is caught.
  lie = truth;
  auto* h = lie.mutable_proof()->mutable_dated_blocks(0)->mutable_block()->mutable_header();
  h->set_time_ms(h->time_ms() + 3'600'000);
  EXPECT_EQ(check(lie, genesis_.first_epoch()).status().reason(), "bad_proof");
  lie = truth;
  lie.mutable_proof()->clear_dated_blocks();
  EXPECT_EQ(check(lie, genesis_.first_epoch()).status().reason(), "bad_proof");
  // The answer about Alice does not pass as one about Bob.
  EXPECT_FALSE(
      nation::CheckDidAnswer(genesis_.chain_id, genesis_.first_epoch(), Did(bob_), truth).ok());
}

TEST_F(ProvedAnswersTest, ProposalAndTallyAnswerIsCheckedAndEveryLieCaught) {
  FoundTheNation();
  v1::GetProposalRequest req;
  req.set_id(1);
  auto truth =
      Ask<v1::GetProposalRequest, v1::GetProposalResponse>(&v1::Node::Stub::GetProposal, req);
  EXPECT_EQ(truth.proposal().tally().yes(), 700u);
  auto check = [&](const v1::GetProposalResponse& r, const Epoch& first) {
    return nation::CheckProposalAnswer(genesis_.chain_id, first, 1, r);
  };
  ExpectCommonLiesCaught(truth, check);
  std::vector<std::function<void(v1::ProposalInfo*)>> edits = {
      [](auto* p) { p->mutable_tally()->set_yes(p->tally().yes() + 1); },
      [](auto* p) { p->mutable_tally()->set_no(1); },
      [](auto* p) { p->mutable_tally()->set_quorum_reached(!p->tally().quorum_reached()); },
      [](auto* p) { p->mutable_tally()->set_passing(!p->tally().passing()); },
      [](auto* p) { p->set_status("passed"); },
      [](auto* p) { p->set_text("another resolution"); },
      [](auto* p) { p->set_end(p->end() + 1); },
      [](auto* p) { p->set_voters(p->voters() + 1); },
  };
  for (size_t i = 0; i < edits.size(); ++i) {
    auto lie = truth;
    edits[i](lie.mutable_proposal());
    auto r = check(lie, genesis_.first_epoch());
    ASSERT_FALSE(r.ok()) << "edit " << i;
    EXPECT_EQ(r.status().reason(), "bad_proof");
  }
  // An answer about proposal 1 is not one about proposal 2.
  EXPECT_FALSE(
      nation::CheckProposalAnswer(genesis_.chain_id, genesis_.first_epoch(), 2, truth).ok());
}

TEST_F(ProvedAnswersTest, TreasuryAnswerIsCheckedAndEveryLieCaught) {
  FoundTheNation();
  auto truth = Ask<v1::GetTreasuryRequest, v1::GetTreasuryResponse>(&v1::Node::Stub::GetTreasury,
                                                                    v1::GetTreasuryRequest{});
  EXPECT_GE(truth.balance(), 1'000'000u);
  auto check = [&](const v1::GetTreasuryResponse& r, const Epoch& first) {
    return nation::CheckTreasuryAnswer(genesis_.chain_id, first, r);
  };
  ExpectCommonLiesCaught(truth, check);
  for (int field = 0; field < 3; ++field) {
    auto lie = truth;
    if (field == 0) lie.set_balance(truth.balance() + 1);
    if (field == 1) lie.set_spent(truth.spent() + 1);
    if (field == 2) lie.set_address(std::string(20, '\x07'));
    auto r = check(lie, genesis_.first_epoch());
    ASSERT_FALSE(r.ok()) << "field " << field;
    EXPECT_EQ(r.status().reason(), "bad_proof");
  }
}

// ---- The credential.
// -----------------------------------------------------------------------------

class CitizenshipCredentialTest : public ProvedAnswersTest {
 protected:
  nlohmann::json Issue() {
    auto vc = nation::IssueCredential(genesis_, Did(alice_), Citizenship(Did(alice_)));
    EXPECT_TRUE(vc.ok()) << vc.status().ToString();
    return vc.ok() ? *vc : nlohmann::json();
  }
  uint64_t Now() const {
    auto tip = node_->store().GetBlock(node_->store().height());
    return tip.ok() ? tip->block().header().time_ms() : 0;
  }
  std::string Refusal(const nlohmann::json& doc, nation::VerifyOptions options,
                      const Genesis* genesis = nullptr) {
    if (options.now_ms == 0) options.now_ms = Now();
    auto r = nation::VerifyCredential(genesis ? *genesis : genesis_, doc, options);
    return r.ok() ? "accepted" : r.status().reason();
  }
};

TEST_F(CitizenshipCredentialTest, AValidCredentialVerifiesOfflineAndDisclosesOnlyItsClaims) {
  FoundTheNation();
  const auto vc = Issue();
  ASSERT_FALSE(vc.is_null());
  // The node is gone: what follows uses only the genesis and the file.
  node_->Stop();
  const uint64_t now = Now() + 5'000;
  auto v = nation::VerifyCredential(genesis_, nlohmann::json::parse(vc.dump()), {now, {}, {}});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->did, Did(alice_));
  EXPECT_FALSE(v->presented);
  EXPECT_GE(v->age_ms, 5'000u);
  EXPECT_EQ(vc["credentialSubject"]["status"], "citizen");
  EXPECT_EQ(vc["issuer"], nation::NationUrn(genesis_));
  // Only the DID, the status, the nation and the validity: no balance, no votes, no record dates.
  EXPECT_EQ(vc["credentialSubject"].size(), 4u);
  EXPECT_EQ(std::string(vc["proof"]["proofValue"]).substr(0, 1), "u");
  // Proof freshness: a verifier may ask for a newer proof.
  EXPECT_EQ(Refusal(vc, {now, {}, 1'000}), "too_old");
  EXPECT_EQ(Refusal(vc, {now, {}, 3'600'000}), "accepted");
  // Expiry by the verifier's clock.
  EXPECT_EQ(Refusal(vc, {now + nation::kCredentialLifetimeMs, {}, {}}), "expired");
}

TEST_F(CitizenshipCredentialTest, EveryTamperingIsRefusedWithItsReason) {
  FoundTheNation();
  const auto vc = Issue();
  ASSERT_EQ(Refusal(vc, {}), "accepted");
  auto edited = [&](auto edit) {
    nlohmann::json copy = vc;
    edit(copy);
    return copy;
  };
  EXPECT_EQ(Refusal(edited([](auto& j) { j["credentialSubject"]["status"] = "suspended"; }), {}),
            "bad_credential");
  // Bob's standing is not in Alice's proof.
  EXPECT_EQ(Refusal(edited([&](auto& j) { j["credentialSubject"]["id"] = Did(bob_); }), {}),
            "bad_proof");
  EXPECT_EQ(Refusal(edited([](auto& j) { j["validUntil"] = "2099-01-01T00:00:00Z"; }), {}),
            "bad_credential");
  EXPECT_EQ(Refusal(edited([](auto& j) { j["credentialSubject"]["balance"] = 5; }), {}),
            "bad_credential");
  // Proof bytes: flip a character inside the proofValue, and cut it short.
  std::string value = vc["proof"]["proofValue"];
  for (size_t at : {value.size() / 2, value.size() - 40}) {
    std::string flipped = value;
    flipped[at] = flipped[at] == 'A' ? 'B' : 'A';
    auto r = Refusal(edited([&](auto& j) { j["proof"]["proofValue"] = flipped; }), {});
    EXPECT_TRUE(r == "bad_proof" || r == "bad_credential") << r;
  }
  EXPECT_EQ(Refusal(edited([&](auto& j) {
                      j["proof"]["proofValue"] = value.substr(0, 1 + (value.size() / 2) / 4 * 4);
                    }),
                    {}),
            "bad_proof");
  // A verifier of another nation.
  Genesis other = civitas::testing::MakeTestChain(1).genesis;
  EXPECT_EQ(Refusal(vc, {}, &other), "wrong_nation");
  // A verifier that gives a challenge wants a presentation.
  EXPECT_EQ(Refusal(vc, {0, "nonce-1", {}}), "not_presented");
}

TEST_F(CitizenshipCredentialTest, PresentationBindsTheHolderAndTheChallenge) {
  FoundTheNation();
  const auto vc = Issue();
  auto vp = nation::PresentCredential(genesis_, vc, "nonce-1", alice_, Now());
  ASSERT_TRUE(vp.ok()) << vp.status().ToString();
  EXPECT_EQ(Refusal(*vp, {0, "nonce-1", {}}), "accepted");
  EXPECT_EQ(Refusal(*vp, {0, "nonce-2", {}}), "wrong_challenge");
  // Someone else's key cannot present it.
  EXPECT_EQ(nation::PresentCredential(genesis_, vc, "nonce-1", bob_, Now()).status().reason(),
            "not_controller");
  // A signature swapped in from another challenge does not verify.
  auto other = nation::PresentCredential(genesis_, vc, "nonce-2", alice_, Now());
  ASSERT_TRUE(other.ok());
  auto forged = *vp;
  forged["proof"]["proofValue"] = (*other)["proof"]["proofValue"];
  EXPECT_EQ(Refusal(forged, {0, "nonce-1", {}}), "bad_holder_signature");
}

TEST_F(CitizenshipCredentialTest, ASignatureByARotatedAwayKeyIsRefused) {
  FoundTheNation();
  // Alice rotates her controller key to a new one; the credential is issued after.
  const auto new_key = crypto::SecretKey::Generate();
  v1::ResolveDidRequest rreq;
  rreq.set_did(Did(alice_));
  v1::ResolveDidResponse rresp;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub_->ResolveDid(&ctx, rreq, &rresp).ok());
  }
  const auto id = *ParseDid(Did(alice_));
  const auto consent =
      nation::SignDidRotation(new_key, id, alice_.public_key(), rresp.version_id());
  Do(alice_, [&](v1::TxBody& b) {
    auto* r = b.mutable_rotate_did_key();
    r->set_fragment("key-2");
    r->set_public_key(std::string(AsStringView(new_key.public_key())));
    r->set_signature(std::string(AsStringView(consent)));
  });
  WaitCertified();
  const auto vc = Issue();
  // The old key cannot present; forge its signature into a presentation: refused.
  EXPECT_EQ(nation::PresentCredential(genesis_, vc, "c", alice_, Now()).status().reason(),
            "not_controller");
  auto vp = nation::PresentCredential(genesis_, vc, "c", new_key, Now());
  ASSERT_TRUE(vp.ok()) << vp.status().ToString();
  EXPECT_EQ((*vp)["proof"]["verificationMethod"], Did(alice_) + "#key-2");
  EXPECT_EQ(Refusal(*vp, {0, "c", {}}), "accepted");
  auto forged = *vp;
  // The right message, signed by the rotated-away key, under either key id.
  const std::string value = vc["proof"]["proofValue"];
  const auto proof_bytes = *nation::DecodeProofValue(value);
  const auto sig =
      crypto::SignTagged(alice_, nation::kPresentationTag,
                         nation::PresentationMessage(genesis_, Did(alice_), "c", proof_bytes));
  forged["proof"]["proofValue"] = "z" + Base58Encode(sig.data(), sig.size());
  EXPECT_EQ(Refusal(forged, {0, "c", {}}), "bad_holder_signature");
  forged["proof"]["verificationMethod"] = Did(alice_) + "#key-1";
  EXPECT_EQ(Refusal(forged, {0, "c", {}}), "bad_holder_signature");
}

// ---- The CLI, as a citizen and a verifier run it. -----------------------------------------------

class ProvedCliTest : public CitizenshipCredentialTest {
 protected:
  struct Run {
    int code = -1;
    std::string out, err;
  };
  // Runs the `civitas` binary with `args` against the node (stdin empty, output captured).
  Run Civitas(const std::string& args) {
    const std::string out = home_ + "/cli.out", err = home_ + "/cli.err";
    const std::string cmd = std::string(CIVITAS_CLI) +
                            " --node 127.0.0.1:" + std::to_string(node_->grpc_port()) + " " + args +
                            " </dev/null >" + out + " 2>" + err;
    Run r;
    const int status = std::system(cmd.c_str());
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = Slurp(out);
    r.err = Slurp(err);
    return r;
  }
  static std::string Slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  std::string WriteGenesis() {
    const std::string path = home_ + "/genesis.json";
    std::ofstream(path) << GenesisToJson(genesis_);
    return path;
  }
};

// Issue 25: the CLI names the reason of a refusal, read from the ErrorInfo of the error details.
TEST_F(ProvedCliTest, ARefusalPrintsItsReason) {
  Run r = Civitas("tx " + std::string(64, '0'));
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("[not_found]"), std::string::npos) << r.err;
}

TEST_F(ProvedCliTest, ProvedQueriesPrintWhatTheyChecked) {
  FoundTheNation();
  const std::string genesis = WriteGenesis();
  const std::vector<std::string> queries = {"citizenship show " + Did(alice_),
                                            "did resolve " + Did(alice_), "proposal tally 1",
                                            "treasury"};
  for (const std::string& query : queries) {
    auto r = Civitas("-o json " + query + " --prove --genesis " + genesis);
    ASSERT_EQ(r.code, 0) << query << ": " << r.err;
    auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["verified"]["chain_id"], genesis_.chain_id) << query;
    EXPECT_GE(j["verified"]["state_entries_proven"].get<int>(), 1) << query;
    EXPECT_EQ(j["verified"]["state_height"], j["height"]) << query;
  }
  // Without the genesis file there is nothing to check against.
  EXPECT_EQ(Civitas("treasury --prove").code, 1);
}

TEST_F(ProvedCliTest, IssuePresentVerify) {
  FoundTheNation();
  const std::string genesis = WriteGenesis();
  const std::string key = home_ + "/alice.key";
  ASSERT_TRUE(WriteKeyFile(key, alice_).ok());
  const std::string vc = home_ + "/vc.json", vp = home_ + "/vp.json";
  auto r = Civitas("credential issue " + Did(alice_) + " --genesis " + genesis + " --out " + vc);
  ASSERT_EQ(r.code, 0) << r.err;
  r = Civitas("-o json credential verify " + vc + " --genesis " + genesis);
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["did"], Did(alice_));
  EXPECT_TRUE(j.contains("proof_age_seconds"));
  EXPECT_EQ(j["holder_signature"], "none");
  r = Civitas("credential verify " + vc + " --genesis " + genesis + " --challenge n-7");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("not_presented"), std::string::npos) << r.err;
  r = Civitas("credential present " + vc + " --challenge n-7 --key " + key + " --genesis " +
              genesis + " --out " + vp);
  ASSERT_EQ(r.code, 0) << r.err;
  r = Civitas("-o json credential verify " + vp + " --genesis " + genesis + " --challenge n-7");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["challenge"], "n-7");
  r = Civitas("credential verify " + vp + " --genesis " + genesis + " --challenge n-8");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("wrong_challenge"), std::string::npos) << r.err;
  // Bob cannot present Alice's credential.
  const std::string bob_key = home_ + "/bob.key";
  ASSERT_TRUE(WriteKeyFile(bob_key, bob_).ok());
  r = Civitas("credential present " + vc + " --challenge n-7 --key " + bob_key + " --genesis " +
              genesis);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("not_controller"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace civitas::node
