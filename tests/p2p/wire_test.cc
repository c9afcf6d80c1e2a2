#include "node/p2p/wire.h"

#include <gtest/gtest.h>

namespace civitas::p2p {
namespace {

crypto::SecretKey KeyFromByte(uint8_t b) {
  Hash32 secret;
  secret.fill(b);
  return crypto::SecretKey::FromBytes(secret).value();
}
SessionBinding Fill(uint8_t b) {
  SessionBinding c;
  c.fill(b);
  return c;
}

// The vector of docs/P2P.md ("Test vector"): A = secret 0x01^32 talks to B = secret 0x02^32 on
// chain "civitas-testnet" in a TLS session whose exporter value is 0xcc^32; aux_rand = 0^32.
// The expected bytes were computed with tests/interop/bip340.py, not with this code.
TEST(WireTest, HandshakeTestVector) {
  crypto::SecretKey a = KeyFromByte(0x01);
  crypto::SecretKey b = KeyFromByte(0x02);
  SessionBinding binding = Fill(0xcc);
  const std::string chain = "civitas-testnet";

  Hello hello{kProtocolVersion, chain, a.public_key()};
  EXPECT_EQ(ToHex(Frame(EncodeHello(hello))),
            "0000003501020000000f636976697461732d746573746e6574"
            "1b84c5567b126440995d3ed5aaba0565d71e1834604819ff9c17f5e9d5dd078f");

  Bytes signing = AuthSigningBytes(chain, a.public_key(), b.public_key(), binding);
  EXPECT_EQ(ToHex(signing),
            "02"
            "0000000f636976697461732d746573746e6574"
            "1b84c5567b126440995d3ed5aaba0565d71e1834604819ff9c17f5e9d5dd078f"
            "4d4b6cd1361032ca9bd2aeb9d900aa4d45d9ead80ac9423374c451a7254d0766"
            "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc");
  EXPECT_EQ(ToHex(crypto::TaggedHash(kAuthTag, signing)),
            "dee609fa05e8e1141170e7d53620996fb16e7f328273262d0a87997c89963ca7");

  Hash32 aux{};
  crypto::Signature sig = SignAuth(a, chain, b.public_key(), binding, &aux);
  EXPECT_EQ(ToHex(sig),
            "42666a21fdf26ef7ab898e5302413c487620b0a94cd12f4fc26445aefa764670"
            "e2883f8441a6827b04bd82e9c0111e6b5559ee70284c02b50abf6a52473dd284");
  EXPECT_EQ(ToHex(Frame(EncodeAuth(Auth{sig}))),
            "00000041"
            "02" +
                ToHex(sig));
  EXPECT_TRUE(VerifyAuth(a.public_key(), chain, b.public_key(), binding, sig));

  EXPECT_EQ(ToHex(EncodeDataFrame(1, Bytes{0xde, 0xad})), "000000040301dead");
}

TEST(WireTest, AuthSignatureFailsInAnyOtherSession) {
  crypto::SecretKey a = KeyFromByte(0x01);
  crypto::SecretKey b = KeyFromByte(0x02);
  SessionBinding binding = Fill(0xaa);
  crypto::Signature sig = SignAuth(a, "chain", b.public_key(), binding);
  ASSERT_TRUE(VerifyAuth(a.public_key(), "chain", b.public_key(), binding, sig));
  // Replayed or relayed into another TLS session.
  EXPECT_FALSE(VerifyAuth(a.public_key(), "chain", b.public_key(), Fill(0xbb), sig));
  // Reflected: the keys in the other order.
  EXPECT_FALSE(VerifyAuth(b.public_key(), "chain", a.public_key(), binding, sig));
  // Another chain, or another verifier.
  EXPECT_FALSE(VerifyAuth(a.public_key(), "chain2", b.public_key(), binding, sig));
  EXPECT_FALSE(VerifyAuth(a.public_key(), "chain", KeyFromByte(0x03).public_key(), binding, sig));
}

TEST(WireTest, RoundTripsEveryMessage) {
  Hello hello{kProtocolVersion, "c", KeyFromByte(0x05).public_key()};
  auto h = DecodeMessage(EncodeHello(hello));
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(std::get<Hello>(*h).chain_id, "c");
  EXPECT_EQ(std::get<Hello>(*h).key, hello.key);

  Bytes frame = EncodeDataFrame(2, Bytes{1, 2, 3});
  auto d = DecodeMessage(frame.data() + kFrameHeaderBytes, frame.size() - kFrameHeaderBytes);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(std::get<Data>(*d).channel, 2);
  EXPECT_EQ(std::get<Data>(*d).payload, (Bytes{1, 2, 3}));

  auto p = DecodeMessage(EncodePing());
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(std::holds_alternative<Ping>(*p));
}

TEST(WireTest, RefusesMalformedMessages) {
  Hello hello{kProtocolVersion, "chain", KeyFromByte(0x05).public_key()};
  Bytes good = EncodeHello(hello);
  std::vector<Bytes> bad = {
      Bytes{},                              // empty
      Bytes{0x09},                          // unknown type
      Bytes(good.begin(), good.end() - 1),  // short hello
      [&] {
        Bytes b = good;
        b.push_back(0);
        return b;
      }(),                // long hello
      Bytes{0x02, 0x00},  // short auth
      Bytes{0x03},        // data without channel
      Bytes{0x04, 0x00},  // ping with a body
  };
  Hello long_chain = hello;
  long_chain.chain_id.assign(kMaxChainIdBytes + 1, 'x');
  bad.push_back(EncodeHello(long_chain));
  for (const Bytes& b : bad) {
    auto m = DecodeMessage(b);
    EXPECT_FALSE(m.ok()) << ToHex(b);
    if (!m.ok()) {
      EXPECT_EQ(m.status().reason(), "malformed");
    }
  }
}

}  // namespace
}  // namespace civitas::p2p
