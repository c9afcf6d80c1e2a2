#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "certify.h"
#include "ledger/chain.h"
#include "test_chain.h"

namespace civitas {
namespace {

using testing::MakeTestChain;
using testing::Transfer;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TestDir("store");
    chain_ = MakeTestChain(3, 1'000'000);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Store> Open(Store::Mode mode = Store::Mode::kReadWrite) {
    auto s = Store::Open(dir_.string(), chain_.genesis, mode);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }

  testing::Certificate Certify(const PreparedBlock& p) {
    return testing::Certify(p, chain_.genesis.chain_id, chain_.validators);
  }
  Status Commit(Store& store, const PreparedBlock& p, const testing::Certificate& c) {
    return CommitPrepared(store, chain_.genesis, p, c.qc, c.consensus_header);
  }

  // Builds and commits one block of `n` transfers from user 0.
  PreparedBlock CommitTransfers(Store& store, int n, uint64_t& nonce) {
    std::vector<DecodedTx> txs;
    for (int i = 0; i < n; ++i) {
      auto env =
          Transfer(chain_, chain_.users[0], AddressOf(chain_.users[1].public_key()), 5, nonce++);
      txs.push_back(*DecodeAndCheckTx(env, chain_.genesis.chain_id, chain_.genesis.params));
    }
    auto p = BuildBlock(store, chain_.genesis, chain_.validators[0].public_key(), 1000, txs);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    Status s = Commit(store, *p, Certify(*p));
    EXPECT_TRUE(s.ok()) << s.ToString();
    return *p;
  }

  std::filesystem::path dir_;
  testing::TestChain chain_;
};

TEST_F(StoreTest, CommitIndexesAndReopens) {
  uint64_t nonce = 0;
  PreparedBlock last;
  {
    auto store = Open();
    ASSERT_TRUE(store);
    EXPECT_EQ(store->height(), 0u);
    for (int b = 0; b < 5; ++b) last = CommitTransfers(*store, 3, nonce);
    EXPECT_EQ(store->height(), 5u);
  }
  auto store = Open();
  ASSERT_TRUE(store);
  EXPECT_EQ(store->height(), 5u);
  EXPECT_EQ(*store->StateRoot(5), last.new_root);
  EXPECT_EQ(*store->GetBlockHeight(last.id), 5u);
  auto loc = store->GetTxLocation(last.tx_ids[2]);
  ASSERT_TRUE(loc.ok());
  EXPECT_EQ(loc->height, 5u);
  EXPECT_EQ(loc->index, 2u);
  auto receipt = store->GetReceipt(*loc, last.tx_ids[2]);
  ASSERT_TRUE(receipt.ok());
  EXPECT_EQ(receipt->status(), v1::TX_STATUS_SUCCESS);
  // Stored without them, given back as the executor made it.
  EXPECT_EQ(receipt->tx_id(), std::string(AsStringView(last.tx_ids[2])));
  EXPECT_EQ(receipt->height(), 5u);
  EXPECT_EQ(receipt->index(), 2u);
  EXPECT_EQ(receipt->SerializeAsString(), last.exec.receipts[2].SerializeAsString());
  auto block = store->GetBlock(5);
  ASSERT_TRUE(block.ok());
  EXPECT_EQ(block->block().header().state_height(), 4u);
  EXPECT_EQ(block->block().header().state_root(), std::string(AsStringView(*store->StateRoot(4))));
  // Balance of user 0 after 15 transfers of 5, with a proof at the latest height.
  Address a = AddressOf(chain_.users[0].public_key());
  auto proven = store->GetProven(AccountKey(a), 5);
  ASSERT_TRUE(proven.ok());
  ASSERT_TRUE(proven->value.has_value());
  EXPECT_EQ(DecodeAccount(*proven->value)->nonce, 15u);
  EXPECT_TRUE(smt::VerifyProof(proven->root, TreeKey(AccountKey(a)), crypto::Sha256(*proven->value),
                               proven->proof)
                  .ok());
  // And at height 1 the account had nonce 3.
  auto old = store->GetProven(AccountKey(a), 1);
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(DecodeAccount(*old->value)->nonce, 3u);
}

// The tip a new block is checked against is kept in memory; reopening reads it back from the
// tip block.
TEST_F(StoreTest, TipFollowsCommitsAndSurvivesReopening) {
  uint64_t nonce = 0;
  PreparedBlock last;
  // The tip after `last`, committed at height 2 on top of height 1.
  auto expect_tip_at_last = [&](const StoreTip& tip) {
    EXPECT_EQ(tip.height, 2u);
    EXPECT_EQ(tip.id, last.id);
    EXPECT_EQ(tip.time_ms, last.block.header().time_ms());
    EXPECT_EQ(tip.state_height, 1u);
    EXPECT_EQ(tip.state_root, last.new_root);
  };
  {
    auto store = Open();
    ASSERT_TRUE(store);
    StoreTip genesis_tip = store->tip();
    EXPECT_EQ(genesis_tip.height, 0u);
    EXPECT_EQ(genesis_tip.id, Hash32{});
    EXPECT_EQ(genesis_tip.time_ms, chain_.genesis.genesis_time_ms);
    EXPECT_EQ(genesis_tip.state_root, *store->StateRoot(0));
    CommitTransfers(*store, 1, nonce);
    last = CommitTransfers(*store, 2, nonce);
    expect_tip_at_last(store->tip());
  }
  auto store = Open();
  ASSERT_TRUE(store);
  expect_tip_at_last(store->tip());
  // The next block builds on it.
  CommitTransfers(*store, 1, nonce);
  EXPECT_EQ(store->GetBlock(3)->block().header().parent_id(), std::string(AsStringView(last.id)));
}

// An execution-only store (replay's scratch) executes and proves state like any other, keeps
// no blocks, receipts or transaction index, and is never reopened.
TEST_F(StoreTest, ExecutionOnlyStoreKeepsStateWithoutBlocks) {
  uint64_t nonce = 0;
  PreparedBlock last;
  {
    auto store = Store::Open(dir_.string(), chain_.genesis, Store::Mode::kReadWrite,
                             StoreOptions{.execution_only = true});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    for (int b = 0; b < 3; ++b) last = CommitTransfers(**store, 2, nonce);
    EXPECT_EQ((*store)->height(), 3u);
    EXPECT_EQ((*store)->tip().id, last.id);
    EXPECT_EQ(*(*store)->StateRoot(3), last.new_root);
    Address a = AddressOf(chain_.users[0].public_key());
    auto proven = (*store)->GetProven(AccountKey(a), 3);
    ASSERT_TRUE(proven.ok()) << proven.status().ToString();
    EXPECT_EQ(DecodeAccount(*proven->value)->nonce, 6u);
    EXPECT_EQ((*store)->GetBlock(3).status().code(), Status::Code::kNotFound);
    EXPECT_EQ((*store)->GetTxLocation(last.tx_ids[0]).status().code(), Status::Code::kNotFound);
    EXPECT_EQ((*store)->GetBlockHeight(last.id).status().code(), Status::Code::kNotFound);
  }
  auto again = Store::Open(dir_.string(), chain_.genesis, Store::Mode::kReadWrite,
                           StoreOptions{.execution_only = true});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().reason(), "not_empty");
}

// A deferred commit is readable at once and costs no fsync of its own; the next synced write
// (a consensus record) or SyncWal covers it.
TEST_F(StoreTest, DeferredCommitsShareTheNextSyncedWrite) {
  uint64_t nonce = 0;
  {
    auto store = Open();
    ASSERT_TRUE(store);
    const uint64_t start = store->synced_writes();
    CommitTransfers(*store, 1, nonce);
    EXPECT_EQ(store->synced_writes(), start + 1);  // a plain commit syncs

    auto build = [&] {
      auto env =
          Transfer(chain_, chain_.users[0], AddressOf(chain_.users[1].public_key()), 5, nonce++);
      std::vector<DecodedTx> txs{
          *DecodeAndCheckTx(env, chain_.genesis.chain_id, chain_.genesis.params)};
      return *BuildBlock(*store, chain_.genesis, chain_.validators[0].public_key(), 1000, txs);
    };
    PreparedBlock p2 = build();
    auto c2 = Certify(p2);
    ASSERT_TRUE(CommitPrepared(*store, chain_.genesis, p2, c2.qc, c2.consensus_header,
                               Durability::kDeferred)
                    .ok());
    EXPECT_EQ(store->synced_writes(), start + 1);
    EXPECT_EQ(store->height(), 2u);
    EXPECT_EQ(store->GetTxLocation(p2.tx_ids[0])->height, 2u);
    ASSERT_TRUE(store->WriteConsensus({{"safety", "x"}}).ok());
    EXPECT_EQ(store->synced_writes(), start + 2);

    PreparedBlock p3 = build();
    auto c3 = Certify(p3);
    ASSERT_TRUE(CommitPrepared(*store, chain_.genesis, p3, c3.qc, c3.consensus_header,
                               Durability::kDeferred)
                    .ok());
    ASSERT_TRUE(store->SyncWal().ok());
    EXPECT_EQ(store->synced_writes(), start + 3);
  }
  auto store = Open();
  ASSERT_TRUE(store);
  EXPECT_EQ(store->height(), 3u);
}

// The block gas limit is a consensus rule (docs/PROTOCOL.md, "Block gas limit"): a block whose
// transactions ask for more gas in all than the chain's max_block_gas is refused by block
// checks (sync, replay, commit) before anything runs, and a block exactly at the limit passes.
TEST_F(StoreTest, ABlockOverTheGasLimitIsRefusedAndAFullBlockIsAccepted) {
  chain_.genesis.params.max_tx_gas = 200'000;
  chain_.genesis.params.max_block_gas = 600'000;
  auto parsed = ParseGenesis(GenesisToJson(chain_.genesis));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  chain_.genesis = *parsed;
  ASSERT_EQ(chain_.genesis.params.max_block_gas, 600'000u);
  auto store = Open();
  ASSERT_TRUE(store);
  const Address to = AddressOf(chain_.users[2].public_key());
  auto txs = [&](uint64_t first_nonce, std::vector<uint64_t> limits) {
    std::vector<DecodedTx> out;
    for (uint64_t i = 0; i < limits.size(); ++i) {
      auto tx =
          DecodeAndCheckTx(Transfer(chain_, chain_.users[0], to, 1, first_nonce + i, limits[i]),
                           chain_.genesis.chain_id, chain_.genesis.params);
      EXPECT_TRUE(tx.ok()) << tx.status().ToString();
      out.push_back(*tx);
    }
    return out;
  };
  const crypto::PublicKey proposer = chain_.validators[0].public_key();

  // 600,001 gas: refused by PrepareBlock (what sync and replay run) with the reason, and
  // BuildBlock will not make it either; nothing is written.
  auto over = txs(0, {200'000, 200'000, 100'000, 100'001});
  ASSERT_EQ(BlockGas(over), 600'001u);
  v1::Block block = AssembleBlock(chain_.genesis, NextOnTip(*store), proposer, 1000, over);
  auto refused = PrepareBlock(*store, chain_.genesis, block);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().reason(), "block_gas_exceeded");
  EXPECT_NE(refused.status().message().find("600001"), std::string::npos)
      << refused.status().message();
  EXPECT_EQ(BuildBlock(*store, chain_.genesis, proposer, 1000, over).status().reason(),
            "block_gas_exceeded");
  EXPECT_EQ(store->height(), 0u);

  // Exactly 600,000: accepted, executed and committed.
  auto full = txs(0, {200'000, 200'000, 200'000});
  v1::Block ok_block = AssembleBlock(chain_.genesis, NextOnTip(*store), proposer, 1000, full);
  auto prepared = PrepareBlock(*store, chain_.genesis, ok_block);
  ASSERT_TRUE(prepared.ok()) << prepared.status().ToString();
  ASSERT_TRUE(Commit(*store, *prepared, Certify(*prepared)).ok());
  EXPECT_EQ(store->height(), 1u);
  for (const auto& r : prepared->exec.receipts) EXPECT_EQ(r.status(), v1::TX_STATUS_SUCCESS);
}

// The bounds of the parameter: at least max_tx_gas (else the largest transaction fits no
// block), at most 2^40; left out of the file, the documented default.
TEST(GenesisParams, MaxBlockGasHasADefaultAndBounds) {
  auto chain = MakeTestChain(1);
  Genesis g = chain.genesis;
  std::string json = GenesisToJson(g, -1);
  const std::string field = "\"max_block_gas\":" + std::to_string(kDefaultMaxBlockGas) + ",";
  ASSERT_NE(json.find(field), std::string::npos) << json;
  json.erase(json.find(field), field.size());
  auto parsed = ParseGenesis(json);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->params.max_block_gas, kDefaultMaxBlockGas);
  EXPECT_EQ(parsed->hash, g.hash);  // the default is written into the canonical JSON
  g.params.max_block_gas = g.params.max_tx_gas - 1;
  EXPECT_EQ(ParseGenesis(GenesisToJson(g)).status().reason(), "bad_genesis");
  g.params.max_block_gas = kMaxBlockGasBound + 1;
  EXPECT_EQ(ParseGenesis(GenesisToJson(g)).status().reason(), "bad_genesis");
  g.params.max_block_gas = g.params.max_tx_gas;
  EXPECT_TRUE(ParseGenesis(GenesisToJson(g)).ok());
}

// The heartbeat (docs/CONSENSUS.md, "Idle council"): left out of the file, the documented
// default, which the canonical JSON leaves out too (genesis hashes from before the parameter
// stay); any other value is written; bounds [10 ms, 1 h].
TEST(GenesisParams, HeartbeatHasADefaultThatIsNotWrittenAndBounds) {
  auto chain = MakeTestChain(1);
  Genesis g = chain.genesis;
  ASSERT_EQ(g.params.heartbeat_ms, testing::kTestHeartbeatMs);
  EXPECT_NE(GenesisToJson(g, -1).find("\"heartbeat_ms\":20"), std::string::npos);
  g.params.heartbeat_ms = kDefaultHeartbeatMs;
  const std::string json = GenesisToJson(g);
  EXPECT_EQ(json.find("heartbeat_ms"), std::string::npos) << json;
  auto parsed = ParseGenesis(json);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->params.heartbeat_ms, 60'000u);
  std::string with_default = json;
  const std::string anchor = "\"max_block_gas\":";
  with_default.insert(with_default.find(anchor), "\"heartbeat_ms\":60000,");
  auto explicit_default = ParseGenesis(with_default);
  ASSERT_TRUE(explicit_default.ok()) << explicit_default.status().ToString();
  EXPECT_EQ(explicit_default->hash, parsed->hash);
  // The documented example (docs/PROTOCOL.md, "Heartbeat"): default params but a 2 s heartbeat.
  Genesis two = g;
  two.params = ChainParams{};
  two.params.heartbeat_ms = 2000;
  EXPECT_NE(GenesisToJson(two, -1).find(
                "\"params\":{\"deploy_byte_gas\":20,\"gas_price\":1,\"heartbeat_ms\":2000,"
                "\"max_block_gas\":25000000,\"max_tx_gas\":10000000,\"tx_base_gas\":25000,"
                "\"tx_byte_gas\":2}"),
            std::string::npos)
      << GenesisToJson(two, -1);
  for (uint64_t bad : {uint64_t{0}, uint64_t{9}, uint64_t{3'600'001}}) {
    g.params.heartbeat_ms = bad;
    EXPECT_EQ(ParseGenesis(GenesisToJson(g)).status().reason(), "bad_genesis") << bad;
  }
  for (uint64_t good : {uint64_t{10}, uint64_t{3'600'000}}) {
    g.params.heartbeat_ms = good;
    auto ok = ParseGenesis(GenesisToJson(g));
    ASSERT_TRUE(ok.ok()) << good;
    EXPECT_EQ(ok->params.heartbeat_ms, good);
  }
}

TEST_F(StoreTest, InvalidBlocksAreNeverWritten) {
  auto store = Open();
  ASSERT_TRUE(store);
  uint64_t nonce = 0;
  auto good = CommitTransfers(*store, 2, nonce);
  Hash32 root_before = *store->StateRoot(1);

  auto next = [&](auto mutate) {
    std::vector<DecodedTx> txs{*DecodeAndCheckTx(
        Transfer(chain_, chain_.users[0], AddressOf(chain_.users[1].public_key()), 5, nonce),
        chain_.genesis.chain_id, chain_.genesis.params)};
    auto p = BuildBlock(*store, chain_.genesis, chain_.validators[0].public_key(), 1000, txs);
    EXPECT_TRUE(p.ok());
    v1::Block b = p->block;
    mutate(b);
    return PrepareBlock(*store, chain_.genesis, b);
  };
  EXPECT_EQ(next([](v1::Block& b) { b.mutable_header()->set_height(5); }).status().reason(),
            "bad_block");
  EXPECT_EQ(next([](v1::Block& b) { b.mutable_header()->set_parent_id(std::string(32, 'x')); })
                .status()
                .reason(),
            "bad_block");
  EXPECT_EQ(next([](v1::Block& b) { b.mutable_header()->set_state_root(std::string(32, 'x')); })
                .status()
                .reason(),
            "bad_block");
  EXPECT_EQ(next([](v1::Block& b) { b.mutable_header()->set_tx_root(std::string(32, 'x')); })
                .status()
                .reason(),
            "bad_block");
  EXPECT_EQ(next([](v1::Block& b) { b.mutable_header()->set_proposer(std::string(32, 'x')); })
                .status()
                .reason(),
            "bad_block");
  EXPECT_EQ(next([](v1::Block& b) { b.mutable_txs(0)->mutable_signature()->at(0) ^= 1; })
                .status()
                .reason(),
            "bad_signature");
  EXPECT_EQ(next([&](v1::Block& b) {
              *b.mutable_txs(0) = Transfer(chain_, chain_.users[0],
                                           AddressOf(chain_.users[1].public_key()), 5, nonce + 1);
              std::vector<Hash32> ids{TxId(chain_.users[0].public_key(), b.txs(0).body())};
              b.mutable_header()->set_tx_root(std::string(AsStringView(MerkleRoot(ids))));
            })
                .status()
                .reason(),
            "bad_nonce");
  // A maximum fee the sender cannot cover when it runs (docs/PROTOCOL.md, "Fees"): the check
  // block sync, commits and replay make through PrepareBlock.
  EXPECT_EQ(next([&](v1::Block& b) {
              *b.mutable_txs(0) =
                  Transfer(chain_, chain_.users[0], AddressOf(chain_.users[1].public_key()), 5,
                           nonce, chain_.genesis.params.max_tx_gas);
              std::vector<Hash32> ids{TxId(chain_.users[0].public_key(), b.txs(0).body())};
              b.mutable_header()->set_tx_root(std::string(AsStringView(MerkleRoot(ids))));
            })
                .status()
                .reason(),
            "insufficient_funds_for_fee");

  // A valid block with a certificate that lacks a quorum is refused too.
  auto p = next([](v1::Block&) {});
  ASSERT_TRUE(p.ok());
  auto bad_sig = Certify(*p);
  bad_sig.qc.mutable_signers(0)->mutable_signature()->at(3) ^= 1;
  EXPECT_EQ(Commit(*store, *p, bad_sig).reason(), "bad_qc");
  // A valid certificate of a consensus block that carries another payload is refused.
  PreparedBlock other = *p;
  other.block.mutable_header()->set_time_ms(p->block.header().time_ms() + 1);
  auto foreign = Certify(other);
  EXPECT_EQ(Commit(*store, *p, foreign).reason(), "bad_qc");
  // And so is a header of another height under a valid certificate.
  auto wrong_height = Certify(*p);
  wrong_height.consensus_header[23] ^= 1;
  EXPECT_EQ(Commit(*store, *p, wrong_height).reason(), "bad_qc");
  EXPECT_EQ(store->height(), 1u);
  EXPECT_EQ(*store->StateRoot(1), root_before);
  EXPECT_TRUE(Commit(*store, *p, Certify(*p)).ok());
  EXPECT_EQ(store->height(), 2u);
  (void)good;
}

TEST_F(StoreTest, ForeignGenesisIsRefused) {
  { ASSERT_TRUE(Open()); }
  auto other = MakeTestChain(1);
  auto s = Store::Open(dir_.string(), other.genesis);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().reason(), "foreign_data_dir");
}

TEST_F(StoreTest, NonLedgerDirectoryIsRefused) {
  std::filesystem::create_directories(dir_);
  std::ofstream(dir_ / "notes.txt") << "my files";
  auto s = Store::Open(dir_.string(), chain_.genesis);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().reason(), "foreign_data_dir");
  EXPECT_TRUE(std::filesystem::exists(dir_ / "notes.txt"));
}

TEST_F(StoreTest, CorruptFilesAreRefusedNotReset) {
  uint64_t nonce = 0;
  {
    auto store = Open();
    ASSERT_TRUE(store);
    for (int b = 0; b < 3; ++b) CommitTransfers(*store, 2, nonce);
  }
  // Damage every table and log file in the middle.
  int damaged = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_)) {
    auto name = e.path().filename().string();
    if (name.find("MANIFEST") == 0 || name.ends_with(".log") || name.ends_with(".sst")) {
      std::fstream f(e.path(), std::ios::in | std::ios::out | std::ios::binary);
      auto size = std::filesystem::file_size(e.path());
      if (size < 64) continue;
      f.seekp(static_cast<std::streamoff>(size / 2));
      std::string junk(16, '\x5a');
      f.write(junk.data(), 16);
      ++damaged;
    }
  }
  ASSERT_GT(damaged, 0);
  auto s = Store::Open(dir_.string(), chain_.genesis);
  ASSERT_FALSE(s.ok()) << "a damaged ledger opened";
  EXPECT_TRUE(s.status().code() == Status::Code::kCorruption ||
              s.status().code() == Status::Code::kIOError)
      << s.status().ToString();
}

TEST_F(StoreTest, ReadOnlyOpenSeesCommittedBlocks) {
  uint64_t nonce = 0;
  auto store = Open();
  ASSERT_TRUE(store);
  CommitTransfers(*store, 1, nonce);
  auto ro = Store::Open(dir_.string(), chain_.genesis, Store::Mode::kReadOnly);
  ASSERT_TRUE(ro.ok()) << ro.status().ToString();
  EXPECT_EQ((*ro)->height(), 1u);
}

}  // namespace
}  // namespace civitas
