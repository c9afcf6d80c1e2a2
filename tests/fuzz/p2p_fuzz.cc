// libFuzzer target: the byte stream a peer sends over a P2P link (node/p2p/wire.h, protocol
// version 2), read as the transport reads it: frames (u32 length, capped at
// kMaxHandshakeFrameBytes until the peer has authenticated), a HELLO, an AUTH that must sign
// the session's TLS exporter binding, then DATA and PING. Never crash; every envelope that
// decodes encodes back to the same bytes; an AUTH that verifies for one session binding fails
// for any other (no relay between sessions).
#include "node/p2p/wire.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

namespace p2p = civitas::p2p;
using civitas::fuzz::Require;

// This node's side of the session: the verifier key and the binding both ends would export.
const civitas::crypto::PublicKey& VerifierKey() {
  static const civitas::crypto::PublicKey key = civitas::fuzz::LocalKey().public_key();
  return key;
}
p2p::SessionBinding Binding() { return civitas::fuzz::SessionBindingBytes(); }

// Application frames are capped by the transport; the fuzzer's inputs are far smaller anyway.
constexpr size_t kMaxFrameBytes = 8 << 20;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::optional<p2p::Hello> hello;
  bool authenticated = false;
  while (size >= p2p::kFrameHeaderBytes) {
    size_t len = p2p::FrameLength(data);
    size_t cap = authenticated ? kMaxFrameBytes : p2p::kMaxHandshakeFrameBytes;
    if (len == 0 || len > cap || len > size - p2p::kFrameHeaderBytes) return 0;
    civitas::Bytes payload(data + p2p::kFrameHeaderBytes, data + p2p::kFrameHeaderBytes + len);
    data += p2p::kFrameHeaderBytes + len;
    size -= p2p::kFrameHeaderBytes + len;
    Require(p2p::Frame(payload).size() == p2p::kFrameHeaderBytes + len, "frame size");

    auto msg = p2p::DecodeMessage(payload);
    if (!msg.ok()) return 0;
    civitas::Bytes again;
    if (const auto* h = std::get_if<p2p::Hello>(&*msg)) {
      again = p2p::EncodeHello(*h);
    } else if (const auto* a = std::get_if<p2p::Auth>(&*msg)) {
      again = p2p::EncodeAuth(*a);
    } else if (const auto* d = std::get_if<p2p::Data>(&*msg)) {
      civitas::Bytes frame = p2p::EncodeDataFrame(d->channel, d->payload);
      Require(frame == p2p::Frame(payload), "data frame re-encoding");
      again = payload;
    } else {
      again = p2p::EncodePing();
    }
    Require(again == payload, "envelope re-encoding");

    // The handshake: HELLO, then AUTH; anything else closes the link.
    if (!hello) {
      const auto* h = std::get_if<p2p::Hello>(&*msg);
      if (h == nullptr || h->version != p2p::kProtocolVersion) return 0;
      hello = *h;
    } else if (!authenticated) {
      const auto* a = std::get_if<p2p::Auth>(&*msg);
      if (a == nullptr) return 0;
      if (!p2p::VerifyAuth(hello->key, hello->chain_id, VerifierKey(), Binding(), a->signature)) {
        return 0;
      }
      p2p::SessionBinding other = Binding();
      other[0] ^= 1;
      Require(!p2p::VerifyAuth(hello->key, hello->chain_id, VerifierKey(), other, a->signature),
              "auth signature valid for another session");
      authenticated = true;
    }
  }
  return 0;
}
