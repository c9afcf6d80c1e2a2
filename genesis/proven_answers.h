#pragma once

// Checking the nation's proved answers without trusting the node (docs/PROTOCOL.md, "Certified
// state"; docs/NATION.md, "Proved answers"): the bundle is verified against the genesis epoch
// (VerifyCertifiedState), the answer is rebuilt from the proven entries by the code the node
// runs (genesis/nation_answers.h), and the node's answer must be exactly that. A node that lies
// about a field, the height, the root, the council or leaves out an entry is refused with reason
// bad_proof and a message that names what differs.

#include <cstdint>
#include <string>
#include <string_view>

#include "civitas/v1/node.pb.h"
#include "ledger/certified.h"
#include "ledger/civic_calls.h"

namespace civitas::nation {

// What a check verified, for a client to print.
struct CheckedAnswer {
  uint64_t height = 0;             // the certified state height of the answer
  uint64_t certified_by = 0;       // the certifying block's height
  uint64_t certified_time_ms = 0;  // its header time
  uint64_t epoch = 0;              // its epoch
  size_t epoch_changes = 0;        // council changes followed from genesis
  size_t entries = 0;              // state entries proven
  size_t dated_blocks = 0;         // block times proven
};

Result<CheckedAnswer> CheckDidAnswer(std::string_view chain_id, const Epoch& first,
                                     std::string_view did, const v1::ResolveDidResponse& answer);
Result<CheckedAnswer> CheckCitizenshipAnswer(std::string_view chain_id, const Epoch& first,
                                             const DidId& did,
                                             const v1::GetCitizenshipResponse& answer);
Result<CheckedAnswer> CheckProposalAnswer(std::string_view chain_id, const Epoch& first,
                                          uint64_t id, const v1::GetProposalResponse& answer);
Result<CheckedAnswer> CheckTreasuryAnswer(std::string_view chain_id, const Epoch& first,
                                          const v1::GetTreasuryResponse& answer);

}  // namespace civitas::nation
