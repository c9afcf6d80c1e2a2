#pragma once

// The byte layout in which proof_fuzz takes a state proof and fuzz_seeds writes real ones (a
// proof has no wire encoding of its own outside the API's protobuf):
//   root[32] key[32] flags u8 (1: has_leaf, 2: value present)
//   [leaf_key[32] leaf_value_hash[32]] [value_hash[32]] sibling[32]*
// Trailing bytes that do not make a whole sibling are refused, so the layout round-trips.

#include <optional>
#include <string>
#include <string_view>

#include "ledger/smt.h"

namespace civitas::fuzz {

struct ProofInput {
  Hash32 root{};
  Hash32 key{};
  std::optional<Hash32> value;
  smt::Proof proof;
};

// More siblings than a 256-bit key has levels would only make the fuzzer slow.
inline constexpr size_t kMaxProofSiblings = 300;

inline std::optional<ProofInput> DecodeProofInput(std::string_view data) {
  auto take = [&data](Hash32& h) {
    if (data.size() < h.size()) return false;
    std::copy(data.begin(), data.begin() + h.size(), h.begin());
    data.remove_prefix(h.size());
    return true;
  };
  ProofInput in;
  if (!take(in.root) || !take(in.key) || data.empty()) return std::nullopt;
  uint8_t flags = static_cast<uint8_t>(data[0]);
  data.remove_prefix(1);
  if (flags > 3) return std::nullopt;
  in.proof.has_leaf = flags & 1;
  if (in.proof.has_leaf && !(take(in.proof.leaf_key) && take(in.proof.leaf_value_hash))) {
    return std::nullopt;
  }
  if (flags & 2) {
    Hash32 v;
    if (!take(v)) return std::nullopt;
    in.value = v;
  }
  if (data.size() % 32 != 0 || data.size() / 32 > kMaxProofSiblings) return std::nullopt;
  Hash32 sibling;
  while (take(sibling)) in.proof.siblings.push_back(sibling);
  return in;
}

inline std::string EncodeProofInput(const ProofInput& in) {
  std::string out;
  auto put = [&out](const Hash32& h) { out.append(h.begin(), h.end()); };
  put(in.root);
  put(in.key);
  out.push_back(static_cast<char>((in.proof.has_leaf ? 1 : 0) | (in.value ? 2 : 0)));
  if (in.proof.has_leaf) {
    put(in.proof.leaf_key);
    put(in.proof.leaf_value_hash);
  }
  if (in.value) put(*in.value);
  for (const auto& s : in.proof.siblings) put(s);
  return out;
}

}  // namespace civitas::fuzz
