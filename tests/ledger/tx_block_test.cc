#include <gtest/gtest.h>

#include "ledger/block.h"
#include "ledger/tx.h"
#include "test_chain.h"

namespace civitas {
namespace {

using testing::MakeTestChain;
using testing::Transfer;

TEST(Tx, ValidTransferDecodes) {
  auto c = MakeTestChain();
  Address to = AddressOf(c.users[1].public_key());
  auto env = Transfer(c, c.users[0], to, 10, 0);
  auto tx = DecodeAndCheckTx(env, c.genesis.chain_id, c.genesis.params);
  ASSERT_TRUE(tx.ok()) << tx.status().ToString();
  EXPECT_EQ(tx->sender, AddressOf(c.users[0].public_key()));
  EXPECT_EQ(tx->id, TxId(c.users[0].public_key(), env.body()));
  // The serialized form decodes the same.
  auto again = DecodeAndCheckTx(env.SerializeAsString(), c.genesis.chain_id, c.genesis.params);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->id, tx->id);
}

TEST(Tx, RefusalsCarryReasons) {
  auto c = MakeTestChain();
  Address to = AddressOf(c.users[1].public_key());
  const auto& p = c.genesis.params;
  auto reason = [&](const v1::Transaction& env) {
    return DecodeAndCheckTx(env, c.genesis.chain_id, p).status().reason();
  };
  EXPECT_EQ(reason(Transfer(c, c.users[0], to, 10, 0, 100'000, "other-chain")), "wrong_chain_id");
  EXPECT_EQ(reason(Transfer(c, c.users[0], to, 10, 0, 10)), "gas_limit");
  EXPECT_EQ(reason(Transfer(c, c.users[0], to, 10, 0, p.max_tx_gas + 1)), "gas_limit");

  auto env = Transfer(c, c.users[0], to, 10, 0);
  auto bad_sig = env;
  bad_sig.mutable_signature()->at(10) ^= 1;
  EXPECT_EQ(reason(bad_sig), "bad_signature");
  auto swapped_key = env;  // someone else's key: the signature no longer matches
  swapped_key.set_public_key(std::string(AsStringView(c.users[1].public_key())));
  EXPECT_EQ(reason(swapped_key), "bad_signature");
  auto short_key = env;
  short_key.set_public_key("abc");
  EXPECT_EQ(reason(short_key), "malformed_tx");
  auto garbage_body = env;
  garbage_body.set_body("\xff\xff\xff");
  EXPECT_EQ(reason(garbage_body), "malformed_tx");
  auto tampered = env;  // body changed after signing
  v1::TxBody body;
  ASSERT_TRUE(body.ParseFromString(env.body()));
  body.mutable_transfer()->set_amount(11);
  tampered.set_body(body.SerializeAsString());
  EXPECT_EQ(reason(tampered), "bad_signature");
  auto huge = env;
  huge.set_body(std::string(kMaxTxBytes + 1, 'x'));
  EXPECT_EQ(reason(huge), "tx_too_large");
  EXPECT_EQ(DecodeAndCheckTx(std::string("\x0a\xff"), c.genesis.chain_id, p).status().reason(),
            "malformed_tx");
}

TEST(QuorumCert, QuorumAndSignersChecked) {
  std::vector<crypto::SecretKey> keys;
  std::vector<crypto::PublicKey> pks;
  for (int i = 0; i < 4; ++i) {
    keys.push_back(crypto::SecretKey::Generate());
    pks.push_back(keys.back().public_key());
  }
  ValidatorSet set(pks);
  EXPECT_EQ(set.max_faulty(), 1u);
  EXPECT_EQ(set.quorum(), 3u);
  v1::QuorumCert qc;
  qc.set_round(5);
  qc.set_block_id(std::string(32, 'b'));
  AddVote(qc, "c", keys[0]);
  AddVote(qc, "c", keys[1]);
  EXPECT_FALSE(VerifyQuorumCert(qc, "c", set).ok());  // 2 of 3
  AddVote(qc, "c", keys[1]);
  EXPECT_FALSE(VerifyQuorumCert(qc, "c", set).ok());  // duplicate signer
  qc.mutable_signers()->RemoveLast();
  AddVote(qc, "c", keys[2]);
  EXPECT_TRUE(VerifyQuorumCert(qc, "c", set).ok());
  EXPECT_FALSE(VerifyQuorumCert(qc, "other-chain", set).ok());
  auto wrong_round = qc;
  wrong_round.set_round(6);
  EXPECT_FALSE(VerifyQuorumCert(wrong_round, "c", set).ok());
  auto outsider = qc;
  outsider.mutable_signers()->RemoveLast();
  AddVote(outsider, "c", crypto::SecretKey::Generate());
  EXPECT_EQ(VerifyQuorumCert(outsider, "c", set).reason(), "bad_qc");
}

TEST(MerkleRoot, ChangesWithOrderAndContent) {
  std::vector<Hash32> a{crypto::Sha256("1"), crypto::Sha256("2"), crypto::Sha256("3")};
  auto b = a;
  std::swap(b[0], b[1]);
  EXPECT_NE(MerkleRoot(a), MerkleRoot(b));
  auto c = a;
  c.pop_back();
  EXPECT_NE(MerkleRoot(a), MerkleRoot(c));
}

}  // namespace
}  // namespace civitas
