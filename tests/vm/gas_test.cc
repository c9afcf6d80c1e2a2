// Gas: exact charges for a few instructions, the same gas on every run, and out-of-gas at every
// limit below what a call needs, with its changes rolled back.

#include <gtest/gtest.h>

#include "tests/vm/test_util.h"

namespace civitas::vm::testing {
namespace {

constexpr std::string_view kStore = R"(
export func store(n) -> 1
  local i
again:
  get i
  get n
  lt
  jz done
  push "k"
  get i
  itob
  concat
  get i
  itob
  sstore
  push "e"
  push "d"
  emit
  get i
  push 1
  add
  set i
  jmp again
done:
  get i
  ret
end
)";

TEST(GasTest, ExactCharges) {
  // push 1, push 2 (1 each), add (2), ret (2).
  EXPECT_EQ(RunBody("push 1\npush 2\nadd\nret").gas_used, 6u);
  // push "k" (2+1), push "vv" (2+1), sstore (10000 + 5 * 3 bytes), ret (2).
  EXPECT_EQ(RunBody("push \"k\"\npush \"vv\"\nsstore\nret", 0).gas_used, 10023u);
  // push "t" (3), push "dd" (3), emit (1000 + 2 * 3), ret (2).
  EXPECT_EQ(RunBody("push \"t\"\npush \"dd\"\nemit\nret", 0).gas_used, 1014u);
  // push 16 bytes (2 + 2 words), sha256 (30 + 16), ret (2).
  EXPECT_EQ(RunBody("push 0x00112233445566778899aabbccddeeff\nsha256\nret").gas_used, 52u);
  // push "key" (3), sload of a missing key (1600 + 3), ret (2).
  EXPECT_EQ(RunBody("push \"key\"\nsload\nret", 2).gas_used, 1608u);
}

TEST(GasTest, SameGasEveryRun) {
  Module m = MustAssemble(kStore);
  MockHost first;
  ExecResult a = Execute(m, "store", {I(20)}, 1'000'000, first);
  ASSERT_TRUE(a.ok()) << Describe(a);
  for (int i = 0; i < 5; ++i) {
    MockHost host;
    ExecResult b = Execute(m, "store", {I(20)}, 1'000'000, host);
    EXPECT_EQ(b.gas_used, a.gas_used);
    EXPECT_EQ(b.returns, a.returns);
    EXPECT_EQ(host.state, first.state);
    EXPECT_EQ(host.log, first.log);
  }
}

TEST(GasTest, OutOfGasAtEveryLimitIsDeterministicAndRollsBack) {
  Module m = MustAssemble(kStore);
  MockHost probe;
  const uint64_t need = Execute(m, "store", {I(3)}, 1'000'000, probe).gas_used;
  ASSERT_GT(need, 0u);
  for (uint64_t limit = 0; limit < need; ++limit) {
    MockHost host;
    ExecResult r = Execute(m, "store", {I(3)}, limit, host);
    ASSERT_EQ(r.status, ExecStatus::kOutOfGas) << "limit " << limit;
    EXPECT_EQ(r.gas_used, limit);
    EXPECT_TRUE(r.returns.empty());
    EXPECT_TRUE(host.state.storage.empty()) << "limit " << limit;
    EXPECT_TRUE(host.state.events.empty());
    MockHost again;
    ExecResult r2 = Execute(m, "store", {I(3)}, limit, again);
    EXPECT_EQ(r2.gas_used, r.gas_used);
    EXPECT_EQ(again.log, host.log);
  }
  MockHost host;
  ExecResult r = Execute(m, "store", {I(3)}, need, host);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.gas_used, need);
}

TEST(GasTest, TrapChargesGasUpToTheTrap) {
  // push 1 (1), push 0 (1), div (4) traps: 6 gas, the rest is not charged.
  ExecResult r = RunBody("push 1\npush 0\ndiv\nret", 1, 1000);
  EXPECT_EQ(r.status, ExecStatus::kTrap);
  EXPECT_EQ(r.gas_used, 6u);
  r = RunBody("push \"no\"\nrevert", 0, 1000);
  EXPECT_EQ(r.status, ExecStatus::kRevert);
  EXPECT_EQ(r.gas_used, 5u);  // push const (2 + 1), revert (2)
}

TEST(GasTest, InfiniteLoopRunsOutOfGas) {
  ExecResult r = RunBody("again:\njmp again", 0, 100'000);
  EXPECT_EQ(r.status, ExecStatus::kOutOfGas);
  EXPECT_EQ(r.gas_used, 100'000u);
}

}  // namespace
}  // namespace civitas::vm::testing
