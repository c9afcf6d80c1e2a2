// The block explorer (node/explorer.h, docs/EXPLORER.md) against a real single-validator node:
// citizens act through signed civic transactions, then headless Chromium renders each page of
// the explorer and the test reads the DOM it produced; the JSON API's errors are checked over
// plain HTTP. Skips only when no Chromium is installed (CI installs it: scripts/setup.sh).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "civitas/v1/node.grpc.pb.h"
#include "ledger/did.h"
#include "node/node.h"
#include "node_client.h"
#include "test_chain.h"

namespace civitas::node {
namespace {

constexpr uint64_t kFunds = 100'000'000;
constexpr uint64_t kTreasuryFunds = 1'000'000;
constexpr uint64_t kDeposit = 500;
constexpr uint64_t kVotingPeriod = 3;  // seconds of block time
constexpr uint64_t kQuorum = 1000;
constexpr uint64_t kGift = 12'345;  // Carol's transfer to the treasury
constexpr uint64_t kSpend = 1'000;  // the treasury's payment to Carol
// A proposal note and a DID service endpoint that would run script if they reached the DOM
// as markup.
const char* const kNote = "a bridge <b>over</b> the river";
const char* const kEndpoint = "https://alice.example/<img src=x onerror=alert(1)>";

// The Chromium binary: $CHROMIUM, else the first of chromium / chromium-browser on PATH.
std::string FindChromium() {
  if (const char* env = std::getenv("CHROMIUM"); env && *env) return env;
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    for (const char* name : {"chromium", "chromium-browser"}) {
      auto candidate = std::filesystem::path(dir) / name;
      if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    }
  }
  return "";
}

struct HttpAnswer {
  int status = 0;
  std::string headers;
  std::string body;
};

HttpAnswer ParseHttp(const std::string& raw) {
  HttpAnswer a;
  if (raw.size() > 12) a.status = std::atoi(raw.substr(9, 3).c_str());
  auto split = raw.find("\r\n\r\n");
  a.headers = raw.substr(0, split);
  a.body = split == std::string::npos ? "" : raw.substr(split + 4);
  return a;
}

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = haystack.find(needle); pos != std::string::npos;
       pos = haystack.find(needle, pos + needle.size())) {
    ++n;
  }
  return n;
}

class ExplorerTest : public ::testing::Test {
 protected:
  enum Person { kAlice, kBob, kCarol, kDave, kPeople };

  void SetUp() override {
    chromium_ = FindChromium();
    if (chromium_.empty()) GTEST_SKIP() << "no chromium on PATH (apt-get install chromium)";
    auto nation = civitas::testing::MakeSoloNation({.chain_id = "civitas-explorer",
                                                    .people = kPeople,
                                                    .funds = kFunds,
                                                    .treasury_funds = kTreasuryFunds,
                                                    .voting_period_s = kVotingPeriod,
                                                    .quorum = kQuorum,
                                                    .proposal_deposit = kDeposit,
                                                    .heartbeat_ms = 100});
    council_ = nation.council;
    people_ = nation.people;
    genesis_ = nation.genesis;

    home_ = civitas::testing::TestDir("explorer");
    Config config;
    config.home = home_;
    config.grpc_listen = "127.0.0.1:0";
    config.http_listen = "127.0.0.1:0";
    config.p2p_listen = "127.0.0.1:0";
    // Empty blocks every 100 ms (the genesis heartbeat): the voting period passes in a few
    // seconds, and the chain stays short enough for the default treasury-movement window (the
    // last 1,000 blocks).
    config.block_interval_ms = 100;
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
    if (!home_.empty()) std::filesystem::remove_all(home_);
  }

  template <typename Fill>
  v1::Transaction Sign(const crypto::SecretKey& key, Fill fill) {
    v1::TxBody body;
    body.set_chain_id(genesis_.chain_id);
    body.set_nonce(nonces_[AddressOf(key.public_key())]++);
    body.set_gas_limit(3'000'000);
    fill(body);
    return SignTx(key, body);
  }
  // Submits and waits for the commit; returns the receipt, which must be a success.
  template <typename Fill>
  v1::Receipt Do(const crypto::SecretKey& key, Fill fill) {
    auto out = civitas::testing::SubmitTx(*stub_, Sign(key, fill), true);
    EXPECT_TRUE(out.status.ok()) << out.status.error_message() << " " << out.reason;
    EXPECT_TRUE(out.resp.committed());
    EXPECT_EQ(out.resp.receipt().status(), v1::TX_STATUS_SUCCESS) << out.resp.receipt().reason();
    return out.resp.receipt();
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

  HttpAnswer Get(const std::string& path) {
    return ParseHttp(civitas::testing::HttpGet(node_->http_port(), path));
  }

  // Renders each route (the part after '#') in its own headless Chromium, all at once, and
  // returns the serialized DOMs by route.
  std::map<std::string, std::string> Render(const std::vector<std::string>& routes) {
    struct Run {
      std::string route, out_path;
      pid_t pid = -1;
      int status = -1;
    };
    std::vector<Run> runs;
    for (const auto& route : std::set<std::string>(routes.begin(), routes.end())) {
      const std::string profile = home_ + "/chromium-" + std::to_string(runs.size());
      std::filesystem::create_directories(profile);
      Run run{route, profile + ".dom"};
      const std::string url =
          "http://127.0.0.1:" + std::to_string(node_->http_port()) + "/#" + route;
      std::vector<std::string> args = {chromium_,
                                       "--headless",
                                       "--no-sandbox",
                                       "--disable-gpu",
                                       "--disable-quic",
                                       "--no-first-run",
                                       "--disable-background-networking",
                                       "--disable-component-update",
                                       "--disable-sync",
                                       "--disable-dev-shm-usage",
                                       "--user-data-dir=" + profile,
                                       "--virtual-time-budget=5000",
                                       "--dump-dom",
                                       url};
      run.pid = ::fork();
      if (run.pid == 0) {
        ::setpgid(0, 0);  // its own group, so a timeout ends the browser's helpers too
        FILE* out = std::freopen(run.out_path.c_str(), "w", stdout);
        FILE* err = std::freopen((profile + ".log").c_str(), "w", stderr);
        if (out == nullptr || err == nullptr) ::_exit(126);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        ::execv(argv[0], argv.data());
        ::_exit(127);
      }
      EXPECT_GT(run.pid, 0);
      if (run.pid > 0) ::setpgid(run.pid, run.pid);
      runs.push_back(std::move(run));
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
    for (auto& run : runs) {
      if (run.pid <= 0) continue;
      while (::waitpid(run.pid, &run.status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
          ::kill(-run.pid, SIGKILL);
          ::waitpid(run.pid, &run.status, 0);
          ADD_FAILURE() << "chromium did not finish rendering #" << run.route;
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      ::kill(-run.pid, SIGKILL);  // helpers left behind, if any
    }
    std::map<std::string, std::string> doms;
    for (const auto& run : runs) {
      EXPECT_TRUE(WIFEXITED(run.status) && WEXITSTATUS(run.status) == 0)
          << "chromium exit status " << run.status << " for #" << run.route;
      std::ifstream in(run.out_path);
      std::stringstream dom;
      dom << in.rdbuf();
      EXPECT_NE(dom.str().find("<main id=\"view\">"), std::string::npos)
          << "#" << run.route << " did not render:\n"
          << dom.str();
      EXPECT_EQ(dom.str().find("class=\"error\""), std::string::npos)
          << "#" << run.route << " shows an error:\n"
          << dom.str();
      doms[run.route] = dom.str();
    }
    return doms;
  }

  Genesis genesis_;
  crypto::SecretKey council_ = crypto::SecretKey::Generate();
  std::vector<crypto::SecretKey> people_;
  std::map<Address, uint64_t> nonces_;
  std::string home_;
  std::string chromium_;
  int renders_ = 0;
  std::unique_ptr<Node> node_;
  std::unique_ptr<v1::Node::Stub> stub_;
};

TEST_F(ExplorerTest, PagesShowWhatTheChainHolds) {
  // ---- The chain: DIDs, two citizens, a service, a spend proposal, votes, a gift, a payment.
  std::map<int, v1::Receipt> registered;
  for (int p : {kAlice, kBob, kCarol}) {
    registered[p] = Do(people_[p], [&](v1::TxBody& b) {
      b.mutable_register_did()->set_public_key(std::string(AsStringView(people_[p].public_key())));
    });
  }
  for (int p : {kAlice, kBob}) {
    Do(people_[p], [](v1::TxBody& b) { b.mutable_apply_for_citizenship(); });
    Do(council_, [&](v1::TxBody& b) {
      b.mutable_council_decision()->set_did(Did(p));
      b.mutable_council_decision()->set_action(v1::COUNCIL_ACTION_APPROVE);
    });
  }
  auto service = Do(people_[kAlice], [](v1::TxBody& b) {
    auto* s = b.mutable_set_did_service();
    s->set_fragment("home");
    s->set_type("LinkedDomains");
    s->set_endpoint(kEndpoint);
  });
  auto proposed = Do(people_[kAlice], [&](v1::TxBody& b) {
    auto* s = b.mutable_propose_spend();
    s->set_to(std::string(AsStringView(Addr(kCarol))));
    s->set_amount(kSpend);
    s->set_note(kNote);
    s->set_deposit(kDeposit);
  });
  // Two votes in one block: Alice's is not waited for.
  auto vote = [&](int p, v1::VoteChoice choice, uint64_t weight) {
    return Sign(people_[p], [&](v1::TxBody& b) {
      b.mutable_vote()->set_proposal_id(1);
      b.mutable_vote()->set_choice(choice);
      b.mutable_vote()->set_weight(weight);
    });
  };
  auto alice_vote =
      civitas::testing::SubmitTx(*stub_, vote(kAlice, v1::VOTE_CHOICE_YES, 700), false);
  ASSERT_TRUE(alice_vote.status.ok()) << alice_vote.reason;
  auto bob_vote = civitas::testing::SubmitTx(*stub_, vote(kBob, v1::VOTE_CHOICE_NO, 400), true);
  ASSERT_TRUE(bob_vote.resp.committed());
  ASSERT_EQ(bob_vote.resp.receipt().status(), v1::TX_STATUS_SUCCESS);
  const uint64_t vote_height = bob_vote.resp.receipt().height();
  auto gift = Do(people_[kCarol], [&](v1::TxBody& b) {
    b.mutable_transfer()->set_to(std::string(AsStringView(TreasuryAddress())));
    b.mutable_transfer()->set_amount(kGift);
  });
  // The vote ends kVotingPeriod seconds of block time after the proposal's block.
  {
    auto proposed_block = node_->store().GetBlock(proposed.height());
    ASSERT_TRUE(proposed_block.ok());
    const uint64_t end_s = proposed_block->block().header().time_ms() / 1000 + kVotingPeriod;
    for (int i = 0; i < 10'000; ++i) {
      const uint64_t h = node_->store().height();
      auto b = node_->store().GetBlock(h);
      ASSERT_TRUE(b.ok());
      if (b->block().header().time_ms() / 1000 >= end_s) break;
      ASSERT_TRUE(node_->WaitForHeight(h + 1, 30'000));
    }
  }
  auto executed =
      Do(people_[kBob], [](v1::TxBody& b) { b.mutable_execute_proposal()->set_proposal_id(1); });
  const uint64_t treasury = Balance(TreasuryAddress());  // no fees flow in after this

  // ---- The JSON API: answers and errors.
  auto status = Get("/api/status");
  EXPECT_EQ(status.status, 200);
  EXPECT_NE(status.body.find("\"chain_id\":\"civitas-explorer\""), std::string::npos);
  auto page = Get("/");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.headers.find("Content-Security-Policy: default-src 'none'; script-src 'self'"),
            std::string::npos)
      << page.headers;
  EXPECT_NE(page.headers.find("text/html"), std::string::npos);
  EXPECT_EQ(Get("/static/app.js").status, 200);
  EXPECT_EQ(Get("/static/missing.js").status, 404);
  struct Case {
    std::string path;
    int status;
    std::string reason;
  };
  const std::string unknown_id(64, '0');
  for (const Case& c : std::vector<Case>{
           {"/api/blocks/abc", 400, "bad_request"},
           {"/api/blocks/0", 404, "not_found"},
           {"/api/blocks/99999999", 404, "not_found"},
           {"/api/blocks/" + unknown_id, 404, "not_found"},
           {"/api/blocks?limit=0", 400, "bad_request"},
           {"/api/blocks?before=x", 400, "bad_request"},
           {"/api/blocks?colour=red", 400, "bad_request"},
           {"/api/tx/xyz", 400, "bad_request"},
           {"/api/tx/" + unknown_id, 404, "not_found"},
           {"/api/did/did:civitas:0OIl", 400, "invalid_did"},
           {"/api/did/" + Did(kDave), 404, "not_found"},
           {"/api/did/" + Did(kAlice) + "?version=9", 404, "version_not_found"},
           {"/api/proposals/0", 400, "bad_request"},
           {"/api/proposals/7", 404, "not_found"},
           {"/api/treasury?points=1", 400, "bad_request"},
           {"/api/citizens?start=%zz", 400, "bad_request"},
           {"/api/nothing", 404, "not_found"},
       }) {
    auto a = Get(c.path);
    EXPECT_EQ(a.status, c.status) << c.path << ": " << a.body;
    EXPECT_NE(a.body.find("\"error\":\"" + c.reason + "\""), std::string::npos)
        << c.path << ": " << a.body;
    EXPECT_NE(a.headers.find("application/json"), std::string::npos) << c.path;
  }
  auto limited = Get("/api/blocks?limit=100000");  // clamped to 100
  EXPECT_EQ(limited.status, 200);
  EXPECT_LE(Count(limited.body, "\"commit_signers\""), 100u);

  // ---- Every page, rendered at once.
  auto hex = [](const std::string& bytes) {
    return ToHex(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  };
  uint64_t alice_vote_height = 0;
  {
    v1::GetTransactionRequest req;
    req.set_tx_id(alice_vote.resp.tx_id());
    v1::GetTransactionResponse resp;
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub_->GetTransaction(&ctx, req, &resp).ok());
    alice_vote_height = resp.receipt().height();
  }
  const std::string blocks = "/", vote_block = "/block/" + std::to_string(vote_height),
                    alice_block = "/block/" + std::to_string(alice_vote_height),
                    tx = "/tx/" + hex(gift.tx_id()), did = "/did/" + Did(kAlice),
                    proposals = "/proposals", treasury_page = "/treasury";
  const uint64_t tip_before = node_->store().height();
  auto doms = Render({blocks, vote_block, alice_block, tx, did, proposals, treasury_page});
  const uint64_t tip_after = node_->store().height();

  // Latest blocks: consecutive heights, newest first, ending at the tip of the moment.
  std::string dom = doms[blocks];
  std::vector<uint64_t> heights;
  // (No <regex>: GCC 12 warns inside it under the sanitizers, and warnings are errors.)
  const std::string row = "<tr data-height=\"";
  for (size_t at = dom.find(row); at != std::string::npos; at = dom.find(row, at + 1)) {
    heights.push_back(std::stoull(dom.substr(at + row.size(), 20)));
  }
  ASSERT_EQ(heights.size(), 20u) << dom;
  EXPECT_GE(heights.front(), tip_before);
  EXPECT_LE(heights.front(), tip_after);
  for (size_t i = 1; i < heights.size(); ++i) EXPECT_EQ(heights[i], heights[i - 1] - 1);
  EXPECT_NE(dom.find("council-0"), std::string::npos);  // the proposer, by name

  // A block and its transactions (Alice's vote is in the same block or an earlier one).
  dom = doms[vote_block];
  EXPECT_NE(dom.find("<h1>Block " + std::to_string(vote_height) + "</h1>"), std::string::npos);
  EXPECT_NE(dom.find("data-tx=\"" + hex(bob_vote.resp.tx_id()) + "\""), std::string::npos) << dom;
  EXPECT_NE(dom.find(">" + hex(bob_vote.resp.tx_id()) + "</a>"), std::string::npos);
  EXPECT_NE(dom.find(Did(kBob)), std::string::npos);  // the sender, by DID
  EXPECT_NE(dom.find("data-field=\"action\">vote<"), std::string::npos);
  EXPECT_NE(doms[alice_block].find("data-tx=\"" + hex(alice_vote.resp.tx_id()) + "\""),
            std::string::npos);

  // A transaction.
  dom = doms[tx];
  EXPECT_NE(dom.find("data-field=\"action\">transfer<"), std::string::npos) << dom;
  EXPECT_NE(dom.find(">" + std::to_string(kGift) + "<"), std::string::npos);
  EXPECT_NE(dom.find(hex(std::string(AsStringView(TreasuryAddress())))), std::string::npos);

  // A DID: its document and its history; the hostile endpoint is text.
  dom = doms[did];
  EXPECT_NE(dom.find("<h1 data-did=\"" + Did(kAlice) + "\">"), std::string::npos) << dom;
  EXPECT_NE(dom.find("\"id\": \"" + Did(kAlice) + "\""), std::string::npos);
  EXPECT_NE(dom.find("\"type\": \"LinkedDomains\""), std::string::npos);
  EXPECT_NE(dom.find("https://alice.example/&lt;img src=x onerror=alert(1)&gt;"),
            std::string::npos);
  EXPECT_EQ(dom.find("<img"), std::string::npos);
  EXPECT_NE(dom.find("<tr data-version=\"1\"><td><a href=\"#/did/"), std::string::npos);
  EXPECT_NE(dom.find("data-height=\"" + std::to_string(registered[kAlice].height()) + "\""),
            std::string::npos);
  EXPECT_NE(dom.find("<tr data-version=\"2\"><td><strong>v2 (shown)</strong></td><td><a "
                     "href=\"#/block/" +
                     std::to_string(service.height()) + "\""),
            std::string::npos);
  EXPECT_NE(dom.find("data-field=\"citizenship\"><span class=\"badge citizen\">citizen<"),
            std::string::npos);

  // Proposals with their tallies; the note is text, not markup.
  dom = doms[proposals];
  EXPECT_NE(dom.find("<tr data-proposal=\"1\">"), std::string::npos) << dom;
  EXPECT_NE(dom.find("data-field=\"yes\" data-value=\"700\">700<"), std::string::npos) << dom;
  EXPECT_NE(dom.find("data-field=\"no\" data-value=\"400\">400<"), std::string::npos);
  EXPECT_NE(dom.find("data-field=\"abstain\" data-value=\"0\">0<"), std::string::npos);
  EXPECT_NE(dom.find("data-field=\"quorum\">reached<"), std::string::npos);
  EXPECT_NE(dom.find("a bridge &lt;b&gt;over&lt;/b&gt; the river"), std::string::npos);
  EXPECT_EQ(dom.find("<b>over</b>"), std::string::npos);
  EXPECT_NE(dom.find("<span class=\"badge executed\">executed</span>"), std::string::npos);
  // Each kind's rules (issue 26): this nation votes every kind by token.
  EXPECT_NE(dom.find("spend: token, quorum 1,000 tokens, &gt;50%"), std::string::npos) << dom;

  // The treasury: balance, a chart with points, the movements in and out.
  dom = doms[treasury_page];
  EXPECT_NE(dom.find("id=\"treasury-balance\" data-value=\"" + std::to_string(treasury) + "\""),
            std::string::npos)
      << dom;
  EXPECT_NE(dom.find("<svg class=\"chart\" id=\"treasury-chart\""), std::string::npos);
  EXPECT_NE(dom.find("<polyline class=\"line\" points=\""), std::string::npos);
  EXPECT_GE(Count(dom, "<circle class=\"point\""), 2u);
  EXPECT_NE(dom.find("data-balance=\"" + std::to_string(treasury) + "\""), std::string::npos);
  EXPECT_NE(dom.find("data-height=\"0\" data-balance=\"" + std::to_string(kTreasuryFunds) + "\""),
            std::string::npos);  // at genesis
  EXPECT_NE(dom.find("<tr data-kind=\"out\">"), std::string::npos);
  EXPECT_NE(dom.find("<tr data-kind=\"in\">"), std::string::npos);
  EXPECT_NE(dom.find("\u2212" + std::string("1,000")), std::string::npos);
  EXPECT_NE(dom.find("+12,345"), std::string::npos);
  EXPECT_NE(dom.find("#/proposal/1"), std::string::npos);
  EXPECT_NE(dom.find("data-height=\"" + std::to_string(executed.height()) + "\""),
            std::string::npos);
}

}  // namespace
}  // namespace civitas::node
