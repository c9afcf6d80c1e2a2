#pragma once

// Bounds on the gRPC API's server streams (StreamBlocks, StreamEvents). gRPC's synchronous
// server runs every call, unary or stream, on one pool of threads, and a stream holds its
// thread for as long as it lasts: about 255 open streams locked every other call out
// ("Server Threadpool Exhausted", issue 22). So streams are capped per client (peer address)
// and in total, below the pool's size, and a stream whose write does not complete within a
// deadline (a client that does not read) is cancelled, which frees its thread.

#include <grpcpp/server_context.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "ledger/status.h"

namespace civitas::node {

class StreamLimiter {
 public:
  struct Limits {
    size_t max_streams = 64;             // open at once, all clients
    size_t max_streams_per_client = 8;   // open at once from one peer address
    uint32_t write_timeout_ms = 10'000;  // a write not complete by then ends the stream
  };

  // A stream admitted by Open; closing it (destruction) frees its place.
  class Slot {
   public:
    ~Slot();
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    // Bracket every write of the stream: the watchdog cancels the call when a write is still
    // in progress write_timeout_ms after BeginWrite.
    void BeginWrite();
    void EndWrite();
    // True once the watchdog cancelled the call.
    bool timed_out() const { return timed_out_.load(); }

   private:
    friend class StreamLimiter;
    Slot(StreamLimiter& limiter, grpc::ServerContext* ctx, std::string client)
        : limiter_(limiter), ctx_(ctx), client_(std::move(client)) {}
    StreamLimiter& limiter_;
    grpc::ServerContext* const ctx_;
    const std::string client_;
    std::chrono::steady_clock::time_point write_started_{};  // guarded by limiter_.mu_
    bool writing_ = false;                                   // guarded by limiter_.mu_
    std::atomic<bool> timed_out_{false};
  };

  // Starts the watchdog thread.
  explicit StreamLimiter(Limits limits);
  // Stops the watchdog. Every Slot must be gone (the gRPC server shut down) before.
  ~StreamLimiter();

  // Admits a stream of the call `ctx` (which must outlive the Slot). Reason too_many_streams
  // (RESOURCE_EXHAUSTED) naming the cap that was reached.
  Result<std::unique_ptr<Slot>> Open(grpc::ServerContext* ctx);

  // The client a peer string names: gRPC's peer ("ipv4:1.2.3.4:5678", "ipv6:[::1]:5678")
  // without the port.
  static std::string ClientOf(const std::string& peer);

  size_t open_streams() const;
  uint64_t refused() const { return refused_.load(); }
  uint64_t timed_out() const { return timed_out_.load(); }

 private:
  void Close(Slot* slot);
  void Watch();

  const Limits limits_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::map<Slot*, bool> slots_;  // the open streams (the value is unused)
  std::map<std::string, size_t> per_client_;
  std::atomic<uint64_t> refused_{0};
  std::atomic<uint64_t> timed_out_{0};
  std::thread watchdog_;
};

}  // namespace civitas::node
