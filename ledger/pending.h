#pragma once

// What a block's transactions must satisfy before it is executed, given the transactions of
// the blocks before it that are ordered but not yet executed (docs/PROTOCOL.md, "Fees"). Blocks
// are executed on commit, so a proposer and a voting validator check a block against their
// executed state and the block's pending ancestors; the rule checked here implies the one
// ExecuteBlock enforces, so a block an honest quorum voted for always executes.

#include <map>
#include <vector>

#include "ledger/executor.h"

namespace civitas {

// Per sender, from an executed state through pending transactions: the next nonce, and how
// much of its balance is sure to remain. Only a sender's own transactions lower its balance,
// each by at most its MaxDebit, so a transaction whose MaxFee is within what is sure to remain
// is covered when it runs, whatever the transactions before it do. Not thread-safe; `state`
// and `params` must outlive it.
class PendingSenders {
 public:
  struct Sender {
    uint64_t next_nonce = 0;
    uint64_t floor = 0;  // executed balance minus the MaxDebit of the tracked transactions, >= 0
  };
  PendingSenders(const StateReader& state, const ChainParams& params)
      : view_(state), params_(params) {}

  // The sender's entry, read from the state the first time.
  Result<Sender*> Get(const Address& a);
  // True when `tx`'s MaxFee is within what is sure to remain of `s`'s balance.
  bool Covered(const Sender& s, const DecodedTx& tx) const {
    return MaxFee(params_, tx) <= s.floor;
  }
  // Counts `tx` (its nonce and MaxDebit) as run before whatever is asked next.
  void Track(Sender& s, const DecodedTx& tx) const;

  // Tracks each of `pending` (ordered transactions not yet executed, oldest first) in order,
  // unchecked. Fails only if the state cannot be read.
  Status TrackAll(const std::vector<const DecodedTx*>& pending);

  // Tracks `tx` if it is next in its sender's sequence with its maximum fee covered. Reasons:
  // bad_nonce, insufficient_funds_for_fee (`index` names the transaction in the message).
  Status CheckAndTrack(const DecodedTx& tx, size_t index);

 private:
  StateOverlay view_;
  const ChainParams& params_;
  std::map<Address, Sender> senders_;
};

}  // namespace civitas
