#include "genesis/civic.h"

#include <vector>

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

}  // namespace

const Address& DidRegistryAddress() {
  static const Address a = SystemAddress("did_registry");
  return a;
}
const Address& CitizenshipAddress() {
  static const Address a = SystemAddress("citizenship");
  return a;
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
ContractCall RotateDidKey(std::string_view new_fragment, const crypto::PublicKey& new_key) {
  return Make(DidRegistryAddress(), "rotate_key", {B(new_fragment), B(new_key)});
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
ContractCall ProposeCouncilChange(const Address& member, bool add, uint64_t deposit) {
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
ContractCall ExecuteProposal(uint64_t proposal) {
  return Make(GovernanceAddress(), "execute", {I(proposal)});
}
ContractCall PayRecurringSpend(uint64_t proposal) {
  return Make(GovernanceAddress(), "pay", {I(proposal)});
}

}  // namespace civitas::nation
