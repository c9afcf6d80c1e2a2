#pragma once

// A running Civitas node: the ledger store, the mempool, the validator (consensus and P2P,
// node/validator.h) and the API servers.

#include <array>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "ledger/chain.h"
#include "ledger/genesis.h"
#include "ledger/store.h"
#include "node/backup.h"
#include "node/config.h"
#include "node/http_server.h"
#include "node/mempool.h"
#include "node/validator.h"

namespace grpc {
class Server;
}

namespace civitas::node {

class Node {
 public:
  // `validator_key` must be a council member of `genesis`.
  static Result<std::unique_ptr<Node>> Open(Config config, Genesis genesis,
                                            crypto::SecretKey validator_key);
  ~Node();

  // Starts the validator and the gRPC and HTTP servers. Fails if a port cannot be bound or the
  // consensus safety data is missing or damaged.
  Status Start();
  // Stops serving and validating; returns when every thread has ended. Idempotent. Only the
  // thread that owns the node calls it.
  void Stop();
  // Asks the node to stop: Wait() returns. Safe from any thread (a signal handler's thread);
  // it touches nothing of the node after its lock is released.
  void RequestStop();
  // Blocks until Stop() is called or the validator fails; returns the failure, if any.
  Status Wait();

  // Checks `tx` and adds it to the mempool; returns its id. Thread-safe.
  Result<Hash32> Submit(const v1::Transaction& tx);
  // Submit for each of `txs` in order; the admitted ones are gossiped together.
  std::vector<Result<Hash32>> SubmitMany(
      const google::protobuf::RepeatedPtrField<v1::Transaction>& txs);
  // Waits until `tx_id` is committed or `timeout_ms` passes; true when committed. Committed
  // means acknowledged by the validator: the block is in the ledger and its write is synced, so a
  // crash cannot lose it (a block written but not yet synced is not reported).
  bool WaitForCommit(const Hash32& tx_id, uint32_t timeout_ms);
  // Waits until block `height` is committed, the node stops or `timeout_ms` passes; true when
  // the block is committed. Thread-safe (the block stream of the gRPC API waits here).
  bool WaitForHeight(uint64_t height, uint32_t timeout_ms);
  // True once Stop() or RequestStop() was called or the validator failed. Thread-safe.
  bool stopping();
  // Empty when /readyz is to answer ready, else why not (node/health.h). Thread-safe.
  std::string NotReady() const;
  // Whether the node is fetching blocks it is behind by (a peer reported a tip more than
  // Validator::Stats::kCaughtUpLag above the acknowledged height), and the validators
  // connected over P2P. Thread-safe; {false, 0} before Start.
  struct Sync {
    bool catching_up = false;
    size_t peers = 0;
  };
  Sync SyncState() const;

  const Store& store() const { return *store_; }
  const Genesis& genesis() const { return genesis_; }
  const Config& config() const { return config_; }
  size_t mempool_size() const { return mempool_.size(); }
  // The bound gRPC and HTTP ports (useful when the config asked for port 0).
  int grpc_port() const { return grpc_port_; }
  int http_port() const { return http_ ? http_->port() : 0; }
  int p2p_port() const { return validator_ ? validator_->p2p_port() : 0; }
  Validator::Stats validator_stats() const { return validator_->GetStats(); }
  // Replaces the configured P2P peers (SIGHUP; Validator::ReloadPeers). Thread-safe.
  Status ReloadPeers(const std::vector<std::string>& p2p_peers) {
    return validator_->ReloadPeers(p2p_peers);
  }

  // Prometheus text exposition of the node's metrics (docs/OPERATIONS.md, "Metrics").
  std::string MetricsText() const;

 private:
  Node(Config config, Genesis genesis, crypto::SecretKey key);
  Result<Hash32> Admit(const v1::Transaction& tx);
  // Admission of a transaction already decoded and checked (signature included).
  Result<Hash32> AdmitChecked(DecodedTx tx);
  void OnCommitted(const PreparedBlock& p);
  void Fail(const Status& s);

  Config config_;
  Genesis genesis_;
  crypto::SecretKey key_;
  std::unique_ptr<Store> store_;
  Mempool mempool_;
  std::unique_ptr<grpc::Server> grpc_server_;
  std::unique_ptr<class NodeService> service_;
  std::unique_ptr<Validator> validator_;
  int grpc_port_ = 0;
  std::unique_ptr<HttpServer> http_;
  // The admin socket (node/backup.h): `civitasd backup` asks the running node for a checkpoint.
  std::unique_ptr<AdminServer> admin_;

  // Metrics. Block intervals are kept in a histogram with these upper bounds (seconds).
  static constexpr std::array<double, 8> kIntervalBuckets = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  std::atomic<uint64_t> committed_txs_{0};
  std::atomic<uint64_t> failed_txs_{0};
  std::array<std::atomic<uint64_t>, kIntervalBuckets.size() + 1> interval_counts_{};
  std::atomic<uint64_t> interval_sum_ms_{0};
  uint64_t last_block_time_ms_ = 0;  // validator's io thread only

  // Newest block acknowledged by the validator (OnCommitted); the store may already hold later
  // blocks whose write is not yet synced. Written under mu_.
  std::atomic<uint64_t> acknowledged_height_{0};

  mutable std::mutex mu_;
  std::condition_variable cv_;  // signalled on every commit and on stop
  bool stopping_ = false;
  Status failure_;
};

}  // namespace civitas::node
