#pragma once

// The bounded pool of checked transactions waiting for a block. Thread-safe.

#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "ledger/state.h"
#include "ledger/tx.h"

namespace civitas::node {

class Mempool {
 public:
  struct Limits {
    size_t max_txs;
    size_t max_bytes;
    size_t max_per_sender;
  };
  // `params` are the chain's (the gas price prices a transaction's maximum fee).
  Mempool(Limits limits, const ChainParams& params) : limits_(limits), params_(params) {}

  // Reads a sender's nonce in the latest committed state.
  using NonceReader = std::function<Result<uint64_t>(const Address&)>;
  // Reads a sender's account (balance and nonce) in the latest committed state.
  using AccountReader = std::function<Result<AccountState>(const Address&)>;

  // Adds a checked transaction. Its nonce must be the sender's next: the committed nonce
  // advanced by the sender's pending transactions. The sender's committed balance must cover
  // the MaxDebit (ledger/executor.h: maximum fee plus tokens sent) of all its pending
  // transactions and this one, so that every maximum fee is covered whatever order they run
  // in. The account is read under the pool's lock, so a concurrent commit cannot make it stale.
  // Reasons: duplicate_tx, nonce_too_low, nonce_too_high, insufficient_funds, mempool_full.
  Status Add(DecodedTx tx, const AccountReader& committed_account);

  // Copies, in arrival order (nonce order per sender), the transactions `accept` takes, until
  // `max_txs` or `max_bytes` would be passed. The transactions stay in the pool until a block
  // holding them commits (RemoveCommitted): a proposal may fail to commit.
  std::vector<DecodedTx> Select(size_t max_txs, size_t max_bytes,
                                const std::function<bool(const DecodedTx&)>& accept) const;

  // After a block commits: removes its transactions and any other that the senders' new
  // committed nonces made stale.
  void RemoveCommitted(const std::vector<DecodedTx>& committed, const NonceReader& committed_nonce);

  bool Contains(const Hash32& id) const;
  // True when `id` with exactly this signature is known verified: the pool holds it (checked at
  // admission) or NoteVerified remembers it. A block carrying it need not verify it again.
  bool Verified(const Hash32& id, std::string_view signature) const;
  // Remembers the last kNotedVerified transactions verified outside the pool: those Check
  // verified (their gossip frame may still be on its way to admission) and those of a block
  // this validator checked. A block and the gossip of its transactions often arrive together;
  // whichever verifies a transaction first spares the other.
  void NoteVerified(const DecodedTx& tx);
  // DecodeAndCheckTx, verifying the signature unless it is known verified (Verified); a
  // verified signature is noted at once (NoteVerified).
  Result<DecodedTx> Check(const v1::Transaction& envelope, std::string_view chain_id,
                          const ChainParams& params);
  size_t size() const;
  size_t bytes() const;
  // Admission refuses `envelope_bytes` more with mempool_full: checked before any signature
  // is verified, so a client retrying into a full pool costs no verification.
  Status CheckRoom(size_t envelope_bytes) const;

 private:
  struct SenderInfo {
    uint64_t next_nonce = 0;  // after everything pending
    size_t pending = 0;
    uint64_t debit = 0;  // sum of the pending transactions' MaxDebit (saturating)
  };
  using TxMap = std::unordered_map<Hash32, DecodedTx, UniformKeyHash>;
  void EraseLocked(TxMap::iterator it);

  static constexpr size_t kNotedVerified = 1 << 16;

  const Limits limits_;
  const ChainParams params_;
  mutable std::mutex mu_;
  std::unordered_map<Hash32, std::string, UniformKeyHash> noted_;  // id -> signature
  std::deque<Hash32> noted_order_;
  std::deque<Hash32> order_;
  TxMap txs_;
  std::map<Address, SenderInfo> senders_;
  size_t bytes_ = 0;
};

}  // namespace civitas::node
