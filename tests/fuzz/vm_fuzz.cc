// libFuzzer target: contract bytecode and the VM's other decoders of untrusted bytes (the module
// decoder and validator, the value decoder, the assembler). Never crash; an accepted module
// re-encodes to the same bytes and disassembles to text that assembles back to them. Executing
// what validates is vm_diff_fuzz's job.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tests/fuzz/fuzz_util.h"
#include "tools/asm/assembler.h"
#include "vm/vm.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using civitas::fuzz::Require;
  civitas::vm::ByteView input(data, size);
  (void)civitas::vm::DecodeValues(input);
  (void)civitas::casm::Assemble(civitas::fuzz::AsView(data, size));

  auto module = civitas::vm::Validate(input);
  if (!module.ok()) return 0;
  const civitas::vm::Bytes bytes(input.begin(), input.end());
  Require(civitas::vm::EncodeModule(module->def()) == bytes, "module re-encoding");
  auto text = civitas::casm::Disassemble(input);
  Require(text.ok(), "disassemble an accepted module");
  auto again = civitas::casm::Assemble(*text);
  Require(again.ok() && *again == bytes, "disassembly assembles back");
  return 0;
}
