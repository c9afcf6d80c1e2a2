#pragma once

// Proving the node's answers about state (docs/PROTOCOL.md, "Certified state"): the latest
// committed block that certifies a state root, the epoch changes a client needs to trust its
// council, and the Merkle proofs of every state entry an answer was built from. GetAccount and
// the nation's queries share this.

#include <functional>
#include <vector>

#include "civitas/v1/types.pb.h"
#include "genesis/nation_state.h"
#include "ledger/state.h"
#include "ledger/store.h"

namespace civitas::node {

// The latest committed block (whose header certifies the state root of `height`, its
// state_height) and every validator-set change from genesis up to its epoch.
struct CertifyingBlock {
  v1::CommittedBlock block;
  uint64_t height = 0;  // the certified state height
  std::vector<v1::EpochChange> epoch_changes;
};
// Reason not_certified (FAILED_PRECONDITION) before the first block.
Result<CertifyingBlock> LatestCertifyingBlock(const Store& store);

// Builds an answer from the state at the latest certified height: `build` reads the state and
// block times only through its arguments, and what it read is proven. `build`'s failure is
// returned unchanged.
using ProvedBuild = std::function<Status(const StateReader& state, uint64_t height,
                                         const nation::BlockTimeFn& block_time)>;
Result<v1::CertifiedState> ProveAnswer(const Store& store, const ProvedBuild& build);

}  // namespace civitas::node
