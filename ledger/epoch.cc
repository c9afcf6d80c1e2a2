#include "ledger/epoch.h"

#include "ledger/civic_calls.h"

namespace civitas {
namespace {

Status Damaged(const std::string& what) { return Status::Corruption(what + " is damaged"); }

void PutKeys(Bytes& out, const std::vector<crypto::PublicKey>& keys) {
  PutU32(out, static_cast<uint32_t>(keys.size()));
  for (const auto& k : keys) Append(out, k);
}

// Reads count u32 | count x key(32) at `p`, which must end exactly at `end`.
std::optional<std::vector<crypto::PublicKey>> GetKeys(const uint8_t* p, const uint8_t* end) {
  if (end - p < 4) return std::nullopt;
  const uint32_t n = GetU32(p);
  p += 4;
  if (n > kMaxValidators || static_cast<size_t>(end - p) != size_t{n} * 32) return std::nullopt;
  std::vector<crypto::PublicKey> keys(n);
  for (auto& k : keys) {
    std::copy(p, p + 32, k.begin());
    p += 32;
  }
  return keys;
}

const uint8_t* U8(std::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }

Result<std::optional<std::string>> Stored(const StateReader& state, std::string_view key) {
  return state.Get(StorageKey(nation::CitizenshipAddress(), key));
}

std::string N(uint64_t v) {
  Bytes b;
  PutU64(b, v);
  return std::string(AsStringView(b));
}

}  // namespace

std::string ValidatorsKey() { return std::string(1, static_cast<char>(KeySpace::kValidators)); }

std::string EncodeValidators(const ValidatorsRecord& r) {
  Bytes out;
  PutU64(out, r.changed_at);
  PutKeys(out, r.keys);
  return std::string(AsStringView(out));
}

Result<ValidatorsRecord> DecodeValidators(std::string_view bytes) {
  if (bytes.size() < 8) return Damaged("the validators record");
  ValidatorsRecord r;
  r.changed_at = GetU64(U8(bytes));
  auto keys = GetKeys(U8(bytes) + 8, U8(bytes) + bytes.size());
  if (!keys) return Damaged("the validators record");
  r.keys = std::move(*keys);
  return r;
}

Result<std::vector<crypto::PublicKey>> ReadCouncilKeys(const StateReader& state) {
  auto n = Stored(state, "council/n");
  if (!n.ok()) return n.status();
  if (!n->has_value() || (*n)->size() != 8) return Damaged("the council size");
  const uint64_t count = GetU64(U8(**n));
  std::vector<crypto::PublicKey> keys;
  for (uint64_t i = 0; i < count; ++i) {
    auto member = Stored(state, "council/" + N(i));
    if (!member.ok()) return member.status();
    if (!member->has_value()) return Damaged("council entry " + std::to_string(i));
    auto key = Stored(state, "key/" + **member);
    if (!key.ok()) return key.status();
    if (!key->has_value()) continue;  // a member without a validator
    auto k = FixedFromBytes<32>(**key);
    if (!k) return Damaged("a council member's validator key");
    keys.push_back(*k);
  }
  return keys;
}

std::string EncodeEpoch(const Epoch& e) {
  Bytes out;
  PutU64(out, e.start_height);
  PutKeys(out, e.validators.keys());
  return std::string(AsStringView(out));
}

Result<Epoch> DecodeEpoch(uint64_t number, std::string_view bytes) {
  if (bytes.size() < 8) return Damaged("epoch record " + std::to_string(number));
  Epoch e;
  e.number = number;
  e.start_height = GetU64(U8(bytes));
  auto keys = GetKeys(U8(bytes) + 8, U8(bytes) + bytes.size());
  if (!keys || keys->empty()) return Damaged("epoch record " + std::to_string(number));
  e.validators = ValidatorSet(std::move(*keys));
  return e;
}

std::optional<Epoch> NextEpoch(const Epoch& current, uint64_t height, uint64_t state_height,
                               const std::optional<ValidatorsRecord>& certified) {
  if (!certified || certified->changed_at > state_height || certified->keys.empty() ||
      certified->keys.size() > kMaxValidators || certified->keys == current.validators.keys()) {
    return std::nullopt;
  }
  return Epoch{current.number + 1, height + 1, ValidatorSet(certified->keys)};
}

}  // namespace civitas
