#pragma once

// The bounded pool of checked transactions waiting for a block. Thread-safe.

#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "ledger/tx.h"

namespace civitas::node {

class Mempool {
 public:
  struct Limits {
    size_t max_txs;
    size_t max_bytes;
    size_t max_per_sender;
  };
  explicit Mempool(Limits limits) : limits_(limits) {}

  // Reads a sender's nonce in the latest committed state.
  using NonceReader = std::function<Result<uint64_t>(const Address&)>;

  // Adds a checked transaction. Its nonce must be the sender's next: the committed nonce
  // advanced by the sender's transactions already pending or being committed. The committed
  // nonce is read under the pool's lock, so a concurrent commit cannot make it stale.
  // Reasons: duplicate_tx, nonce_too_low, nonce_too_high, mempool_full.
  Status Add(DecodedTx tx, const NonceReader& committed_nonce);

  // Removes and returns up to `max_txs` transactions in arrival order (which is nonce order per
  // sender). They stay "in flight" for nonce accounting until Committed() is called.
  std::vector<DecodedTx> Take(size_t max_txs);

  // Called after a block is committed to the store (or fails) with the senders' nonces in the
  // latest state: clears the in-flight accounting.
  void Committed(const std::map<Address, uint64_t>& nonces_after);

  bool Contains(const Hash32& id) const;
  size_t size() const;
  size_t bytes() const;

 private:
  struct SenderInfo {
    uint64_t next_nonce = 0;  // after everything pending or in flight
    size_t pending = 0;
  };
  struct HashOf {
    size_t operator()(const Hash32& h) const {
      size_t v;
      std::memcpy(&v, h.data(), sizeof(v));
      return v;
    }
  };

  const Limits limits_;
  mutable std::mutex mu_;
  std::deque<Hash32> order_;
  std::unordered_map<Hash32, DecodedTx, HashOf> txs_;
  std::map<Address, SenderInfo> senders_;
  size_t bytes_ = 0;
};

}  // namespace civitas::node
