#pragma once

// Authenticated, encrypted validator-to-validator transport over TLS 1.3 (Boost.Asio and
// OpenSSL). docs/P2P.md specifies the wire format, the handshake, the limits and the reconnect
// and queue policies.
//
// Every connection is a TLS 1.3 session in which each side then proves that it holds the secret
// key of a council member (BIP-340 signature over the session's TLS exporter value, see
// wire.h), so a relayed or intercepted session fails the handshake. Afterwards
// the transport carries opaque application payloads, each tagged with a channel byte so the node
// can route them (consensus, mempool gossip, block sync). One connection per peer key is kept.
// Delivery is in order per peer while a connection lasts and best effort across reconnects: the
// protocols above must tolerate loss (consensus retransmits on timeouts).
//
// Threading: the io_context must be run by exactly one thread (the "io thread"). The handler and
// the event handler are called on it. Send, Broadcast, ConnectedPeers, GetStats and listen_port
// may be called from any thread. Start, Stop, AddPeer and SetCouncil must be called on the io
// thread, or while no thread runs the io_context.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "ledger/bytes.h"
#include "ledger/crypto.h"
#include "ledger/status.h"

namespace civitas::p2p {

// Channel numbers used by the node. Any byte is carried; only these have a meaning today.
inline constexpr uint8_t kChannelConsensus = 0;
inline constexpr uint8_t kChannelMempool = 1;
inline constexpr uint8_t kChannelSync = 2;

// A peer to dial: "host:port" (IPv6 as "[addr]:port") and the council key it must prove.
struct Peer {
  crypto::PublicKey key{};
  std::string address;
};

struct Options {
  // "host:port" to accept connections on; port 0 picks a free port (see listen_port()).
  // Empty: do not listen (the node only dials).
  std::string listen;
  // Must equal the peers' chain id, byte for byte; 1..64 bytes.
  std::string chain_id;
  // The keys allowed to connect. The local key may be in it (it is refused as a peer).
  std::vector<crypto::PublicKey> council;
  // Dialed at Start and redialed whenever not connected. Keys must be in the council.
  std::vector<Peer> peers;

  // Largest frame payload (envelope included; an application payload may be 2 bytes less).
  // A peer that announces a bigger frame is disconnected and penalised.
  size_t max_frame_bytes = 4 << 20;
  // Per-peer send queue caps; see SendQueue for the drop policy. max_queue_bytes must be at
  // least max_frame_bytes + 4.
  size_t max_queue_msgs = 1024;
  size_t max_queue_bytes = 16 << 20;
  // Frames on these channels are never evicted from a send queue to make room.
  std::vector<uint8_t> critical_channels = {kChannelConsensus};
  // Inbound connections that have not finished the handshake, in all and per remote IP address
  // (docs/P2P.md, "Pending inbound connections"). The per-address cap grows by 2 for each
  // configured peer at that address, so a council sharing one host is not starved by it.
  size_t max_pending_inbound = 32;
  size_t max_pending_per_address = 4;

  std::chrono::milliseconds handshake_timeout{5000};
  std::chrono::milliseconds backoff_initial{100};
  std::chrono::milliseconds backoff_max{5000};
  // A PING is sent when nothing was written for this long; a connection on which nothing was
  // read for idle_timeout, or whose current write has not finished after write_timeout, is
  // closed (a dead or non-reading peer).
  std::chrono::milliseconds ping_interval{5000};
  std::chrono::milliseconds idle_timeout{20000};
  std::chrono::milliseconds write_timeout{20000};
  // How long an authenticated peer that broke the protocol (oversized or malformed frame) is
  // refused (inbound) and not dialed.
  std::chrono::milliseconds penalty_ban{10000};
  // Seed of the reconnect jitter; 0 draws one from the operating system.
  uint64_t rng_seed = 0;
};

// Called for every application payload received from an authenticated peer.
using Handler = std::function<void(const crypto::PublicKey& from, uint8_t channel, Bytes payload)>;

struct PeerEvent {
  enum class Kind {
    kConnected,     // the first authenticated connection to `key` is up
    kDisconnected,  // the last one is gone; `reason` says why
    kRefused,       // a connection closed before its handshake completed; `reason` says why
  };
  Kind kind = Kind::kConnected;
  std::optional<crypto::PublicKey> key;  // for kRefused: the key the peer claimed, if any
  std::string remote;                    // "ip:port" of the other end
  // A short word: tls_failed, unknown_key, wrong_chain, bad_signature, self_key, unexpected_key,
  // bad_version, banned, malformed, frame_too_large, handshake_timeout, too_many_pending,
  // too_many_pending_from_address, evicted, eof, read_error, write_error, idle_timeout,
  // write_stalled, removed_from_council, duplicate, replaced.
  std::string reason;
};
using EventHandler = std::function<void(const PeerEvent&)>;

struct PeerStats {
  crypto::PublicKey key{};
  bool connected = false;
  size_t queued_msgs = 0;
  size_t queued_bytes = 0;
  uint64_t sent_msgs = 0;      // frames handed to the socket
  uint64_t received_msgs = 0;  // payloads delivered to the handler
  uint64_t dropped_msgs = 0;   // evicted from the queue, or queued when the peer disconnected
  uint64_t refused_sends = 0;  // Send calls refused because the queue was full
  uint64_t penalties = 0;
};

struct Stats {
  std::vector<PeerStats> peers;  // one per council key except the local one, sorted by key
  size_t connections = 0;        // open sockets, authenticated or not
  size_t pending_inbound = 0;    // inbound sockets still in the handshake
  size_t dials_in_progress = 0;  // resolves and TCP connects under way
};

class Transport {
 public:
  // `io` must outlive the Transport. Nothing happens until Start.
  Transport(boost::asio::io_context& io, Options options, crypto::SecretKey self, Handler handler,
            EventHandler on_event = nullptr);
  // Stops (see Stop) if still running.
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // Validates the options, binds the listen address and starts dialing the peers. Fails on
  // invalid options or when the address cannot be bound. Call once.
  Status Start();
  // Closes the listener and every connection and cancels dialing. No callback runs afterwards.
  // Frames still queued are dropped. Idempotent.
  void Stop();

  // Queues `payload` for `to`. Refuses with: InvalidArgument "unknown_peer" (not a council
  // member other than us), "too_large" (over max_frame_bytes - 2); FailedPrecondition
  // "not_connected" (no authenticated connection; nothing is kept for later) or "stopped";
  // ResourceExhausted "queue_full" (see SendQueue).
  Status Send(const crypto::PublicKey& to, uint8_t channel, Bytes payload);
  // Queues `payload` for every connected peer; returns to how many it was queued.
  size_t Broadcast(uint8_t channel, const Bytes& payload);

  // Adds a peer to dial (e.g. learned after Start). Same rules as Options::peers.
  Status AddPeer(const Peer& peer);
  // Adds a peer to dial, or gives a known one a new address (its next dial uses it; a live
  // connection stays). Refuses as AddPeer does, except for a key listed before.
  Status SetPeerAddress(const Peer& peer);
  // Replaces the council (at an epoch boundary): connections of keys no longer in it are closed.
  // Configured peers that left the council are no longer dialed.
  void SetCouncil(const std::vector<crypto::PublicKey>& council);
  // Closes the connection of `key` and refuses the key for options.penalty_ban, as for a
  // framing fault: the owner found a message of it invalid in a way no honest peer sends
  // (`reason` is logged and reported in the disconnect event). Any thread.
  void Penalize(const crypto::PublicKey& key, const std::string& reason);

  // Keys with an authenticated connection, sorted.
  std::vector<crypto::PublicKey> ConnectedPeers() const;
  Stats GetStats() const;
  // The bound port after a successful Start with a listen address; 0 otherwise.
  uint16_t listen_port() const;
  const crypto::PublicKey& public_key() const;

 private:
  class Impl;
  // Shared with the pending handlers of the io_context, which may outlive this object.
  std::shared_ptr<Impl> impl_;
};

// Splits "host:port" or "[v6]:port". Refuses a missing or non-numeric port.
Result<std::pair<std::string, uint16_t>> ParseHostPort(const std::string& address);

// A listen address ("IP:port", "[v6]:port" or "hostname:port") as a numeric IP and port: a
// hostname is resolved now (the system resolver; the first address it gives for listening).
// Refuses what ParseHostPort refuses and a hostname that does not resolve.
Result<std::pair<std::string, uint16_t>> ResolveListenAddress(const std::string& address);

}  // namespace civitas::p2p
