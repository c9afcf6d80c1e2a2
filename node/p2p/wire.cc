#include "node/p2p/wire.h"

#include <algorithm>

namespace civitas::p2p {
namespace {

Status Malformed(std::string message) { return Status::Invalid("malformed", std::move(message)); }

}  // namespace

Bytes EncodeHello(const Hello& hello) {
  Bytes out;
  out.reserve(2 + 4 + hello.chain_id.size() + hello.key.size());
  out.push_back(static_cast<uint8_t>(MessageType::kHello));
  out.push_back(hello.version);
  PutLengthPrefixed(out, hello.chain_id);
  Append(out, hello.key);
  return out;
}

Bytes EncodeAuth(const Auth& auth) {
  Bytes out;
  out.reserve(1 + auth.signature.size());
  out.push_back(static_cast<uint8_t>(MessageType::kAuth));
  Append(out, auth.signature);
  return out;
}

Bytes EncodePing() { return Bytes{static_cast<uint8_t>(MessageType::kPing)}; }

Result<Message> DecodeMessage(const uint8_t* data, size_t size) {
  if (size == 0) return Malformed("empty message");
  const uint8_t* p = data + 1;
  size_t rest = size - 1;
  switch (static_cast<MessageType>(data[0])) {
    case MessageType::kHello: {
      if (rest < 1 + 4) return Malformed("short hello");
      Hello h;
      h.version = p[0];
      uint32_t len = GetU32(p + 1);
      p += 5;
      rest -= 5;
      if (len > kMaxChainIdBytes) return Malformed("chain id too long");
      if (rest != len + h.key.size()) return Malformed("hello size");
      h.chain_id.assign(reinterpret_cast<const char*>(p), len);
      p += len;
      std::copy(p, p + h.key.size(), h.key.begin());
      return Message(std::move(h));
    }
    case MessageType::kAuth: {
      Auth a;
      if (rest != a.signature.size()) return Malformed("auth size");
      std::copy(p, p + rest, a.signature.begin());
      return Message(a);
    }
    case MessageType::kData: {
      if (rest < 1) return Malformed("data without channel");
      Data d;
      d.channel = p[0];
      d.payload.assign(p + 1, p + rest);
      return Message(std::move(d));
    }
    case MessageType::kPing:
      if (rest != 0) return Malformed("ping with body");
      return Message(Ping{});
  }
  return Malformed("unknown message type " + std::to_string(data[0]));
}

Bytes Frame(const Bytes& payload) {
  Bytes out;
  out.reserve(kFrameHeaderBytes + payload.size());
  PutU32(out, static_cast<uint32_t>(payload.size()));
  Append(out, payload);
  return out;
}

Bytes EncodeDataFrame(uint8_t channel, const Bytes& payload) {
  Bytes out;
  out.reserve(kFrameHeaderBytes + kDataOverheadBytes + payload.size());
  PutU32(out, static_cast<uint32_t>(kDataOverheadBytes + payload.size()));
  out.push_back(static_cast<uint8_t>(MessageType::kData));
  out.push_back(channel);
  Append(out, payload);
  return out;
}

Bytes AuthSigningBytes(std::string_view chain_id, const crypto::PublicKey& signer,
                       const crypto::PublicKey& verifier, const SessionBinding& binding) {
  Bytes out;
  out.reserve(1 + 4 + chain_id.size() + 3 * 32);
  out.push_back(kProtocolVersion);
  PutLengthPrefixed(out, chain_id);
  Append(out, signer);
  Append(out, verifier);
  Append(out, binding);
  return out;
}

crypto::Signature SignAuth(const crypto::SecretKey& signer, std::string_view chain_id,
                           const crypto::PublicKey& verifier, const SessionBinding& binding,
                           const Hash32* aux_rand) {
  Bytes msg = AuthSigningBytes(chain_id, signer.public_key(), verifier, binding);
  return signer.Sign(crypto::TaggedHash(kAuthTag, msg), aux_rand);
}

bool VerifyAuth(const crypto::PublicKey& signer, std::string_view chain_id,
                const crypto::PublicKey& verifier, const SessionBinding& binding,
                const crypto::Signature& signature) {
  Bytes msg = AuthSigningBytes(chain_id, signer, verifier, binding);
  return crypto::VerifyTagged(signer, kAuthTag, AsStringView(msg), signature);
}

}  // namespace civitas::p2p
