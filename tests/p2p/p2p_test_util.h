#pragma once

// Helpers for the transport tests: an io_context on its own thread, a recorder of deliveries and
// events that tests wait on with deadlines, and a raw Asio client that speaks the wire format by
// hand (correctly or not), inside TLS or, to test what happens before it, without.

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "node/p2p/tls.h"
#include "node/p2p/transport.h"
#include "node/p2p/wire.h"

namespace civitas::p2p::testing {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

inline constexpr char kChain[] = "civitas-test";

// Runs an io_context on a background thread until destroyed.
class IoThread {
 public:
  IoThread() : guard_(asio::make_work_guard(io_)), thread_([this] { io_.run(); }) {}
  ~IoThread() { Join(); }
  // Lets run() return once every pending operation is done (Stop every transport first).
  void Join() {
    guard_.reset();
    if (thread_.joinable()) thread_.join();
  }
  asio::io_context& io() { return io_; }
  // Runs `f` on the io thread and returns its result.
  template <typename F>
  auto Call(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto fut = task.get_future();
    asio::post(io_, [&task] { task(); });
    return fut.get();
  }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::thread thread_;
};

struct Received {
  int node;  // receiving node index
  crypto::PublicKey from;
  uint8_t channel;
  Bytes payload;
};
struct Event {
  int node;
  PeerEvent event;
};

// Thread-safe log of deliveries and events. WaitUntil re-checks its predicate whenever something
// is recorded, and at least every 10 ms for conditions that produce no event.
class Recorder {
 public:
  Handler HandlerFor(int node) {
    return [this, node](const crypto::PublicKey& from, uint8_t channel, Bytes payload) {
      std::lock_guard lock(mu_);
      received_.push_back({node, from, channel, std::move(payload)});
      cv_.notify_all();
    };
  }
  EventHandler EventsFor(int node) {
    return [this, node](const PeerEvent& ev) {
      std::lock_guard lock(mu_);
      events_.push_back({node, ev});
      cv_.notify_all();
    };
  }
  template <typename Pred>
  bool WaitUntil(Pred pred, std::chrono::milliseconds timeout = 10s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::unique_lock lock(mu_);
    while (!pred()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      cv_.wait_for(lock, 10ms);
    }
    return true;
  }
  // Call only under WaitUntil's predicate or with Lock().
  std::vector<Received>& received() { return received_; }
  std::vector<Event>& events() { return events_; }
  std::unique_lock<std::mutex> Lock() { return std::unique_lock(mu_); }
  bool HasEvent(int node, PeerEvent::Kind kind, const std::string& reason) {
    for (const auto& e : events_) {
      if (e.node == node && e.event.kind == kind && e.event.reason == reason) return true;
    }
    return false;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Received> received_;
  std::vector<Event> events_;
};

inline crypto::SecretKey KeyFromByte(uint8_t b) {
  Hash32 secret;
  secret.fill(b);
  return crypto::SecretKey::FromBytes(secret).value();
}

inline Options TestOptions(std::vector<crypto::PublicKey> council) {
  Options o;
  o.listen = "127.0.0.1:0";
  o.chain_id = kChain;
  o.council = std::move(council);
  o.backoff_initial = 20ms;
  o.backoff_max = 500ms;
  o.penalty_ban = 1s;
  o.rng_seed = 7;
  return o;
}

// A hand-driven client with its own io_context; every blocking step has a deadline. It speaks
// plain TCP until StartTls, and through its TLS session afterwards.
class RawClient {
 public:
  // Connects to 127.0.0.1:port from `source` (any loopback address; empty: the default).
  explicit RawClient(uint16_t port, const std::string& source = "")
      : ctx_(std::move(MakeTlsContext().value())), stream_(io_, *ctx_) {
    tcp::socket& socket = stream_.next_layer();
    if (!source.empty()) {
      socket.open(tcp::v4());
      socket.bind(tcp::endpoint(asio::ip::make_address(source), 0));
    }
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }

  // The TLS handshake as the client; false if the server refuses or does not answer.
  bool StartTls(std::chrono::milliseconds timeout = 5s) {
    bool done = false;
    boost::system::error_code err;
    stream_.async_handshake(asio::ssl::stream_base::client,
                            [&](const boost::system::error_code& ec) {
                              done = true;
                              err = ec;
                            });
    tls_ = RunUntil(done, std::chrono::steady_clock::now() + timeout) && !err;
    return tls_;
  }
  // The session's exporter value (after StartTls).
  SessionBinding Binding() { return ExportBinding(stream_.native_handle()).value(); }

  void WriteRaw(const Bytes& bytes) {
    if (tls_) {
      asio::write(stream_, asio::buffer(bytes));
    } else {
      asio::write(stream_.next_layer(), asio::buffer(bytes));
    }
  }
  void WriteFrame(const Bytes& payload) { WriteRaw(Frame(payload)); }

  // The next frame's payload, or nullopt on EOF, error or timeout.
  std::optional<Bytes> ReadFrame(std::chrono::milliseconds timeout = 5s) {
    std::array<uint8_t, 4> header;
    if (!ReadExactly(header.data(), header.size(), timeout)) return std::nullopt;
    Bytes body(FrameLength(header.data()));
    if (body.size() > (64u << 20)) return std::nullopt;
    if (!ReadExactly(body.data(), body.size(), timeout)) return std::nullopt;
    return body;
  }

  // True when the server closes the connection within `timeout` (frames before are skipped).
  bool WaitClosed(std::chrono::milliseconds timeout = 5s) {
    if (closed_) return true;  // an earlier read already saw the end (a TLS stream reads no more)
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::array<uint8_t, 4096> buf;
    while (std::chrono::steady_clock::now() < deadline) {
      bool done = false;
      bool closed = false;
      auto on_read = [&](const boost::system::error_code& ec, size_t) {
        done = true;
        closed = static_cast<bool>(ec);
      };
      if (tls_) {
        stream_.async_read_some(asio::buffer(buf), on_read);
      } else {
        stream_.next_layer().async_read_some(asio::buffer(buf), on_read);
      }
      if (!RunUntil(done, deadline)) return false;
      if (closed) return true;
    }
    return false;
  }

  // Reads the server's HELLO.
  std::optional<Hello> ReadHello() {
    auto frame = ReadFrame();
    if (!frame) return std::nullopt;
    auto msg = DecodeMessage(*frame);
    if (!msg.ok() || !std::holds_alternative<Hello>(*msg)) return std::nullopt;
    return std::get<Hello>(*msg);
  }

  // Completes a correct handshake as `key` (TLS first if not done); returns false if the server
  // does not answer or its proof does not verify.
  bool Handshake(const crypto::SecretKey& key, const crypto::PublicKey& server) {
    if (!tls_ && !StartTls()) return false;
    WriteFrame(EncodeHello(Hello{kProtocolVersion, kChain, key.public_key()}));
    auto theirs = ReadHello();
    if (!theirs || theirs->key != server) return false;
    SessionBinding binding = Binding();
    WriteFrame(EncodeAuth(Auth{SignAuth(key, kChain, server, binding)}));
    auto frame = ReadFrame();  // the server's AUTH
    if (!frame) return false;
    auto msg = DecodeMessage(*frame);
    return msg.ok() && std::holds_alternative<Auth>(*msg) &&
           VerifyAuth(server, kChain, key.public_key(), binding, std::get<Auth>(*msg).signature);
  }

 private:
  bool ReadExactly(uint8_t* out, size_t size, std::chrono::milliseconds timeout) {
    bool done = false;
    boost::system::error_code err;
    auto on_read = [&](const boost::system::error_code& ec, size_t) {
      done = true;
      err = ec;
    };
    if (tls_) {
      asio::async_read(stream_, asio::buffer(out, size), on_read);
    } else {
      asio::async_read(stream_.next_layer(), asio::buffer(out, size), on_read);
    }
    if (!RunUntil(done, std::chrono::steady_clock::now() + timeout)) return false;
    if (err) closed_ = true;
    return !err;
  }
  // Runs the client's io_context until `done` or the deadline; on timeout cancels the pending
  // operation and returns false.
  bool RunUntil(bool& done, std::chrono::steady_clock::time_point deadline) {
    io_.restart();
    while (!done && std::chrono::steady_clock::now() < deadline) {
      io_.run_one_until(deadline);
    }
    if (done) return true;
    boost::system::error_code ignored;
    stream_.next_layer().cancel(ignored);
    io_.restart();
    io_.run();
    return false;
  }

  asio::io_context io_;
  std::unique_ptr<asio::ssl::context> ctx_;
  asio::ssl::stream<tcp::socket> stream_;
  bool tls_ = false;
  bool closed_ = false;  // a read ended with an error or EOF: the server closed the connection
};

}  // namespace civitas::p2p::testing
