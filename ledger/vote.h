#pragma once

// The bytes a validator signs (tag "civitas/vote/v1") to vote for a block: one definition for
// the consensus protocol and the ledger's stored certificates (docs/PROTOCOL.md, "Certificates").

#include <string_view>

#include "ledger/bytes.h"

namespace civitas {

inline constexpr std::string_view kVoteTag = "civitas/vote/v1";
// The consensus block id is TaggedHash(kConsensusBlockTag, consensus header bytes); votes and
// certificates sign that id.
inline constexpr std::string_view kConsensusBlockTag = "civitas/cblock/v1";

// lp(chain_id) || u64(epoch) || u64(round) || block_id.
inline Bytes VoteBytes(std::string_view chain_id, uint64_t epoch, uint64_t round,
                       const Hash32& block_id) {
  Bytes out;
  PutLengthPrefixed(out, chain_id);
  PutU64(out, epoch);
  PutU64(out, round);
  Append(out, block_id);
  return out;
}

}  // namespace civitas
