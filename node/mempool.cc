#include "node/mempool.h"

#include "ledger/executor.h"

namespace civitas::node {
namespace {

Status Full() {
  return Status::Error(Status::Code::kResourceExhausted, "mempool_full",
                       "the mempool is full; retry later");
}

}  // namespace

Status Mempool::Add(DecodedTx tx, const AccountReader& committed_account) {
  std::lock_guard lock(mu_);
  if (txs_.count(tx.id)) {
    return Status::Error(Status::Code::kAlreadyExists, "duplicate_tx",
                         "transaction is already pending");
  }
  auto committed = committed_account(tx.sender);
  if (!committed.ok()) return committed.status();
  auto it = senders_.find(tx.sender);
  uint64_t expected = committed->nonce;
  if (it != senders_.end()) expected = std::max(expected, it->second.next_nonce);
  const uint64_t nonce = tx.body.nonce();
  if (nonce < expected) {
    return Status::Error(
        Status::Code::kFailedPrecondition, "nonce_too_low",
        "nonce " + std::to_string(nonce) + " is used; next is " + std::to_string(expected));
  }
  if (nonce > expected) {
    return Status::Error(
        Status::Code::kFailedPrecondition, "nonce_too_high",
        "nonce " + std::to_string(nonce) + " skips ahead; next is " + std::to_string(expected));
  }
  // Every pending transaction may run before this one and spend up to its MaxDebit: only
  // what the committed balance has beyond them covers this one.
  const uint64_t pending_debit = it != senders_.end() ? it->second.debit : 0;
  const uint64_t debit = MaxDebit(params_, tx);
  if (pending_debit > committed->balance || debit > committed->balance - pending_debit) {
    const size_t pending = it != senders_.end() ? it->second.pending : 0;
    return Status::Error(Status::Code::kFailedPrecondition, "insufficient_funds",
                         "balance " + std::to_string(committed->balance) +
                             " cannot cover this transaction's maximum fee (gas_limit x "
                             "gas_price = " +
                             std::to_string(MaxFee(params_, tx)) + ") plus the tokens it sends, " +
                             std::to_string(debit) + " in all, on top of " +
                             std::to_string(pending_debit) + " that the sender's " +
                             std::to_string(pending) + " pending transactions may spend");
  }
  if (txs_.size() >= limits_.max_txs || bytes_ + tx.size > limits_.max_bytes) return Full();
  SenderInfo& info = senders_[tx.sender];
  if (info.pending >= limits_.max_per_sender) {
    return Status::Error(
        Status::Code::kResourceExhausted, "mempool_full",
        "this sender has " + std::to_string(info.pending) + " pending transactions");
  }
  info.next_nonce = nonce + 1;
  info.pending += 1;
  info.debit += debit;  // <= the balance: no overflow
  bytes_ += tx.size;
  order_.push_back(tx.id);
  txs_.emplace(tx.id, std::move(tx));
  return Status::Ok();
}

std::vector<DecodedTx> Mempool::Select(size_t max_txs, size_t max_bytes,
                                       const std::function<bool(const DecodedTx&)>& accept) const {
  std::lock_guard lock(mu_);
  std::vector<DecodedTx> out;
  size_t bytes = 0;
  for (const Hash32& id : order_) {
    if (out.size() >= max_txs) break;
    auto it = txs_.find(id);
    if (it == txs_.end()) continue;
    if (bytes + it->second.size > max_bytes) break;
    if (!accept(it->second)) continue;
    bytes += it->second.size;
    out.push_back(it->second);
  }
  return out;
}

void Mempool::EraseLocked(TxMap::iterator it) {
  bytes_ -= it->second.size;
  auto s = senders_.find(it->second.sender);
  if (s != senders_.end()) {
    s->second.debit -= std::min(s->second.debit, MaxDebit(params_, it->second));
    if (--s->second.pending == 0) senders_.erase(s);
  }
  txs_.erase(it);
}

void Mempool::RemoveCommitted(const std::vector<DecodedTx>& committed,
                              const NonceReader& committed_nonce) {
  std::lock_guard lock(mu_);
  std::map<Address, uint64_t> nonces;
  for (const auto& tx : committed) {
    auto it = txs_.find(tx.id);
    if (it != txs_.end()) EraseLocked(it);
    nonces[tx.sender] = 0;
  }
  for (auto& [sender, nonce] : nonces) {
    auto n = committed_nonce(sender);
    nonce = n.ok() ? *n : 0;
  }
  // Another transaction of a sender with the same nonce as a committed one can never commit.
  bool stale = false;
  for (const Hash32& id : order_) {
    auto it = txs_.find(id);
    if (it == txs_.end()) continue;
    auto n = nonces.find(it->second.sender);
    if (n != nonces.end() && it->second.body.nonce() < n->second) {
      EraseLocked(it);
      stale = true;
    }
  }
  for (const auto& [sender, nonce] : nonces) {
    auto s = senders_.find(sender);
    if (s != senders_.end() && s->second.next_nonce < nonce) s->second.next_nonce = nonce;
  }
  // Drop ids of removed transactions from the order queue (lazily, from the front, and fully
  // when it is mostly garbage).
  while (!order_.empty() && !txs_.count(order_.front())) order_.pop_front();
  if (stale || order_.size() > 2 * txs_.size() + 1024) {
    std::erase_if(order_, [this](const Hash32& id) { return !txs_.count(id); });
  }
}

bool Mempool::Verified(const Hash32& id, std::string_view signature) const {
  std::lock_guard lock(mu_);
  if (auto it = txs_.find(id); it != txs_.end())
    return it->second.envelope.signature() == signature;
  auto it = noted_.find(id);
  return it != noted_.end() && it->second == signature;
}

void Mempool::NoteVerified(const DecodedTx& tx) {
  std::lock_guard lock(mu_);
  if (!noted_.insert_or_assign(tx.id, tx.envelope.signature()).second) return;
  noted_order_.push_back(tx.id);
  if (noted_order_.size() > kNotedVerified) {
    noted_.erase(noted_order_.front());
    noted_order_.pop_front();
  }
}

Result<DecodedTx> Mempool::Check(const v1::Transaction& envelope, std::string_view chain_id,
                                 const ChainParams& params) {
  auto tx = DecodeAndCheckTx(envelope, chain_id, params, /*verify_signature=*/false);
  if (!tx.ok() || Verified(tx->id, envelope.signature())) return tx;
  if (Status s = CheckTxSignature(*tx); !s.ok()) return s;
  NoteVerified(*tx);
  return tx;
}

Status Mempool::CheckRoom(size_t envelope_bytes) const {
  std::lock_guard lock(mu_);
  if (txs_.size() >= limits_.max_txs || bytes_ + envelope_bytes > limits_.max_bytes) return Full();
  return Status::Ok();
}

bool Mempool::Contains(const Hash32& id) const {
  std::lock_guard lock(mu_);
  return txs_.count(id) > 0;
}
size_t Mempool::size() const {
  std::lock_guard lock(mu_);
  return txs_.size();
}
size_t Mempool::bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

}  // namespace civitas::node
