#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace civitas {

using Bytes = std::vector<uint8_t>;
using Hash32 = std::array<uint8_t, 32>;

// Hash for unordered containers keyed by hashes or keys that are already uniformly random
// (SHA-256 outputs, x coordinates): their first 8 bytes.
struct UniformKeyHash {
  template <size_t N>
  size_t operator()(const std::array<uint8_t, N>& a) const {
    static_assert(N >= sizeof(size_t));
    size_t v;
    std::memcpy(&v, a.data(), sizeof(v));
    return v;
  }
};

std::string ToHex(const uint8_t* data, size_t size);
inline std::string ToHex(const Bytes& b) { return ToHex(b.data(), b.size()); }
template <size_t N>
std::string ToHex(const std::array<uint8_t, N>& a) {
  return ToHex(a.data(), a.size());
}
// Accepts lowercase or uppercase hex of even length; nullopt otherwise.
std::optional<Bytes> FromHex(std::string_view hex);
template <size_t N>
std::optional<std::array<uint8_t, N>> FixedFromHex(std::string_view hex) {
  auto b = FromHex(hex);
  if (!b || b->size() != N) return std::nullopt;
  std::array<uint8_t, N> out;
  std::copy(b->begin(), b->end(), out.begin());
  return out;
}
template <size_t N>
std::optional<std::array<uint8_t, N>> FixedFromBytes(std::string_view b) {
  if (b.size() != N) return std::nullopt;
  std::array<uint8_t, N> out;
  std::copy(b.begin(), b.end(), out.begin());
  return out;
}

inline std::string_view AsStringView(const Bytes& b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
template <size_t N>
std::string_view AsStringView(const std::array<uint8_t, N>& a) {
  return {reinterpret_cast<const char*>(a.data()), N};
}
inline Bytes ToBytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

// Big-endian fixed-width integers, used by every canonical encoding.
void PutU32(Bytes& out, uint32_t v);
void PutU64(Bytes& out, uint64_t v);
uint32_t GetU32(const uint8_t* p);
uint64_t GetU64(const uint8_t* p);
void SetU64(uint8_t* p, uint64_t v);  // writes p[0..8), GetU64's inverse
inline void Append(Bytes& out, std::string_view s) { out.insert(out.end(), s.begin(), s.end()); }
inline void Append(Bytes& out, const Bytes& b) { out.insert(out.end(), b.begin(), b.end()); }
template <size_t N>
void Append(Bytes& out, const std::array<uint8_t, N>& a) {
  out.insert(out.end(), a.begin(), a.end());
}
// u32 length, then the bytes.
inline void PutLengthPrefixed(Bytes& out, std::string_view s) {
  PutU32(out, static_cast<uint32_t>(s.size()));
  Append(out, s);
}

}  // namespace civitas
