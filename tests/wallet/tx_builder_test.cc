// Offline signing: the bodies the wallet builds, envelopes byte-identical to SignTx's, and the
// envelope text that travels from `civitas sign` to `civitas broadcast`.
#include "tools/wallet/tx_builder.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "ledger/params.h"
#include "ledger/tx.h"
#include "test_keys.h"

namespace civitas::wallet {
namespace {

using testing::KeyThree;

std::string Recipient() {
  Bytes to;
  for (uint8_t i = 0; i < 20; ++i) to.push_back(i);
  return ToHex(to);
}

TxRequest TransferRequest() {
  TxRequest r;
  r.kind = TxRequest::Kind::kTransfer;
  r.chain_id = "civitas-test";
  r.nonce = 7;
  r.gas_limit = 5000;
  r.to = Recipient();
  r.amount = 1000;
  return r;
}

// docs/PROTOCOL.md, "Test vectors": the body bytes, signing hash and tx id.
TEST(TxBuilder, TransferBodyMatchesProtocolVector) {
  auto body = BuildTxBody(TransferRequest());
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  const std::string bytes = body->SerializeAsString();
  EXPECT_EQ(ToHex(ToBytes(bytes)),
            "0a0c636976697461732d74657374100718882752190a14000102030405060708090a0b0c0d0e0f10111213"
            "10e807");
  EXPECT_EQ(ToHex(TxSigningHash(bytes)),
            "b7098ece88a8d162d518d27eb8d6a8cae997e998150a1badf6a8d2c9024832c5");
  auto tx = SignOffline(KeyThree(), *body);
  auto info = CheckEnvelope(tx);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(ToHex(info->tx_id), "a90e884180233ce5790afc8bc104fa29dce95d4ee0c5650b9dbd29b703d47dba");
  EXPECT_EQ(ToHex(info->sender), "1eb9fec63c1ae2c75f4115a47eeceff3132225be");
}

TEST(TxBuilder, OfflineEnvelopeIsWhatSignTxProduces) {
  auto key = KeyThree();
  // The vector's gas limit (5,000) is below the intrinsic gas at the genesis defaults; the
  // node's checks below need one it accepts.
  TxRequest request = TransferRequest();
  request.gas_limit = 30'000;
  auto body = BuildTxBody(request);
  ASSERT_TRUE(body.ok());
  v1::Transaction online = SignTx(key, *body);
  v1::Transaction offline = SignOffline(key, *body);
  EXPECT_EQ(offline.body(), online.body());
  EXPECT_EQ(offline.public_key(), online.public_key());
  // BIP-340 signing draws fresh auxiliary randomness, so two signatures differ; with the same
  // auxiliary bytes, the whole envelope is byte-identical.
  Hash32 aux{};
  aux[0] = 42;
  v1::Transaction fixed = SignOffline(key, *body, &aux);
  v1::Transaction expected = online;
  crypto::Signature sig = key.Sign(TxSigningHash(online.body()), &aux);
  expected.set_signature(std::string(AsStringView(sig)));
  EXPECT_EQ(fixed.SerializeAsString(), expected.SerializeAsString());
  EXPECT_EQ(SignOffline(key, *body, &aux).SerializeAsString(), fixed.SerializeAsString());
  // And the node's own checks accept it.
  ChainParams params;
  for (const auto* tx : {&online, &offline, &fixed}) {
    auto decoded = DecodeAndCheckTx(*tx, "civitas-test", params);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(decoded->id, TxId(key.public_key(), online.body()));
  }
}

TEST(TxBuilder, DeployAndCallBodies) {
  TxRequest d;
  d.kind = TxRequest::Kind::kDeploy;
  d.chain_id = "c";
  d.code = std::string("\x01\x02\x03", 3);
  auto deploy = BuildTxBody(d);
  ASSERT_TRUE(deploy.ok());
  EXPECT_EQ(deploy->deploy().code(), d.code);
  d.code.clear();
  EXPECT_EQ(BuildTxBody(d).status().reason(), "bad_request");

  TxRequest c;
  c.kind = TxRequest::Kind::kCall;
  c.chain_id = "c";
  c.to = Recipient();
  c.function = "vote";
  c.args = {"42", "-7", "0xbeef", "yes"};
  c.amount = 3;
  auto call = BuildTxBody(c);
  ASSERT_TRUE(call.ok());
  EXPECT_EQ(call->call().function(), "vote");
  EXPECT_EQ(call->call().amount(), 3u);
  std::vector<vm::Value> expected = {vm::Value::Int(42), vm::Value::Int(-7),
                                     vm::Value::FromBytes(vm::Bytes{0xbe, 0xef}),
                                     vm::Value::FromString("yes")};
  vm::Bytes args = vm::EncodeValues(expected);
  EXPECT_EQ(call->call().args(), std::string(args.begin(), args.end()));
  c.to = "nothex";
  EXPECT_EQ(BuildTxBody(c).status().reason(), "bad_address");
  TxRequest t = TransferRequest();
  t.chain_id.clear();
  EXPECT_EQ(BuildTxBody(t).status().reason(), "bad_request");
}

TEST(TxBuilder, EnvelopeTextRoundTrip) {
  auto body = BuildTxBody(TransferRequest());
  ASSERT_TRUE(body.ok());
  v1::Transaction tx = SignOffline(KeyThree(), *body);
  const std::string hex = EnvelopeToHex(tx);
  for (const std::string& text :
       {hex, "  " + hex + "\n", nlohmann::json{{"envelope", hex}, {"tx_id", "x"}}.dump()}) {
    auto back = ParseEnvelope(text);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(back->SerializeAsString(), tx.SerializeAsString());
  }
  for (const char* bad : {"", "zz", "{}", "{\"envelope\": 5}", "ff"}) {
    auto r = ParseEnvelope(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().reason(), "malformed_tx");
    }
  }
}

TEST(TxBuilder, AlteredEnvelopesAreRefused) {
  auto body = BuildTxBody(TransferRequest());
  ASSERT_TRUE(body.ok());
  v1::Transaction tx = SignOffline(KeyThree(), *body);
  {
    v1::TxBody changed = *body;
    changed.mutable_transfer()->set_amount(1000000);
    v1::Transaction t = tx;
    t.set_body(changed.SerializeAsString());
    EXPECT_EQ(CheckEnvelope(t).status().reason(), "bad_signature");
  }
  {
    v1::Transaction t = tx;
    std::string sig = t.signature();
    sig[5] ^= 1;
    t.set_signature(sig);
    EXPECT_EQ(CheckEnvelope(t).status().reason(), "bad_signature");
  }
  {
    v1::Transaction t = tx;
    t.set_public_key(std::string(31, '\x01'));
    EXPECT_EQ(CheckEnvelope(t).status().reason(), "bad_public_key");
  }
  {
    v1::Transaction t = tx;
    t.set_body("\xff\xff");
    EXPECT_EQ(CheckEnvelope(t).status().reason(), "malformed_tx");
  }
}

}  // namespace
}  // namespace civitas::wallet
