// Abuse of a real civitasd's public ports (issue 9; docs/RELIABILITY.md, "Abuse"): gRPC requests
// over the receive limit, a flood of transactions with bad signatures, a mempool flood, hundreds
// of idle TCP connections on the gRPC, HTTP and P2P ports, a P2P handshake with a key outside
// the council, and garbage or oversized P2P frames. After each the node serves, honest
// transactions commit, and its memory stays bounded. Figures are printed as "[abuse] ..." lines.
// ABUSE_SCALE=N (scripts/abuse.sh --long) multiplies the load.
#include <arpa/inet.h>
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "civitas/v1/node.grpc.pb.h"
#include "ledger/keyfile.h"
#include "ledger/tx.h"
#include "node/config.h"
#include "node/home.h"
#include "node/p2p/wire.h"
#include "node_client.h"
#include "p2p_test_util.h"
#include "process.h"

namespace civitas::e2e {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
constexpr char kChain[] = "abuse";
constexpr size_t kMempoolMax = 100;

int Scale() {
  const char* s = std::getenv("ABUSE_SCALE");
  return s && std::atoi(s) > 0 ? std::atoi(s) : 1;
}

// Resident memory of `pid` in KiB, from /proc.
uint64_t VmRssKib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("VmRSS:")) return std::stoull(line.substr(6));
  }
  return 0;
}

int Dial(int port) { return civitas::testing::DialLocal(port); }

// Reads what arrives on `fd` until the peer closes it (true) or `deadline` passes (false).
bool ReadUntilClosed(int fd, Clock::time_point deadline, Bytes* got = nullptr) {
  uint8_t buf[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) return true;
    if (got) got->insert(got->end(), buf, buf + n);
  }
}

void SendAll(int fd, const Bytes& b) { (void)!::send(fd, b.data(), b.size(), MSG_NOSIGNAL); }

class AbuseTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = (fs::temp_directory_path() / ("civitas-abuse-" + std::to_string(::getpid()))).string();
    fs::remove_all(dir_);
    home_ = dir_ + "/node";
    setup_error_ = StartNode();
  }
  static void TearDownTestSuite() {
    node_.reset();
    if (!failed_) fs::remove_all(dir_);
  }
  void SetUp() override { ASSERT_EQ(setup_error_, "") << "setup failed; see " << home_ << ".log"; }
  void TearDown() override {
    if (HasFailure()) failed_ = true;
    // Whatever a test did, the node must still be running and serving.
    ASSERT_FALSE(node_->WaitFor(std::chrono::milliseconds(0)).has_value())
        << "civitasd exited; see " << home_ << ".log";
    EXPECT_GT(Height(), 0u);
  }

  static std::string StartNode() {
    if (!node::InitSoloHome(
             {.home = home_, .chain_id = kChain, .moniker = "node0", .heartbeat_ms = 50})
             .ok())
      return "init failed";
    auto config = node::LoadConfig(home_);
    if (!config.ok()) return config.status().ToString();
    // One transaction a block, so a flood outruns the commits and the mempool bound is hit.
    config->mempool_max_txs = kMempoolMax;
    config->mempool_max_per_sender = 100'000;
    config->max_block_txs = 1;
    grpc_port_ = FreePort();
    http_port_ = FreePort();
    p2p_port_ = FreePort();
    config->grpc_listen = "127.0.0.1:" + std::to_string(grpc_port_);
    config->http_listen = "127.0.0.1:" + std::to_string(http_port_);
    config->p2p_listen = "127.0.0.1:" + std::to_string(p2p_port_);
    config->block_interval_ms = 50;
    config->timeout_base_ms = std::max<uint32_t>(config->timeout_base_ms, 200);
    std::ofstream(config->ConfigPath(), std::ios::trunc) << node::ConfigToToml(*config);
    node_ = std::make_unique<Process>(
        std::vector<std::string>{CIVITASD, "start", "--home", home_, "--log-level", "warn"},
        home_ + ".log");
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(grpc_port_),
                                       grpc::InsecureChannelCredentials());
    if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(20))) {
      return "node did not start";
    }
    stub_ = v1::Node::NewStub(channel);
    auto op = civitas::ReadKeyFile(home_ + "/keys/operator.json");
    if (!op.ok()) return op.status().ToString();
    uint64_t nonce = 0;
    // Funded accounts: one honest client and four flooders.
    for (int i = 0; i < 5; ++i) {
      auto key = crypto::SecretKey::Generate();
      auto out = civitas::testing::SubmitTx(*stub_, Transfer(*op, nonce++, key, 1'000'000'000),
                                            /*wait=*/true);
      if (!out.status.ok() || !out.resp.committed()) return "funding failed: " + out.reason;
      if (i == 0) {
        honest_ = key;
      } else {
        flooders_.push_back(key);
      }
    }
    return "";
  }

  static v1::Transaction Transfer(const crypto::SecretKey& from, uint64_t nonce,
                                  const crypto::SecretKey& to, uint64_t amount = 1) {
    v1::TxBody body;
    body.set_chain_id(kChain);
    body.set_nonce(nonce);
    body.set_gas_limit(100'000);
    body.mutable_transfer()->set_to(std::string(AsStringView(AddressOf(to.public_key()))));
    body.mutable_transfer()->set_amount(amount);
    return SignTx(from, body);
  }

  static uint64_t Height() {
    v1::GetStatusResponse st;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    return stub_->GetStatus(&ctx, {}, &st).ok() ? st.height() : 0;
  }

  static uint64_t NonceOf(const crypto::SecretKey& key) {
    v1::GetAccountRequest req;
    req.set_address(std::string(AsStringView(AddressOf(key.public_key()))));
    v1::GetAccountResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    (void)stub_->GetAccount(&ctx, req, &resp);
    return resp.account().nonce();
  }

  // Submits the honest client's next transfer, retrying while the mempool is full, and waits
  // for its commit. Returns "" on success.
  static std::string HonestTransfer(Clock::duration within = std::chrono::seconds(30)) {
    auto deadline = Clock::now() + within;
    const uint64_t nonce = NonceOf(honest_);
    auto tx = Transfer(honest_, nonce, crypto::SecretKey::Generate());
    for (;;) {
      auto out = civitas::testing::SubmitTx(*stub_, tx, /*wait=*/true);
      if (out.status.ok() && out.resp.committed()) return "";
      // Still pending from an earlier attempt, or committed meanwhile.
      if (out.reason == "duplicate_tx" && NonceOf(honest_) > nonce) return "";
      if (Clock::now() > deadline) {
        return "honest transfer " + std::to_string(nonce) +
               " not committed: " + out.status.error_message() + " [" + out.reason + "]";
      }
      if (out.reason != "mempool_full" && out.reason != "duplicate_tx" && !out.status.ok()) {
        return "honest transfer refused: " + out.status.error_message() + " [" + out.reason + "]";
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // retry after a refusal
    }
  }

  static double MempoolSize() {
    return civitas::testing::MetricValue(http_port_, "civitas_mempool_transactions");
  }

  static std::string dir_, home_, setup_error_;
  static bool failed_;
  static int grpc_port_, http_port_, p2p_port_;
  static std::unique_ptr<Process> node_;
  static std::unique_ptr<v1::Node::Stub> stub_;
  static crypto::SecretKey honest_;
  static std::vector<crypto::SecretKey> flooders_;
};

std::string AbuseTest::dir_, AbuseTest::home_, AbuseTest::setup_error_;
bool AbuseTest::failed_ = false;
int AbuseTest::grpc_port_ = 0, AbuseTest::http_port_ = 0, AbuseTest::p2p_port_ = 0;
std::unique_ptr<Process> AbuseTest::node_;
std::unique_ptr<v1::Node::Stub> AbuseTest::stub_;
crypto::SecretKey AbuseTest::honest_ = crypto::SecretKey::Generate();
std::vector<crypto::SecretKey> AbuseTest::flooders_;

TEST_F(AbuseTest, RequestOverTheReceiveLimitIsRefused) {
  for (size_t size : {size_t{2} << 20, size_t{16} << 20}) {
    v1::SubmitTransactionRequest req;
    req.mutable_tx()->set_body(std::string(size, 'x'));
    v1::SubmitTransactionResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::Status s = stub_->SubmitTransaction(&ctx, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
        << size << ": " << s.error_message();
  }
  // Under the gRPC limit but over the transaction cap: refused by the node with a reason.
  auto big = Transfer(honest_, NonceOf(honest_), crypto::SecretKey::Generate());
  big.set_body(big.body() + std::string(100 << 10, '\0'));
  auto out = civitas::testing::SubmitTx(*stub_, big, false);
  EXPECT_FALSE(out.status.ok());
  EXPECT_FALSE(out.reason.empty()) << out.status.error_message();
  std::printf(
      "[abuse] 2 MiB and 16 MiB requests: RESOURCE_EXHAUSTED; a 100 KiB transaction: %s "
      "[%s]\n",
      out.status.error_message().c_str(), out.reason.c_str());
  EXPECT_EQ(HonestTransfer(), "");
}

TEST_F(AbuseTest, BadSignatureFloodIsRefusedWhileHonestTransfersCommit) {
  const int kThreads = 4, kPerThread = 500 * Scale();
  std::atomic<int> refused{0}, wrong{0};
  std::mutex mu;
  std::string sample_wrong;
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(grpc_port_),
                                         grpc::InsecureChannelCredentials());
      auto stub = v1::Node::NewStub(channel);
      auto key = crypto::SecretKey::Generate();
      for (int i = 0; i < kPerThread; ++i) {
        // Signed by a funded key, then one bit of the signature flipped.
        auto tx = Transfer(flooders_[0], static_cast<uint64_t>(i), key);
        (*tx.mutable_signature())[i % 64] ^= 1;
        auto out = civitas::testing::SubmitTx(*stub, tx, false);
        if (out.status.error_code() == grpc::StatusCode::INVALID_ARGUMENT &&
            out.reason == "bad_signature") {
          ++refused;
        } else {
          ++wrong;
          std::lock_guard lock(mu);
          sample_wrong = out.status.error_message() + " [" + out.reason + "]";
        }
      }
    });
  }
  // Honest transfers go through the same port during the flood.
  int honest = 0;
  std::string honest_error;
  do {
    honest_error = HonestTransfer(std::chrono::seconds(20));
    if (honest_error.empty()) ++honest;
  } while (refused + wrong < kThreads * kPerThread && honest_error.empty());
  for (auto& t : threads) t.join();
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_EQ(honest_error, "");
  EXPECT_EQ(wrong.load(), 0) << sample_wrong;
  EXPECT_EQ(refused.load(), kThreads * kPerThread);
  EXPECT_GE(honest, 1);
  std::printf(
      "[abuse] bad signatures: %d refused in %.1f s (%.0f/s), %d honest transfers committed "
      "meanwhile\n",
      refused.load(), secs, refused / secs, honest);
}

TEST_F(AbuseTest, MempoolFloodHitsTheBoundAndHonestTransfersCommitAfter) {
  const auto flood_for = std::chrono::milliseconds(2500 * Scale());
  std::atomic<int> accepted{0}, full{0}, other{0};
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::string sample_other;
  std::vector<std::thread> threads;
  for (const auto& key : flooders_) {
    threads.emplace_back([&, key] {
      auto stub = v1::Node::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(grpc_port_),
                                                        grpc::InsecureChannelCredentials()));
      uint64_t nonce = NonceOf(key);
      auto to = crypto::SecretKey::Generate();
      auto tx = Transfer(key, nonce, to);
      while (!stop) {
        auto out = civitas::testing::SubmitTx(*stub, tx, false);
        if (out.status.ok()) {
          ++accepted;
          tx = Transfer(key, ++nonce, to);
        } else if (out.status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED &&
                   out.reason == "mempool_full") {
          ++full;  // the same transaction again
        } else {
          ++other;
          std::lock_guard lock(mu);
          sample_other = out.status.error_message() + " [" + out.reason + "]";
        }
      }
    });
  }
  double max_pool = 0;
  auto end = Clock::now() + flood_for;
  while (Clock::now() < end) {
    max_pool = std::max(max_pool, MempoolSize());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // sampling the metric
  }
  // A client arriving during the flood is told why it is refused (or, if the pool had room at
  // that instant, admitted).
  const uint64_t during_nonce = NonceOf(honest_);
  auto during = civitas::testing::SubmitTx(
      *stub_, Transfer(honest_, during_nonce, crypto::SecretKey::Generate()), false);
  stop = true;
  for (auto& t : threads) t.join();
  EXPECT_GT(full.load(), 0) << "the flood never filled the mempool";
  EXPECT_EQ(other.load(), 0) << sample_other;
  EXPECT_LE(max_pool, static_cast<double>(kMempoolMax));
  EXPECT_GT(max_pool, 0.0);
  auto after = Clock::now();
  if (!during.status.ok()) {
    EXPECT_EQ(during.reason, "mempool_full");
  } else {
    // Admitted: it commits once the flood drains, before the next honest transfer is sent.
    const auto deadline = Clock::now() + std::chrono::seconds(40);
    while (NonceOf(honest_) <= during_nonce && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling the committed nonce
    }
    EXPECT_GT(NonceOf(honest_), during_nonce) << "the transfer admitted during the flood";
  }
  EXPECT_EQ(HonestTransfer(std::chrono::seconds(40)), "");
  EXPECT_EQ(HonestTransfer(std::chrono::seconds(10)), "");
  std::printf(
      "[abuse] mempool flood: %d accepted, %d refused mempool_full in %.1f s; largest "
      "mempool seen %.0f (bound %zu); honest transfers committed %.1f s after the flood\n",
      accepted.load(), full.load(), std::chrono::duration<double>(flood_for).count(), max_pool,
      kMempoolMax, std::chrono::duration<double>(Clock::now() - after).count());
}

TEST_F(AbuseTest, IdleConnectionsOnEveryPortLeaveTheNodeServing) {
  const int kPerPort = 500 * Scale();
  const uint64_t baseline = VmRssKib(node_->pid());
  std::vector<int> grpc_fds, http_fds, p2p_fds;
  for (int i = 0; i < kPerPort; ++i) {
    grpc_fds.push_back(Dial(grpc_port_));
    http_fds.push_back(Dial(http_port_));
    p2p_fds.push_back(Dial(p2p_port_));
  }
  auto opened = [](const std::vector<int>& fds) {
    return std::count_if(fds.begin(), fds.end(), [](int fd) { return fd >= 0; });
  };
  // The connections stay open (or are closed by the node, which is fine); it must keep serving.
  const auto t0 = Clock::now();
  EXPECT_GT(Height(), 0u);
  std::string health = civitas::testing::HttpGet(http_port_, "/healthz");
  EXPECT_NE(health.find("200 OK"), std::string::npos) << health;
  EXPECT_EQ(HonestTransfer(std::chrono::seconds(20)), "");
  const double serve_secs = std::chrono::duration<double>(Clock::now() - t0).count();
  const uint64_t during = VmRssKib(node_->pid());
  // Generous: a few hundred KiB per connection would already be a leak worth finding.
  EXPECT_LT(during, baseline + 200 * 1024) << "baseline " << baseline << " KiB";

  // P2P: the handshake cap closes all but max_pending_inbound at once.
  int p2p_closed = 0;
  for (int fd : p2p_fds) {
    if (fd >= 0 && ReadUntilClosed(fd, Clock::now() + std::chrono::milliseconds(5))) ++p2p_closed;
  }
  for (auto* fds : {&grpc_fds, &http_fds, &p2p_fds}) {
    for (int fd : *fds) {
      if (fd >= 0) ::close(fd);
    }
  }
  EXPECT_GT(Height(), 0u);
  std::printf(
      "[abuse] idle connections: %ld gRPC, %ld HTTP, %ld P2P opened (%d P2P closed by the "
      "node at once); served a status, /healthz and a commit in %.2f s; VmRSS %lu KiB "
      "before, %lu KiB with the connections open\n",
      opened(grpc_fds), opened(http_fds), opened(p2p_fds), p2p_closed, serve_secs,
      static_cast<unsigned long>(baseline), static_cast<unsigned long>(during));
}

TEST_F(AbuseTest, P2pHandshakeWithAKeyOutsideTheCouncilIsRefused) {
  p2p::testing::RawClient client(static_cast<uint16_t>(p2p_port_));
  ASSERT_TRUE(client.StartTls()) << "no TLS session with the node";
  auto first = client.ReadFrame(std::chrono::seconds(10));
  ASSERT_TRUE(first.has_value()) << "no HELLO from the node";
  auto hello = p2p::DecodeMessage(*first);
  ASSERT_TRUE(hello.ok() && std::holds_alternative<p2p::Hello>(*hello));
  p2p::Hello mine;
  mine.chain_id = kChain;
  mine.key = crypto::SecretKey::Generate().public_key();
  client.WriteFrame(p2p::EncodeHello(mine));
  // Refused after our HELLO: the connection closes and the node never signs for a stranger.
  EXPECT_FALSE(client.ReadFrame(std::chrono::seconds(10)).has_value())
      << "the node answered a stranger";
  EXPECT_TRUE(client.WaitClosed()) << "connection left open";
}

TEST_F(AbuseTest, GarbageAndOversizedP2pFramesAreDropped) {
  const std::vector<std::pair<std::string, Bytes>> inputs = {
      {"4 GiB frame header", {0xff, 0xff, 0xff, 0xff}},
      {"frame over the handshake cap", {0x00, 0x00, 0x10, 0x00}},
      {"empty frame", {0x00, 0x00, 0x00, 0x00}},
      {"HTTP request", ToBytes(std::string("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))},
      {"random bytes",
       [] {
         Bytes b(3000);
         crypto::RandomBytes(b.data(), b.size());
         return b;
       }()},
  };
  for (const auto& [what, bytes] : inputs) {
    int fd = Dial(p2p_port_);
    ASSERT_GE(fd, 0);
    SendAll(fd, bytes);
    Bytes got;
    EXPECT_TRUE(ReadUntilClosed(fd, Clock::now() + std::chrono::seconds(10), &got))
        << what << ": connection left open";
    ::close(fd);
  }
  EXPECT_EQ(HonestTransfer(), "");
}

}  // namespace
}  // namespace civitas::e2e
