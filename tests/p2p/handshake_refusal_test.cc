// A transport facing hand-written clients that break the protocol in one way each. The first
// test is the control: the same client speaking correctly is accepted, so each refusal below is
// caused by the one thing that test changes.

#include <gtest/gtest.h>

#include <memory>

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
  std::unique_ptr<RawClient> Connect() {
    return std::make_unique<RawClient>(server_->listen_port());
  }
  bool WaitEvent(Kind kind, const std::string& reason) {
    return rec_.WaitUntil([&] { return rec_.HasEvent(0, kind, reason); });
  }
  void SendHello(RawClient& c, const crypto::PublicKey& key, const std::string& chain,
                 Challenge challenge) {
    c.WriteFrame(EncodeHello(Hello{kProtocolVersion, chain, key, challenge}));
  }
  static Challenge Random() {
    Challenge c;
    crypto::RandomBytes(c.data(), c.size());
    return c;
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
  SendHello(*c, outsider_key_.public_key(), kChain, Random());
  EXPECT_TRUE(c->WaitClosed());
  EXPECT_TRUE(WaitEvent(Kind::kRefused, "unknown_key"));
}

TEST_F(RawPeerTest, WrongChainIsRefused) {
  StartServer();
  auto c = Connect();
  SendHello(*c, client_key_.public_key(), "civitas-other", Random());
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
  Challenge mine = Random();
  SendHello(*c, client_key_.public_key(), kChain, mine);
  auto hello = c->ReadHello();
  ASSERT_TRUE(hello);
  // Signed with the right key, but over a challenge the server did not send (a replay).
  Auth auth{SignAuth(client_key_, kChain, server(), Random(), mine)};
  c->WriteFrame(EncodeAuth(auth));
  EXPECT_TRUE(c->WaitClosed());
  EXPECT_TRUE(WaitEvent(Kind::kRefused, "bad_signature"));
}

TEST_F(RawPeerTest, ReflectedSignatureIsRefused) {
  StartServer();
  auto c = Connect();
  SendHello(*c, client_key_.public_key(), kChain, Random());
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
  Challenge mine = Random();
  SendHello(*c, client_key_.public_key(), kChain, mine);
  auto hello = c->ReadHello();
  ASSERT_TRUE(hello);
  Auth auth{SignAuth(outsider_key_, kChain, server(), hello->challenge, mine)};
  c->WriteFrame(EncodeAuth(auth));
  EXPECT_TRUE(c->WaitClosed());
  EXPECT_TRUE(WaitEvent(Kind::kRefused, "bad_signature"));
}

TEST_F(RawPeerTest, GarbageBeforeHandshakeIsRefused) {
  StartServer();
  auto http = Connect();
  http->WriteRaw(ToBytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));  // "GET " as a length: too big
  EXPECT_TRUE(http->WaitClosed());
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
  auto a = Connect();
  auto b = Connect();
  ASSERT_TRUE(rec_.WaitUntil([&] { return server_->GetStats().pending_inbound == 2; }));
  auto c = Connect();
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

TEST_F(RawPeerTest, ReflectedChallengeIsRefused) {
  StartServer();
  auto c = Connect();
  auto hello = c->ReadHello();
  ASSERT_TRUE(hello);
  // A council key, but the server's own challenge: the peer would make the server sign the
  // same bytes it expects back.
  SendHello(*c, client_key_.public_key(), kChain, hello->challenge);
  EXPECT_TRUE(c->WaitClosed());
  EXPECT_TRUE(WaitEvent(Kind::kRefused, "reflected_challenge"));
}

}  // namespace
}  // namespace civitas::p2p::testing
