// Benchmarks of the contract VM (docs/VM.md, "Performance"):
//   - simple instructions per second in a loop,
//   - a storage-heavy contract call (token transfer) against an in-memory mocked host,
//   - validating a module (what deploy costs),
//   - one BIP-340 signature verification, to compare a typical call with the signature check
//     that every transaction needs anyway.

#include <benchmark/benchmark.h>

#include <string>

#include "ledger/crypto.h"
#include "tests/vm/mock_host.h"
#include "tools/asm/assembler.h"
#include "vm/vm.h"

namespace {

using civitas::vm::Bytes;
using civitas::vm::ExecResult;
using civitas::vm::Module;
using civitas::vm::Value;
using civitas::vm::testing::MockHost;

Module MustLoad(std::string_view source) {
  auto bytes = civitas::casm::Assemble(source);
  if (!bytes.ok()) std::abort();
  auto m = civitas::vm::Validate(*bytes);
  if (!m.ok()) std::abort();
  return std::move(m).value();
}

// 11 instructions per iteration.
constexpr std::string_view kLoop = R"(
export func sum(n) -> 1
  local acc
loop:
  get n
  jz done
  get acc
  get n
  add
  set acc
  get n
  push 1
  sub
  set n
  jmp loop
done:
  get acc
  ret
end
)";

constexpr std::string_view kToken = R"(
export func transfer(to, amount)
  local from_balance
  caller
  call balance_of
  set from_balance
  get from_balance
  get amount
  lt
  jz enough
  push "insufficient balance"
  revert
enough:
  caller
  get from_balance
  get amount
  sub
  call store
  get to
  get to
  call balance_of
  get amount
  add
  call store
  push "transfer"
  caller
  get to
  concat
  emit
  ret
end

func balance_of(who) -> 1
  push "bal:"
  get who
  concat
  sload
  jz zero
  btoi
  ret
zero:
  pop
  push 0
  ret
end

func store(who, amount)
  push "bal:"
  get who
  concat
  get amount
  itob
  sstore
  ret
end
)";

void BM_ArithmeticLoop(benchmark::State& state) {
  Module m = MustLoad(kLoop);
  MockHost host;
  const int64_t n = state.range(0);
  for (auto _ : state) {
    ExecResult r = civitas::vm::Execute(m, "sum", {Value::Int(n)}, UINT64_MAX / 2, host);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * (n * 11 + 4));  // instructions executed
}
BENCHMARK(BM_ArithmeticLoop)->Arg(100000);

void BM_TokenTransferCall(benchmark::State& state) {
  Module m = MustLoad(kToken);
  MockHost host;
  std::string key = "bal:" + std::string(host.caller.begin(), host.caller.end());
  Bytes balance(8, 0);
  balance[0] = 0x7f;
  host.state.storage[civitas::vm::testing::ToBytes(key)] = balance;
  Value to = Value::FromBytes(Bytes(20, 0xb0));
  uint64_t gas = 0;
  for (auto _ : state) {
    ExecResult r = civitas::vm::Execute(m, "transfer", {to, Value::Int(1)}, 1'000'000, host);
    if (!r.ok()) state.SkipWithError("transfer failed");
    gas = r.gas_used;
    host.state.events.clear();
    host.log.clear();
  }
  state.counters["gas"] = static_cast<double>(gas);
}
BENCHMARK(BM_TokenTransferCall);

void BM_ValidateToken(benchmark::State& state) {
  auto bytes = civitas::casm::Assemble(kToken);
  for (auto _ : state) {
    auto m = civitas::vm::Validate(*bytes);
    benchmark::DoNotOptimize(m);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes->size()));
}
BENCHMARK(BM_ValidateToken);

void BM_Bip340Verify(benchmark::State& state) {
  auto key = civitas::crypto::SecretKey::Generate();
  std::string msg = "civitas transaction body of a typical size, about one hundred bytes long.....";
  auto sig = civitas::crypto::SignTagged(key, "civitas/tx/v1", msg);
  // The whole cost, key parsing included (no parsed-key cache), as V1 measures it.
  for (auto _ : state) {
    civitas::Hash32 h = civitas::crypto::TaggedHash("civitas/tx/v1", msg);
    bool ok = civitas::crypto::VerifyUncached(key.public_key(), civitas::AsStringView(h), sig);
    if (!ok) state.SkipWithError("bad signature");
    benchmark::DoNotOptimize(ok);
  }
}
BENCHMARK(BM_Bip340Verify);

}  // namespace

BENCHMARK_MAIN();
