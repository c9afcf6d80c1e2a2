#pragma once

// What the libFuzzer targets of tests/fuzz share: the chain and council they check against, the
// byte views they compare, and the one way a target reports a broken property (abort, so that
// libFuzzer saves the input). Also used by fuzz_seeds.cc, so seeds are signed by the same
// council key that the targets trust.
//
// Protobuf logs every malformed string field and the fuzzer feeds it millions: the targets that
// parse protobuf silence it in LLVMFuzzerInitialize.

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ledger/bytes.h"
#include "ledger/crypto.h"

namespace civitas::fuzz {

inline constexpr std::string_view kChainId = "fuzz-chain";

inline std::string_view AsView(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// A broken invariant: names it on stderr and aborts (libFuzzer writes the crashing input).
[[noreturn]] inline void Fail(const char* what) {
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
  std::abort();
}
inline void Require(bool ok, const char* what) {
  if (!ok) Fail(what);
}

// A key made from 32 bytes of `fill`: fixed, so seeds written by fuzz_seeds carry signatures
// that the targets' checks accept, and the fuzzer explores past them.
inline crypto::SecretKey FixedKey(uint8_t fill) {
  Hash32 secret{};
  secret.fill(fill);
  auto key = crypto::SecretKey::FromBytes(secret);
  if (!key.ok()) Fail("fixed key");
  return *key;
}
// The one validator of the council that the block and sync targets trust; also the remote
// peer of the P2P seeds.
inline const crypto::SecretKey& CouncilKey() {
  static const crypto::SecretKey key = FixedKey(0x11);
  return key;
}
// The local end of the P2P seeds' session: its key and the TLS exporter binding of the session.
inline const crypto::SecretKey& LocalKey() {
  static const crypto::SecretKey key = FixedKey(0x22);
  return key;
}
inline std::array<uint8_t, 32> SessionBindingBytes() {
  std::array<uint8_t, 32> b{};
  b.fill(0x33);
  return b;
}

}  // namespace civitas::fuzz
