// The example programs behave as a citizen reading them would expect.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/vm/test_util.h"

namespace civitas::vm::testing {
namespace {

Module Load(const std::string& name) {
  std::ifstream in(std::string(CIVITAS_VM_PROGRAMS) + "/" + name);
  std::ostringstream ss;
  ss << in.rdbuf();
  return MustAssemble(ss.str());
}

Value Addr(const Address& a) { return Value::FromBytes(Bytes(a.begin(), a.end())); }

TEST(ProgramsTest, Counter) {
  Module m = Load("counter.casm");
  MockHost host;
  EXPECT_EQ(Execute(m, "get", {}, 100000, host).returns, std::vector<Value>{I(0)});
  for (int i = 1; i <= 3; ++i) {
    ExecResult r = Execute(m, "increment", {}, 100000, host);
    ASSERT_TRUE(r.ok()) << Describe(r);
    EXPECT_EQ(r.returns, std::vector<Value>{I(i)});
  }
  EXPECT_EQ(Execute(m, "get", {}, 100000, host).returns, std::vector<Value>{I(3)});
  EXPECT_EQ(host.state.events.size(), 3u);
  EXPECT_EQ(Execute(m, "read", {}, 100000, host).status, ExecStatus::kBadCall);  // not exported
}

TEST(ProgramsTest, Token) {
  Module m = Load("token.casm");
  MockHost host;
  const Address alice = host.caller;
  const Address bob = MakeAddress(0xb0);
  ASSERT_TRUE(Execute(m, "mint", {Addr(alice), I(100)}, 100000, host).ok());
  ExecResult r = Execute(m, "transfer", {Addr(bob), I(30)}, 100000, host);
  ASSERT_TRUE(r.ok()) << Describe(r);
  EXPECT_EQ(Execute(m, "balance", {Addr(alice)}, 100000, host).returns[0], I(70));
  EXPECT_EQ(Execute(m, "balance", {Addr(bob)}, 100000, host).returns[0], I(30));
  r = Execute(m, "transfer", {Addr(bob), I(71)}, 100000, host);
  EXPECT_EQ(r.status, ExecStatus::kRevert);
  EXPECT_EQ(r.reason, "insufficient balance");
  r = Execute(m, "transfer", {Addr(bob), I(0)}, 100000, host);
  EXPECT_EQ(r.reason, "amount must be positive");
  host.caller = bob;  // only the first minter may mint again
  r = Execute(m, "mint", {Addr(bob), I(5)}, 100000, host);
  EXPECT_EQ(r.reason, "only the owner mints");
  EXPECT_EQ(Execute(m, "balance", {Addr(bob)}, 100000, host).returns[0], I(30));
}

TEST(ProgramsTest, Loops) {
  Module m = Load("loop.casm");
  MockHost host;
  EXPECT_EQ(Execute(m, "sum", {I(100)}, 100000, host).returns[0], I(5050));
  EXPECT_EQ(Execute(m, "factorial", {I(20)}, 100000, host).returns[0], I(2432902008176640000));
  ExecResult r = Execute(m, "factorial", {I(21)}, 100000, host);
  EXPECT_EQ(r.status, ExecStatus::kTrap);
  EXPECT_EQ(r.reason, "integer_overflow");
  EXPECT_EQ(Execute(m, "reverse", {S("civitas")}, 100000, host).returns[0], S("sativic"));
  r = Execute(m, "hash_chain", {S("x"), I(3)}, 100000, host);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.returns[0].as_bytes().size(), 32u);
  EXPECT_EQ(Execute(m, "sum", {I(1'000'000)}, 100000, host).status, ExecStatus::kOutOfGas);
}

}  // namespace
}  // namespace civitas::vm::testing
