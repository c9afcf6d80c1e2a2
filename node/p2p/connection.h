#pragma once

// Private to node/p2p/: one connection of the transport, and what it needs from its owner.

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "ledger/bytes.h"
#include "ledger/crypto.h"
#include "node/p2p/transport.h"
#include "node/p2p/wire.h"

namespace civitas::p2p {

class Connection;

// The owner of connections (Transport::Impl). Every call comes from the io thread.
class ConnectionHost {
 public:
  virtual ~ConnectionHost() = default;
  virtual const Options& options() const = 0;
  virtual const crypto::SecretKey& self() const = 0;
  // The TLS context every connection's session is made from.
  virtual boost::asio::ssl::context& tls() = 0;
  // Logs a refused connection's warning unless too many were logged lately.
  virtual void LogRefusal(const std::string& line) = 0;
  // Why a HELLO claiming `key` must be refused (self_key, unknown_key, banned); empty if not.
  virtual std::string HelloRefusal(const crypto::PublicKey& key) = 0;
  // The peer proved its key. The host may close `conn` (or another one) before returning.
  virtual void OnAuthenticated(const std::shared_ptr<Connection>& conn) = 0;
  // `conn` closed for `reason`; `penalize` only when it was open.
  virtual void OnClosed(const std::shared_ptr<Connection>& conn, const std::string& reason,
                        bool was_open, bool penalize) = 0;
  // The next queued frame for `key` if `conn` is its active connection; null otherwise.
  virtual std::shared_ptr<const Bytes> PopFor(const crypto::PublicKey& key,
                                              const Connection* conn) = 0;
  virtual void Deliver(const crypto::PublicKey& from, uint8_t channel, Bytes payload) = 0;
};

// The first 12 hex digits of a key, for logs.
inline std::string ShortKey(const crypto::PublicKey& key) { return ToHex(key).substr(0, 12); }
// "ip:port" of the socket's peer ("[ip]:port" for IPv6), "?" if unknown.
std::string RemoteString(const boost::asio::ip::tcp::socket& socket);

// One TCP connection, from accept or connect to close: the TLS handshake (the dialer is the
// client), the council handshake inside it, then framed reads and writes. Lives on the io
// thread; owned by the host's connection set and by its own pending handlers.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(std::shared_ptr<ConnectionHost> host, boost::asio::ip::tcp::socket socket,
             bool outbound, std::optional<crypto::PublicKey> expected)
      : host_(std::move(host)),
        stream_(std::move(socket), host_->tls()),
        timer_(stream_.get_executor()),
        outbound_(outbound),
        expected_(expected) {}

  // Arms the handshake deadline and starts the TLS handshake; HELLO follows once it is done.
  void Start();
  // Closes the socket once and tells the host. `penalize`: the authenticated peer broke the
  // protocol.
  void Close(const std::string& reason, bool penalize = false);
  // Writes the next control or queued frame if no write is in progress.
  void WriteNext();

  bool outbound() const { return outbound_; }
  bool open() const { return state_ == State::kOpen; }
  const std::optional<crypto::PublicKey>& peer_key() const { return peer_key_; }
  const std::optional<crypto::PublicKey>& expected() const { return expected_; }
  const std::string& remote() const { return remote_; }

  // Guarded by the host's mutex.
  bool pending_inbound = false;  // counted in the host's pending-inbound caps
  std::string source;            // the remote IP, for the per-address pending cap
  uint64_t accepted_seq = 0;     // order of acceptance, to evict the oldest pending first
  bool owns_dial = false;        // this is the outcome of the peer's dial loop

 private:
  enum class State { kTls, kHello, kAuth, kOpen, kClosed };

  void OnTlsHandshake(const boost::system::error_code& ec);
  void ReadHeader();
  void ReadBody(size_t size);
  void OnFrame();
  void OnHello(const Hello& hello);
  void OnAuth(const Auth& auth);
  void Refuse(const std::string& reason, const std::string& detail);
  void ArmTimer(std::chrono::milliseconds after);
  void OnTimer();

  std::shared_ptr<ConnectionHost> host_;
  boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream_;
  boost::asio::steady_timer timer_;
  uint64_t timer_gen_ = 0;
  const bool outbound_;
  const std::optional<crypto::PublicKey> expected_;
  std::string remote_;
  State state_ = State::kTls;

  SessionBinding binding_{};                   // the TLS exporter value, once kHello
  std::optional<crypto::PublicKey> peer_key_;  // claimed in HELLO; proven once kOpen

  std::array<uint8_t, kFrameHeaderBytes> header_{};
  Bytes body_;
  std::deque<std::shared_ptr<const Bytes>> control_;  // HELLO, AUTH, PING: before queued data
  std::shared_ptr<const Bytes> inflight_;
  bool writing_ = false;
  std::chrono::steady_clock::time_point last_read_{};
  std::chrono::steady_clock::time_point last_write_{};
  std::chrono::steady_clock::time_point write_started_{};
};

}  // namespace civitas::p2p
