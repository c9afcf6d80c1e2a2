#pragma once

// A second, deliberately simple interpreter of the same instruction set, written from
// docs/VM.md without sharing code with vm/interpreter.cc (only the opcode table and the gas
// constants, which are the specification). It keeps one std::vector per frame for locals and
// for the stack, decodes every instruction with bounds checks, and recomputes memory use from
// scratch after every instruction. The differential test demands that it and vm::Execute agree
// on status, reason, gas, results and every host call.

#include <string_view>
#include <vector>

#include "vm/vm.h"

namespace civitas::vm::reference {

ExecResult Execute(const Module& module, std::string_view function, std::vector<Value> args,
                   uint64_t gas_limit, Host& host, uint32_t depth = 0);

}  // namespace civitas::vm::reference
