// The gRPC API of an in-process node: accepted transactions commit, bad ones get a canonical
// code and a reason, and leave state untouched.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "civitas/v1/node.grpc.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "ledger/certified.h"
#include "node/node.h"
#include "node_client.h"
#include "test_chain.h"

namespace civitas::node {
namespace {

using civitas::testing::MakeTestChain;
using civitas::testing::Transfer;

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = civitas::testing::TestDir("api");
    Config config;
    config.home = home_;
    config.grpc_listen = "127.0.0.1:0";
    config.http_listen = "127.0.0.1:0";
    config.p2p_listen = "127.0.0.1:0";
    config.block_interval_ms = 20;
    config.timeout_base_ms = 500;
    config.grpc_max_receive_bytes = 200 * 1024;
    auto node = Node::Open(config, chain_.genesis, chain_.validators[0]);
    ASSERT_TRUE(node.ok()) << node.status().ToString();
    node_ = std::move(*node);
    ASSERT_TRUE(node_->Start().ok());
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(node_->grpc_port()),
                                       grpc::InsecureChannelCredentials());
    stub_ = v1::Node::NewStub(channel);
  }
  void TearDown() override {
    node_->Stop();
    node_.reset();
    std::filesystem::remove_all(home_);
  }

  using Outcome = civitas::testing::SubmitOutcome;
  Outcome Submit(const v1::Transaction& tx, bool wait = true) {
    return civitas::testing::SubmitTx(*stub_, tx, wait);
  }
  v1::Account Account(size_t user) {
    v1::GetAccountRequest req;
    req.set_address(std::string(AsStringView(AddressOf(chain_.users[user].public_key()))));
    v1::GetAccountResponse resp;
    grpc::ClientContext ctx;
    EXPECT_TRUE(stub_->GetAccount(&ctx, req, &resp).ok());
    return resp.account();
  }
  Address Addr(size_t user) { return AddressOf(chain_.users[user].public_key()); }

  std::string HttpGet(const std::string& path) {
    return civitas::testing::HttpGet(node_->http_port(), path);
  }

  civitas::testing::TestChain chain_ = MakeTestChain(3, 1'000'000);
  std::string home_;
  std::unique_ptr<Node> node_;
  std::unique_ptr<v1::Node::Stub> stub_;
};

TEST_F(ApiTest, TransferCommitsAndIsQueryable) {
  auto out = Submit(Transfer(chain_, chain_.users[0], Addr(1), 700, 0));
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  ASSERT_TRUE(out.resp.committed());
  EXPECT_EQ(out.resp.receipt().status(), v1::TX_STATUS_SUCCESS);
  EXPECT_EQ(Account(1).balance(), 1'000'700u);
  EXPECT_EQ(Account(0).nonce(), 1u);

  v1::GetTransactionRequest treq;
  treq.set_tx_id(out.resp.tx_id());
  v1::GetTransactionResponse tresp;
  grpc::ClientContext c1;
  ASSERT_TRUE(stub_->GetTransaction(&c1, treq, &tresp).ok());
  EXPECT_EQ(tresp.receipt().height(), out.resp.receipt().height());

  v1::GetBlockRequest breq;
  breq.set_height(out.resp.receipt().height());
  v1::GetBlockResponse bresp;
  grpc::ClientContext c2;
  ASSERT_TRUE(stub_->GetBlock(&c2, breq, &bresp).ok());
  ASSERT_EQ(bresp.block().block().txs_size(), 1);
  EXPECT_EQ(bresp.block().commit_qc().signers_size(), 1);
  v1::GetBlockRequest by_id;
  by_id.set_id(bresp.block_id());
  v1::GetBlockResponse again;
  grpc::ClientContext c3;
  ASSERT_TRUE(stub_->GetBlock(&c3, by_id, &again).ok());
  EXPECT_EQ(again.block().block().header().height(), out.resp.receipt().height());
}

// Height 0 is the genesis state: it has no block, and asking for it is NOT_FOUND, not the tip.
// A request naming neither height nor id asks for the latest block.
TEST_F(ApiTest, GetBlockAtHeightZeroIsNotFoundAndNoHeightIsTheLatest) {
  for (int i = 0; i < 500 && node_->store().height() < 1; ++i) node_->WaitForCommit(Hash32{}, 10);
  ASSERT_GE(node_->store().height(), 1u);
  v1::GetBlockRequest genesis;
  genesis.set_height(0);
  v1::GetBlockResponse none;
  grpc::ClientContext c1;
  grpc::Status s = stub_->GetBlock(&c1, genesis, &none);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
  EXPECT_NE(s.error_message().find("genesis"), std::string::npos) << s.error_message();

  const uint64_t before = node_->store().height();
  v1::GetBlockResponse latest;
  grpc::ClientContext c2;
  ASSERT_TRUE(stub_->GetBlock(&c2, v1::GetBlockRequest(), &latest).ok());
  EXPECT_GE(latest.block().block().header().height(), before);
  EXPECT_LE(latest.block().block().header().height(), node_->store().height());
}

TEST_F(ApiTest, BadTransactionsGetReasonsAndChangeNothing) {
  ASSERT_TRUE(Submit(Transfer(chain_, chain_.users[0], Addr(1), 1, 0)).resp.committed());
  auto before0 = Account(0), before1 = Account(1);

  auto bad_sig = Transfer(chain_, chain_.users[0], Addr(1), 1, 1);
  bad_sig.mutable_signature()->at(7) ^= 1;
  auto out = Submit(bad_sig);
  EXPECT_EQ(out.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(out.reason, "bad_signature");

  out = Submit(Transfer(chain_, chain_.users[0], Addr(1), 1, 1, 100'000, "another-chain"));
  EXPECT_EQ(out.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(out.reason, "wrong_chain_id");

  out = Submit(Transfer(chain_, chain_.users[0], Addr(1), 1, 5));
  EXPECT_EQ(out.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(out.reason, "nonce_too_high");

  out = Submit(Transfer(chain_, chain_.users[0], Addr(1), 2, 0));
  EXPECT_EQ(out.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(out.reason, "nonce_too_low");

  out = Submit(Transfer(chain_, chain_.users[0], Addr(1), 1, 0));  // the committed one again
  EXPECT_EQ(out.status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(out.reason, "duplicate_tx");

  v1::Transaction garbage;
  garbage.set_body("\x12\x34not a body");
  garbage.set_public_key(std::string(32, '\x02'));
  garbage.set_signature(std::string(64, '\x03'));
  out = Submit(garbage);
  EXPECT_EQ(out.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(out.reason, "malformed_tx");

  // Larger than the server's receive limit: refused by gRPC before any parsing.
  auto huge = Transfer(chain_, chain_.users[0], Addr(1), 1, 1);
  huge.set_body(std::string(300 * 1024, 'x'));
  out = Submit(huge);
  EXPECT_EQ(out.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);

  // Asking for more gas than the balance can pay.
  out = Submit(Transfer(chain_, chain_.users[2], Addr(1), 1, 0, 2'000'000));
  EXPECT_EQ(out.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(out.reason, "insufficient_funds");

  // Nothing changed, and the chain still accepts the next valid transaction.
  EXPECT_EQ(Account(0).balance(), before0.balance());
  EXPECT_EQ(Account(0).nonce(), before0.nonce());
  EXPECT_EQ(Account(1).balance(), before1.balance());
  auto ok = Submit(Transfer(chain_, chain_.users[0], Addr(1), 1, 1));
  ASSERT_TRUE(ok.status.ok()) << ok.status.error_message();
  EXPECT_TRUE(ok.resp.committed());
}

TEST_F(ApiTest, BatchSubmitAnswersEachTransactionInOrder) {
  v1::SubmitTransactionsRequest req;
  *req.add_txs() = Transfer(chain_, chain_.users[0], Addr(1), 10, 0);
  auto bad_sig = Transfer(chain_, chain_.users[0], Addr(1), 10, 1);
  bad_sig.mutable_signature()->at(3) ^= 1;
  *req.add_txs() = bad_sig;
  *req.add_txs() = Transfer(chain_, chain_.users[0], Addr(1), 10, 1);
  *req.add_txs() = Transfer(chain_, chain_.users[0], Addr(1), 10, 0);  // the first one again
  *req.add_txs() = Transfer(chain_, chain_.users[0], Addr(1), 10, 7);  // skips ahead
  v1::SubmitTransactionsResponse resp;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub_->SubmitTransactions(&ctx, req, &resp).ok());
  }
  ASSERT_EQ(resp.results_size(), 5);
  EXPECT_TRUE(resp.results(0).admitted());
  EXPECT_EQ(resp.results(0).tx_id().size(), 32u);
  EXPECT_EQ(resp.results(1).reason(), "bad_signature");
  EXPECT_TRUE(resp.results(2).admitted());
  EXPECT_EQ(resp.results(3).reason(), "duplicate_tx");
  EXPECT_EQ(resp.results(4).reason(), "nonce_too_high");
  // The admitted two commit; nothing else changed.
  auto last = Submit(Transfer(chain_, chain_.users[0], Addr(1), 10, 2));
  ASSERT_TRUE(last.resp.committed());
  EXPECT_EQ(Account(0).nonce(), 3u);
  EXPECT_EQ(Account(1).balance(), 1'000'000u + 30);

  // More than the cap is refused whole.
  v1::SubmitTransactionsRequest many;
  for (int i = 0; i < 1001; ++i) *many.add_txs() = Transfer(chain_, chain_.users[2], Addr(1), 1, 0);
  grpc::ClientContext ctx;
  v1::SubmitTransactionsResponse none;
  auto s = stub_->SubmitTransactions(&ctx, many, &none);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(civitas::testing::ReasonOf(ctx), "too_many");
}

// Issue 22: a 900 KB DID came back whole in the error message, which travels in trailing
// metadata; the client's metadata limit (8 KiB) turned the answer into a transport error.
TEST_F(ApiTest, ErrorsQuoteAtMost64BytesOfWhatTheClientSent) {
  const std::string did = "did:civitas:" + std::string(150'000, 'z');
  auto expect_quoted = [&](const grpc::Status& status, const grpc::ClientContext& ctx,
                           const std::string& reason, size_t total) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
    EXPECT_EQ(civitas::testing::ReasonOf(ctx), reason);
    EXPECT_LT(status.error_message().size(), 300u);
    EXPECT_NE(status.error_message().find("... (" + std::to_string(total) + " bytes)"),
              std::string::npos)
        << status.error_message();
  };
  {
    v1::ResolveDidRequest req;
    req.set_did(did);
    v1::ResolveDidResponse resp;
    grpc::ClientContext ctx;
    expect_quoted(stub_->ResolveDid(&ctx, req, &resp), ctx, "invalid_did", did.size());
  }
  {
    v1::GetCitizenshipRequest req;
    req.set_did(did);
    v1::GetCitizenshipResponse resp;
    grpc::ClientContext ctx;
    expect_quoted(stub_->GetCitizenship(&ctx, req, &resp), ctx, "invalid_did", did.size());
  }
  {
    // A transaction for a chain whose id is 60,000 bytes (the envelope cap is 64 KiB).
    const std::string chain_id(60'000, 'c');
    auto out = Submit(Transfer(chain_, chain_.users[0], Addr(1), 1, 0, 200'000, chain_id), false);
    EXPECT_EQ(out.reason, "wrong_chain_id");
    EXPECT_LT(out.status.error_message().size(), 300u);
    EXPECT_NE(out.status.error_message().find("(60000 bytes)"), std::string::npos)
        << out.status.error_message();
  }
  // A short value is quoted whole, with control bytes escaped.
  v1::ResolveDidRequest req;
  req.set_did("did:'\\\n");
  v1::ResolveDidResponse resp;
  grpc::ClientContext ctx;
  auto status = stub_->ResolveDid(&ctx, req, &resp);
  EXPECT_EQ(status.error_message(), R"('did:\x27\x5c\x0a' is not a valid DID)");
}

// Issue 22: admission checked each maximum fee alone against the committed balance, so a
// sender holding 1,000 had 188 transactions admitted and committed.
TEST_F(ApiTest, PendingMaximumFeesMustFitTheBalanceTogether) {
  // A transfer of 900,000 (maximum fee 30,000) pending, or committed: either way user 2 is sure
  // to hold no more than about 100,000 when a next transaction runs, too little for a maximum
  // fee of 200,000.
  auto give = Submit(Transfer(chain_, chain_.users[2], Addr(1), 900'000, 0, 30'000), false);
  ASSERT_TRUE(give.status.ok()) << give.status.error_message();
  auto next = Submit(Transfer(chain_, chain_.users[2], Addr(1), 0, 1, 200'000), false);
  EXPECT_EQ(next.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(next.reason, "insufficient_funds");
  // What the balance does cover is admitted and commits after the transfer.
  auto small = Submit(Transfer(chain_, chain_.users[2], Addr(1), 0, 1, 50'000), true);
  ASSERT_TRUE(small.status.ok()) << small.status.error_message();
  EXPECT_TRUE(small.resp.committed());
  EXPECT_EQ(Account(2).nonce(), 2u);
  EXPECT_LT(Account(2).balance(), 100'000u);
}

// Issue 25: an error carries gRPC's richer error model, a serialized google.rpc.Status whose
// details hold a google.rpc.ErrorInfo, besides the civitas-reason trailer.
TEST_F(ApiTest, ErrorsCarryAGoogleRpcStatusWithAnErrorInfo) {
  auto error_info = [](const grpc::Status& s) {
    google::rpc::Status details;
    EXPECT_TRUE(details.ParseFromString(s.error_details())) << "no google.rpc.Status";
    EXPECT_EQ(details.code(), static_cast<int32_t>(s.error_code()));
    EXPECT_EQ(details.message(), s.error_message());
    google::rpc::ErrorInfo info;
    EXPECT_EQ(details.details_size(), 1);
    if (details.details_size() == 1) {
      EXPECT_EQ(details.details(0).type_url(), "type.googleapis.com/google.rpc.ErrorInfo");
      EXPECT_TRUE(details.details(0).UnpackTo(&info));
    }
    return info;
  };
  // A query refused.
  v1::ResolveDidRequest req;
  req.set_did("did:example:123");
  v1::ResolveDidResponse resp;
  grpc::ClientContext ctx;
  grpc::Status s = stub_->ResolveDid(&ctx, req, &resp);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  google::rpc::ErrorInfo info = error_info(s);
  EXPECT_EQ(info.reason(), "invalid_did");
  EXPECT_EQ(info.domain(), "civitas.network");
  EXPECT_EQ(civitas::testing::ReasonOf(ctx), "invalid_did");
  // A transaction refused: a signature that does not verify.
  v1::Transaction bad = Transfer(chain_, chain_.users[0], Addr(1), 1, 0);
  std::string sig = bad.signature();
  sig[0] = static_cast<char>(sig[0] ^ 1);
  bad.set_signature(sig);
  auto out = Submit(bad, false);
  ASSERT_EQ(out.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  info = error_info(out.status);
  EXPECT_EQ(info.reason(), "bad_signature");
  EXPECT_EQ(info.domain(), "civitas.network");
  EXPECT_EQ(out.reason, "bad_signature");
  // A success carries no details.
  auto good = Submit(Transfer(chain_, chain_.users[0], Addr(1), 1, 0), false);
  ASSERT_TRUE(good.status.ok()) << good.status.error_message();
  EXPECT_TRUE(good.status.error_details().empty());
}

TEST_F(ApiTest, StatusReportsCertifiedRoot) {
  ASSERT_TRUE(Submit(Transfer(chain_, chain_.users[0], Addr(1), 1, 0)).resp.committed());
  v1::GetStatusResponse st;
  grpc::ClientContext ctx;
  ASSERT_TRUE(stub_->GetStatus(&ctx, {}, &st).ok());
  EXPECT_EQ(st.chain_id(), chain_.genesis.chain_id);
  EXPECT_GE(st.height(), 1u);
  EXPECT_LT(st.state_height(), st.height());  // a block certifies an executed, earlier height
  auto root = node_->store().StateRoot(st.state_height());
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(st.state_root(), std::string(AsStringView(*root)));
}

}  // namespace
}  // namespace civitas::node

namespace civitas::node {
namespace {

TEST_F(ApiTest, MetricsAndHealthOverHttp) {
  ASSERT_TRUE(Submit(Transfer(chain_, chain_.users[0], Addr(1), 1, 0)).resp.committed());
  std::string health = HttpGet("/healthz");
  EXPECT_NE(health.find("200 OK"), std::string::npos) << health;
  EXPECT_NE(HttpGet("/readyz").find("200 OK"), std::string::npos);
  EXPECT_NE(HttpGet("/nope").find("404"), std::string::npos);
  std::string metrics = HttpGet("/metrics");
  ASSERT_NE(metrics.find("200 OK"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("civitas_committed_transactions_total 1"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("# TYPE civitas_block_interval_seconds histogram"), std::string::npos);
  EXPECT_NE(metrics.find("\ncivitas_store_background_jobs "), std::string::npos);
  EXPECT_NE(metrics.find("\ncivitas_store_pending_compaction_bytes "), std::string::npos);
  auto pos = metrics.find("\ncivitas_height ");
  ASSERT_NE(pos, std::string::npos);
  EXPECT_GE(std::stod(metrics.substr(pos + 16)), 1.0);
  // The fee of the transfer reached the treasury.
  pos = metrics.find("\ncivitas_treasury_balance ");
  ASSERT_NE(pos, std::string::npos);
  EXPECT_GT(std::stod(metrics.substr(pos + 26)), 0.0);
}

}  // namespace
}  // namespace civitas::node

namespace civitas::node {
namespace {

TEST_F(ApiTest, ProvenAccountVerifiesWithoutTrustingTheNode) {
  auto out = Submit(Transfer(chain_, chain_.users[0], Addr(1), 123, 0));
  ASSERT_TRUE(out.resp.committed());
  // The root after block h is certified by a later block: wait (bounded) until one commits.
  auto certified_height = [&] {
    auto tip = node_->store().GetBlock(node_->store().height());
    return tip.ok() ? tip->block().header().state_height() : 0;
  };
  for (int i = 0; i < 500 && certified_height() < out.resp.receipt().height(); ++i) {
    node_->WaitForCommit(Hash32{}, 10);  // returns at the next commit or after 10 ms
  }
  ASSERT_GE(certified_height(), out.resp.receipt().height());
  v1::GetAccountRequest req;
  req.set_address(std::string(AsStringView(Addr(1))));
  req.set_prove(true);
  v1::GetAccountResponse resp;
  grpc::ClientContext ctx;
  ASSERT_TRUE(stub_->GetAccount(&ctx, req, &resp).ok());
  EXPECT_GE(resp.height(), out.resp.receipt().height());
  ASSERT_EQ(resp.account().balance(), 1'000'123u);
  const std::string key = AccountKey(Addr(1));
  auto value = EncodeAccount({resp.account().balance(), resp.account().nonce()});
  auto council = chain_.genesis.validator_set();
  EXPECT_TRUE(VerifyCertifiedValue(chain_.genesis.chain_id, council, key, value, resp.height(),
                                   resp.proof(), resp.certifying_block())
                  .ok());
  // A node that lies about the balance, the height, the root or the certificate is caught.
  auto lie = EncodeAccount({resp.account().balance() + 1, resp.account().nonce()});
  EXPECT_EQ(VerifyCertifiedValue(chain_.genesis.chain_id, council, key, lie, resp.height(),
                                 resp.proof(), resp.certifying_block())
                .reason(),
            "bad_proof");
  EXPECT_FALSE(VerifyCertifiedValue(chain_.genesis.chain_id, council, key, value, resp.height() + 1,
                                    resp.proof(), resp.certifying_block())
                   .ok());
  auto forged = resp.certifying_block();
  forged.mutable_block()->mutable_header()->mutable_state_root()->at(0) ^= 1;
  EXPECT_FALSE(VerifyCertifiedValue(chain_.genesis.chain_id, council, key, value, resp.height(),
                                    resp.proof(), forged)
                   .ok());
  auto other_council = civitas::testing::MakeTestChain(1).genesis.validator_set();
  EXPECT_FALSE(VerifyCertifiedValue(chain_.genesis.chain_id, other_council, key, value,
                                    resp.height(), resp.proof(), resp.certifying_block())
                   .ok());
}

}  // namespace
}  // namespace civitas::node
