#pragma once

// The transport's wire format, specified in docs/P2P.md: frames, the transport envelope and the
// authenticated handshake. Pure functions, no I/O; the Asio code in transport.cc and the tests'
// raw clients both use them. Every byte below travels inside a TLS 1.3 session.
//
// Frame:     u32 big-endian length L (1 <= L <= cap) || L payload bytes
// Envelope:  the first payload byte is a MessageType:
//   HELLO  01 || u8 version || lp(chain_id) || public_key[32]
//   AUTH   02 || signature[64]
//   DATA   03 || u8 channel || application bytes (opaque to the transport)
//   PING   04                                    (keepalive, no body)
// (`lp(x)` is u32(len(x)) || x.)

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "ledger/bytes.h"
#include "ledger/crypto.h"
#include "ledger/status.h"

namespace civitas::p2p {

inline constexpr uint8_t kProtocolVersion = 2;
// BIP-340 tag of the handshake signature.
inline constexpr std::string_view kAuthTag = "civitas/p2p/v2";
// RFC 8446 section 7.5 exporter label; the context is empty and the output 32 bytes.
inline constexpr std::string_view kExporterLabel = "EXPORTER-civitas-p2p";
inline constexpr size_t kFrameHeaderBytes = 4;
// Cap on frames before the peer has proven its key; a HELLO with a 64-byte chain id is 102 bytes.
inline constexpr size_t kMaxHandshakeFrameBytes = 256;
inline constexpr size_t kMaxChainIdBytes = 64;
// Bytes the envelope adds to an application payload in a DATA frame (type and channel).
inline constexpr size_t kDataOverheadBytes = 2;

// The TLS exporter value of one session: both ends compute the same 32 bytes, and no other
// session has them, so a signature over it cannot be relayed into another connection.
using SessionBinding = std::array<uint8_t, 32>;

enum class MessageType : uint8_t { kHello = 1, kAuth = 2, kData = 3, kPing = 4 };

struct Hello {
  uint8_t version = kProtocolVersion;
  std::string chain_id;
  crypto::PublicKey key{};
};
struct Auth {
  crypto::Signature signature{};
};
struct Data {
  uint8_t channel = 0;
  Bytes payload;
};
struct Ping {};
using Message = std::variant<Hello, Auth, Data, Ping>;

// Envelope payloads (no frame header).
Bytes EncodeHello(const Hello& hello);
Bytes EncodeAuth(const Auth& auth);
Bytes EncodePing();
// Decodes one envelope payload. Refuses (reason "malformed") an empty payload, an unknown type,
// a short or long body, or a chain id over kMaxChainIdBytes.
Result<Message> DecodeMessage(const uint8_t* data, size_t size);
inline Result<Message> DecodeMessage(const Bytes& b) { return DecodeMessage(b.data(), b.size()); }

// The frame header followed by `payload`.
Bytes Frame(const Bytes& payload);
// The whole frame of a DATA message, built with a single allocation.
Bytes EncodeDataFrame(uint8_t channel, const Bytes& payload);
// The payload length announced by a 4-byte frame header.
inline uint32_t FrameLength(const uint8_t* header) { return GetU32(header); }

// The bytes a node signs to prove its key to one peer in one TLS session:
//   u8 version || lp(chain_id) || signer_key || verifier_key || binding
// `binding` is the session's TLS exporter value, so a signature from another session fails
// (replay, relay, man in the middle); the signer's key comes first, so a signature sent back to
// its author fails (reflection); the chain id keeps networks apart.
Bytes AuthSigningBytes(std::string_view chain_id, const crypto::PublicKey& signer,
                       const crypto::PublicKey& verifier, const SessionBinding& binding);
// BIP-340 signature with tag kAuthTag over AuthSigningBytes. `aux_rand` as in SecretKey::Sign
// (null: fresh randomness; tests pass a fixed value to reproduce the vector of docs/P2P.md).
crypto::Signature SignAuth(const crypto::SecretKey& signer, std::string_view chain_id,
                           const crypto::PublicKey& verifier, const SessionBinding& binding,
                           const Hash32* aux_rand = nullptr);
bool VerifyAuth(const crypto::PublicKey& signer, std::string_view chain_id,
                const crypto::PublicKey& verifier, const SessionBinding& binding,
                const crypto::Signature& signature);

}  // namespace civitas::p2p
