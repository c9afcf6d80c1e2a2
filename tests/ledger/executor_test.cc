#include <gtest/gtest.h>

#include "ledger/executor.h"
#include "ledger/pending.h"
#include "test_chain.h"

namespace civitas {
namespace {

using testing::MakeTestChain;
using testing::MapState;
using testing::Transfer;

DecodedTx Decode(const testing::TestChain& c, const v1::Transaction& env) {
  auto tx = DecodeAndCheckTx(env, c.genesis.chain_id, c.genesis.params);
  if (!tx.ok()) ADD_FAILURE() << tx.status().ToString();
  return *tx;
}

AccountState Account(const StateWrites& w, const StateReader& base, const Address& a) {
  auto it = w.find(AccountKey(a));
  if (it != w.end()) return *DecodeAccount(*it->second);
  auto v = base.Get(AccountKey(a));
  return v->has_value() ? *DecodeAccount(**v) : AccountState{};
}

TEST(Executor, TransferMovesFundsChargesFeeAndNonce) {
  auto c = MakeTestChain(2, 1'000'000);
  MapState state(c.genesis.InitialState());
  Address a = AddressOf(c.users[0].public_key()), b = AddressOf(c.users[1].public_key());
  auto t1 = Decode(c, Transfer(c, c.users[0], b, 1000, 0));
  auto t2 = Decode(c, Transfer(c, c.users[0], b, 2000, 1));
  auto r = ExecuteBlock(c.genesis.params, state, {1, 0}, {t1, t2});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->receipts.size(), 2u);
  EXPECT_EQ(r->receipts[0].status(), v1::TX_STATUS_SUCCESS);
  uint64_t fees = r->receipts[0].fee() + r->receipts[1].fee();
  EXPECT_EQ(r->receipts[0].fee(), IntrinsicGas(c.genesis.params, t1.size));
  EXPECT_EQ(Account(r->writes, state, a).balance, 1'000'000 - 3000 - fees);
  EXPECT_EQ(Account(r->writes, state, a).nonce, 2u);
  EXPECT_EQ(Account(r->writes, state, b).balance, 1'000'000 + 3000);
  EXPECT_EQ(Account(r->writes, state, TreasuryAddress()).balance, fees);
}

TEST(Executor, FailedTransferPaysFeeOnly) {
  auto c = MakeTestChain(2, 100'000);
  MapState state(c.genesis.InitialState());
  Address a = AddressOf(c.users[0].public_key()), b = AddressOf(c.users[1].public_key());
  auto t = Decode(c, Transfer(c, c.users[0], b, 1'000'000, 0, 30'000));
  auto r = ExecuteBlock(c.genesis.params, state, {1, 0}, {t});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->receipts[0].status(), v1::TX_STATUS_FAILED);
  EXPECT_EQ(r->receipts[0].reason(), "insufficient_funds");
  EXPECT_TRUE(r->receipts[0].events().empty());
  EXPECT_EQ(Account(r->writes, state, a).balance, 100'000 - r->receipts[0].fee());
  EXPECT_EQ(Account(r->writes, state, a).nonce, 1u);
  EXPECT_EQ(Account(r->writes, state, b).balance, 100'000u);
}

// Issue 22: a sender whose balance covered each maximum fee alone at admission had its
// transactions executed after its balance ran out, for what it had left (then for nothing).
TEST(Executor, ABlockWithAMaximumFeeItsSenderCannotCoverWhenItRunsIsInvalid) {
  auto c = MakeTestChain(2, 100'000);
  MapState state(c.genesis.InitialState());
  Address b = AddressOf(c.users[1].public_key());
  auto alone = Decode(c, Transfer(c, c.users[0], b, 1, 0, 500'000));
  auto r = ExecuteBlock(c.genesis.params, state, {1, 0}, {alone});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "insufficient_funds_for_fee");
  EXPECT_NE(r.status().message().find("maximum fee 500000"), std::string::npos)
      << r.status().message();

  // Three transfers each covered alone by 100,000: the second's maximum fee is exactly what the
  // first leaves, the third's one more than the first two leave. (All gas limits here are
  // three-byte varints, so the probe's size is theirs.)
  auto intrinsic = [&](uint64_t nonce) {
    return IntrinsicGas(c.genesis.params,
                        Decode(c, Transfer(c, c.users[0], b, 0, nonce, 90'000)).size);
  };
  ASSERT_EQ(c.genesis.params.gas_price, 1u);
  const uint64_t limits[] = {100'000 - intrinsic(0), 100'000 - intrinsic(0),
                             100'000 - intrinsic(0) - intrinsic(1) + 1};
  std::vector<DecodedTx> txs;
  for (uint64_t n = 0; n < 3; ++n) {
    txs.push_back(Decode(c, Transfer(c, c.users[0], b, 0, n, limits[n])));
    ASSERT_EQ(IntrinsicGas(c.genesis.params, txs.back().size), intrinsic(n));
  }
  auto two = ExecuteBlock(c.genesis.params, state, {1, 0}, {txs[0], txs[1]});
  ASSERT_TRUE(two.ok()) << two.status().ToString();
  auto three = ExecuteBlock(c.genesis.params, state, {1, 0}, txs);
  ASSERT_FALSE(three.ok());
  EXPECT_EQ(three.status().reason(), "insufficient_funds_for_fee");
  EXPECT_EQ(three.status().message().rfind("transaction 2:", 0), 0u) << three.status().message();
}

TEST(Executor, MaxDebitIsTheMaximumFeePlusTheTokensTheActionSends) {
  auto c = MakeTestChain(2, 100'000);
  Address b = AddressOf(c.users[1].public_key());
  auto t = Decode(c, Transfer(c, c.users[0], b, 123, 0, 50'000));
  EXPECT_EQ(MaxFee(c.genesis.params, t), 50'000u * c.genesis.params.gas_price);
  EXPECT_EQ(MaxDebit(c.genesis.params, t), 50'000u * c.genesis.params.gas_price + 123);
  auto huge = Decode(c, Transfer(c, c.users[0], b, UINT64_MAX - 1, 0, 50'000));
  EXPECT_EQ(MaxDebit(c.genesis.params, huge), UINT64_MAX);
}

// What a proposer and a voting validator check before execution (ledger/pending.h) implies the
// execution rule: here, with gas limits equal to the intrinsic gas, the two agree exactly.
TEST(PendingSenders, AMaximumFeeBeyondWhatIsSureToRemainIsRefusedAsExecutionWouldRefuseIt) {
  const uint64_t balance = 100'000, amount = 3'000;
  auto c = MakeTestChain(2, balance);
  MapState state(c.genesis.InitialState());
  Address b = AddressOf(c.users[1].public_key());
  // A pending transfer whose gas limit is its intrinsic gas: it debits exactly fee + amount.
  auto probe = Decode(c, Transfer(c, c.users[0], b, amount, 0, 90'000));
  const uint64_t intrinsic = IntrinsicGas(c.genesis.params, probe.size);
  auto pending = Decode(c, Transfer(c, c.users[0], b, amount, 0, intrinsic));
  ASSERT_EQ(pending.size, probe.size);
  const uint64_t left = balance - amount - intrinsic * c.genesis.params.gas_price;
  for (uint64_t limit : {left, left + 1}) {
    auto next = Decode(c, Transfer(c, c.users[0], b, 0, 1, limit / c.genesis.params.gas_price));
    PendingSenders senders(state, c.genesis.params);
    ASSERT_TRUE(senders.CheckAndTrack(pending, 0).ok());
    Status before = senders.CheckAndTrack(next, 1);
    auto executed = ExecuteBlock(c.genesis.params, state, {1, 0}, {pending, next});
    EXPECT_EQ(before.ok(), executed.ok()) << limit;
    if (limit == left) {
      EXPECT_TRUE(before.ok()) << before.ToString();
    } else {
      EXPECT_EQ(before.reason(), "insufficient_funds_for_fee");
      EXPECT_EQ(executed.status().reason(), "insufficient_funds_for_fee");
    }
  }
  // Nonces in sequence, as before.
  PendingSenders senders(state, c.genesis.params);
  EXPECT_EQ(senders.CheckAndTrack(Decode(c, Transfer(c, c.users[0], b, 0, 1, 30'000)), 0).reason(),
            "bad_nonce");
}

TEST(Executor, NonceOutOfSequenceInvalidatesBlock) {
  auto c = MakeTestChain(2);
  MapState state(c.genesis.InitialState());
  Address b = AddressOf(c.users[1].public_key());
  auto skipped = Decode(c, Transfer(c, c.users[0], b, 1, 1));
  auto r = ExecuteBlock(c.genesis.params, state, {1, 0}, {skipped});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "bad_nonce");
  auto t0 = Decode(c, Transfer(c, c.users[0], b, 1, 0));
  auto replayed = ExecuteBlock(c.genesis.params, state, {1, 0}, {t0, t0});
  ASSERT_FALSE(replayed.ok());
  EXPECT_EQ(replayed.status().reason(), "bad_nonce");
}

TEST(Executor, SameBlockSameStateSameWrites) {
  auto c = MakeTestChain(3);
  MapState state(c.genesis.InitialState());
  std::vector<DecodedTx> txs;
  for (uint64_t n = 0; n < 20; ++n) {
    txs.push_back(Decode(c, Transfer(c, c.users[n % 3],
                                     AddressOf(c.users[(n + 1) % 3].public_key()), n * 7, n / 3)));
  }
  auto r1 = ExecuteBlock(c.genesis.params, state, {1, 0}, txs);
  auto r2 = ExecuteBlock(c.genesis.params, state, {1, 0}, txs);
  ASSERT_TRUE(r1.ok() && r2.ok()) << r1.status().ToString();
  EXPECT_EQ(r1->writes, r2->writes);
}

TEST(StateOverlay, NestedSnapshotsRevertExactly) {
  StateWrites init;
  init["a"] = "1";
  MapState base(init);
  StateOverlay s(base);
  s.Set("a", "2");
  size_t m1 = s.Snapshot();
  s.Set("b", "3");
  size_t m2 = s.Snapshot();
  s.Delete("a");
  s.Set("b", "4");
  s.RevertTo(m2);
  EXPECT_EQ(**s.Get("a"), "2");
  EXPECT_EQ(**s.Get("b"), "3");
  s.RevertTo(m1);
  EXPECT_FALSE(s.Get("b")->has_value());
  EXPECT_EQ(s.writes().size(), 1u);
}

}  // namespace
}  // namespace civitas
