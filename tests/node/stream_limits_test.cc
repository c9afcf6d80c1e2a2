// The gRPC API's server streams against a client that opens too many or does not read
// (issue 22): streams are capped per client address and in total with a clear refusal, unary
// calls are served while streams are at their cap, and a stream whose writes do not complete
// ends after grpc.stream_write_timeout_ms.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <filesystem>
#include <functional>
#include <thread>

#include "civitas/v1/node.grpc.pb.h"
#include "node/node.h"
#include "node_client.h"
#include "test_chain.h"

namespace civitas::node {
namespace {

using civitas::testing::MakeTestChain;
using civitas::testing::MetricValue;

// True once `done` holds, polling every 20 ms for at most `ms`.
bool WaitFor(const std::function<bool()>& done, int ms = 10'000) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

class StreamLimitsTest : public ::testing::Test {
 protected:
  void StartNode(size_t max_streams, size_t per_client, uint32_t write_timeout_ms = 10'000) {
    home_ = civitas::testing::TestDir("streams");
    Config config;
    config.home = home_;
    config.grpc_listen = "127.0.0.1:0";
    config.http_listen = "127.0.0.1:0";
    config.p2p_listen = "127.0.0.1:0";
    config.block_interval_ms = 20;
    config.timeout_base_ms = 500;
    config.grpc_max_streams = max_streams;
    config.grpc_max_streams_per_client = per_client;
    config.grpc_stream_write_timeout_ms = write_timeout_ms;
    ASSERT_TRUE(ValidateConfig(config).ok());
    auto node = Node::Open(config, chain_.genesis, chain_.validators[0]);
    ASSERT_TRUE(node.ok()) << node.status().ToString();
    node_ = std::move(*node);
    ASSERT_TRUE(node_->Start().ok());
    stub_ = NewStub();
  }
  void TearDown() override {
    streams_.clear();
    if (node_) node_->Stop();
    node_.reset();
    std::filesystem::remove_all(home_);
  }

  // A stub on a connection of its own (a channel holds at most 100 concurrent calls).
  std::unique_ptr<v1::Node::Stub> NewStub(grpc::ChannelArguments args = {}) {
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return v1::Node::NewStub(
        grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(node_->grpc_port()),
                                  grpc::InsecureChannelCredentials(), args));
  }

  struct Stream {
    std::unique_ptr<v1::Node::Stub> stub;
    std::unique_ptr<grpc::ClientContext> ctx;
    std::unique_ptr<grpc::ClientReader<v1::StreamBlocksResponse>> reader;
  };
  // Opens StreamBlocks from `from_height` on a stub of its own.
  Stream& OpenStream(uint64_t from_height, grpc::ChannelArguments args = {}) {
    Stream s;
    s.stub = NewStub(args);
    s.ctx = std::make_unique<grpc::ClientContext>();
    // Bounds a test that would otherwise wait on a stream the node failed to refuse.
    s.ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v1::StreamBlocksRequest req;
    req.set_from_height(from_height);
    s.reader = s.stub->StreamBlocks(s.ctx.get(), req);
    streams_.push_back(std::move(s));
    return streams_.back();
  }
  double Metric(const std::string& name) { return MetricValue(node_->http_port(), name); }

  // Opens `n` streams that wait for a far height (idle, no writes) and waits until the node
  // holds them all.
  void OpenIdleStreams(size_t n) {
    for (size_t i = 0; i < n; ++i) OpenStream(1'000'000'000);
    ASSERT_TRUE(WaitFor([&] { return Metric("civitas_grpc_streams") == static_cast<double>(n); }))
        << Metric("civitas_grpc_streams");
  }

  // Reads a refused stream to its end: the status it finished with.
  grpc::Status Refusal(Stream& s) {
    v1::StreamBlocksResponse msg;
    EXPECT_FALSE(s.reader->Read(&msg));
    return s.reader->Finish();
  }

  bool StatusAnswers() {
    v1::GetStatusRequest req;
    v1::GetStatusResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    return stub_->GetStatus(&ctx, req, &resp).ok();
  }

  civitas::testing::TestChain chain_ = MakeTestChain(2, 1'000'000'000);
  std::string home_;
  std::unique_ptr<Node> node_;
  std::unique_ptr<v1::Node::Stub> stub_;
  std::deque<Stream> streams_;
};

TEST_F(StreamLimitsTest, AClientBeyondItsStreamCapIsRefusedNamingTheCap) {
  StartNode(/*max_streams=*/16, /*per_client=*/3);
  OpenIdleStreams(3);
  grpc::Status refused = Refusal(OpenStream(1));
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(refused.error_message().find("at most 3 streams at once per client address"),
            std::string::npos)
      << refused.error_message();
  EXPECT_EQ(Metric("civitas_grpc_streams_refused_total"), 1);
  EXPECT_TRUE(StatusAnswers());
  // Closing one makes room for the next.
  streams_.front().ctx->TryCancel();
  ASSERT_TRUE(WaitFor([&] { return Metric("civitas_grpc_streams") == 2; }));
  Stream& next = OpenStream(1);
  v1::StreamBlocksResponse block;
  ASSERT_TRUE(next.reader->Read(&block));
  EXPECT_EQ(block.block().block().header().height(), 1u);
}

// About 255 open streams used to take every thread of the server's pool: every other call
// failed with "Server Threadpool Exhausted".
TEST_F(StreamLimitsTest, UnaryCallsAreServedWhileStreamsAreAtTheTotalCap) {
  const size_t cap = static_cast<size_t>(kGrpcThreads / 2);
  StartNode(cap, cap);
  OpenIdleStreams(cap);
  for (int extra = 0; extra < 3; ++extra) {
    grpc::Status refused = Refusal(OpenStream(1));
    EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    EXPECT_NE(refused.error_message().find("at most " + std::to_string(cap) +
                                           " streams at once (grpc.max_streams)"),
              std::string::npos)
        << refused.error_message();
  }
  // Unary calls from many clients at once.
  std::vector<std::thread> callers;
  std::atomic<int> answered{0};
  for (int i = 0; i < 32; ++i) {
    callers.emplace_back([&] {
      auto stub = NewStub();
      v1::GetStatusRequest req;
      v1::GetStatusResponse resp;
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      if (stub->GetStatus(&ctx, req, &resp).ok()) answered.fetch_add(1);
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(answered.load(), 32);
  EXPECT_EQ(Metric("civitas_grpc_streams"), static_cast<double>(cap));
}

// A client that opens a stream and never reads: the node's writes stop completing once the
// flow-control window is full, and the stream held its thread for ever.
TEST_F(StreamLimitsTest, AStreamWhoseClientDoesNotReadEndsAfterTheWriteTimeout) {
  StartNode(16, 8, /*write_timeout_ms=*/300);
  // Blocks of about 60 KB: five deployments of 60,000 bytes of (invalid) code.
  for (uint64_t nonce = 0; nonce < 5; ++nonce) {
    v1::TxBody body;
    body.set_chain_id(chain_.genesis.chain_id);
    body.set_nonce(nonce);
    body.set_gas_limit(200'000);
    body.mutable_deploy()->set_code(std::string(60'000, '\x01'));
    auto out = civitas::testing::SubmitTx(*stub_, SignTx(chain_.users[0], body), true);
    ASSERT_TRUE(out.status.ok()) << out.status.error_message();
    ASSERT_TRUE(out.resp.committed());
  }
  // A client with a small receive window that never reads.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 16 * 1024);
  Stream& stalled = OpenStream(1, args);
  ASSERT_TRUE(WaitFor([&] { return Metric("civitas_grpc_stream_write_timeouts_total") == 1; }))
      << Metric("civitas_grpc_stream_write_timeouts_total");
  ASSERT_TRUE(WaitFor([&] { return Metric("civitas_grpc_streams") == 0; }));
  // The client finds its stream ended once it reads what had arrived.
  v1::StreamBlocksResponse msg;
  while (stalled.reader->Read(&msg)) {
  }
  EXPECT_FALSE(stalled.reader->Finish().ok());
  // A client that reads gets the same blocks, and the node still answers.
  Stream& reading = OpenStream(1);
  for (uint64_t h = 1; h <= 3; ++h) {
    ASSERT_TRUE(reading.reader->Read(&msg));
    EXPECT_EQ(msg.block().block().header().height(), h);
  }
  EXPECT_TRUE(StatusAnswers());
}

}  // namespace
}  // namespace civitas::node
