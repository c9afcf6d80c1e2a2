#pragma once

// Whether a refusal of a peer's input costs the peer its connection. The refusal's producer
// says whom it blames (Status::Blame, ledger/status.h); this is the node's policy over that,
// and the only place it is decided (docs/RELIABILITY.md, "Penalties").

#include <optional>
#include <string>

#include "ledger/status.h"

namespace civitas::node {

// What a peer sent that was refused.
enum class PeerInput {
  kConsensus,  // a consensus message, a proposal's payload included (P2P channel 0)
  kGossip,     // a transaction in a gossip frame (channel 1)
  kSync,       // a committed block in a sync response (channel 2)
};

// The reason to give Transport::Penalize when `refusal` blames the peer (Blame::kPeer); none for
// stale input, what this node cannot check yet or refuses from its own state, and errors of
// its own.
std::optional<std::string> PenaltyFor(PeerInput input, const Status& refusal);

}  // namespace civitas::node
