#include "genesis/nation_answers.h"

#include "ledger/base58.h"
#include "ledger/did.h"

namespace civitas::nation {

std::string DumpJson(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<DidAnswer> DidAnswerAt(const StateReader& state, uint64_t height, std::string_view did,
                              const BlockTimeFn& block_time) {
  DidAnswer out;
  out.height = height;
  auto result = ResolveDid(state, did, block_time);
  if (!result.ok()) return result.status();
  const auto& meta = (*result)["didResolutionMetadata"];
  if (meta.contains("error")) out.error = meta["error"].get<std::string>();
  if (out.error.empty()) {
    const auto& doc_meta = (*result)["didDocumentMetadata"];
    out.deactivated = doc_meta.value("deactivated", false);
    out.created = doc_meta.value("createdHeight", uint64_t{0});
    out.updated = doc_meta.value("updatedHeight", uint64_t{0});
    out.version_id = std::stoull(doc_meta.value("versionId", std::string("0")));
  }
  out.result_json = DumpJson(*result);
  return out;
}

void FillDidResponse(const DidAnswer& a, v1::ResolveDidResponse* out) {
  out->set_result_json(a.result_json);
  out->set_height(a.height);
  out->set_deactivated(a.deactivated);
  out->set_version_id(a.version_id);
  out->set_created(a.created);
  out->set_updated(a.updated);
}

void FillCitizenship(const Citizenship& c, uint64_t height, v1::CitizenshipRecord* out) {
  out->set_did(std::string(kDidPrefix) + Base58Encode(c.did.data(), c.did.size()));
  out->set_status(std::string(CitizenStatusName(c.status)));
  out->set_since(c.since);
  out->set_expiry(c.expiry);
  out->set_applied(c.applied);
  out->set_in_good_standing(c.InGoodStanding(height));
}

Status CitizenshipAnswer(const StateReader& state, uint64_t height, const DidId& did,
                         v1::GetCitizenshipResponse* out) {
  auto c = ReadCitizenship(state, did);
  if (!c.ok()) return c.status();
  FillCitizenship(*c, height, out->mutable_citizenship());
  auto controller = ReadDidController(state, did);
  if (!controller.ok()) return controller.status();
  if (controller->has_value()) {
    out->mutable_citizenship()->set_controller(out->citizenship().did() + "#" +
                                               (*controller)->fragment);
    out->mutable_citizenship()->set_controller_key(std::string(AsStringView((*controller)->key)));
  }
  out->set_height(height);
  return Status::Ok();
}

Status FillProposal(const StateReader& state, const Proposal& p, uint64_t height,
                    v1::ProposalInfo* out) {
  out->set_id(p.id);
  out->set_kind(std::string(ProposalKindName(p.kind)));
  out->set_proposer(std::string(AsStringView(p.proposer)));
  out->set_deposit(p.deposit);
  out->set_start(p.start);
  out->set_end(p.end);
  out->set_eta(p.eta);
  out->set_executed(p.executed);
  out->set_status(std::string(ProposalStatusName(p.status)));
  out->set_voters(p.voters);
  out->set_sunset(p.sunset);
  out->set_text(p.text);
  out->set_a(p.a);
  out->set_b(p.b);
  out->set_c(p.c);
  out->set_paid_until(p.paid_until);
  out->set_failure(p.failure);
  out->set_method(std::string(VotingMethodName(p.method)));
  out->set_quorum(p.quorum);
  out->set_threshold(p.threshold);
  out->set_dropped(p.dropped);
  out->set_in_force(InForce(p, height));
  auto tally = TallyOf(state, p);
  if (!tally.ok()) return tally.status();
  auto* t = out->mutable_tally();
  t->set_yes(tally->yes);
  t->set_no(tally->no);
  t->set_abstain(tally->abstain);
  t->set_quorum_reached(tally->quorum_reached);
  t->set_passing(tally->passing);
  return Status::Ok();
}

Status ProposalAnswer(const StateReader& state, uint64_t height, uint64_t id,
                      v1::GetProposalResponse* out) {
  auto p = ReadProposal(state, id);
  if (!p.ok()) return p.status();
  if (!p->has_value()) {
    return Status::NotFound("no proposal " + std::to_string(id) + " at height " +
                            std::to_string(height));
  }
  Status s = FillProposal(state, **p, height, out->mutable_proposal());
  if (!s.ok()) return s;
  out->set_height(height);
  return Status::Ok();
}

Status TreasuryAnswer(const StateReader& state, uint64_t height, v1::GetTreasuryResponse* out) {
  auto t = ReadTreasury(state);
  if (!t.ok()) return t.status();
  out->set_address(std::string(AsStringView(TreasuryAddress())));
  out->set_balance(t->balance);
  out->set_spent(t->spent);
  out->set_height(height);
  return Status::Ok();
}

}  // namespace civitas::nation
