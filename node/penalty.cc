#include "node/penalty.h"

namespace civitas::node {

std::optional<std::string> PenaltyFor(PeerInput input, const Status& refusal) {
  if (refusal.ok() || refusal.blame() != Status::Blame::kPeer) return std::nullopt;
  switch (input) {
    case PeerInput::kConsensus:
      return "invalid_consensus_message";
    case PeerInput::kGossip:
      return "invalid_gossip";
    case PeerInput::kSync:
      return "invalid_sync_block";
  }
  return std::nullopt;
}

}  // namespace civitas::node
