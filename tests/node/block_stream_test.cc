// StreamBlocks' messages of one block (node/block_stream.h): each within the byte budget that
// keeps it under a default gRPC client's 4 MiB limit, every receipt exactly once, in order.
#include "node/block_stream.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "certify.h"
#include "ledger/chain.h"
#include "test_chain.h"

namespace civitas::node {
namespace {

using civitas::testing::MakeTestChain;
using civitas::testing::Transfer;

TEST(BlockStream, MessagesStayWithinTheBudgetAndCarryEveryReceiptOnceInOrder) {
  auto chain = MakeTestChain(2, 1'000'000'000);
  const std::string dir = civitas::testing::TestDir("block_stream");
  {
    auto store = Store::Open(dir + "/data", chain.genesis);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    std::vector<DecodedTx> txs;
    for (uint64_t n = 0; n < 40; ++n) {
      auto env = Transfer(chain, chain.users[0], AddressOf(chain.users[1].public_key()), 1, n);
      txs.push_back(*DecodeAndCheckTx(env, chain.genesis.chain_id, chain.genesis.params));
    }
    auto p = BuildBlock(**store, chain.genesis, chain.validators[0].public_key(), 1000, txs);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    auto cert = civitas::testing::Certify(*p, chain.genesis.chain_id, chain.validators);
    ASSERT_TRUE(
        CommitVerifiedBlock(**store, *p, WithCertificate(*p, cert.qc, cert.consensus_header)).ok());
    const size_t block_bytes = (*store)->GetBlock(1)->ByteSizeLong();
    const size_t receipt_bytes = p->exec.receipts[1].ByteSizeLong();

    // Smaller than the block, a little more than it, and more than everything.
    for (size_t budget : {block_bytes / 2, block_bytes + 5 * receipt_bytes, size_t{1} << 30}) {
      std::vector<v1::StreamBlocksResponse> msgs;
      Status s = ForEachBlockMessage(**store, 1, budget, [&](const v1::StreamBlocksResponse& m) {
        msgs.push_back(m);
        return true;
      });
      ASSERT_TRUE(s.ok()) << s.ToString();
      ASSERT_FALSE(msgs.empty());
      EXPECT_TRUE(msgs[0].has_block());
      EXPECT_EQ(msgs[0].block().block().header().height(), 1u);
      uint32_t next = 0;
      for (size_t i = 0; i < msgs.size(); ++i) {
        const auto& m = msgs[i];
        EXPECT_EQ(m.block_id(), std::string(AsStringView(p->id)));
        EXPECT_EQ(m.has_block(), i == 0);
        EXPECT_EQ(m.more_receipts(), i + 1 < msgs.size());
        EXPECT_EQ(m.first_receipt(), next);
        const bool alone = (m.has_block() && m.receipts_size() == 0) || m.receipts_size() == 1;
        EXPECT_TRUE(m.ByteSizeLong() <= budget || alone) << budget << " " << i;
        for (const auto& r : m.receipts()) {
          EXPECT_EQ(r.index(), next);
          EXPECT_EQ(r.tx_id(), std::string(AsStringView(p->tx_ids[next])));
          ++next;
        }
      }
      EXPECT_EQ(next, 40u);
      if (budget < block_bytes) {
        EXPECT_EQ(msgs[0].receipts_size(), 0);  // the block travels alone
      }
      if (budget == size_t{1} << 30) {
        EXPECT_EQ(msgs.size(), 1u);
      } else {
        EXPECT_GE(msgs.size(), 2u);
      }
    }
    // A client that goes away stops the writes.
    int writes = 0;
    ASSERT_TRUE(ForEachBlockMessage(**store, 1, block_bytes / 2, [&](const auto&) {
                  ++writes;
                  return false;
                }).ok());
    EXPECT_EQ(writes, 1);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace civitas::node
