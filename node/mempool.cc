#include "node/mempool.h"

namespace civitas::node {

Status Mempool::Add(DecodedTx tx, const NonceReader& committed_nonce) {
  std::lock_guard lock(mu_);
  if (txs_.count(tx.id)) {
    return Status::Error(Status::Code::kAlreadyExists, "duplicate_tx",
                         "transaction is already pending");
  }
  auto committed = committed_nonce(tx.sender);
  if (!committed.ok()) return committed.status();
  auto it = senders_.find(tx.sender);
  uint64_t expected = *committed;
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
  if (txs_.size() >= limits_.max_txs || bytes_ + tx.size > limits_.max_bytes) {
    return Status::Error(Status::Code::kResourceExhausted, "mempool_full",
                         "the mempool is full; retry later");
  }
  SenderInfo& info = senders_[tx.sender];
  if (info.pending >= limits_.max_per_sender) {
    return Status::Error(
        Status::Code::kResourceExhausted, "mempool_full",
        "this sender has " + std::to_string(info.pending) + " pending transactions");
  }
  info.next_nonce = nonce + 1;
  info.pending += 1;
  bytes_ += tx.size;
  order_.push_back(tx.id);
  txs_.emplace(tx.id, std::move(tx));
  return Status::Ok();
}

std::vector<DecodedTx> Mempool::Take(size_t max_txs) {
  std::lock_guard lock(mu_);
  std::vector<DecodedTx> out;
  while (!order_.empty() && out.size() < max_txs) {
    auto it = txs_.find(order_.front());
    order_.pop_front();
    if (it == txs_.end()) continue;
    bytes_ -= it->second.size;
    senders_[it->second.sender].pending -= 1;
    out.push_back(std::move(it->second));
    txs_.erase(it);
  }
  return out;
}

void Mempool::Committed(const std::map<Address, uint64_t>& nonces_after) {
  std::lock_guard lock(mu_);
  for (const auto& [sender, nonce] : nonces_after) {
    auto it = senders_.find(sender);
    if (it == senders_.end()) continue;
    if (it->second.pending == 0) {
      senders_.erase(it);
    } else if (it->second.next_nonce < nonce) {
      it->second.next_nonce = nonce;
    }
  }
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
