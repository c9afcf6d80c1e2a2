// Every instruction, its result and each of its traps.

#include <gtest/gtest.h>

#include <climits>

#include "tests/vm/test_util.h"
#include "vm/opcodes.h"

namespace civitas::vm::testing {
namespace {

void ExpectValue(std::string_view body, const Value& want) {
  ExecResult r = RunBody(body);
  ASSERT_EQ(r.status, ExecStatus::kOk) << Describe(r) << "\n" << body;
  ASSERT_EQ(r.returns.size(), 1u);
  EXPECT_EQ(r.returns[0], want) << r.returns[0].ToString() << " for\n" << body;
}

void ExpectTrap(std::string_view body, std::string_view reason, int results = 1) {
  ExecResult r = RunBody(body, results);
  EXPECT_EQ(r.status, ExecStatus::kTrap) << Describe(r) << "\n" << body;
  EXPECT_EQ(r.reason, reason) << body;
  EXPECT_TRUE(r.returns.empty());
  EXPECT_GT(r.gas_used, 0u);
}

std::string Ret(std::string_view body) { return std::string(body) + "\nret"; }

TEST(OpcodeTest, TableIsConsistent) {
  EXPECT_EQ(kNumOpcodes, 57u);
  for (size_t i = 0; i < kNumOpcodes; ++i) {
    EXPECT_FALSE(kOpTable[i].mnemonic.empty());
    EXPECT_GT(kOpTable[i].gas, 0u);
  }
  EXPECT_EQ(OpcodeByMnemonic("add"), Opcode::kAdd);
  EXPECT_EQ(OpcodeByMnemonic("push"), Opcode::kPushI);
  EXPECT_FALSE(OpcodeByMnemonic("bogus").has_value());
}

TEST(OpcodeTest, StackOps) {
  ExpectValue(Ret("nop\npush 7"), I(7));
  ExpectValue(Ret("push 1\npush 2\npop"), I(1));
  ExpectValue(Ret("push 3\ndup\nadd"), I(6));
  ExpectValue(Ret("push 10\npush 3\nover\nsub\nsub"), I(17));  // 10 - (3 - 10)
  ExpectValue(Ret("push 10\npush 3\nswap\nsub"), I(-7));
  ExpectValue(Ret("push -9223372036854775808"), I(INT64_MIN));
  ExpectValue(Ret("push \"hi\""), S("hi"));
  ExpectValue(Ret("push 0xdead"), B({0xde, 0xad}));
  ExpectValue(Ret("push \"\""), S(""));
  ExpectValue(Ret("push \"a\\\"\\\\\\x01\""), B({'a', '"', '\\', 1}));
}

TEST(OpcodeTest, Locals) {
  MockHost host;
  const char* src = R"(
export func f(a, b) -> 2
  local c
  get c
  get a
  get b
  add
  set c
  get c
  ret
end)";
  ExecResult r = RunAsm(src, "f", {I(2), I(3)}, host);
  ASSERT_TRUE(r.ok()) << Describe(r);
  EXPECT_EQ(r.returns, (std::vector<Value>{I(0), I(5)}));
}

TEST(OpcodeTest, Arithmetic) {
  ExpectValue(Ret("push 2\npush 3\nadd"), I(5));
  ExpectValue(Ret("push 2\npush 3\nsub"), I(-1));
  ExpectValue(Ret("push -4\npush 3\nmul"), I(-12));
  ExpectValue(Ret("push -7\npush 2\ndiv"), I(-3));
  ExpectValue(Ret("push -7\npush 2\nmod"), I(-1));
  ExpectValue(Ret("push -9223372036854775808\npush -1\nmod"), I(0));
  ExpectValue(Ret("push 5\nneg"), I(-5));
  ExpectTrap(Ret("push 9223372036854775807\npush 1\nadd"), "integer_overflow");
  ExpectTrap(Ret("push -9223372036854775808\npush 1\nsub"), "integer_overflow");
  ExpectTrap(Ret("push 4611686018427387904\npush 2\nmul"), "integer_overflow");
  ExpectTrap(Ret("push 1\npush 0\ndiv"), "division_by_zero");
  ExpectTrap(Ret("push 1\npush 0\nmod"), "division_by_zero");
  ExpectTrap(Ret("push -9223372036854775808\npush -1\ndiv"), "integer_overflow");
  ExpectTrap(Ret("push -9223372036854775808\nneg"), "integer_overflow");
  for (const char* op : {"add", "sub", "mul", "div", "mod", "lt", "le", "gt", "ge", "and", "or",
                         "xor", "shl", "shr"}) {
    ExpectTrap(Ret(std::string("push \"x\"\npush 1\n") + op), "type_mismatch");
    ExpectTrap(Ret(std::string("push 1\npush \"x\"\n") + op), "type_mismatch");
  }
  ExpectTrap(Ret("push \"x\"\nneg"), "type_mismatch");
  ExpectTrap(Ret("push \"x\"\nbnot"), "type_mismatch");
  ExpectTrap(Ret("push \"x\"\nnot"), "type_mismatch");
}

TEST(OpcodeTest, Comparison) {
  ExpectValue(Ret("push 1\npush 1\neq"), I(1));
  ExpectValue(Ret("push 1\npush 2\neq"), I(0));
  ExpectValue(Ret("push \"a\"\npush \"a\"\neq"), I(1));
  ExpectValue(Ret("push \"a\"\npush \"b\"\nne"), I(1));
  ExpectValue(Ret("push 0\npush \"\"\neq"), I(0));  // different types are never equal
  ExpectValue(Ret("push 0\npush \"\"\nne"), I(1));
  ExpectValue(Ret("push 1\npush 2\nlt"), I(1));
  ExpectValue(Ret("push 2\npush 2\nle"), I(1));
  ExpectValue(Ret("push 2\npush 1\ngt"), I(1));
  ExpectValue(Ret("push 1\npush 2\nge"), I(0));
}

TEST(OpcodeTest, Bitwise) {
  ExpectValue(Ret("push 12\npush 10\nand"), I(8));
  ExpectValue(Ret("push 12\npush 10\nor"), I(14));
  ExpectValue(Ret("push 12\npush 10\nxor"), I(6));
  ExpectValue(Ret("push 0\nbnot"), I(-1));
  ExpectValue(Ret("push 0\nnot"), I(1));
  ExpectValue(Ret("push 5\nnot"), I(0));
  ExpectValue(Ret("push 1\npush 63\nshl"), I(INT64_MIN));
  ExpectValue(Ret("push -1\npush 60\nshr"), I(15));  // logical shift
  ExpectTrap(Ret("push 1\npush 64\nshl"), "bad_shift");
  ExpectTrap(Ret("push 1\npush -1\nshr"), "bad_shift");
}

TEST(OpcodeTest, Bytes) {
  ExpectValue(Ret("push \"abc\"\nlen"), I(3));
  ExpectValue(Ret("push \"ab\"\npush \"cd\"\nconcat"), S("abcd"));
  ExpectValue(Ret("push \"hello\"\npush 1\npush 3\nslice"), S("ell"));
  ExpectValue(Ret("push \"hello\"\npush 5\npush 0\nslice"), S(""));
  ExpectValue(Ret("push 0x00ff\npush 1\nbyteat"), I(255));
  ExpectValue(Ret("push 258\nitob"), B({0, 0, 0, 0, 0, 0, 1, 2}));
  ExpectValue(Ret("push -2\nitob\nbtoi"), I(-2));
  ExpectValue(Ret("push 5\ntypeof"), I(0));
  ExpectValue(Ret("push \"x\"\ntypeof"), I(1));
  ExpectTrap(Ret("push 5\nlen"), "type_mismatch");
  ExpectTrap(Ret("push 5\npush \"a\"\nconcat"), "type_mismatch");
  ExpectTrap(Ret("push \"hello\"\npush 4\npush 2\nslice"), "out_of_range");
  ExpectTrap(Ret("push \"hello\"\npush -1\npush 2\nslice"), "out_of_range");
  ExpectTrap(Ret("push \"hello\"\npush 0\npush -1\nslice"), "out_of_range");
  ExpectTrap(Ret("push \"hello\"\npush \"0\"\npush 1\nslice"), "type_mismatch");
  ExpectTrap(Ret("push \"hello\"\npush 5\nbyteat"), "out_of_range");
  ExpectTrap(Ret("push \"hello\"\npush -1\nbyteat"), "out_of_range");
  ExpectTrap(Ret("push \"x\"\nitob"), "type_mismatch");
  ExpectTrap(Ret("push 0x0102\nbtoi"), "out_of_range");
  ExpectTrap(Ret("push 7\nbtoi"), "type_mismatch");
  // 2048 + 2048 is the largest value; one more byte traps.
  std::string big = "push 0x";
  for (int i = 0; i < 2048; ++i) big += "ab";
  ExpectValue(Ret(big + "\ndup\nconcat\nlen"), I(4096));
  ExpectTrap(Ret(big + "\ndup\nconcat\npush 0x01\nconcat"), "value_too_large");
}

TEST(OpcodeTest, ControlFlow) {
  ExpectValue(R"(  push 1
  jmp skip
  push 2
  add
skip:
  ret)",
              I(1));
  ExpectValue(R"(  push 0
  jz yes
  push 10
  ret
yes:
  push 20
  ret)",
              I(20));
  ExpectValue(R"(  push 3
  jnz yes
  push 10
  ret
yes:
  push 20
  ret)",
              I(20));
  ExpectTrap(R"(  push "s"
  jz yes
yes:
  push 1
  ret)",
             "type_mismatch");
}

TEST(OpcodeTest, CallAndRecursion) {
  MockHost host;
  const char* src = R"(
export func fib(n) -> 1
  get n
  push 2
  lt
  jz rec
  get n
  ret
rec:
  get n
  push 1
  sub
  call fib
  get n
  push 2
  sub
  call fib
  add
  ret
end

export func forever(n) -> 1
  get n
  call forever
  ret
end)";
  ExecResult r = RunAsm(src, "fib", {I(15)}, host);
  ASSERT_TRUE(r.ok()) << Describe(r);
  EXPECT_EQ(r.returns[0], I(610));
  r = RunAsm(src, "forever", {I(1)}, host);
  EXPECT_EQ(r.status, ExecStatus::kTrap);
  EXPECT_EQ(r.reason, "call_depth_exceeded");
}

TEST(OpcodeTest, Revert) {
  ExecResult r = RunBody("push \"no\"\nrevert", 0);
  EXPECT_EQ(r.status, ExecStatus::kRevert);
  EXPECT_EQ(r.reason, "no");
  ExpectTrap("push 5\nrevert", "type_mismatch", 0);
}

TEST(OpcodeTest, Storage) {
  MockHost host;
  const char* src = R"(
export func put(k, v)
  get k
  get v
  sstore
  ret
end
export func load(k) -> 2
  get k
  sload
  ret
end
export func del(k)
  get k
  sdel
  ret
end)";
  ASSERT_TRUE(RunAsm(src, "put", {S("k"), S("v")}, host).ok());
  ASSERT_EQ(host.state.storage.size(), 1u);
  EXPECT_EQ(host.state.storage.begin()->first, Bytes{'k'});
  EXPECT_EQ(host.state.storage.begin()->second, Bytes{'v'});
  ExecResult r = RunAsm(src, "load", {S("k")}, host);
  EXPECT_EQ(r.returns, (std::vector<Value>{S("v"), I(1)}));
  ASSERT_TRUE(RunAsm(src, "del", {S("k")}, host).ok());
  r = RunAsm(src, "load", {S("k")}, host);
  EXPECT_EQ(r.returns, (std::vector<Value>{S(""), I(0)}));
  std::string long_key(65, 'k');
  for (const char* fn : {"load", "del"}) {
    r = RunAsm(src, fn, {S(long_key)}, host);
    EXPECT_EQ(r.reason, "key_too_large") << fn;
  }
  r = RunAsm(src, "put", {S(long_key), S("v")}, host);
  EXPECT_EQ(r.reason, "key_too_large");
  r = RunAsm(src, "put", {S("k"), I(1)}, host);
  EXPECT_EQ(r.reason, "type_mismatch");
  r = RunAsm(src, "load", {I(1)}, host);
  EXPECT_EQ(r.reason, "type_mismatch");
}

TEST(OpcodeTest, Environment) {
  MockHost host;
  const char* src = R"(
export func env() -> 5
  caller
  origin
  self
  height
  time
  ret
end)";
  ExecResult r = RunAsm(src, "env", {}, host);
  ASSERT_TRUE(r.ok()) << Describe(r);
  auto addr = [](const Address& a) { return Value::FromBytes(Bytes(a.begin(), a.end())); };
  EXPECT_EQ(r.returns, (std::vector<Value>{addr(host.caller), addr(host.origin), addr(host.self),
                                           I(100), I(1700000000)}));
  host.height = uint64_t{1} << 63;
  r = RunAsm(src, "env", {}, host);
  EXPECT_EQ(r.reason, "out_of_range");
}

TEST(OpcodeTest, EventsAndRollback) {
  MockHost host;
  const char* src = R"(
export func ok()
  push "t"
  push "d"
  emit
  ret
end
export func fails()
  push "t"
  push "d"
  emit
  push "k"
  push "v"
  sstore
  push "boom"
  revert
end
export func big_topic()
  push "0123456789012345678901234567890123456789012345678901234567890123456789"
  push "d"
  emit
  ret
end)";
  ASSERT_TRUE(RunAsm(src, "ok", {}, host).ok());
  ASSERT_EQ(host.state.events.size(), 1u);
  ExecResult r = RunAsm(src, "fails", {}, host);
  EXPECT_EQ(r.status, ExecStatus::kRevert);
  EXPECT_EQ(host.state.events.size(), 1u);  // the second event was rolled back
  EXPECT_TRUE(host.state.storage.empty());
  EXPECT_EQ(host.reverts, 1);
  r = RunAsm(src, "big_topic", {}, host);
  EXPECT_EQ(r.reason, "key_too_large");
}

TEST(OpcodeTest, SetCodeAsksTheHost) {
  MockHost host;
  Module callee = MustAssemble("export func f() -> 1\n  push 1\n  ret\nend");
  host.contracts[MakeAddress(0x11)] = &callee;
  const char* src = R"(
export func up(target, source) -> 1
  get target
  get source
  setcode
  ret
end)";
  Value target = Value::FromBytes(Bytes(20, 0x22));
  ExecResult r = RunAsm(src, "up", {target, Value::FromBytes(Bytes(20, 0x11))}, host);
  EXPECT_EQ(r.returns, (std::vector<Value>{I(1)}));
  EXPECT_EQ(host.state.upgrades.at(MakeAddress(0x22)), MakeAddress(0x11));
  r = RunAsm(src, "up", {target, Value::FromBytes(Bytes(20, 0x33))}, host);
  EXPECT_EQ(r.returns, (std::vector<Value>{I(0)}));
  r = RunAsm(src, "up", {target, S("short")}, host);
  EXPECT_EQ(r.reason, "bad_address");
  r = RunAsm(src, "up", {I(1), target}, host);
  EXPECT_EQ(r.reason, "type_mismatch");
}

TEST(OpcodeTest, BalanceAndTransfer) {
  MockHost host;
  host.state.balances[host.self] = 100;
  const char* src = R"(
export func pay(to, amount) -> 2
  get to
  get amount
  transfer
  self
  balance
  ret
end)";
  Value to = Value::FromBytes(Bytes(20, 7));
  ExecResult r = RunAsm(src, "pay", {to, I(30)}, host);
  EXPECT_EQ(r.returns, (std::vector<Value>{I(1), I(70)}));
  r = RunAsm(src, "pay", {to, I(1000)}, host);
  EXPECT_EQ(r.returns, (std::vector<Value>{I(0), I(70)}));
  r = RunAsm(src, "pay", {to, I(-1)}, host);
  EXPECT_EQ(r.reason, "out_of_range");
  r = RunAsm(src, "pay", {S("short"), I(1)}, host);
  EXPECT_EQ(r.reason, "bad_address");
  r = RunAsm(src, "pay", {I(1), I(1)}, host);
  EXPECT_EQ(r.reason, "type_mismatch");
  ExpectTrap(Ret("push \"x\"\nbalance"), "bad_address");
}

TEST(OpcodeTest, IsKeyAsksTheHostOnlyAbout32ByteStrings) {
  MockHost host;
  const char* src = R"(
export func k(key) -> 1
  get key
  iskey
  ret
end)";
  ExecResult r = RunAsm(src, "k", {Value::FromBytes(Bytes(32, 0x11))}, host);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.returns[0], I(1));
  EXPECT_EQ(r.gas_used, 1u + 2000u + 2u + 4u);                      // get (4 words), iskey, ret
  r = RunAsm(src, "k", {Value::FromBytes(Bytes(32, 0xf5))}, host);  // the mock's invalid keys
  EXPECT_EQ(r.returns[0], I(0));
  size_t calls = host.log.size();
  r = RunAsm(src, "k", {Value::FromBytes(Bytes(33, 0x11))}, host);
  EXPECT_EQ(r.returns[0], I(0));  // wrong length: false without asking the host
  EXPECT_EQ(host.log.size(), calls);
  r = RunAsm(src, "k", {I(7)}, host);
  EXPECT_EQ(r.status, ExecStatus::kTrap);
  EXPECT_EQ(r.reason, "type_mismatch");
}

TEST(OpcodeTest, HashAndVerify) {
  MockHost host;
  const char* src = R"(
export func h(x) -> 1
  get x
  sha256
  ret
end
export func v(pk, msg, sig) -> 1
  get pk
  get msg
  get sig
  verify
  ret
end)";
  ExecResult r = RunAsm(src, "h", {S("abc")}, host);
  ASSERT_TRUE(r.ok());
  Hash32 want = host.Sha256(Bytes{'a', 'b', 'c'});
  EXPECT_EQ(r.returns[0], Value::FromBytes(Bytes(want.begin(), want.end())));
  Value pk = Value::FromBytes(Bytes(32, 9));
  r = RunAsm(src, "v", {pk, S("m"), Value::FromBytes(Bytes(64, 9))}, host);
  EXPECT_EQ(r.returns[0], I(1));
  r = RunAsm(src, "v", {pk, S("m"), Value::FromBytes(Bytes(64, 8))}, host);
  EXPECT_EQ(r.returns[0], I(0));
  size_t calls = host.log.size();
  r = RunAsm(src, "v", {pk, S("m"), Value::FromBytes(Bytes(63, 9))}, host);
  EXPECT_EQ(r.returns[0], I(0));  // wrong length: false without asking the host
  EXPECT_EQ(host.log.size(), calls);
  r = RunAsm(src, "h", {I(1)}, host);
  EXPECT_EQ(r.reason, "type_mismatch");
}

TEST(OpcodeTest, CrossContractCall) {
  MockHost host;
  Module callee = MustAssemble(R"(
export func double(x) -> 1
  get x
  push 2
  mul
  ret
end
export func fail(x) -> 1
  push "k"
  push "v"
  sstore
  push "no"
  revert
end)");
  Address callee_addr = MakeAddress(0x77);
  host.contracts[callee_addr] = &callee;
  const char* src = R"(
export func go(to, name, x, gas) -> 2
  get to
  get name
  get x
  get gas
  xcall 1 1
  ret
end)";
  Value to = Value::FromBytes(Bytes(callee_addr.begin(), callee_addr.end()));
  ExecResult r = RunAsm(src, "go", {to, S("double"), I(21), I(10000)}, host);
  ASSERT_TRUE(r.ok()) << Describe(r);
  EXPECT_EQ(r.returns, (std::vector<Value>{I(42), I(1)}));
  r = RunAsm(src, "go", {to, S("fail"), I(1), I(10000)}, host);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.returns, (std::vector<Value>{I(0), I(0)}));
  EXPECT_TRUE(host.state.storage.empty());  // the callee's write was rolled back
  r = RunAsm(src, "go", {to, S("double"), I(21), I(3)}, host);  // too little gas for the callee
  EXPECT_EQ(r.returns, (std::vector<Value>{I(0), I(0)}));
  r = RunAsm(src, "go", {to, S("missing"), I(21), I(10000)}, host);
  EXPECT_EQ(r.returns, (std::vector<Value>{I(0), I(0)}));
  r = RunAsm(src, "go", {S("bad"), S("double"), I(21), I(10000)}, host);
  EXPECT_EQ(r.reason, "bad_address");
  r = RunAsm(src, "go", {to, S("double"), I(21), I(-1)}, host);
  EXPECT_EQ(r.reason, "out_of_range");
  // At the depth limit the call fails without reaching the host.
  Module m = MustAssemble(src);
  size_t calls = host.log.size();
  r = Execute(m, "go", {to, S("double"), I(21), I(10000)}, 100000, host, kMaxCallDepth);
  EXPECT_EQ(r.returns, (std::vector<Value>{I(0), I(0)}));
  EXPECT_EQ(host.log.size(), calls);
}

TEST(OpcodeTest, MemoryLimit) {
  // A local of 4096 bytes plus 256 stack copies exceeds kMaxMemory (1 MiB) at the last copy.
  std::string src = "export func f() -> 0\n  local x\n  push 0x";
  for (int i = 0; i < 4096; ++i) src += "ab";
  src += "\n  set x\n  get x\n";
  for (int i = 0; i < 255; ++i) src += "  dup\n";
  for (int i = 0; i < 256; ++i) src += "  pop\n";
  src += "  ret\nend\n";
  MockHost host;
  ExecResult r = RunAsm(src, "f", {}, host, 10'000'000);
  EXPECT_EQ(r.status, ExecStatus::kTrap) << Describe(r);
  EXPECT_EQ(r.reason, "memory_limit");
}

TEST(OpcodeTest, BadCalls) {
  MockHost host;
  const char* src = R"(
export func f(a) -> 1
  get a
  ret
end
func hidden() -> 0
  ret
end)";
  EXPECT_EQ(RunAsm(src, "nope", {I(1)}, host).reason, "no_such_function");
  EXPECT_EQ(RunAsm(src, "hidden", {}, host).reason, "no_such_function");
  EXPECT_EQ(RunAsm(src, "f", {}, host).reason, "bad_arguments");
  EXPECT_EQ(RunAsm(src, "f", {Value::FromBytes(Bytes(kMaxValueSize + 1))}, host).reason,
            "bad_arguments");
  Module m = MustAssemble(src);
  ExecResult r = Execute(m, "f", {I(1)}, 1000, host, kMaxCallDepth + 1);
  EXPECT_EQ(r.status, ExecStatus::kBadCall);
  EXPECT_EQ(r.reason, "call_depth_exceeded");
  EXPECT_EQ(r.gas_used, 0u);
  EXPECT_EQ(host.snapshots_taken, 0);
}

}  // namespace
}  // namespace civitas::vm::testing
