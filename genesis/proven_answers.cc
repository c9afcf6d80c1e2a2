#include "genesis/proven_answers.h"

#include <google/protobuf/util/message_differencer.h>

#include "genesis/nation_answers.h"

namespace civitas::nation {
namespace {

CheckedAnswer Summary(const ProvenState& state, const v1::CertifiedState& bundle) {
  CheckedAnswer out;
  out.height = state.height();
  out.certified_by = state.certifying_header().height();
  out.certified_time_ms = state.certifying_header().time_ms();
  out.epoch = state.epoch();
  out.epoch_changes = static_cast<size_t>(bundle.epoch_changes_size());
  out.entries = state.entry_count();
  out.dated_blocks = static_cast<size_t>(bundle.dated_blocks_size());
  return out;
}

// The node's answer, its proof cleared, must equal the one rebuilt from the proven state.
template <typename Msg>
Status SameAnswer(const Msg& claimed, const Msg& rebuilt) {
  Msg stripped = claimed;
  stripped.clear_proof();
  google::protobuf::util::MessageDifferencer diff;
  std::string report;
  diff.ReportDifferencesToString(&report);
  if (diff.Compare(rebuilt, stripped)) return Status::Ok();
  // The report quotes node-given values: keep it bounded.
  constexpr size_t kMaxReport = 512;
  if (report.size() > kMaxReport) report = report.substr(0, kMaxReport) + "...";
  return Status::Invalid("bad_proof", "the answer differs from its proven state: " + report);
}

// Verifies the bundle of `answer` and that it is of the answer's height.
template <typename Msg>
Result<ProvenState> ProvenOf(std::string_view chain_id, const Epoch& first, const Msg& answer) {
  if (!answer.has_proof()) return Status::Invalid("bad_proof", "the answer carries no proof");
  auto state = VerifyCertifiedState(chain_id, first, answer.proof());
  if (!state.ok()) return state.status();
  if (answer.height() != state->height()) {
    return Status::Invalid("bad_proof",
                           "the answer claims height " + std::to_string(answer.height()) +
                               ", its proof is of height " + std::to_string(state->height()));
  }
  return state;
}

}  // namespace

Result<CheckedAnswer> CheckDidAnswer(std::string_view chain_id, const Epoch& first,
                                     std::string_view did, const v1::ResolveDidResponse& answer) {
  auto state = ProvenOf(chain_id, first, answer);
  if (!state.ok()) return state.status();
  auto block_time = [&](uint64_t height) { return state->BlockTime(height); };
  auto rebuilt = DidAnswerAt(*state, state->height(), did, block_time);
  if (!rebuilt.ok()) return rebuilt.status();
  if (!rebuilt->error.empty()) {
    return Status::Invalid("bad_proof", "the proven state resolves the DID to " + rebuilt->error);
  }
  v1::ResolveDidResponse expected;
  FillDidResponse(*rebuilt, &expected);
  Status s = SameAnswer(answer, expected);
  if (!s.ok()) return s;
  return Summary(*state, answer.proof());
}

Result<CheckedAnswer> CheckCitizenshipAnswer(std::string_view chain_id, const Epoch& first,
                                             const DidId& did,
                                             const v1::GetCitizenshipResponse& answer) {
  auto state = ProvenOf(chain_id, first, answer);
  if (!state.ok()) return state.status();
  v1::GetCitizenshipResponse expected;
  Status s = CitizenshipAnswer(*state, state->height(), did, &expected);
  if (!s.ok()) return s;
  s = SameAnswer(answer, expected);
  if (!s.ok()) return s;
  return Summary(*state, answer.proof());
}

Result<CheckedAnswer> CheckProposalAnswer(std::string_view chain_id, const Epoch& first,
                                          uint64_t id, const v1::GetProposalResponse& answer) {
  auto state = ProvenOf(chain_id, first, answer);
  if (!state.ok()) return state.status();
  v1::GetProposalResponse expected;
  Status s = ProposalAnswer(*state, state->height(), id, &expected);
  if (s.code() == Status::Code::kNotFound) {
    return Status::Invalid("bad_proof", "the proven state holds no proposal " + std::to_string(id));
  }
  if (!s.ok()) return s;
  s = SameAnswer(answer, expected);
  if (!s.ok()) return s;
  return Summary(*state, answer.proof());
}

Result<CheckedAnswer> CheckTreasuryAnswer(std::string_view chain_id, const Epoch& first,
                                          const v1::GetTreasuryResponse& answer) {
  auto state = ProvenOf(chain_id, first, answer);
  if (!state.ok()) return state.status();
  v1::GetTreasuryResponse expected;
  Status s = TreasuryAnswer(*state, state->height(), &expected);
  if (!s.ok()) return s;
  s = SameAnswer(answer, expected);
  if (!s.ok()) return s;
  return Summary(*state, answer.proof());
}

}  // namespace civitas::nation
