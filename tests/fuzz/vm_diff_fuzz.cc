// libFuzzer target: the VM differential check. Two executions of the same program, one by the
// fast interpreter (vm::Execute) and one by the reference interpreter (tests/vm), against
// identical mock hosts, must agree on status, reason, gas, results, every host call and the
// final host state.
//
// Input: a module the validator accepts is run as is (every exported function, fixed args);
// anything else of at least 8 bytes is a program-generator seed (u64 little-endian) followed by
// mutations (u16 offset, u8 xor mask) applied to the generated module, which is run if it still
// validates. The generator gives the fuzzer deep, type-correct programs to start from.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "tests/fuzz/fuzz_util.h"
#include "tests/vm/mock_host.h"
#include "tests/vm/program_generator.h"
#include "tests/vm/reference_interpreter.h"
#include "vm/vm.h"

namespace {

namespace vm = civitas::vm;
using vm::ExecResult;
using vm::Value;
using vm::testing::MockHost;

constexpr uint64_t kMaxGas = 20000;

void Prepare(MockHost& host, const vm::Module* self, MockHost::Executor executor) {
  host.self = vm::testing::GeneratedSelfAddress();
  host.state.storage[vm::testing::ToBytes("key")] = vm::Bytes(8, 1);
  host.state.storage[vm::testing::ToBytes("a")] = vm::Bytes(50, 'z');
  host.state.balances[host.self] = 50;
  host.contracts[host.self] = self;
  host.executor = executor;
}

void RunBoth(const vm::Module& module, std::string_view function, const std::vector<Value>& args,
             uint64_t gas) {
  MockHost fast_host, ref_host;
  Prepare(fast_host, &module, &vm::Execute);
  Prepare(ref_host, &module, &vm::reference::Execute);
  ExecResult fast = vm::Execute(module, function, args, gas, fast_host);
  ExecResult ref = vm::reference::Execute(module, function, args, gas, ref_host);
  using civitas::fuzz::Require;
  Require(fast.status == ref.status && fast.reason == ref.reason, "status or reason differ");
  Require(fast.gas_used == ref.gas_used, "gas differs");
  Require(fast.returns == ref.returns, "results differ");
  Require(fast_host.log == ref_host.log, "host calls differ");
  Require(fast_host.state == ref_host.state, "host state differs");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vm::ByteView input(data, size);
  if (auto module = vm::Validate(input); module.ok()) {
    for (const auto& f : module->def().functions) {
      if (!f.exported) continue;
      std::vector<Value> args;
      for (size_t i = 0; i < f.num_params; ++i) {
        args.push_back(i % 2 ? Value::FromString("key") : Value::Int(static_cast<int64_t>(i)));
      }
      RunBoth(*module, f.name, args, kMaxGas);
    }
    return 0;
  }
  if (size < 8) return 0;
  uint64_t seed = 0;
  for (int i = 7; i >= 0; --i) seed = seed << 8 | data[i];
  vm::testing::GeneratedProgram p = vm::testing::GenerateProgram(seed);
  for (size_t i = 8; i + 3 <= size && !p.module.empty(); i += 3) {
    size_t at = (data[i] | data[i + 1] << 8) % p.module.size();
    p.module[at] ^= data[i + 2];
  }
  auto module = vm::Validate(p.module);
  if (!module.ok()) return 0;
  RunBoth(*module, "f0", p.args, std::min(p.gas_limit, kMaxGas * 10));
  return 0;
}
