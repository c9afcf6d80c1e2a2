// libFuzzer target for the contract VM: the module decoder and validator, the value decoder and
// the assembler take arbitrary bytes; every module the validator accepts is run through both
// the fast and the reference interpreter, which must agree. Any crash, sanitizer report or
// disagreement is a bug. Run it with scripts/fuzz-vm.sh SECONDS.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tests/vm/mock_host.h"
#include "tests/vm/reference_interpreter.h"
#include "tools/asm/assembler.h"
#include "vm/vm.h"

namespace {

using civitas::vm::ExecResult;
using civitas::vm::Value;
using civitas::vm::testing::MockHost;

void Prepare(MockHost& host, const civitas::vm::Module* self, MockHost::Executor executor) {
  host.state.storage[civitas::vm::testing::ToBytes("key")] = civitas::vm::Bytes(8, 1);
  host.state.balances[host.self] = 10;
  host.contracts[host.self] = self;
  host.executor = executor;
}

bool Same(const ExecResult& a, const ExecResult& b) {
  return a.status == b.status && a.reason == b.reason && a.gas_used == b.gas_used &&
         a.returns == b.returns;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  civitas::vm::ByteView input(data, size);
  (void)civitas::vm::DecodeValues(input);
  (void)civitas::casm::Assemble(std::string_view(reinterpret_cast<const char*>(data), size));

  auto module = civitas::vm::Validate(input);
  if (!module.ok()) return 0;
  // An accepted module re-encodes to the same bytes and disassembles to text that assembles back.
  if (civitas::vm::EncodeModule(module->def()) != civitas::vm::Bytes(input.begin(), input.end())) {
    std::abort();
  }
  auto text = civitas::casm::Disassemble(input);
  if (!text.ok()) std::abort();
  auto again = civitas::casm::Assemble(*text);
  if (!again.ok() || *again != civitas::vm::Bytes(input.begin(), input.end())) std::abort();

  for (const auto& f : module->def().functions) {
    if (!f.exported) continue;
    std::vector<Value> args;
    for (size_t i = 0; i < f.num_params; ++i) {
      args.push_back(i % 2 ? Value::FromString("key") : Value::Int(static_cast<int64_t>(i)));
    }
    MockHost fast_host, ref_host;
    Prepare(fast_host, &*module, &civitas::vm::Execute);
    Prepare(ref_host, &*module, &civitas::vm::reference::Execute);
    ExecResult fast = civitas::vm::Execute(*module, f.name, args, 20000, fast_host);
    ExecResult ref = civitas::vm::reference::Execute(*module, f.name, args, 20000, ref_host);
    if (!Same(fast, ref) || fast_host.log != ref_host.log || !(fast_host.state == ref_host.state)) {
      std::abort();
    }
  }
  return 0;
}
