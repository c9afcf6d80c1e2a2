#pragma once

#include <string>

#include "ledger/genesis.h"

namespace civitas::node {

struct ReplayReport {
  uint64_t blocks = 0;
  uint64_t txs = 0;
  // Signatures the chain carries, each verified: one per transaction and one per signer of
  // each commit certificate (a certificate checked again for another epoch counts once).
  uint64_t signatures = 0;
  double seconds = 0;
  bool ok = true;
  uint64_t first_bad_height = 0;
  std::string error;
};

// Re-executes every block of the ledger at `data_dir` from the genesis state in a scratch store
// under `scratch_dir`, verifying each certificate, header link, transaction signature (on all
// cores), transaction root, certified state root and the stored state root. Stops at the first
// height that differs. `progress` (may be null) is called about once a second.
ReplayReport Replay(
    const std::string& data_dir, const std::string& scratch_dir, const Genesis& genesis,
    const std::function<void(uint64_t done, uint64_t total, double secs)>& progress);

}  // namespace civitas::node
