#include "ledger/vm_host.h"

#include "ledger/crypto.h"

namespace civitas {

Result<bool> MoveTokens(StateOverlay& s, const Address& from, const Address& to, uint64_t amount) {
  auto src = s.GetAccount(from);
  if (!src.ok()) return src.status();
  if (src->balance < amount) return false;
  if (from == to || amount == 0) return true;
  auto dst = s.GetAccount(to);
  if (!dst.ok()) return dst.status();
  if (dst->balance > UINT64_MAX - amount) return false;
  src->balance -= amount;
  dst->balance += amount;
  s.SetAccount(from, *src);
  s.SetAccount(to, *dst);
  return true;
}

Result<std::shared_ptr<const vm::Module>> LoadContract(CallContext& ctx, const Address& contract) {
  auto hash_bytes = ctx.state.Get(CodeHashKey(contract));
  if (!hash_bytes.ok()) return hash_bytes.status();
  if (!hash_bytes->has_value()) return Status::NotFound("no contract at " + ToHex(contract));
  auto hash = FixedFromBytes<32>(**hash_bytes);
  if (!hash) return Status::Corruption("code hash record is not 32 bytes");
  auto cached = ctx.modules.find(*hash);
  if (cached != ctx.modules.end()) return cached->second;
  auto code = ctx.state.Get(CodeKey(*hash));
  if (!code.ok()) return code.status();
  if (!code->has_value()) return Status::Corruption("code of " + ToHex(contract) + " is missing");
  const std::string& c = **code;
  auto module = vm::Validate(vm::ByteView(reinterpret_cast<const uint8_t*>(c.data()), c.size()));
  if (!module.ok()) return Status::Corruption("stored code does not validate: " + module.message());
  auto shared = std::make_shared<const vm::Module>(std::move(*module));
  ctx.modules.emplace(*hash, shared);
  return shared;
}

std::string LedgerHost::Key(vm::ByteView key) const {
  return StorageKey(self_, std::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
}

std::optional<vm::Bytes> LedgerHost::StorageGet(vm::ByteView key) {
  auto v = ctx_.state.Get(Key(key));
  if (!v.ok()) {
    Record(v.status());
    return std::nullopt;
  }
  if (!v->has_value()) return std::nullopt;
  return vm::Bytes((*v)->begin(), (*v)->end());
}

void LedgerHost::StorageSet(vm::ByteView key, vm::ByteView value) {
  ctx_.state.Set(Key(key), std::string(reinterpret_cast<const char*>(value.data()), value.size()));
}

void LedgerHost::StorageDelete(vm::ByteView key) { ctx_.state.Delete(Key(key)); }

void LedgerHost::EmitEvent(vm::ByteView topic, vm::ByteView data) {
  v1::Event e;
  e.set_contract(std::string(AsStringView(self_)));
  e.set_topic(std::string(reinterpret_cast<const char*>(topic.data()), topic.size()));
  e.set_data(std::string(reinterpret_cast<const char*>(data.data()), data.size()));
  ctx_.events.push_back(std::move(e));
}

uint64_t LedgerHost::Balance(const vm::Address& a) {
  auto acct = ctx_.state.GetAccount(a);
  if (!acct.ok()) {
    Record(acct.status());
    return 0;
  }
  return acct->balance;
}

bool LedgerHost::Transfer(const vm::Address& to, uint64_t amount) {
  auto moved = MoveTokens(ctx_.state, self_, to, amount);
  if (!moved.ok()) {
    Record(moved.status());
    return false;
  }
  if (*moved && amount > 0) {
    Bytes data;
    Append(data, self_);
    Append(data, to);
    PutU64(data, amount);
    vm::Bytes topic{'t', 'r', 'a', 'n', 's', 'f', 'e', 'r'};
    EmitEvent(topic, data);
  }
  return *moved;
}

vm::Hash32 LedgerHost::Sha256(vm::ByteView data) {
  return crypto::Sha256(std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
}

bool LedgerHost::VerifyBip340(const vm::Hash32& pk, vm::ByteView msg,
                              const std::array<uint8_t, 64>& sig) {
  return crypto::Verify(pk, std::string_view(reinterpret_cast<const char*>(msg.data()), msg.size()),
                        sig);
}

bool LedgerHost::IsValidPublicKey(const vm::Hash32& pubkey) {
  return crypto::IsValidPublicKey(pubkey);
}

vm::CallResult LedgerHost::Call(const vm::Address& to, std::string_view function,
                                const std::vector<vm::Value>& args, uint64_t gas, uint32_t depth) {
  vm::CallResult out;
  out.status = vm::ExecStatus::kBadCall;
  auto module = LoadContract(ctx_, to);
  if (!module.ok()) {
    if (module.status().code() != Status::Code::kNotFound) Record(module.status());
    return out;
  }
  LedgerHost callee(ctx_, to, self_);
  vm::ExecResult r = vm::Execute(**module, function, args, gas, callee, depth);
  Record(callee.storage_error());
  out.status = r.status;
  out.gas_used = r.gas_used;
  out.returns = std::move(r.returns);
  return out;
}

bool LedgerHost::ReplaceCode(const vm::Address& target, const vm::Address& source) {
  static const Address kGovernance = SystemAddress("governance");
  if (self_ != kGovernance) return false;
  auto target_hash = ctx_.state.Get(CodeHashKey(target));
  auto source_hash = ctx_.state.Get(CodeHashKey(source));
  if (!target_hash.ok() || !source_hash.ok()) {
    Record(!target_hash.ok() ? target_hash.status() : source_hash.status());
    return false;
  }
  if (!target_hash->has_value() || !source_hash->has_value()) return false;
  ctx_.state.Set(CodeHashKey(target), **source_hash);
  return true;
}

uint64_t LedgerHost::Snapshot() {
  marks_.emplace_back(ctx_.state.Snapshot(), ctx_.events.size());
  return marks_.size() - 1;
}

void LedgerHost::RevertTo(uint64_t mark) {
  if (mark >= marks_.size()) return;
  auto [state_mark, events] = marks_[mark];
  ctx_.state.RevertTo(state_mark);
  ctx_.events.resize(events);
  marks_.resize(mark);
}

}  // namespace civitas
