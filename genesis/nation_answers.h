#pragma once

// The answers of the node's nation queries (docs/NATION.md), built from a state: the node builds
// them from its store; a client rebuilds them from the entries a CertifiedState proves and
// compares (genesis/proven_answers.h), so both sides run this one code.

#include <cstdint>
#include <string>
#include <string_view>

#include "civitas/v1/node.pb.h"
#include "genesis/nation_state.h"

namespace civitas::nation {

// Compact JSON of chain data: invalid UTF-8 (a DID service set by a raw contract call may hold
// any bytes) becomes U+FFFD instead of an exception.
std::string DumpJson(const nlohmann::json& j);

struct DidAnswer {
  std::string result_json;  // the DID Resolution result (compact JSON)
  std::string error;        // "", "invalidDid" or "notFound" (also for an unknown version)
  uint64_t height = 0;      // the state height resolved at
  bool deactivated = false;
  // Heights of the DID's first and latest versions (the result's createdHeight and
  // updatedHeight; its `created` and `updated` are those blocks' times).
  uint64_t version_id = 0, created = 0, updated = 0;
};

// Resolves `did` in `state`, the state after block `height`; `block_time` gives the header times
// the result shows. Resolution errors are in the answer; fails only when reading fails.
Result<DidAnswer> DidAnswerAt(const StateReader& state, uint64_t height, std::string_view did,
                              const BlockTimeFn& block_time);
// The gRPC answer of a successful resolution (no proof).
void FillDidResponse(const DidAnswer& a, v1::ResolveDidResponse* out);

void FillCitizenship(const Citizenship& c, uint64_t height, v1::CitizenshipRecord* out);
// The citizenship answer for `did` at `height` (no proof).
Status CitizenshipAnswer(const StateReader& state, uint64_t height, const DidId& did,
                         v1::GetCitizenshipResponse* out);

// A proposal with its tally, as `state` (after block `height`) holds it.
Status FillProposal(const StateReader& state, const Proposal& p, uint64_t height,
                    v1::ProposalInfo* out);
// The proposal answer (no proof); reason not_found when there is no proposal `id`.
Status ProposalAnswer(const StateReader& state, uint64_t height, uint64_t id,
                      v1::GetProposalResponse* out);

// The treasury answer at `height` (no proof).
Status TreasuryAnswer(const StateReader& state, uint64_t height, v1::GetTreasuryResponse* out);

}  // namespace civitas::nation
