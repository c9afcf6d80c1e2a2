// Kills a committing node with SIGKILL many times under a stream of transactions and checks
// that nothing reported committed is ever lost, the height never goes back past what was
// reported, and the auditor's replay from genesis agrees with the node.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

#include "civitas/v1/node.grpc.pb.h"
#include "ledger/genesis.h"
#include "ledger/keyfile.h"
#include "ledger/tx.h"
#include "node/home.h"
#include "process.h"

namespace civitas::e2e {
namespace {

namespace fs = std::filesystem;

struct Committed {
  std::string tx_id;
  uint64_t height;
  uint32_t index;
};

class CrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() / ("civitas-crash-" + std::to_string(::getpid()))).string();
    fs::remove_all(dir_);
    home_ = dir_ + "/node";
    log_ = dir_ + "/node.log";
    ASSERT_TRUE(node::InitSoloHome(
                    {.home = home_, .chain_id = "crash-test", .moniker = "n0", .heartbeat_ms = 20})
                    .ok());
    port_ = FreePort();
    auto key = civitas::ReadKeyFile(home_ + "/keys/operator.json");
    ASSERT_TRUE(key.ok());
    operator_key_ = *key;
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }

  std::unique_ptr<Process> StartNode() {
    auto p = std::make_unique<Process>(
        std::vector<std::string>{CIVITASD, "start", "--home", home_, "--grpc-listen",
                                 "127.0.0.1:" + std::to_string(port_), "--http-listen",
                                 "127.0.0.1:0", "--p2p-listen", "127.0.0.1:0",
                                 "--block-interval-ms", "20", "--log-level", "warn"},
        log_);
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port_),
                                       grpc::InsecureChannelCredentials());
    // Wait (bounded) for the server to accept calls: the channel reports readiness.
    EXPECT_TRUE(
        channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(20)))
        << "node did not start; see " << log_;
    stub_ = v1::Node::NewStub(channel);
    return p;
  }

  v1::GetStatusResponse Status() {
    v1::GetStatusResponse st;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    EXPECT_TRUE(stub_->GetStatus(&ctx, {}, &st).ok());
    return st;
  }

  uint64_t OperatorNonce() {
    v1::GetAccountRequest req;
    req.set_address(std::string(AsStringView(AddressOf(operator_key_.public_key()))));
    v1::GetAccountResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    EXPECT_TRUE(stub_->GetAccount(&ctx, req, &resp).ok());
    return resp.account().nonce();
  }

  std::string dir_, home_, log_;
  int port_ = 0;
  crypto::SecretKey operator_key_ = crypto::SecretKey::Generate();
  std::unique_ptr<v1::Node::Stub> stub_;
};

TEST_F(CrashTest, KillNineNeverLosesCommittedTransactions) {
  constexpr int kCycles = 8;
  constexpr int kCommitsPerCycle = 3;
  std::mt19937_64 rng(20261123);
  std::vector<Committed> committed;
  uint64_t reported_height = 0;
  Address recipient = AddressOf(crypto::SecretKey::Generate().public_key());

  for (int cycle = 0; cycle < kCycles; ++cycle) {
    auto node = StartNode();
    auto st = Status();
    ASSERT_GE(st.height(), reported_height) << "height went back after restart " << cycle;
    // Every transaction reported committed before is there, at the same place.
    for (const auto& c : committed) {
      v1::GetTransactionRequest req;
      req.set_tx_id(c.tx_id);
      v1::GetTransactionResponse resp;
      grpc::ClientContext ctx;
      ASSERT_TRUE(stub_->GetTransaction(&ctx, req, &resp).ok())
          << "committed transaction lost after restart " << cycle;
      ASSERT_EQ(resp.receipt().height(), c.height);
      ASSERT_EQ(resp.receipt().index(), c.index);
    }

    // Stream transactions, each waiting for its commit, until the node is killed.
    std::atomic<bool> stop{false}, stopped{false};
    std::atomic<int> cycle_commits{0};
    std::mutex mu;
    uint64_t nonce = OperatorNonce();
    std::thread submitter([&] {
      struct Done {
        std::atomic<bool>& flag;
        ~Done() { flag = true; }
      } done{stopped};
      while (!stop.load()) {
        v1::TxBody body;
        body.set_chain_id("crash-test");
        body.set_nonce(nonce);
        body.set_gas_limit(100'000);
        body.mutable_transfer()->set_to(std::string(AsStringView(recipient)));
        body.mutable_transfer()->set_amount(1);
        v1::SubmitTransactionRequest req;
        *req.mutable_tx() = SignTx(operator_key_, body);
        req.set_wait_for_commit(true);
        req.set_wait_timeout_ms(5000);
        v1::SubmitTransactionResponse resp;
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
        if (!stub_->SubmitTransaction(&ctx, req, &resp).ok() || !resp.committed()) return;
        std::lock_guard lock(mu);
        committed.push_back({resp.tx_id(), resp.receipt().height(), resp.receipt().index()});
        reported_height = std::max(reported_height, resp.receipt().height());
        ++nonce;
        ++cycle_commits;
      }
    });
    // Kill at a random moment while transactions are in flight, once a few have committed in
    // this cycle (waited for, bounded), so that the count does not depend on the machine's load.
    for (int i = 0; i < 3000 && cycle_commits < kCommitsPerCycle && !stopped; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 500));
    node->Kill(SIGKILL);
    stop = true;
    submitter.join();
  }
  ASSERT_GT(committed.size(), 20u) << "too few transactions committed to test anything";

  // Final restart: everything is still there; then a clean stop and the auditor's replay.
  auto node = StartNode();
  auto st = Status();
  EXPECT_GE(st.height(), reported_height);
  // A transaction may commit while the kill cuts off its reply, so the chain can hold more than
  // was reported; never less (each reported one was checked above at every restart).
  EXPECT_GE(OperatorNonce(), committed.size());
  EXPECT_EQ(node->Kill(SIGTERM) & 0x7f, 0) << "node did not exit cleanly on SIGTERM";
  int rc = e2e::Run({CIVITASD, "replay", "--home", home_}, dir_ + "/replay.log");
  std::ifstream replay_log(dir_ + "/replay.log");
  std::string text((std::istreambuf_iterator<char>(replay_log)), {});
  EXPECT_EQ(rc, 0) << text;
  EXPECT_NE(text.find("replay OK"), std::string::npos) << text;
}

}  // namespace
}  // namespace civitas::e2e
