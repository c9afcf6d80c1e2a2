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
  civitas::testing::TestChain chain_ = MakeTestChain(3);
};

TEST_F(MempoolTest, NoncesMustBeConsecutive) {
  Mempool pool({100, 1 << 20, 10});
  EXPECT_EQ(pool.Add(Tx(1, 1), Committed(0)).reason(), "nonce_too_high");
  EXPECT_TRUE(pool.Add(Tx(1, 0), Committed(0)).ok());
  EXPECT_EQ(pool.Add(Tx(1, 0), Committed(0)).reason(), "duplicate_tx");
  EXPECT_TRUE(pool.Add(Tx(1, 1), Committed(0)).ok());
  EXPECT_EQ(pool.Add(Tx(2, 0), Committed(5)).reason(), "nonce_too_low");
  EXPECT_EQ(pool.size(), 2u);
}

TEST_F(MempoolTest, TakeKeepsArrivalOrderAndInFlightNonces) {
  Mempool pool({100, 1 << 20, 10});
  ASSERT_TRUE(pool.Add(Tx(1, 0), Committed(0)).ok());
  ASSERT_TRUE(pool.Add(Tx(2, 0), Committed(0)).ok());
  ASSERT_TRUE(pool.Add(Tx(1, 1), Committed(0)).ok());
  auto taken = pool.Take(2);
  ASSERT_EQ(taken.size(), 2u);
  EXPECT_EQ(taken[0].body.nonce(), 0u);
  EXPECT_EQ(taken[0].sender, AddressOf(chain_.users[1].public_key()));
  EXPECT_EQ(taken[1].sender, AddressOf(chain_.users[2].public_key()));
  // User 2's nonce 0 is in flight (taken, not yet committed): the next is 1, not 0.
  EXPECT_EQ(pool.Add(Tx(2, 0), Committed(0)).reason(), "nonce_too_low");
  EXPECT_TRUE(pool.Add(Tx(2, 1), Committed(0)).ok());
  pool.Committed({{AddressOf(chain_.users[2].public_key()), 1}});
  EXPECT_EQ(pool.size(), 2u);
}

TEST_F(MempoolTest, CapsAreEnforced) {
  Mempool by_count({2, 1 << 20, 10});
  ASSERT_TRUE(by_count.Add(Tx(0, 0), Committed(0)).ok());
  ASSERT_TRUE(by_count.Add(Tx(1, 0), Committed(0)).ok());
  EXPECT_EQ(by_count.Add(Tx(2, 0), Committed(0)).reason(), "mempool_full");
  Mempool per_sender({100, 1 << 20, 2});
  ASSERT_TRUE(per_sender.Add(Tx(0, 0), Committed(0)).ok());
  ASSERT_TRUE(per_sender.Add(Tx(0, 1), Committed(0)).ok());
  EXPECT_EQ(per_sender.Add(Tx(0, 2), Committed(0)).reason(), "mempool_full");
  auto first = Tx(0, 0);
  Mempool by_bytes({100, first.size * 3 / 2, 10});
  ASSERT_TRUE(by_bytes.Add(first, Committed(0)).ok());
  EXPECT_EQ(by_bytes.Add(Tx(1, 0), Committed(0)).reason(), "mempool_full");
}

}  // namespace
}  // namespace civitas::node
