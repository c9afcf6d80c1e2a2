#include <gtest/gtest.h>

#include "node/mempool.h"
#include "test_chain.h"

namespace civitas::node {
namespace {

using civitas::testing::MakeTestChain;
using civitas::testing::Transfer;

class MempoolTest : public ::testing::Test {
 protected:
  DecodedTx Tx(size_t user, uint64_t nonce) {
    auto env =
        Transfer(chain_, chain_.users[user], AddressOf(chain_.users[0].public_key()), 1, nonce);
    return *DecodeAndCheckTx(env, chain_.genesis.chain_id, chain_.genesis.params);
  }
  Mempool::NonceReader Committed(uint64_t n) {
    return [n](const Address&) -> Result<uint64_t> { return n; };
  }
  Mempool::AccountReader Account(uint64_t nonce, uint64_t balance = 1'000'000'000) {
    return [=](const Address&) -> Result<AccountState> { return AccountState{balance, nonce}; };
  }
  civitas::testing::TestChain chain_ = MakeTestChain(3);
};

TEST_F(MempoolTest, NoncesMustBeConsecutive) {
  Mempool pool({100, 1 << 20, 10}, chain_.genesis.params);
  EXPECT_EQ(pool.Add(Tx(1, 1), Account(0)).reason(), "nonce_too_high");
  EXPECT_TRUE(pool.Add(Tx(1, 0), Account(0)).ok());
  EXPECT_EQ(pool.Add(Tx(1, 0), Account(0)).reason(), "duplicate_tx");
  EXPECT_TRUE(pool.Add(Tx(1, 1), Account(0)).ok());
  EXPECT_EQ(pool.Add(Tx(2, 0), Account(5)).reason(), "nonce_too_low");
  EXPECT_EQ(pool.size(), 2u);
}

TEST_F(MempoolTest, SelectKeepsArrivalOrderAndLeavesTransactionsUntilTheyCommit) {
  Mempool pool({100, 1 << 20, 10}, chain_.genesis.params);
  ASSERT_TRUE(pool.Add(Tx(1, 0), Account(0)).ok());
  ASSERT_TRUE(pool.Add(Tx(2, 0), Account(0)).ok());
  ASSERT_TRUE(pool.Add(Tx(1, 1), Account(0)).ok());
  auto all = [](const DecodedTx&) { return true; };
  auto selected = pool.Select(2, 1 << 20, all);
  ASSERT_EQ(selected.size(), 2u);
  EXPECT_EQ(selected[0].body.nonce(), 0u);
  EXPECT_EQ(selected[0].sender, AddressOf(chain_.users[1].public_key()));
  EXPECT_EQ(selected[1].sender, AddressOf(chain_.users[2].public_key()));
  // Selecting does not remove: a proposal may never commit.
  EXPECT_EQ(pool.size(), 3u);
  EXPECT_EQ(pool.Select(10, 1 << 20, all).size(), 3u);
  // `accept` filters (the proposer skips what its ancestors already hold).
  auto skip_user1 = [&](const DecodedTx& tx) {
    return tx.sender != AddressOf(chain_.users[1].public_key());
  };
  EXPECT_EQ(pool.Select(10, 1 << 20, skip_user1).size(), 1u);
  // A byte budget stops the selection.
  EXPECT_EQ(pool.Select(10, selected[0].size, all).size(), 1u);
  EXPECT_TRUE(pool.Verified(selected[0].id, selected[0].envelope.signature()));
  EXPECT_FALSE(pool.Verified(selected[0].id, std::string(64, '\0')));
}

TEST_F(MempoolTest, ATransactionVerifiedInABlockIsNotVerifiedAgainOnArrival) {
  Mempool pool({100, 1 << 20, 10}, chain_.genesis.params);
  const DecodedTx tx = Tx(1, 0);
  const auto& id = chain_.genesis.chain_id;
  const auto& params = chain_.genesis.params;
  // Unknown: Check verifies, and notes it (a block carrying it before its gossip frame is
  // admitted need not verify it again).
  uint64_t before = crypto::VerifyCount();
  ASSERT_TRUE(pool.Check(tx.envelope, id, params).ok());
  EXPECT_EQ(crypto::VerifyCount(), before + 1);
  EXPECT_TRUE(pool.Verified(tx.id, tx.envelope.signature()));

  // Noted (as a voted block's transactions are): Check decodes without verifying.
  const DecodedTx other = Tx(2, 0);
  EXPECT_FALSE(pool.Verified(other.id, other.envelope.signature()));
  pool.NoteVerified(other);
  EXPECT_TRUE(pool.Verified(other.id, other.envelope.signature()));
  before = crypto::VerifyCount();
  ASSERT_TRUE(pool.Check(other.envelope, id, params).ok());
  EXPECT_EQ(crypto::VerifyCount(), before);
  auto again = pool.Check(tx.envelope, id, params);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->id, tx.id);
  EXPECT_EQ(crypto::VerifyCount(), before);

  // The same transaction with another signature is not known: it is verified, and refused.
  v1::Transaction forged = tx.envelope;
  forged.mutable_signature()->assign(64, '\x01');
  before = crypto::VerifyCount();
  EXPECT_EQ(pool.Check(forged, id, params).status().reason(), "bad_signature");
  EXPECT_EQ(crypto::VerifyCount(), before + 1);
  // Nothing was added to the pool by checking.
  EXPECT_EQ(pool.size(), 0u);
}

TEST_F(MempoolTest, ACommitRemovesItsTransactionsAndWhatItsNoncesMadeStale) {
  Mempool pool({100, 1 << 20, 10}, chain_.genesis.params);
  ASSERT_TRUE(pool.Add(Tx(1, 0), Account(0)).ok());
  ASSERT_TRUE(pool.Add(Tx(1, 1), Account(0)).ok());
  ASSERT_TRUE(pool.Add(Tx(2, 0), Account(0)).ok());
  // Another leader's block committed user 1's nonce 0 and a different nonce-1 transaction
  // (not in this pool): both of user 1's pending transactions are gone.
  std::vector<DecodedTx> committed{Tx(1, 0)};
  pool.RemoveCommitted(committed, Committed(2));
  EXPECT_EQ(pool.size(), 1u);
  EXPECT_FALSE(pool.Contains(Tx(1, 1).id));
  EXPECT_TRUE(pool.Contains(Tx(2, 0).id));
  // User 1's next nonce follows the committed one.
  EXPECT_EQ(pool.Add(Tx(1, 1), Account(2)).reason(), "nonce_too_low");
  EXPECT_TRUE(pool.Add(Tx(1, 2), Account(2)).ok());
  EXPECT_GT(pool.bytes(), 0u);
}

// Issue 22: 188 transactions of a sender holding 1,000 were admitted, each checked alone.
TEST_F(MempoolTest, PendingMaximumFeesAndAmountsMustBeCoveredByTheCommittedBalance) {
  Mempool pool({100, 1 << 20, 100}, chain_.genesis.params);
  const Address to = AddressOf(chain_.users[0].public_key());
  auto tx = [&](uint64_t nonce, uint64_t amount, uint64_t gas_limit) {
    auto env = Transfer(chain_, chain_.users[1], to, amount, nonce, gas_limit);
    return *DecodeAndCheckTx(env, chain_.genesis.chain_id, chain_.genesis.params);
  };
  const uint64_t gas = 30'000, fee = gas * chain_.genesis.params.gas_price;
  const uint64_t balance = fee + 800;
  // The balance covers one maximum fee, not two.
  ASSERT_TRUE(pool.Add(tx(0, 0, gas), Account(0, balance)).ok());
  Status second = pool.Add(tx(1, 0, gas), Account(0, balance));
  EXPECT_EQ(second.reason(), "insufficient_funds");
  EXPECT_EQ(second.code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(second.message().find("1 pending"), std::string::npos) << second.message();
  // The tokens a transaction sends count too: fee + 800 is covered, fee + 801 is not.
  Mempool amounts({100, 1 << 20, 100}, chain_.genesis.params);
  EXPECT_TRUE(amounts.Add(tx(0, 800, gas), Account(0, balance)).ok());
  Mempool over({100, 1 << 20, 100}, chain_.genesis.params);
  EXPECT_EQ(over.Add(tx(0, 801, gas), Account(0, balance)).reason(), "insufficient_funds");
  // Once the first commits, its debit is released: the next is judged on the new balance.
  pool.RemoveCommitted({tx(0, 0, gas)}, Committed(1));
  EXPECT_TRUE(pool.Add(tx(1, 0, gas), Account(1, fee + 100)).ok());
  EXPECT_EQ(pool.size(), 1u);
}

TEST_F(MempoolTest, CapsAreEnforced) {
  Mempool by_count({2, 1 << 20, 10}, chain_.genesis.params);
  ASSERT_TRUE(by_count.Add(Tx(0, 0), Account(0)).ok());
  EXPECT_TRUE(by_count.CheckRoom(200).ok());
  ASSERT_TRUE(by_count.Add(Tx(1, 0), Account(0)).ok());
  // Admission asks before it verifies a signature.
  EXPECT_EQ(by_count.CheckRoom(200).reason(), "mempool_full");
  EXPECT_EQ(by_count.Add(Tx(2, 0), Account(0)).reason(), "mempool_full");
  Mempool per_sender({100, 1 << 20, 2}, chain_.genesis.params);
  ASSERT_TRUE(per_sender.Add(Tx(0, 0), Account(0)).ok());
  ASSERT_TRUE(per_sender.Add(Tx(0, 1), Account(0)).ok());
  EXPECT_EQ(per_sender.Add(Tx(0, 2), Account(0)).reason(), "mempool_full");
  auto first = Tx(0, 0);
  Mempool by_bytes({100, first.size * 3 / 2, 10}, chain_.genesis.params);
  ASSERT_TRUE(by_bytes.Add(first, Account(0)).ok());
  EXPECT_TRUE(by_bytes.CheckRoom(first.size / 2).ok());
  EXPECT_EQ(by_bytes.CheckRoom(first.size).reason(), "mempool_full");
  EXPECT_EQ(by_bytes.Add(Tx(1, 0), Account(0)).reason(), "mempool_full");
}

}  // namespace
}  // namespace civitas::node
