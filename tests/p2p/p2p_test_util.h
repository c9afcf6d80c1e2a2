#pragma once

// Helpers for the transport tests: an io_context on its own thread, a recorder of deliveries and
// events that tests wait on with deadlines, and a raw Asio client that speaks the wire format by
// hand (correctly or not).

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

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

// A hand-driven client with its own io_context; every blocking step has a deadline.
class RawClient {
 public:
  explicit RawClient(uint16_t port) : socket_(io_) {
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }

  void WriteRaw(const Bytes& bytes) { asio::write(socket_, asio::buffer(bytes)); }
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
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::array<uint8_t, 4096> buf;
    while (std::chrono::steady_clock::now() < deadline) {
      bool done = false;
      bool closed = false;
      socket_.async_read_some(asio::buffer(buf), [&](const boost::system::error_code& ec, size_t) {
        done = true;
        closed = static_cast<bool>(ec);
      });
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

  // Completes a correct handshake as `key`; returns false if the server does not answer.
  bool Handshake(const crypto::SecretKey& key, const crypto::PublicKey& server) {
    Hello mine;
    mine.chain_id = kChain;
    mine.key = key.public_key();
    crypto::RandomBytes(mine.challenge.data(), mine.challenge.size());
    WriteFrame(EncodeHello(mine));
    auto theirs = ReadHello();
    if (!theirs || theirs->key != server) return false;
    Auth auth{SignAuth(key, kChain, server, theirs->challenge, mine.challenge)};
    WriteFrame(EncodeAuth(auth));
    auto frame = ReadFrame();  // the server's AUTH
    if (!frame) return false;
    auto msg = DecodeMessage(*frame);
    return msg.ok() && std::holds_alternative<Auth>(*msg) &&
           VerifyAuth(server, kChain, key.public_key(), mine.challenge, theirs->challenge,
                      std::get<Auth>(*msg).signature);
  }

 private:
  bool ReadExactly(uint8_t* out, size_t size, std::chrono::milliseconds timeout) {
    bool done = false;
    boost::system::error_code err;
    asio::async_read(socket_, asio::buffer(out, size),
                     [&](const boost::system::error_code& ec, size_t) {
                       done = true;
                       err = ec;
                     });
    return RunUntil(done, std::chrono::steady_clock::now() + timeout) && !err;
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
    socket_.cancel(ignored);
    io_.restart();
    io_.run();
    return false;
  }

  asio::io_context io_;
  tcp::socket socket_;
};

}  // namespace civitas::p2p::testing
