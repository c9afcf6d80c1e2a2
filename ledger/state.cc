#include "ledger/state.h"

namespace civitas {

Result<std::optional<std::string>> RecordingReader::Get(std::string_view key) const {
  if (seen_.emplace(key).second) keys_.emplace_back(key);
  return base_.Get(key);
}

namespace {
std::string Prefixed(KeySpace space, std::string_view rest) {
  std::string k(1, static_cast<char>(space));
  k.append(rest);
  return k;
}
}  // namespace

std::string AccountKey(const Address& a) { return Prefixed(KeySpace::kAccount, AsStringView(a)); }
std::string CodeHashKey(const Address& a) { return Prefixed(KeySpace::kCodeHash, AsStringView(a)); }
std::string CodeKey(const Hash32& h) { return Prefixed(KeySpace::kCode, AsStringView(h)); }
std::string StorageKey(const Address& contract, std::string_view key) {
  std::string k = Prefixed(KeySpace::kStorage, AsStringView(contract));
  k.append(key);
  return k;
}

std::string EncodeAccount(const AccountState& a) {
  std::string b(16, '\0');
  auto* p = reinterpret_cast<uint8_t*>(b.data());
  SetU64(p, a.balance);
  SetU64(p + 8, a.nonce);
  return b;
}

Result<AccountState> DecodeAccount(std::string_view bytes) {
  if (bytes.size() != 16) return Status::Corruption("account record is not 16 bytes");
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  return AccountState{GetU64(p), GetU64(p + 8)};
}

Result<std::optional<std::string>> StateOverlay::Get(std::string_view key) const {
  auto it = writes_.find(key);
  if (it != writes_.end()) return it->second;
  return base_.Get(key);
}

void StateOverlay::Write(std::string_view key, std::optional<std::string> value) {
  auto it = writes_.find(key);
  if (it == writes_.end()) {
    journal_.emplace_back(std::string(key), std::nullopt);
    writes_.emplace(std::string(key), std::move(value));
  } else {
    journal_.emplace_back(std::string(key), it->second);
    it->second = std::move(value);
  }
}

void StateOverlay::Set(std::string_view key, std::string value) { Write(key, std::move(value)); }
void StateOverlay::Delete(std::string_view key) { Write(key, std::nullopt); }

void StateOverlay::RevertTo(size_t mark) {
  while (journal_.size() > mark) {
    auto& [key, previous] = journal_.back();
    if (previous) {
      writes_[key] = std::move(*previous);
    } else {
      writes_.erase(key);
    }
    journal_.pop_back();
  }
}

Result<AccountState> StateOverlay::GetAccount(const Address& a) const {
  auto v = Get(AccountKey(a));
  if (!v.ok()) return v.status();
  if (!v->has_value()) return AccountState{};
  return DecodeAccount(**v);
}

void StateOverlay::SetAccount(const Address& a, const AccountState& s) {
  Set(AccountKey(a), EncodeAccount(s));
}

Result<Hash32> ApplyWrites(const smt::Tree& tree, const Hash32& root, const StateWrites& writes,
                           smt::NodeBatch* new_nodes, std::vector<Hash32>* removed) {
  std::vector<smt::Update> updates;
  updates.reserve(writes.size());
  for (const auto& [key, value] : writes) {
    smt::Update u{TreeKey(key), std::nullopt};
    if (value) u.value_hash = crypto::Sha256(*value);
    updates.push_back(u);
  }
  return tree.Apply(root, std::move(updates), new_nodes, removed);
}

}  // namespace civitas
