#include "node/p2p/transport.h"

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <mutex>
#include <set>

#include "node/log.h"
#include "node/p2p/backoff.h"
#include "node/p2p/connection.h"
#include "node/p2p/log_throttle.h"
#include "node/p2p/send_queue.h"
#include "node/p2p/tls.h"
#include "node/p2p/wire.h"

namespace civitas::p2p {

using node::Log;
using node::Module;

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

Result<std::pair<std::string, uint16_t>> ParseHostPort(const std::string& address) {
  std::string host;
  std::string port;
  if (!address.empty() && address[0] == '[') {
    size_t close = address.find(']');
    if (close == std::string::npos || close + 1 >= address.size() || address[close + 1] != ':') {
      return Status::Invalid("bad_address", "expected [host]:port, got '" + address + "'");
    }
    host = address.substr(1, close - 1);
    port = address.substr(close + 2);
  } else {
    size_t colon = address.rfind(':');
    if (colon == std::string::npos) {
      return Status::Invalid("bad_address", "expected host:port, got '" + address + "'");
    }
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
  }
  if (host.empty() || port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return Status::Invalid("bad_address", "expected host:port, got '" + address + "'");
  }
  unsigned long p = std::stoul(port);
  if (p > 65535) return Status::Invalid("bad_address", "port out of range in '" + address + "'");
  return std::make_pair(host, static_cast<uint16_t>(p));
}

Result<std::pair<std::string, uint16_t>> ResolveListenAddress(const std::string& address) {
  auto hp = ParseHostPort(address);
  if (!hp.ok()) return hp.status();
  error_code ec;
  asio::ip::make_address(hp->first, ec);
  if (!ec) return hp;
  asio::io_context io;
  tcp::resolver resolver(io);
  auto results = resolver.resolve(hp->first, std::to_string(hp->second),
                                  tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    return Status::Invalid("bad_address", "cannot resolve listen host '" + hp->first +
                                              "': " + (ec ? ec.message() : "no address"));
  }
  return std::make_pair(results.begin()->endpoint().address().to_string(), hp->second);
}

class Transport::Impl : public ConnectionHost,
                        public std::enable_shared_from_this<Transport::Impl> {
 public:
  Impl(asio::io_context& io, Options options, crypto::SecretKey self, Handler handler,
       EventHandler on_event)
      : io_(io),
        options_(std::move(options)),
        self_(std::move(self)),
        handler_(std::move(handler)),
        on_event_(std::move(on_event)) {}

  Status Start();
  void Stop();
  Status Send(const crypto::PublicKey& to, uint8_t channel, Bytes payload);
  size_t Broadcast(uint8_t channel, const Bytes& payload);
  Status AddPeer(const Peer& peer, bool replace);
  void SetCouncil(const std::vector<crypto::PublicKey>& council);
  void Penalize(const crypto::PublicKey& key, const std::string& reason);
  std::vector<crypto::PublicKey> ConnectedPeers() const;
  Stats GetStats() const;
  uint16_t listen_port() const { return port_; }

  // ConnectionHost.
  const Options& options() const override { return options_; }
  const crypto::SecretKey& self() const override { return self_; }
  asio::ssl::context& tls() override { return *tls_; }
  void LogRefusal(const std::string& line) override;
  std::string HelloRefusal(const crypto::PublicKey& key) override;
  void OnAuthenticated(const std::shared_ptr<Connection>& conn) override;
  void OnClosed(const std::shared_ptr<Connection>& conn, const std::string& reason, bool was_open,
                bool penalize) override;
  std::shared_ptr<const Bytes> PopFor(const crypto::PublicKey& key,
                                      const Connection* conn) override;
  void Deliver(const crypto::PublicKey& from, uint8_t channel, Bytes payload) override;

 private:
  // Calls the event handler unless stopped. Not with mu_ held.
  void Emit(const PeerEvent& event);

  struct PeerState {
    PeerState(size_t max_msgs, size_t max_bytes) : queue(max_msgs, max_bytes) {}
    SendQueue queue;
    std::shared_ptr<Connection> active;
    // Dialing (configured peers only).
    std::optional<std::string> address;
    bool dialing = false;     // a timer, a resolve, a connect or an owned connection is under way
    bool connecting = false;  // a resolve or a TCP connect is under way
    std::unique_ptr<Backoff> backoff;
    std::unique_ptr<asio::steady_timer> dial_timer;
    std::shared_ptr<tcp::resolver> resolver;
    std::shared_ptr<tcp::socket> dial_socket;
    Clock::time_point banned_until{};
    PeerStats stats;
  };

  bool Critical(uint8_t channel) const {
    return std::find(options_.critical_channels.begin(), options_.critical_channels.end(),
                     channel) != options_.critical_channels.end();
  }
  PeerState& StateFor(const crypto::PublicKey& key);  // mu_ held
  Status AddPeerLocked(const Peer& peer, bool replace);
  void Accept();
  // Admits an accepted socket into the pending-inbound caps: the connection to close to make
  // room (null if none), or a refusal reason. mu_ held.
  std::string AdmitPendingLocked(const std::string& source, std::shared_ptr<Connection>* evict);
  void ReleasePendingLocked(Connection& conn);
  size_t PendingCapFor(const std::string& source) const;
  void MaybeDialLocked(const crypto::PublicKey& key);
  void Dial(const crypto::PublicKey& key);
  void Connect(const crypto::PublicKey& key, const tcp::resolver::results_type& endpoints);
  void DialFailed(const crypto::PublicKey& key, const std::string& why);

  asio::io_context& io_;
  Options options_;
  const crypto::SecretKey self_;
  Handler handler_;
  EventHandler on_event_;

  mutable std::mutex mu_;
  bool started_ = false;
  bool stopped_ = false;
  std::set<crypto::PublicKey> council_;
  std::map<crypto::PublicKey, PeerState> peers_;
  std::set<std::shared_ptr<Connection>> connections_;
  size_t pending_inbound_ = 0;
  std::map<std::string, size_t> pending_by_address_;
  uint64_t accept_seq_ = 0;
  // IP addresses of configured peers (literal, or as last resolved when dialing).
  std::map<std::string, std::set<crypto::PublicKey>> peer_addresses_;
  LogThrottle refusal_log_{20, std::chrono::seconds(10)};
  std::unique_ptr<asio::ssl::context> tls_;
  std::unique_ptr<tcp::acceptor> acceptor_;
  std::unique_ptr<asio::steady_timer> accept_retry_;
  uint16_t port_ = 0;
  uint64_t seed_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Impl

Transport::Impl::PeerState& Transport::Impl::StateFor(const crypto::PublicKey& key) {
  auto it = peers_.find(key);
  if (it == peers_.end()) {
    it = peers_.try_emplace(key, options_.max_queue_msgs, options_.max_queue_bytes).first;
    it->second.stats.key = key;
  }
  return it->second;
}

Status Transport::Impl::Start() {
  const Options& o = options_;
  if (o.chain_id.empty() || o.chain_id.size() > kMaxChainIdBytes) {
    return Status::Invalid("bad_options", "chain id must have 1..64 bytes");
  }
  if (o.max_frame_bytes < kMaxHandshakeFrameBytes || o.max_frame_bytes > (1u << 30)) {
    return Status::Invalid("bad_options", "max_frame_bytes must be in [256, 2^30]");
  }
  if (o.max_queue_msgs == 0 || o.max_queue_bytes < o.max_frame_bytes + kFrameHeaderBytes) {
    return Status::Invalid("bad_options",
                           "max_queue_msgs must be >= 1 and max_queue_bytes >= max_frame_bytes+4");
  }
  if (o.handshake_timeout.count() <= 0 || o.backoff_initial.count() <= 0 ||
      o.backoff_max < o.backoff_initial || o.ping_interval.count() <= 0 ||
      o.idle_timeout.count() <= 0 || o.write_timeout.count() <= 0) {
    return Status::Invalid("bad_options", "timeouts and backoff must be positive");
  }
  seed_ = o.rng_seed;
  if (seed_ == 0) crypto::RandomBytes(reinterpret_cast<uint8_t*>(&seed_), sizeof(seed_));
  auto tls = MakeTlsContext();
  if (!tls.ok()) return tls.status();
  tls_ = std::move(*tls);

  std::unique_lock lock(mu_);
  if (started_) return Status::Error(Status::Code::kFailedPrecondition, "started", "started");
  council_.clear();
  for (const auto& key : o.council) {
    if (key == self_.public_key()) continue;
    council_.insert(key);
    StateFor(key);
  }
  if (!o.listen.empty()) {
    auto hp = ResolveListenAddress(o.listen);
    if (!hp.ok()) return hp.status();
    error_code ec;
    auto addr = asio::ip::make_address(hp->first, ec);
    if (ec) return Status::Invalid("bad_address", "listen host is not an address: " + o.listen);
    tcp::endpoint ep(addr, hp->second);
    auto acceptor = std::make_unique<tcp::acceptor>(io_);
    acceptor->open(ep.protocol(), ec);
    // A restarted node must get its port back while old connections sit in TIME_WAIT.
    if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor->bind(ep, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (!ec) port_ = acceptor->local_endpoint(ec).port();
    if (ec) return Status::IOError("cannot listen on " + o.listen + ": " + ec.message());
    acceptor_ = std::move(acceptor);
  }
  for (const Peer& peer : o.peers) {
    Status s = AddPeerLocked(peer, /*replace=*/false);
    if (!s.ok()) {
      // Undo: no dial scheduled so far may run.
      stopped_ = true;
      for (auto& [key, ps] : peers_) {
        if (ps.dial_timer) ps.dial_timer->cancel();
      }
      error_code ignored;
      if (acceptor_) acceptor_->close(ignored);
      acceptor_.reset();
      port_ = 0;
      return s;
    }
  }
  started_ = true;
  if (acceptor_) {
    accept_retry_ = std::make_unique<asio::steady_timer>(io_);
    Log(Module::kP2p).info("p2p: {} listening on port {}", ShortKey(self_.public_key()), port_);
  }
  lock.unlock();
  if (acceptor_) Accept();
  return Status::Ok();
}

Status Transport::Impl::AddPeer(const Peer& peer, bool replace) {
  std::lock_guard lock(mu_);
  if (!started_ || stopped_) {
    return Status::Error(Status::Code::kFailedPrecondition, "not_running", "not running");
  }
  return AddPeerLocked(peer, replace);
}

Status Transport::Impl::AddPeerLocked(const Peer& peer, bool replace) {
  if (peer.key == self_.public_key()) {
    return Status::Invalid("bad_peer", "peer " + peer.address + " has the local key");
  }
  if (!council_.count(peer.key)) {
    return Status::Invalid("bad_peer", "peer " + peer.address + " is not in the council");
  }
  auto hp = ParseHostPort(peer.address);
  if (!hp.ok()) return hp.status();
  PeerState& ps = StateFor(peer.key);
  if (ps.address && !replace) {
    return Status::Invalid("bad_peer", "peer " + ShortKey(peer.key) + " listed twice");
  }
  if (ps.address == peer.address) return Status::Ok();
  error_code literal;
  if (ps.address) {
    // A new address for a known peer: the next dial uses it; a live connection stays.
    auto old = ParseHostPort(*ps.address);
    auto old_ip = asio::ip::make_address(old->first, literal);
    if (!literal) {
      auto it = peer_addresses_.find(old_ip.to_string());
      if (it != peer_addresses_.end() && it->second.erase(peer.key) && it->second.empty()) {
        peer_addresses_.erase(it);
      }
    }
  }
  const bool known = ps.address.has_value();
  ps.address = peer.address;
  auto ip = asio::ip::make_address(hp->first, literal);
  if (!literal) peer_addresses_[ip.to_string()].insert(peer.key);
  if (known) {
    MaybeDialLocked(peer.key);
    return Status::Ok();
  }
  ps.backoff = std::make_unique<Backoff>(options_.backoff_initial, options_.backoff_max,
                                         seed_ ^ std::hash<std::string>()(ToHex(peer.key)));
  ps.dial_timer = std::make_unique<asio::steady_timer>(io_);
  // The first attempt is immediate.
  ps.dialing = true;
  ps.dial_timer->expires_after(std::chrono::milliseconds(0));
  ps.dial_timer->async_wait([self = shared_from_this(), key = peer.key](const error_code& ec) {
    if (!ec) self->Dial(key);
  });
  return Status::Ok();
}

void Transport::Impl::Stop() {
  std::vector<std::shared_ptr<Connection>> conns;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    error_code ec;
    if (acceptor_) acceptor_->close(ec);
    if (accept_retry_) accept_retry_->cancel();
    for (auto& [key, ps] : peers_) {
      if (ps.dial_timer) ps.dial_timer->cancel();
      if (ps.resolver) ps.resolver->cancel();
      if (ps.dial_socket) ps.dial_socket->close(ec);
      ps.queue.Clear();
    }
    conns.assign(connections_.begin(), connections_.end());
  }
  for (auto& c : conns) c->Close("stopped");
}

void Transport::Impl::Accept() {
  acceptor_->async_accept([self = shared_from_this()](const error_code& ec, tcp::socket socket) {
    std::unique_lock lock(self->mu_);
    if (self->stopped_) return;
    if (ec) {
      // E.g. out of file descriptors: retry later rather than spin.
      Log(Module::kP2p).warn("p2p: accept failed: {}", ec.message());
      self->accept_retry_->expires_after(std::chrono::milliseconds(100));
      self->accept_retry_->async_wait([self](const error_code& e) {
        if (!e && !self->stopped_) self->Accept();
      });
      return;
    }
    error_code ep_ec;
    auto remote_ep = socket.remote_endpoint(ep_ec);
    std::string source = ep_ec ? "?" : remote_ep.address().to_string();
    std::shared_ptr<Connection> evict;
    std::string refusal = self->AdmitPendingLocked(source, &evict);
    if (!refusal.empty()) {
      PeerEvent ev{PeerEvent::Kind::kRefused, std::nullopt, RemoteString(socket), refusal};
      lock.unlock();
      self->LogRefusal(fmt::format("p2p: refused inbound connection {} ({})", ev.remote, refusal));
      error_code ignored;
      socket.close(ignored);
      self->Emit(ev);
      self->Accept();
      return;
    }
    auto conn = std::make_shared<Connection>(self, std::move(socket), false, std::nullopt);
    conn->pending_inbound = true;
    conn->source = source;
    conn->accepted_seq = ++self->accept_seq_;
    ++self->pending_inbound_;
    ++self->pending_by_address_[source];
    self->connections_.insert(conn);
    lock.unlock();
    if (evict) evict->Close("evicted");
    conn->Start();
    self->Accept();
  });
}

size_t Transport::Impl::PendingCapFor(const std::string& source) const {
  auto it = peer_addresses_.find(source);
  return options_.max_pending_per_address +
         (it == peer_addresses_.end() ? 0 : 2 * it->second.size());
}

std::string Transport::Impl::AdmitPendingLocked(const std::string& source,
                                                std::shared_ptr<Connection>* evict) {
  auto count = [&](const std::string& addr) {
    auto it = pending_by_address_.find(addr);
    return it == pending_by_address_.end() ? size_t{0} : it->second;
  };
  if (count(source) >= PendingCapFor(source)) return "too_many_pending_from_address";
  if (pending_inbound_ < options_.max_pending_inbound) return "";
  // Full: make room by closing the oldest pending connection of the address that holds the most
  // slots, if that is fairer than refusing this one. An address of a configured peer may evict
  // any other address; other addresses never evict a configured peer's.
  auto known = [&](const std::string& addr) { return peer_addresses_.count(addr) > 0; };
  std::shared_ptr<Connection> victim;
  for (const auto& c : connections_) {
    if (!c->pending_inbound || c->open()) continue;
    if (known(c->source) && !known(source)) continue;
    if (!victim) {
      victim = c;
      continue;
    }
    auto rank = [&](const Connection& x) {
      return std::make_tuple(!known(x.source), count(x.source), ~x.accepted_seq);
    };
    if (rank(*c) > rank(*victim)) victim = c;
  }
  if (victim &&
      ((!known(victim->source) && known(source)) || count(victim->source) > count(source))) {
    ReleasePendingLocked(*victim);
    *evict = victim;
    return "";
  }
  return "too_many_pending";
}

void Transport::Impl::ReleasePendingLocked(Connection& conn) {
  if (!conn.pending_inbound) return;
  conn.pending_inbound = false;
  --pending_inbound_;
  auto it = pending_by_address_.find(conn.source);
  if (it != pending_by_address_.end() && --it->second == 0) pending_by_address_.erase(it);
}

void Transport::Impl::LogRefusal(const std::string& line) {
  uint64_t suppressed = 0;
  {
    std::lock_guard lock(mu_);
    if (!refusal_log_.Allow(Clock::now(), &suppressed)) return;
  }
  if (suppressed > 0) {
    Log(Module::kP2p).warn("{} ({} similar lines suppressed)", line, suppressed);
  } else {
    Log(Module::kP2p).warn("{}", line);
  }
}

void Transport::Impl::MaybeDialLocked(const crypto::PublicKey& key) {
  auto it = peers_.find(key);
  if (stopped_ || it == peers_.end()) return;
  PeerState& ps = it->second;
  if (!ps.address || ps.dialing || ps.active || !council_.count(key)) return;
  auto delay = ps.backoff->Next();
  auto now = Clock::now();
  if (ps.banned_until > now) {
    delay = std::max(delay, std::chrono::duration_cast<std::chrono::milliseconds>(
                                ps.banned_until - now + std::chrono::milliseconds(1)));
  }
  ps.dialing = true;
  ps.dial_timer->expires_after(delay);
  ps.dial_timer->async_wait([self = shared_from_this(), key](const error_code& ec) {
    if (!ec) self->Dial(key);
  });
}

void Transport::Impl::Dial(const crypto::PublicKey& key) {
  std::unique_lock lock(mu_);
  if (stopped_) return;
  PeerState& ps = peers_.at(key);
  if (ps.active || !council_.count(key) || ps.banned_until > Clock::now()) {
    ps.dialing = false;
    MaybeDialLocked(key);
    return;
  }
  auto hp = ParseHostPort(*ps.address);  // validated by AddPeer
  ps.connecting = true;
  error_code ec;
  auto addr = asio::ip::make_address(hp->first, ec);
  if (!ec) {
    auto results = tcp::resolver::results_type::create(tcp::endpoint(addr, hp->second), hp->first,
                                                       std::to_string(hp->second));
    lock.unlock();
    Connect(key, results);
    return;
  }
  ps.resolver = std::make_shared<tcp::resolver>(io_);
  ps.resolver->async_resolve(hp->first, std::to_string(hp->second),
                             [self = shared_from_this(), key, resolver = ps.resolver](
                                 const error_code& e, const tcp::resolver::results_type& results) {
                               if (e) {
                                 self->DialFailed(key, "resolve: " + e.message());
                                 return;
                               }
                               self->Connect(key, results);
                             });
}

void Transport::Impl::Connect(const crypto::PublicKey& key,
                              const tcp::resolver::results_type& endpoints) {
  auto socket = std::make_shared<tcp::socket>(io_);
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    peers_.at(key).dial_socket = socket;
  }
  asio::async_connect(
      *socket, endpoints,
      [self = shared_from_this(), key, socket](const error_code& ec, const tcp::endpoint& ep) {
        std::unique_lock lock(self->mu_);
        if (self->stopped_) return;
        PeerState& ps = self->peers_.at(key);
        ps.dial_socket.reset();
        if (ec) {
          lock.unlock();
          self->DialFailed(key, ec.message());
          return;
        }
        // The peer's address as resolved now, so its inbound connections get its reserved room.
        self->peer_addresses_[ep.address().to_string()].insert(key);
        ps.connecting = false;
        if (ps.active) {
          // The peer dialed us meanwhile; a second connection would only be closed by the
          // tie-break (or replace a working one).
          error_code ignored;
          socket->close(ignored);
          ps.dialing = false;
          return;
        }
        auto conn = std::make_shared<Connection>(self, std::move(*socket), true, key);
        conn->owns_dial = true;
        self->connections_.insert(conn);
        lock.unlock();
        conn->Start();
      });
}

void Transport::Impl::DialFailed(const crypto::PublicKey& key, const std::string& why) {
  std::lock_guard lock(mu_);
  if (stopped_) return;
  PeerState& ps = peers_.at(key);
  Log(Module::kP2p).debug("p2p: dial {} ({}) failed: {}", ShortKey(key), *ps.address, why);
  ps.connecting = false;
  ps.dialing = false;
  MaybeDialLocked(key);
}

std::string Transport::Impl::HelloRefusal(const crypto::PublicKey& key) {
  if (key == self_.public_key()) return "self_key";
  std::lock_guard lock(mu_);
  if (!council_.count(key)) return "unknown_key";
  if (peers_.at(key).banned_until > Clock::now()) return "banned";
  return "";
}

void Transport::Impl::OnAuthenticated(const std::shared_ptr<Connection>& conn) {
  const crypto::PublicKey& key = *conn->peer_key();
  std::shared_ptr<Connection> to_close;
  std::string close_reason;
  bool connected = false;
  {
    std::lock_guard lock(mu_);
    ReleasePendingLocked(*conn);
    auto it = peers_.find(key);
    if (stopped_) {
      to_close = conn;
      close_reason = "stopped";
    } else if (it == peers_.end() || !council_.count(key)) {
      to_close = conn;
      close_reason = "removed_from_council";
    } else {
      PeerState& ps = it->second;
      if (ps.backoff) ps.backoff->Reset();
      if (!ps.active) {
        ps.active = conn;
        connected = true;
      } else {
        // Both sides apply the same rule, so they keep the same connection: the one dialed by
        // the lower key. Between connections with the same dialer the newer one wins (the old
        // one is likely half-open after a restart).
        const crypto::PublicKey& winner = std::min(key, self_.public_key());
        auto dialer = [&](const Connection& c) { return c.outbound() ? self_.public_key() : key; };
        if (dialer(*ps.active) == winner && dialer(*conn) != winner) {
          to_close = conn;
          close_reason = "duplicate";
        } else {
          to_close = ps.active;
          close_reason = "replaced";
          ps.active = conn;
        }
      }
    }
  }
  if (to_close) {
    Log(Module::kP2p)
        .debug("p2p: closing connection to {} ({}): {}", ShortKey(key), to_close->remote(),
               close_reason);
    to_close->Close(close_reason);
  }
  if (connected) {
    Log(Module::kP2p)
        .info("p2p: connected to {} ({}, {})", ShortKey(key), conn->remote(),
              conn->outbound() ? "outbound" : "inbound");
    Emit(PeerEvent{PeerEvent::Kind::kConnected, key, conn->remote(), ""});
  }
}

void Transport::Impl::OnClosed(const std::shared_ptr<Connection>& conn, const std::string& reason,
                               bool was_open, bool penalize) {
  std::optional<PeerEvent> event;
  {
    std::lock_guard lock(mu_);
    connections_.erase(conn);
    ReleasePendingLocked(*conn);
    if (!was_open && reason != "stopped") {
      event = PeerEvent{PeerEvent::Kind::kRefused, conn->peer_key(), conn->remote(), reason};
    }
    // The key whose state this connection touches: proven if it was open.
    std::optional<crypto::PublicKey> concerns;
    if (was_open) concerns = conn->peer_key();
    if (concerns) {
      auto pit = peers_.find(*concerns);
      if (pit != peers_.end()) {
        PeerState& ps = pit->second;
        if (ps.active == conn) {
          ps.active.reset();
          ps.queue.Clear();
          event = PeerEvent{PeerEvent::Kind::kDisconnected, *concerns, conn->remote(), reason};
        }
        if (penalize) {
          ++ps.stats.penalties;
          ps.banned_until = Clock::now() + options_.penalty_ban;
          Log(Module::kP2p)
              .warn("p2p: {} penalised ({}); refused for {} ms", ShortKey(*concerns), reason,
                    options_.penalty_ban.count());
        }
      }
    }
    if (conn->owns_dial) {
      // Outbound connections of the dial loop are made for their expected key only.
      peers_.at(*conn->expected()).dialing = false;
      MaybeDialLocked(*conn->expected());
    } else if (concerns) {
      MaybeDialLocked(*concerns);
    }
    if (stopped_) event.reset();
  }
  if (event) Emit(*event);
}

std::shared_ptr<const Bytes> Transport::Impl::PopFor(const crypto::PublicKey& key,
                                                     const Connection* conn) {
  std::lock_guard lock(mu_);
  auto it = peers_.find(key);
  if (it == peers_.end() || it->second.active.get() != conn) return nullptr;
  auto item = it->second.queue.Pop();
  if (!item) return nullptr;
  ++it->second.stats.sent_msgs;
  return std::move(item->frame);
}

void Transport::Impl::Deliver(const crypto::PublicKey& from, uint8_t channel, Bytes payload) {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    auto it = peers_.find(from);
    if (it != peers_.end()) ++it->second.stats.received_msgs;
  }
  if (handler_) handler_(from, channel, std::move(payload));
}

void Transport::Impl::Emit(const PeerEvent& event) {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
  }
  if (on_event_) on_event_(event);
}

Status Transport::Impl::Send(const crypto::PublicKey& to, uint8_t channel, Bytes payload) {
  if (payload.size() + kDataOverheadBytes > options_.max_frame_bytes) {
    return Status::Invalid(
        "too_large", "payload of " + std::to_string(payload.size()) + " bytes over the frame cap");
  }
  auto frame = std::make_shared<const Bytes>(EncodeDataFrame(channel, payload));
  std::shared_ptr<Connection> conn;
  {
    std::lock_guard lock(mu_);
    if (stopped_ || !started_) {
      return Status::Error(Status::Code::kFailedPrecondition, "stopped", "transport not running");
    }
    auto it = peers_.find(to);
    if (it == peers_.end() || !council_.count(to)) {
      return Status::Invalid("unknown_peer", "no council peer " + ShortKey(to));
    }
    PeerState& ps = it->second;
    if (!ps.active) {
      return Status::Error(Status::Code::kFailedPrecondition, "not_connected",
                           "not connected to " + ShortKey(to));
    }
    Status s = ps.queue.Push({channel, Critical(channel), std::move(frame)});
    if (!s.ok()) {
      ++ps.stats.refused_sends;
      return s;
    }
    conn = ps.active;
  }
  // On the io thread the write starts at once (asio writes speculatively), before whatever the
  // caller does next, say a vote's fsync; from another thread it is posted.
  asio::dispatch(io_, [conn] { conn->WriteNext(); });
  return Status::Ok();
}

size_t Transport::Impl::Broadcast(uint8_t channel, const Bytes& payload) {
  if (payload.size() + kDataOverheadBytes > options_.max_frame_bytes) return 0;
  auto frame = std::make_shared<const Bytes>(EncodeDataFrame(channel, payload));
  std::vector<std::shared_ptr<Connection>> kick;
  {
    std::lock_guard lock(mu_);
    if (stopped_ || !started_) return 0;
    for (auto& [key, ps] : peers_) {
      if (!ps.active) continue;
      if (ps.queue.Push({channel, Critical(channel), frame}).ok()) {
        kick.push_back(ps.active);
      } else {
        ++ps.stats.refused_sends;
      }
    }
  }
  for (auto& conn : kick) asio::dispatch(io_, [conn] { conn->WriteNext(); });
  return kick.size();
}

void Transport::Impl::SetCouncil(const std::vector<crypto::PublicKey>& council) {
  std::vector<std::shared_ptr<Connection>> drop;
  {
    std::lock_guard lock(mu_);
    council_.clear();
    for (const auto& key : council) {
      if (key == self_.public_key()) continue;
      council_.insert(key);
      StateFor(key);
    }
    for (const auto& conn : connections_) {
      if (conn->open() && !council_.count(*conn->peer_key())) drop.push_back(conn);
    }
    for (auto& [key, ps] : peers_) {
      if (council_.count(key)) MaybeDialLocked(key);
    }
  }
  for (auto& conn : drop) conn->Close("removed_from_council");
}

void Transport::Impl::Penalize(const crypto::PublicKey& key, const std::string& reason) {
  std::shared_ptr<Connection> conn;
  {
    std::lock_guard lock(mu_);
    auto it = peers_.find(key);
    if (it == peers_.end() || !it->second.active) return;
    conn = it->second.active;
  }
  // Connections live on the io thread.
  asio::post(io_, [conn, reason] { conn->Close(reason, /*penalize=*/true); });
}

std::vector<crypto::PublicKey> Transport::Impl::ConnectedPeers() const {
  std::lock_guard lock(mu_);
  std::vector<crypto::PublicKey> out;
  for (const auto& [key, ps] : peers_) {
    if (ps.active) out.push_back(key);
  }
  return out;
}

Stats Transport::Impl::GetStats() const {
  std::lock_guard lock(mu_);
  Stats stats;
  for (const auto& [key, ps] : peers_) {
    if (!council_.count(key) && !ps.active) continue;
    PeerStats p = ps.stats;
    p.connected = ps.active != nullptr;
    p.queued_msgs = ps.queue.size();
    p.queued_bytes = ps.queue.bytes();
    p.dropped_msgs = ps.queue.dropped();
    stats.peers.push_back(p);
    stats.dials_in_progress += ps.connecting;
  }
  stats.connections = connections_.size();
  stats.pending_inbound = pending_inbound_;
  return stats;
}

// ---------------------------------------------------------------------------------------------
// Transport

Transport::Transport(asio::io_context& io, Options options, crypto::SecretKey self, Handler handler,
                     EventHandler on_event)
    : impl_(std::make_shared<Impl>(io, std::move(options), std::move(self), std::move(handler),
                                   std::move(on_event))) {}
Transport::~Transport() { impl_->Stop(); }
Status Transport::Start() { return impl_->Start(); }
void Transport::Stop() { impl_->Stop(); }
Status Transport::Send(const crypto::PublicKey& to, uint8_t channel, Bytes payload) {
  return impl_->Send(to, channel, std::move(payload));
}
size_t Transport::Broadcast(uint8_t channel, const Bytes& payload) {
  return impl_->Broadcast(channel, payload);
}
Status Transport::AddPeer(const Peer& peer) { return impl_->AddPeer(peer, /*replace=*/false); }
Status Transport::SetPeerAddress(const Peer& peer) {
  return impl_->AddPeer(peer, /*replace=*/true);
}
void Transport::SetCouncil(const std::vector<crypto::PublicKey>& council) {
  impl_->SetCouncil(council);
}
void Transport::Penalize(const crypto::PublicKey& key, const std::string& reason) {
  impl_->Penalize(key, reason);
}
std::vector<crypto::PublicKey> Transport::ConnectedPeers() const { return impl_->ConnectedPeers(); }
Stats Transport::GetStats() const { return impl_->GetStats(); }
uint16_t Transport::listen_port() const { return impl_->listen_port(); }
const crypto::PublicKey& Transport::public_key() const { return impl_->self().public_key(); }

}  // namespace civitas::p2p
