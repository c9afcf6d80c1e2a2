#include "ledger/civic_calls.h"

#include <vector>

#include "ledger/did.h"
#include "vm/vm.h"

namespace civitas::nation {
namespace {

vm::Value B(std::string_view s) { return vm::Value::FromString(s); }
template <size_t N>
vm::Value B(const std::array<uint8_t, N>& a) {
  return vm::Value::FromBytes(vm::Bytes(a.begin(), a.end()));
}
// Amounts and heights above INT64_MAX become negative and are refused by the contracts.
vm::Value I(uint64_t v) { return vm::Value::Int(static_cast<int64_t>(v)); }

ContractCall Make(const Address& contract, std::string function, const std::vector<vm::Value>& args,
                  uint64_t amount = 0) {
  vm::Bytes encoded = vm::EncodeValues(args);
  return {contract, std::move(function), std::string(encoded.begin(), encoded.end()), amount};
}

Status Malformed(const std::string& message) { return Status::PeerFault("malformed_tx", message); }

// The field checks of CivicCallOf; each names the field it refuses.
Result<crypto::PublicKey> Key(std::string_view raw, const char* field) {
  auto k = FixedFromBytes<32>(raw);
  if (!k) return Malformed(std::string(field) + " must be a 32-byte public key");
  return *k;
}
Result<Address> Addr(std::string_view raw, const char* field) {
  auto a = AddressFromBytes(raw);
  if (!a) return Malformed(std::string(field) + " must be a 20-byte address");
  return *a;
}
Status Fragment(std::string_view f, const char* field) {
  bool ok = !f.empty() && f.size() <= 32;
  for (char c : f) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_' || c == '-');
  }
  if (!ok) return Malformed(std::string(field) + " must be 1-32 characters of [A-Za-z0-9._-]");
  return Status::Ok();
}

#define CIVIC_ASSIGN_OR_RETURN(lhs, expr)     \
  auto lhs##_r = (expr);                      \
  if (!lhs##_r.ok()) return lhs##_r.status(); \
  auto lhs = *lhs##_r
#define CIVIC_RETURN_IF_ERROR(expr) \
  if (Status s_ = (expr); !s_.ok()) return s_

Result<ContractCall> TypedCall(const v1::TxBody& body) {
  using B = v1::TxBody;
  switch (body.action_case()) {
    case B::kRegisterDid: {
      CIVIC_ASSIGN_OR_RETURN(key, Key(body.register_did().public_key(), "register_did.public_key"));
      return RegisterDid(key);
    }
    case B::kAddDidKey: {
      const auto& a = body.add_did_key();
      CIVIC_RETURN_IF_ERROR(Fragment(a.fragment(), "add_did_key.fragment"));
      CIVIC_ASSIGN_OR_RETURN(key, Key(a.public_key(), "add_did_key.public_key"));
      return AddDidKey(a.fragment(), key);
    }
    case B::kRevokeDidKey:
      CIVIC_RETURN_IF_ERROR(Fragment(body.revoke_did_key().fragment(), "revoke_did_key.fragment"));
      return RevokeDidKey(body.revoke_did_key().fragment());
    case B::kRotateDidKey: {
      const auto& a = body.rotate_did_key();
      CIVIC_RETURN_IF_ERROR(Fragment(a.fragment(), "rotate_did_key.fragment"));
      CIVIC_ASSIGN_OR_RETURN(key, Key(a.public_key(), "rotate_did_key.public_key"));
      auto sig = FixedFromBytes<64>(a.signature());
      if (!sig) return Malformed("rotate_did_key.signature must be a 64-byte BIP-340 signature");
      return RotateDidKey(a.fragment(), key, *sig);
    }
    case B::kSetDidService: {
      const auto& a = body.set_did_service();
      CIVIC_RETURN_IF_ERROR(Fragment(a.fragment(), "set_did_service.fragment"));
      return SetDidService(a.fragment(), a.type(), a.endpoint());
    }
    case B::kRemoveDidService:
      CIVIC_RETURN_IF_ERROR(
          Fragment(body.remove_did_service().fragment(), "remove_did_service.fragment"));
      return RemoveDidService(body.remove_did_service().fragment());
    case B::kDeactivateDid:
      return DeactivateDid();
    case B::kApplyForCitizenship:
      return ApplyForCitizenship();
    case B::kRenewCitizenship:
      return RenewCitizenship();
    case B::kCouncilDecision: {
      const auto& a = body.council_decision();
      auto id = ParseDid(a.did());
      if (!id) return Malformed("council_decision.did is not a canonical did:civitas: DID");
      if (a.action() < v1::COUNCIL_ACTION_APPROVE || a.action() > v1::COUNCIL_ACTION_REVOKE) {
        return Malformed("council_decision.action must be approve, suspend, reinstate or revoke");
      }
      return CouncilDecide(*id, static_cast<CouncilAction>(a.action()));
    }
    case B::kProposeText:
      return ProposeText(body.propose_text().text(), body.propose_text().sunset(),
                         body.propose_text().deposit());
    case B::kProposeSpend: {
      const auto& a = body.propose_spend();
      CIVIC_ASSIGN_OR_RETURN(to, Addr(a.to(), "propose_spend.to"));
      return ProposeSpend(to, a.amount(), a.every(), a.sunset(), a.note(), a.deposit());
    }
    case B::kProposeParam: {
      const auto& a = body.propose_param();
      CIVIC_ASSIGN_OR_RETURN(contract, Addr(a.contract(), "propose_param.contract"));
      return ProposeParam(contract, a.name(), a.value(), a.deposit());
    }
    case B::kProposeCouncilChange: {
      const auto& a = body.propose_council_change();
      if (a.add()) {
        CIVIC_ASSIGN_OR_RETURN(key, Key(a.member(), "propose_council_change.member"));
        return ProposeCouncilChange(AsStringView(key), true, a.deposit());
      }
      if (a.member().size() != 32) {
        CIVIC_ASSIGN_OR_RETURN(member, Addr(a.member(), "propose_council_change.member"));
        return ProposeCouncilChange(AsStringView(member), false, a.deposit());
      }
      return ProposeCouncilChange(a.member(), false, a.deposit());
    }
    case B::kProposeUpgrade: {
      const auto& a = body.propose_upgrade();
      CIVIC_ASSIGN_OR_RETURN(target, Addr(a.target(), "propose_upgrade.target"));
      CIVIC_ASSIGN_OR_RETURN(source, Addr(a.source(), "propose_upgrade.source"));
      return ProposeUpgrade(target, source, a.deposit());
    }
    case B::kVote: {
      const auto& a = body.vote();
      if (a.choice() < v1::VOTE_CHOICE_YES || a.choice() > v1::VOTE_CHOICE_ABSTAIN) {
        return Malformed("vote.choice must be yes, no or abstain");
      }
      return Vote(a.proposal_id(), static_cast<VoteChoice>(a.choice()), a.weight());
    }
    case B::kWithdrawVote:
      return WithdrawVote(body.withdraw_vote().proposal_id());
    case B::kExecuteProposal:
      return ExecuteProposal(body.execute_proposal().proposal_id());
    case B::kPayRecurringSpend:
      return PayRecurringSpend(body.pay_recurring_spend().proposal_id());
    case B::kTransfer:
    case B::kDeploy:
    case B::kCall:
    case B::ACTION_NOT_SET:
      break;
  }
  return Status::Error(Status::Code::kInternal, "not_civic", "not a civic action");
}

}  // namespace

const Address& DidRegistryAddress() {
  static const Address a = SystemAddress("did_registry");
  return a;
}
const Address& CitizenshipAddress() {
  static const Address a = SystemAddress("citizenship");
  return a;
}
bool ChangesCouncil(const v1::Event& e) {
  return e.contract() == AsStringView(CitizenshipAddress()) &&
         (e.topic() == kCouncilAddedTopic || e.topic() == kCouncilRemovedTopic);
}

bool ChangesDidServices(const v1::Event& e) {
  if (e.contract() != AsStringView(DidRegistryAddress())) return false;
  const std::string& t = e.topic();
  return t == "did.service_set" || t == "did.service_removed" || t == "did.key_rotated" ||
         t == "did.deactivated";
}

const Address& GovernanceAddress() {
  static const Address a = SystemAddress("governance");
  return a;
}

void SetCall(const ContractCall& call, v1::TxBody* body) {
  auto* c = body->mutable_call();
  c->set_contract(std::string(AsStringView(call.contract)));
  c->set_function(call.function);
  c->set_args(call.args);
  c->set_amount(call.amount);
}

ContractCall RegisterDid(const crypto::PublicKey& first_key) {
  return Make(DidRegistryAddress(), "register", {B(first_key)});
}
ContractCall AddDidKey(std::string_view fragment, const crypto::PublicKey& key) {
  return Make(DidRegistryAddress(), "add_key", {B(fragment), B(key)});
}
ContractCall RevokeDidKey(std::string_view fragment) {
  return Make(DidRegistryAddress(), "revoke_key", {B(fragment)});
}
ContractCall RotateDidKey(std::string_view new_fragment, const crypto::PublicKey& new_key,
                          const crypto::Signature& signature) {
  return Make(DidRegistryAddress(), "rotate_key", {B(new_fragment), B(new_key), B(signature)});
}
std::string DidRotationMessage(const DidId& did, const crypto::PublicKey& old_key,
                               const crypto::PublicKey& new_key, uint64_t version) {
  Bytes m;
  Append(m, did);
  Append(m, old_key);
  Append(m, new_key);
  PutU64(m, version);
  return std::string(AsStringView(m));
}
crypto::Signature SignDidRotation(const crypto::SecretKey& new_key, const DidId& did,
                                  const crypto::PublicKey& old_key, uint64_t version) {
  return crypto::SignTagged(new_key, kDidRotateTag,
                            DidRotationMessage(did, old_key, new_key.public_key(), version));
}
ContractCall SetDidService(std::string_view fragment, std::string_view type,
                           std::string_view endpoint) {
  return Make(DidRegistryAddress(), "set_service", {B(fragment), B(type), B(endpoint)});
}
ContractCall RemoveDidService(std::string_view fragment) {
  return Make(DidRegistryAddress(), "set_service", {B(fragment), B(""), B("")});
}
ContractCall DeactivateDid() { return Make(DidRegistryAddress(), "deactivate", {}); }

ContractCall ApplyForCitizenship() { return Make(CitizenshipAddress(), "apply", {}); }
ContractCall RenewCitizenship() { return Make(CitizenshipAddress(), "renew", {}); }
ContractCall CouncilDecide(const DidId& did, CouncilAction action) {
  return Make(CitizenshipAddress(), "decide",
              {B(did), vm::Value::Int(static_cast<int64_t>(action))});
}

ContractCall ProposeText(std::string_view text, uint64_t sunset, uint64_t deposit) {
  return Make(GovernanceAddress(), "propose_text", {B(text), I(sunset)}, deposit);
}
ContractCall ProposeSpend(const Address& to, uint64_t amount, uint64_t every, uint64_t sunset,
                          std::string_view note, uint64_t deposit) {
  return Make(GovernanceAddress(), "propose_spend",
              {B(to), I(amount), I(every), I(sunset), B(note)}, deposit);
}
ContractCall ProposeParam(const Address& contract, std::string_view name, int64_t value,
                          uint64_t deposit) {
  return Make(GovernanceAddress(), "propose_param", {B(contract), B(name), vm::Value::Int(value)},
              deposit);
}
ContractCall ProposeCouncilChange(std::string_view member, bool add, uint64_t deposit) {
  return Make(GovernanceAddress(), "propose_council", {B(member), I(add ? 1 : 0)}, deposit);
}
ContractCall ProposeUpgrade(const Address& target, const Address& source, uint64_t deposit) {
  return Make(GovernanceAddress(), "propose_upgrade", {B(target), B(source)}, deposit);
}
ContractCall Vote(uint64_t proposal, VoteChoice choice, uint64_t weight) {
  return Make(GovernanceAddress(), "vote",
              {I(proposal), vm::Value::Int(static_cast<int64_t>(choice))}, weight);
}
ContractCall WithdrawVote(uint64_t proposal) {
  return Make(GovernanceAddress(), "withdraw", {I(proposal)});
}
ContractCall CancelProposal(uint64_t proposal) {
  return Make(GovernanceAddress(), "cancel", {I(proposal)});
}
ContractCall ExecuteProposal(uint64_t proposal) {
  return Make(GovernanceAddress(), "execute", {I(proposal)});
}
ContractCall PayRecurringSpend(uint64_t proposal) {
  return Make(GovernanceAddress(), "pay", {I(proposal)});
}

bool IsCivicAction(const v1::TxBody& body) {
  switch (body.action_case()) {
    case v1::TxBody::kTransfer:
    case v1::TxBody::kDeploy:
    case v1::TxBody::kCall:
    case v1::TxBody::ACTION_NOT_SET:
      return false;
    default:
      return true;
  }
}

Result<std::optional<ContractCall>> CivicCallOf(const v1::TxBody& body) {
  if (!IsCivicAction(body)) return std::optional<ContractCall>();
  auto call = TypedCall(body);
  if (!call.ok()) return call.status();
  return std::optional<ContractCall>(std::move(*call));
}

}  // namespace civitas::nation
