// Checks the C++ encoders against tests/data/protocol_vectors.json, which
// tests/vectors/protocol_vectors.py computes from docs/PROTOCOL.md independently.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "ledger/block.h"
#include "ledger/did.h"
#include "ledger/genesis.h"
#include "ledger/smt.h"
#include "ledger/state.h"
#include "ledger/tx.h"

namespace civitas {
namespace {

nlohmann::json Vectors() {
  std::ifstream in(std::string(CIVITAS_TEST_DATA) + "/protocol_vectors.json");
  return nlohmann::json::parse(in);
}

Bytes Hex(const nlohmann::json& v) { return *FromHex(v.get<std::string>()); }
std::string HexStr(const nlohmann::json& v) { return std::string(AsStringView(Hex(v))); }

TEST(ProtocolVectors, Transaction) {
  auto j = Vectors();
  auto pk = *FixedFromHex<32>(j["public_key"].get<std::string>());
  v1::TxBody body;
  const auto& f = j["tx_body_fields"];
  body.set_chain_id(f["chain_id"].get<std::string>());
  body.set_nonce(f["nonce"]);
  body.set_gas_limit(f["gas_limit"]);
  body.mutable_transfer()->set_to(HexStr(f["transfer_to"]));
  body.mutable_transfer()->set_amount(f["transfer_amount"]);
  std::string bytes = body.SerializeAsString();
  EXPECT_EQ(ToHex(ToBytes(bytes)), j["tx_body"]);
  EXPECT_EQ(ToHex(TxSigningHash(bytes)), j["tx_signing_hash"]);
  EXPECT_EQ(ToHex(TxId(pk, bytes)), j["tx_id"]);
  EXPECT_EQ(ToHex(AddressOf(pk)), j["address"]);
  EXPECT_EQ(DeriveDid(pk), j["did"]);
  EXPECT_EQ(ToHex(ContractAddress(AddressOf(pk), 5)), j["contract_address_nonce_5"]);
  EXPECT_EQ(ToHex(TreasuryAddress()), j["treasury_address"]);
}

TEST(ProtocolVectors, BlockHeaderAndVote) {
  auto j = Vectors();
  const auto& f = j["header_fields"];
  v1::BlockHeader h;
  h.set_chain_id(f["chain_id"].get<std::string>());
  h.set_height(f["height"]);
  h.set_parent_id(HexStr(f["parent_id"]));
  h.set_tx_root(HexStr(f["tx_root"]));
  h.set_state_height(f["state_height"]);
  h.set_state_root(HexStr(f["state_root"]));
  h.set_proposer(HexStr(f["proposer"]));
  h.set_time_ms(f["time_ms"]);
  h.set_tx_count(f["tx_count"]);
  h.set_epoch(f["epoch"]);
  h.set_round(f["round"]);
  auto bytes = HeaderBytes(h);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(ToHex(*bytes), j["header_bytes"]);
  auto id = BlockId(h);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(ToHex(*id), j["block_id"]);
  EXPECT_EQ(ToHex(VoteBytes(h.chain_id(), 0, 2, *id)), j["vote_bytes"]);

  std::vector<Hash32> leaves;
  for (const auto& l : j["merkle_leaves"])
    leaves.push_back(*FixedFromHex<32>(l.get<std::string>()));
  EXPECT_EQ(ToHex(MerkleRoot(leaves)), j["merkle_root"]);
  EXPECT_EQ(ToHex(MerkleRoot({})), j["merkle_root_empty"]);
}

TEST(ProtocolVectors, StateLayoutAndRoot) {
  auto j = Vectors();
  auto pk = *FixedFromHex<32>(j["public_key"].get<std::string>());
  Address a = AddressOf(pk);
  EXPECT_EQ(ToHex(ToBytes(AccountKey(a))), j["account_key"]);
  EXPECT_EQ(ToHex(ToBytes(EncodeAccount({123456, 7}))), j["account_value"]);
  Address b;
  for (int i = 0; i < 20; ++i) b[i] = static_cast<uint8_t>(i);
  StateWrites w;
  w[AccountKey(a)] = EncodeAccount({123456, 7});
  w[AccountKey(b)] = EncodeAccount({1000, 0});
  smt::MemoryNodeStore store;
  smt::Tree tree(store);
  smt::NodeBatch nodes;
  auto root = ApplyWrites(tree, smt::kEmptyRoot, w, &nodes);
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(ToHex(*root), j["state_root_two_accounts"]);
}

}  // namespace
}  // namespace civitas

namespace civitas {
namespace {

TEST(Genesis, ExampleFileLoads) {
  auto g = LoadGenesisFile(std::string(CIVITAS_TEST_DATA) + "/../../genesis/example.json");
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->validators.size(), 4u);
  EXPECT_EQ(g->validator_set().quorum(), 3u);
  EXPECT_EQ(g->accounts.size(), 2u);
}

TEST(Genesis, HashCoversContentNotFormatting) {
  auto a = ParseGenesis(R"({"chain_id":"c","validators":[{"name":"v","public_key":
    "f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9"}],"accounts":[]})");
  auto b = ParseGenesis(R"({ "accounts": [], "chain_id": "c",
    "validators": [ { "public_key": "f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9",
    "name": "v" } ] })");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->hash, b->hash);
  auto c = ParseGenesis(R"({"chain_id":"d","validators":[{"name":"v","public_key":
    "f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9"}],"accounts":[]})");
  ASSERT_TRUE(c.ok());
  EXPECT_NE(a->hash, c->hash);
}

TEST(Genesis, RefusesBadDocuments) {
  const char* pk = "f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9";
  auto reason = [](const std::string& text) { return ParseGenesis(text).status().reason(); };
  EXPECT_EQ(reason("not json"), "bad_genesis");
  EXPECT_EQ(reason(R"({"chain_id":"c","validators":[],"accounts":[]})"), "bad_genesis");
  EXPECT_EQ(reason(std::string(R"({"chain_id":"bad id!","validators":[{"public_key":")") + pk +
                   R"("}],"accounts":[]})"),
            "bad_genesis");
  EXPECT_EQ(reason(std::string(R"({"chain_id":"c","validators":[{"public_key":")") + pk +
                   R"("},{"public_key":")" + pk + R"("}],"accounts":[]})"),
            "bad_genesis");
  EXPECT_EQ(reason(std::string(R"({"chain_id":"c","validators":[{"public_key":")") + pk +
                   R"("}],"accounts":[{"address":"00","balance":1}]})"),
            "bad_genesis");
  EXPECT_EQ(
      reason(
          std::string(R"({"chain_id":"c","validators":[{"public_key":")") + pk +
          R"("}],"accounts":[{"address":"0000000000000000000000000000000000000001","balance":18446744073709551615},)"
          R"({"address":"0000000000000000000000000000000000000002","balance":1}]})"),
      "bad_genesis");
}

}  // namespace
}  // namespace civitas
