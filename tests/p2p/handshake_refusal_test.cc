// A transport facing hand-written clients that break the protocol in one way each. The first
// test is the control: the same client speaking correctly is accepted, so each refusal below is
// caused by the one thing that test changes.

#include <gtest/gtest.h>

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <memory>

#include "node/p2p/log_throttle.h"
#include "node/p2p/transport.h"
#include "p2p_test_util.h"

namespace civitas::p2p::testing {
namespace {

using Kind = PeerEvent::Kind;

class RawPeerTest : public ::testing::Test {
 protected:
  RawPeerTest()
      : server_key_(KeyFromByte(0x21)),
        client_key_(KeyFromByte(0x22)),
        outsider_key_(KeyFromByte(0x23)) {}

  void StartServer(Options o) {
    server_ = std::make_unique<Transport>(io_.io(), o, server_key_, rec_.HandlerFor(0),
                                          rec_.EventsFor(0));
    io_.Call([&] { ASSERT_TRUE(server_->Start().ok()); });
  }
  void StartServer() { StartServer(DefaultOptions()); }
  Options DefaultOptions() {
    return TestOptions({server_key_.public_key(), client_key_.public_key()});
  }
  const crypto::PublicKey& server() { return server_key_.public_key(); }
  // A client inside a TLS session with the server, from `source` (a loopback address).
  std::unique_ptr<RawClient> Connect(const std::string& source = "") {
    auto c = ConnectPlain(source);
    EXPECT_TRUE(c->StartTls());
    return c;
  }
  // A client that has only opened the TCP connection.
  std::unique_ptr<RawClient> ConnectPlain(const std::string& source = "") {
    return std::make_unique<RawClient>(server_->listen_port(), source);
  }
  bool WaitEvent(Kind kind, const std::string& reason) {
    return rec_.WaitUntil([&] { return rec_.HasEvent(0, kind, reason); });
  }
  void SendHello(RawClient& c, const crypto::PublicKey& key, const std::string& chain) {
    c.WriteFrame(EncodeHello(Hello{kProtocolVersion, chain, key}));
  }
  static SessionBinding Random() {
    SessionBinding b;
    crypto::RandomBytes(b.data(), b.size());
    return b;
  }
  void TearDown() override {
    io_.Call([&] {
      if (server_) server_->Stop();
    });
    io_.Join();
  }

  IoThread io_;
  Recorder rec_;
  crypto::SecretKey server_key_;
  crypto::SecretKey client_key_;
  crypto::SecretKey outsider_key_;
  std::unique_ptr<Transport> server_;
};

TEST_F(RawPeerTest, CorrectHandshakeIsAccepted) {
  StartServer();
  auto c = Connect();
  ASSERT_TRUE(c->Handshake(client_key_, server()));
  ASSERT_TRUE(rec_.WaitUntil([&] { return server_->ConnectedPeers().size() == 1; }));
  ASSERT_TRUE(server_->Send(client_key_.public_key(), kChannelSync, ToBytes("block")).ok());
  auto frame = c->ReadFrame();
  ASSERT_TRUE(frame);
  EXPECT_EQ(*frame, (Bytes{0x03, kChannelSync, 'b', 'l', 'o', 'c', 'k'}));
  c->WriteRaw(EncodeDataFrame(kChannelConsensus, ToBytes("vote")));
  ASSERT_TRUE(rec_.WaitUntil([&] { return rec_.received().size() == 1; }));
  auto lock = rec_.Lock();
  EXPECT_EQ(rec_.received()[0].from, client_key_.public_key());
  EXPECT_EQ(rec_.received()[0].payload, ToBytes("vote"));
}

TEST_F(RawPeerTest, UnknownKeyIsRefused) {
  StartServer();
  auto c = Connect();
  SendHello(*c, outsider_key_.public_key(), kChain);
  EXPECT_TRUE(c->WaitClosed());
  EXPECT_TRUE(WaitEvent(Kind::kRefused, "unknown_key"));
}

TEST_F(RawPeerTest, WrongChainIsRefused) {
  StartServer();
  auto c = Connect();
  SendHello(*c, client_key_.public_key(), "civitas-other");
  EXPECT_TRUE(c->WaitClosed());
  EXPECT_TRUE(WaitEvent(Kind::kRefused, "wrong_chain"));
}

TEST_F(RawPeerTest, LocalKeyIsRefused) {
  StartServer();
  auto c = Connect();
  auto hello = c->ReadHello();
  ASSERT_TRUE(hello);
  // Reflect the server's own HELLO back to it.
  c->WriteFrame(EncodeHello(*hello));
  EXPECT_TRUE(c->WaitClosed());
  EXPECT_TRUE(WaitEvent(Kind::kRefused, "self_key"));
}

TEST_F(RawPeerTest, SignatureFromAnotherSessionIsRefused) {
  StartServer();
  auto c = Connect();
  SendHello(*c, client_key_.public_key(), kChain);
  auto hello = c->ReadHello();
  ASSERT_TRUE(hello);
  // Signed with the right key, but for another TLS session (a replay).
  Auth auth{SignAuth(client_key_, kChain, server(), Random())};
  c->WriteFrame(EncodeAuth(auth));
  EXPECT_TRUE(c->WaitClosed());
  EXPECT_TRUE(WaitEvent(Kind::kRefused, "bad_signature"));
}

TEST_F(RawPeerTest, ReflectedSignatureIsRefused) {
  StartServer();
  auto c = Connect();
  SendHello(*c, client_key_.public_key(), kChain);
  ASSERT_TRUE(c->ReadHello());
  auto server_auth = c->ReadFrame();  // the server's proof, sent back as ours
  ASSERT_TRUE(server_auth);
  c->WriteFrame(*server_auth);
  EXPECT_TRUE(c->WaitClosed());
  EXPECT_TRUE(WaitEvent(Kind::kRefused, "bad_signature"));
}

TEST_F(RawPeerTest, SignatureByAnotherKeyIsRefused) {
  StartServer();
  auto c = Connect();
  SendHello(*c, client_key_.public_key(), kChain);
  ASSERT_TRUE(c->ReadHello());
  Auth auth{SignAuth(outsider_key_, kChain, server(), c->Binding())};
  c->WriteFrame(EncodeAuth(auth));
  EXPECT_TRUE(c->WaitClosed());
  EXPECT_TRUE(WaitEvent(Kind::kRefused, "bad_signature"));
}

TEST_F(RawPeerTest, GarbageBeforeHandshakeIsRefused) {
  StartServer();
  // Without TLS: an HTTP request.
  auto http = ConnectPlain();
  http->WriteRaw(ToBytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_TRUE(http->WaitClosed());
  EXPECT_TRUE(WaitEvent(Kind::kRefused, "tls_failed"));

  // Inside TLS.
  auto big = Connect();
  big->WriteRaw(ToBytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));  // "GET " as a length: too big
  EXPECT_TRUE(big->WaitClosed());
  EXPECT_TRUE(WaitEvent(Kind::kRefused, "frame_too_large"));

  auto junk = Connect();
  junk->WriteRaw(Bytes{0, 0, 0, 3, 0xff, 0xff, 0xff});  // a frame of an unknown message type
  EXPECT_TRUE(junk->WaitClosed());
  EXPECT_TRUE(WaitEvent(Kind::kRefused, "malformed"));

  auto early = Connect();
  early->WriteRaw(EncodeDataFrame(kChannelConsensus, ToBytes("vote")));  // data before HELLO
  EXPECT_TRUE(early->WaitClosed());
  EXPECT_TRUE(rec_.WaitUntil([&] {
    int n = 0;
    for (const auto& e : rec_.events()) n += e.event.reason == "malformed";
    return n == 2;
  }));
  EXPECT_TRUE(server_->ConnectedPeers().empty());
}

TEST_F(RawPeerTest, PlaintextHandshakeOfVersionOneIsRefused) {
  StartServer();
  auto c = ConnectPlain();
  Bytes v1_hello = EncodeHello(Hello{1, kChain, client_key_.public_key()});
  v1_hello.insert(v1_hello.end(), 32, 0xaa);  // version 1 carried a challenge
  c->WriteFrame(v1_hello);
  EXPECT_TRUE(c->WaitClosed());
  EXPECT_TRUE(WaitEvent(Kind::kRefused, "tls_failed"));
  EXPECT_TRUE(server_->ConnectedPeers().empty());
}

TEST_F(RawPeerTest, SilentClientHitsTheHandshakeDeadline) {
  Options o = DefaultOptions();
  o.handshake_timeout = std::chrono::milliseconds(200);
  StartServer(o);
  auto c = Connect();
  EXPECT_TRUE(c->WaitClosed());
  EXPECT_TRUE(WaitEvent(Kind::kRefused, "handshake_timeout"));
}

TEST_F(RawPeerTest, OversizedFrameDisconnectsAndPenalises) {
  Options o = DefaultOptions();
  o.max_frame_bytes = 4096;
  o.max_queue_bytes = 1 << 20;
  StartServer(o);
  auto c = Connect();
  ASSERT_TRUE(c->Handshake(client_key_, server()));
  ASSERT_TRUE(rec_.WaitUntil([&] { return server_->ConnectedPeers().size() == 1; }));
  Bytes header;
  PutU32(header, 4097);
  c->WriteRaw(header);
  EXPECT_TRUE(c->WaitClosed());
  EXPECT_TRUE(WaitEvent(Kind::kDisconnected, "frame_too_large"));
  Stats stats = server_->GetStats();
  ASSERT_EQ(stats.peers.size(), 1u);
  EXPECT_EQ(stats.peers[0].penalties, 1u);
  // The penalty: the same key is refused for a while.
  auto again = Connect();
  EXPECT_FALSE(again->Handshake(client_key_, server()));
  EXPECT_TRUE(WaitEvent(Kind::kRefused, "banned"));
}

TEST_F(RawPeerTest, PendingInboundConnectionsAreCapped) {
  Options o = DefaultOptions();
  o.max_pending_inbound = 2;
  StartServer(o);
  auto a = ConnectPlain();
  auto b = ConnectPlain();
  ASSERT_TRUE(rec_.WaitUntil([&] { return server_->GetStats().pending_inbound == 2; }));
  auto c = ConnectPlain();
  EXPECT_TRUE(c->WaitClosed());
  EXPECT_TRUE(WaitEvent(Kind::kRefused, "too_many_pending"));
  // A slot frees when a pending client leaves; a proper peer then gets in.
  a.reset();
  ASSERT_TRUE(rec_.WaitUntil([&] { return server_->GetStats().pending_inbound == 1; }));
  auto d = Connect();
  EXPECT_TRUE(d->Handshake(client_key_, server()));
}

TEST_F(RawPeerTest, QueueStaysBoundedWhenPeerDoesNotRead) {
  Options o = DefaultOptions();
  o.max_frame_bytes = 64 << 10;
  o.max_queue_msgs = 64;
  o.max_queue_bytes = 256 << 10;
  o.write_timeout = std::chrono::milliseconds(1500);
  o.idle_timeout = std::chrono::seconds(60);
  StartServer(o);
  auto c = Connect();
  ASSERT_TRUE(c->Handshake(client_key_, server()));  // and then never reads again
  ASSERT_TRUE(rec_.WaitUntil([&] { return server_->ConnectedPeers().size() == 1; }));
  const crypto::PublicKey& to = client_key_.public_key();
  const Bytes payload(16 << 10, 0x42);

  auto check_bounds = [&] {
    for (const PeerStats& p : server_->GetStats().peers) {
      EXPECT_LE(p.queued_msgs, o.max_queue_msgs);
      EXPECT_LE(p.queued_bytes, o.max_queue_bytes);
    }
  };
  // Gossip until the kernel buffers are full and the queue sheds old gossip.
  uint64_t dropped = 0;
  for (int i = 0; i < 20000 && dropped < 200; ++i) {
    ASSERT_TRUE(server_->Send(to, kChannelMempool, payload).ok());
    check_bounds();
    dropped = server_->GetStats().peers[0].dropped_msgs;
  }
  EXPECT_GE(dropped, 200u);
  // Consensus frames push gossip out, then fill the queue and are refused, never dropped.
  Status refused;
  for (int i = 0; i < 5000 && refused.ok(); ++i) {
    refused = server_->Send(to, kChannelConsensus, payload);
    check_bounds();
  }
  EXPECT_EQ(refused.reason(), "queue_full");
  EXPECT_GE(server_->GetStats().peers[0].refused_sends, 1u);
  // Keep offering frames: once the kernel buffers are full the current write stalls, and a peer
  // that does not read is disconnected after write_timeout. The bounds hold throughout.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    Status s = server_->Send(to, kChannelConsensus, payload);
    if (s.reason() == "not_connected") break;
    check_bounds();
    std::this_thread::yield();
  }
  EXPECT_TRUE(WaitEvent(Kind::kDisconnected, "write_stalled"));
}

// The relay attack of issue 22: someone with no key stands between two council members, opens
// a TLS session to each, and passes each one's HELLO and AUTH to the other. With version 1 both
// accepted the relayed proofs and took the relay for the other member. Each proof now signs its
// own session's exporter value, which the relay's two sessions do not share.
TEST_F(RawPeerTest, RelayedHandshakeIsRefusedByBothEnds) {
  StartServer();
  Options o = TestOptions({server_key_.public_key(), client_key_.public_key()});
  Transport other(io_.io(), o, client_key_, rec_.HandlerFor(1), rec_.EventsFor(1));
  io_.Call([&] { ASSERT_TRUE(other.Start().ok()); });
  RawClient to_server(server_->listen_port());
  RawClient to_other(other.listen_port());
  ASSERT_TRUE(to_server.StartTls());
  ASSERT_TRUE(to_other.StartTls());
  auto hello_server = to_server.ReadFrame();
  auto hello_other = to_other.ReadFrame();
  ASSERT_TRUE(hello_server && hello_other);
  to_server.WriteFrame(*hello_other);
  to_other.WriteFrame(*hello_server);
  auto auth_server = to_server.ReadFrame();  // the server's proof, for "client_key_"
  auto auth_other = to_other.ReadFrame();
  ASSERT_TRUE(auth_server && auth_other);
  to_server.WriteFrame(*auth_other);
  to_other.WriteFrame(*auth_server);
  EXPECT_TRUE(to_server.WaitClosed());
  EXPECT_TRUE(to_other.WaitClosed());
  EXPECT_TRUE(rec_.WaitUntil([&] {
    return rec_.HasEvent(0, Kind::kRefused, "bad_signature") &&
           rec_.HasEvent(1, Kind::kRefused, "bad_signature");
  }));
  EXPECT_TRUE(server_->ConnectedPeers().empty());
  EXPECT_TRUE(other.ConnectedPeers().empty());
  // Nobody was penalised for what the relay did: the two still connect directly.
  io_.Call([&] {
    ASSERT_TRUE(
        other.AddPeer({server(), "127.0.0.1:" + std::to_string(server_->listen_port())}).ok());
  });
  EXPECT_TRUE(rec_.WaitUntil([&] { return server_->ConnectedPeers().size() == 1; }));
  for (const PeerStats& p : server_->GetStats().peers) EXPECT_EQ(p.penalties, 0u);
  io_.Call([&] { other.Stop(); });
}

// One host cannot take every pending slot: past its per-address share it is refused, and when
// the table is full a newcomer from another address takes the oldest slot of the busiest one.
TEST_F(RawPeerTest, PendingSlotsAreSharedBetweenAddresses) {
  Options o = DefaultOptions();
  o.max_pending_inbound = 3;
  o.max_pending_per_address = 3;
  StartServer(o);
  std::vector<std::unique_ptr<RawClient>> flood;
  for (int i = 0; i < 3; ++i) flood.push_back(ConnectPlain("127.0.0.2"));
  ASSERT_TRUE(rec_.WaitUntil([&] { return server_->GetStats().pending_inbound == 3; }));
  auto extra = ConnectPlain("127.0.0.2");
  EXPECT_TRUE(extra->WaitClosed());
  EXPECT_TRUE(WaitEvent(Kind::kRefused, "too_many_pending_from_address"));
  // A member connecting from another address gets in, evicting the flood's oldest.
  auto member = ConnectPlain("127.0.0.3");
  EXPECT_TRUE(member->Handshake(client_key_, server()));
  EXPECT_TRUE(WaitEvent(Kind::kRefused, "evicted"));
  EXPECT_TRUE(flood[0]->WaitClosed());
  EXPECT_TRUE(rec_.WaitUntil([&] { return server_->ConnectedPeers().size() == 1; }));
}

// Refusals log a bounded number of lines however many connections are refused.
TEST_F(RawPeerTest, RefusalLogLinesAreThrottled) {
  auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(100000);
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("refusals", sink));
  StartServer();
  constexpr int kRefused = 200;
  for (int i = 0; i < kRefused; ++i) {
    auto c = ConnectPlain();
    c->WriteRaw(ToBytes("junk junk junk"));
    EXPECT_TRUE(c->WaitClosed());
  }
  EXPECT_TRUE(rec_.WaitUntil([&] {
    int n = 0;
    for (const auto& e : rec_.events()) n += e.event.reason == "tls_failed";
    return n == kRefused;
  }));
  int lines = 0;
  for (const std::string& line : sink->last_formatted()) {
    lines += line.find("refused") != std::string::npos;
  }
  spdlog::set_default_logger(previous);
  EXPECT_GE(lines, 1);
  EXPECT_LE(lines, 40);  // one window's burst, plus one more if the run crossed a window
}

TEST(LogThrottleTest, LetsABurstThroughPerWindowAndCountsTheRest) {
  LogThrottle throttle(2, std::chrono::milliseconds(1000));
  auto t0 = LogThrottle::Clock::time_point{} + std::chrono::hours(1);
  uint64_t suppressed = 99;
  EXPECT_TRUE(throttle.Allow(t0, &suppressed));
  EXPECT_EQ(suppressed, 0u);
  EXPECT_TRUE(throttle.Allow(t0 + std::chrono::milliseconds(1), &suppressed));
  EXPECT_FALSE(throttle.Allow(t0 + std::chrono::milliseconds(2), &suppressed));
  EXPECT_FALSE(throttle.Allow(t0 + std::chrono::milliseconds(999), &suppressed));
  EXPECT_TRUE(throttle.Allow(t0 + std::chrono::milliseconds(1000), &suppressed));
  EXPECT_EQ(suppressed, 2u);
}

}  // namespace
}  // namespace civitas::p2p::testing
