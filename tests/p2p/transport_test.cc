// Transports talking to each other over loopback sockets.

#include "node/p2p/transport.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>

#include "p2p_test_util.h"

namespace civitas::p2p::testing {
namespace {

std::string Loopback(uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

class MeshTest : public ::testing::Test {
 protected:
  void MakeNodes(int n) {
    for (int i = 0; i < n; ++i) keys_.push_back(KeyFromByte(static_cast<uint8_t>(0x10 + i)));
    for (const auto& k : keys_) council_.push_back(k.public_key());
    for (int i = 0; i < n; ++i) nodes_.push_back(NewTransport(i, "127.0.0.1:0"));
    io_.Call([&] {
      for (auto& t : nodes_) ASSERT_TRUE(t->Start().ok());
    });
  }
  std::unique_ptr<Transport> NewTransport(int i, const std::string& listen) {
    Options o = TestOptions(council_);
    o.listen = listen;
    return std::make_unique<Transport>(io_.io(), o, keys_[i], rec_.HandlerFor(i),
                                       rec_.EventsFor(i));
  }
  void Dial(int from, int to) {
    io_.Call([&] {
      Status s = nodes_[from]->AddPeer({council_[to], Loopback(nodes_[to]->listen_port())});
      ASSERT_TRUE(s.ok()) << s.ToString();
    });
  }
  // Every node has an authenticated connection to every other one, no extra socket (the
  // losers of simultaneous dials are closed) and no dial under way that could still replace a
  // connection (and lose what is in flight on it).
  bool FullMesh() {
    for (const auto& t : nodes_) {
      if (t->ConnectedPeers().size() != nodes_.size() - 1) return false;
      Stats stats = t->GetStats();
      if (stats.connections != nodes_.size() - 1 || stats.dials_in_progress != 0) return false;
    }
    return true;
  }
  void TearDown() override {
    io_.Call([&] {
      for (auto& t : nodes_) t->Stop();
      for (auto& t : retired_) t->Stop();
    });
    io_.Join();  // returns only if Stop left no operation pending
  }

  IoThread io_;
  Recorder rec_;
  std::vector<crypto::SecretKey> keys_;
  std::vector<crypto::PublicKey> council_;
  std::vector<std::unique_ptr<Transport>> nodes_;
  std::vector<std::unique_ptr<Transport>> retired_;
};

TEST_F(MeshTest, FullMeshDeliversEveryChannelInOrder) {
  constexpr int kNodes = 4;
  constexpr int kMsgs = 90;  // per ordered pair, spread over channels 0, 1, 2
  MakeNodes(kNodes);
  // Everyone dials everyone: the simultaneous dials must resolve to one connection per pair.
  for (int i = 0; i < kNodes; ++i) {
    for (int j = 0; j < kNodes; ++j) {
      if (i != j) Dial(i, j);
    }
  }
  ASSERT_TRUE(rec_.WaitUntil([&] { return FullMesh(); }));

  for (int s = 0; s < kMsgs; ++s) {
    for (int i = 0; i < kNodes; ++i) {
      for (int j = 0; j < kNodes; ++j) {
        if (i == j) continue;
        Bytes payload = {static_cast<uint8_t>(i), static_cast<uint8_t>(s)};
        payload.resize(2 + s * 37, 0x5a);  // sizes vary, up to a few KiB
        Status st = nodes_[i]->Send(council_[j], static_cast<uint8_t>(s % 3), payload);
        ASSERT_TRUE(st.ok()) << st.ToString();
      }
    }
  }
  const size_t total = kNodes * (kNodes - 1) * kMsgs;
  ASSERT_TRUE(rec_.WaitUntil([&] { return rec_.received().size() >= total; }));

  auto lock = rec_.Lock();
  ASSERT_EQ(rec_.received().size(), total);
  std::map<std::pair<int, int>, int> next;  // (receiver, sender) -> expected sequence number
  for (const Received& r : rec_.received()) {
    int sender = r.payload[0];
    ASSERT_EQ(r.from, council_[sender]);
    int seq = next[{r.node, sender}]++;
    EXPECT_EQ(r.payload[1], seq) << "out of order from " << sender << " at " << r.node;
    EXPECT_EQ(r.channel, seq % 3);
    EXPECT_EQ(r.payload.size(), static_cast<size_t>(2 + seq * 37));
  }
  for (int i = 0; i < kNodes; ++i) {
    for (int j = 0; j < kNodes; ++j) {
      if (i != j) {
        EXPECT_EQ((next[{i, j}]), kMsgs);
      }
    }
  }
  rec_.received().clear();
  lock.unlock();

  EXPECT_EQ(nodes_[2]->Broadcast(kChannelMempool, ToBytes("tx")), 3u);
  ASSERT_TRUE(rec_.WaitUntil([&] { return rec_.received().size() == 3; }));
  lock = rec_.Lock();
  for (const Received& r : rec_.received()) {
    EXPECT_EQ(r.from, council_[2]);
    EXPECT_EQ(r.channel, kChannelMempool);
    EXPECT_EQ(r.payload, ToBytes("tx"));
  }
}

TEST_F(MeshTest, RestartedNodeIsReconnected) {
  MakeNodes(3);
  // Node 0 only listens; the others dial it and each other.
  Dial(1, 0);
  Dial(2, 0);
  Dial(1, 2);
  Dial(2, 1);
  ASSERT_TRUE(rec_.WaitUntil([&] { return FullMesh(); }));

  const uint16_t port = nodes_[0]->listen_port();
  io_.Call([&] { nodes_[0]->Stop(); });
  ASSERT_TRUE(rec_.WaitUntil([&] {
    return nodes_[1]->ConnectedPeers().size() == 1 && nodes_[2]->ConnectedPeers().size() == 1;
  }));
  retired_.push_back(std::move(nodes_[0]));

  // A new process on the same port with the same key.
  nodes_[0] = NewTransport(0, Loopback(port));
  io_.Call([&] { ASSERT_TRUE(nodes_[0]->Start().ok()); });
  ASSERT_EQ(nodes_[0]->listen_port(), port);
  ASSERT_TRUE(rec_.WaitUntil([&] { return FullMesh(); }));

  ASSERT_TRUE(nodes_[1]->Send(council_[0], kChannelSync, ToBytes("hello again")).ok());
  ASSERT_TRUE(nodes_[0]->Send(council_[2], kChannelConsensus, ToBytes("back")).ok());
  ASSERT_TRUE(rec_.WaitUntil([&] { return rec_.received().size() == 2; }));
  auto lock = rec_.Lock();
  for (const Received& r : rec_.received()) {
    if (r.node == 0) {
      EXPECT_EQ(r.from, council_[1]);
      EXPECT_EQ(r.payload, ToBytes("hello again"));
    } else {
      EXPECT_EQ(r.node, 2);
      EXPECT_EQ(r.from, council_[0]);
      EXPECT_EQ(r.payload, ToBytes("back"));
    }
  }
}

TEST_F(MeshTest, SendRefusals) {
  MakeNodes(2);
  // Not connected yet: refused, nothing is kept for later.
  Status s = nodes_[0]->Send(council_[1], kChannelConsensus, ToBytes("x"));
  EXPECT_EQ(s.reason(), "not_connected");
  s = nodes_[0]->Send(KeyFromByte(0x77).public_key(), kChannelConsensus, ToBytes("x"));
  EXPECT_EQ(s.reason(), "unknown_peer");
  s = nodes_[0]->Send(council_[0], kChannelConsensus, ToBytes("x"));
  EXPECT_EQ(s.reason(), "unknown_peer");  // ourselves
  Dial(0, 1);
  ASSERT_TRUE(rec_.WaitUntil([&] { return FullMesh(); }));
  s = nodes_[0]->Send(council_[1], kChannelConsensus, Bytes((4 << 20) - 1));
  EXPECT_EQ(s.reason(), "too_large");
  EXPECT_TRUE(nodes_[0]->Send(council_[1], kChannelConsensus, Bytes((4 << 20) - 2)).ok());
  ASSERT_TRUE(rec_.WaitUntil([&] { return rec_.received().size() == 1; }));
}

TEST_F(MeshTest, PeersOnAnotherChainDoNotConnect) {
  MakeNodes(1);
  keys_.push_back(KeyFromByte(0x40));
  Options o = TestOptions({council_[0], keys_[1].public_key()});
  o.chain_id = "another-chain";
  o.peers = {{council_[0], Loopback(nodes_[0]->listen_port())}};
  nodes_.push_back(
      std::make_unique<Transport>(io_.io(), o, keys_[1], rec_.HandlerFor(1), rec_.EventsFor(1)));
  io_.Call([&] { ASSERT_TRUE(nodes_[1]->Start().ok()); });
  ASSERT_TRUE(rec_.WaitUntil([&] {
    return rec_.HasEvent(0, PeerEvent::Kind::kRefused, "wrong_chain") &&
           rec_.HasEvent(1, PeerEvent::Kind::kRefused, "wrong_chain");
  }));
  EXPECT_TRUE(nodes_[0]->ConnectedPeers().empty());
  EXPECT_TRUE(nodes_[1]->ConnectedPeers().empty());
}

TEST_F(MeshTest, DialedAddressAnsweredByAnotherKeyIsRefused) {
  MakeNodes(3);
  // Node 0 believes node 2 listens where node 1 does.
  io_.Call([&] {
    ASSERT_TRUE(nodes_[0]->AddPeer({council_[2], Loopback(nodes_[1]->listen_port())}).ok());
  });
  ASSERT_TRUE(rec_.WaitUntil(
      [&] { return rec_.HasEvent(0, PeerEvent::Kind::kRefused, "unexpected_key"); }));
  EXPECT_TRUE(nodes_[0]->ConnectedPeers().empty());
}

TEST_F(MeshTest, MemberRemovedFromCouncilIsDisconnectedAndRefused) {
  MakeNodes(3);
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      if (i != j) Dial(i, j);
    }
  }
  ASSERT_TRUE(rec_.WaitUntil([&] { return FullMesh(); }));
  io_.Call([&] { nodes_[0]->SetCouncil({council_[0], council_[1]}); });
  ASSERT_TRUE(rec_.WaitUntil([&] {
    return rec_.HasEvent(0, PeerEvent::Kind::kDisconnected, "removed_from_council") &&
           rec_.HasEvent(0, PeerEvent::Kind::kRefused, "unknown_key");  // node 2 redialed
  }));
  EXPECT_EQ(nodes_[0]->ConnectedPeers(), std::vector<crypto::PublicKey>{council_[1]});
  EXPECT_EQ(nodes_[0]->Send(council_[2], kChannelConsensus, ToBytes("x")).reason(), "unknown_peer");
}

TEST_F(MeshTest, PenalizedPeerIsDisconnectedAndRefusedForTheBan) {
  MakeNodes(2);
  Dial(0, 1);
  Dial(1, 0);
  ASSERT_TRUE(rec_.WaitUntil([&] { return FullMesh(); }));
  nodes_[0]->Penalize(council_[1], "invalid_consensus_message");
  ASSERT_TRUE(rec_.WaitUntil([&] {
    return rec_.HasEvent(0, PeerEvent::Kind::kDisconnected, "invalid_consensus_message") &&
           rec_.HasEvent(0, PeerEvent::Kind::kRefused, "banned");  // node 1 redialed
  }));
  EXPECT_TRUE(nodes_[0]->ConnectedPeers().empty());
  EXPECT_EQ(nodes_[0]->GetStats().peers.at(0).penalties, 1u);
  // After the ban the two connect again.
  ASSERT_TRUE(rec_.WaitUntil([&] { return FullMesh(); }));
}

// A council member may name its listen address and its peers by hostname (docs/COUNCIL.md).
TEST_F(MeshTest, ListenAddressesAndPeersMayBeHostnames) {
  for (int i = 0; i < 2; ++i) keys_.push_back(KeyFromByte(static_cast<uint8_t>(0x10 + i)));
  for (const auto& k : keys_) council_.push_back(k.public_key());
  for (int i = 0; i < 2; ++i) nodes_.push_back(NewTransport(i, "localhost:0"));
  io_.Call([&] {
    for (auto& t : nodes_) ASSERT_TRUE(t->Start().ok());
    ASSERT_NE(nodes_[1]->listen_port(), 0);
    Status s =
        nodes_[0]->AddPeer({council_[1], "localhost:" + std::to_string(nodes_[1]->listen_port())});
    ASSERT_TRUE(s.ok()) << s.ToString();
  });
  ASSERT_TRUE(rec_.WaitUntil([&] { return FullMesh(); }));
}

TEST_F(MeshTest, InvalidOptionsAreRefusedAtStart) {
  MakeNodes(1);
  auto start = [&](Options o) {
    Transport t(io_.io(), o, keys_[0], nullptr);
    return io_.Call([&] {
      Status s = t.Start();
      t.Stop();
      return s;
    });
  };
  Options o = TestOptions(council_);
  o.chain_id = "";
  EXPECT_EQ(start(o).reason(), "bad_options");
  o = TestOptions(council_);
  o.listen = "localhost";
  EXPECT_EQ(start(o).reason(), "bad_address");
  o = TestOptions(council_);
  o.listen = "no-such-host.invalid:0";  // a name that never resolves (RFC 6761)
  EXPECT_EQ(start(o).reason(), "bad_address");
  o = TestOptions(council_);
  o.peers = {{KeyFromByte(0x66).public_key(), "127.0.0.1:1"}};
  EXPECT_EQ(start(o).reason(), "bad_peer");
  o = TestOptions(council_);
  o.listen = Loopback(nodes_[0]->listen_port());  // taken
  EXPECT_EQ(start(o).code(), Status::Code::kIOError);
  o = TestOptions(council_);
  o.max_queue_bytes = o.max_frame_bytes;
  EXPECT_EQ(start(o).reason(), "bad_options");
}

}  // namespace
}  // namespace civitas::p2p::testing
