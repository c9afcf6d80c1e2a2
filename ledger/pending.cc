#include "ledger/pending.h"

namespace civitas {

Result<PendingSenders::Sender*> PendingSenders::Get(const Address& a) {
  auto it = senders_.find(a);
  if (it != senders_.end()) return &it->second;
  auto acct = view_.GetAccount(a);
  if (!acct.ok()) return acct.status();
  return &senders_.emplace(a, Sender{acct->nonce, acct->balance}).first->second;
}

void PendingSenders::Track(Sender& s, const DecodedTx& tx) const {
  ++s.next_nonce;
  s.floor -= std::min(s.floor, MaxDebit(params_, tx));
}

Status PendingSenders::TrackAll(const std::vector<const DecodedTx*>& pending) {
  for (const DecodedTx* tx : pending) {
    auto sender = Get(tx->sender);
    if (!sender.ok()) return sender.status();
    Track(**sender, *tx);
  }
  return Status::Ok();
}

Status PendingSenders::CheckAndTrack(const DecodedTx& tx, size_t index) {
  auto sender = Get(tx.sender);
  if (!sender.ok()) return sender.status();
  Sender& s = **sender;
  if (tx.body.nonce() != s.next_nonce) {
    return Status::PeerFault("bad_nonce", "transaction " + std::to_string(index) + ": nonce " +
                                              std::to_string(tx.body.nonce()) + ", expected " +
                                              std::to_string(s.next_nonce));
  }
  if (!Covered(s, tx)) {
    return Status::PeerFault("insufficient_funds_for_fee",
                             "transaction " + std::to_string(index) + ": maximum fee " +
                                 std::to_string(MaxFee(params_, tx)) + " is not covered by the " +
                                 std::to_string(s.floor) +
                                 " its sender is sure to hold when it runs");
  }
  Track(s, tx);
  return Status::Ok();
}

}  // namespace civitas
