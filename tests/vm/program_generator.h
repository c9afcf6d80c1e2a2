#pragma once

// A seeded generator of random, valid VM modules for the differential test and the benchmark.
// Programs are built with a model of the operand stack (height and likely types), so most of
// them run for a while; some instructions are deliberately chosen with the wrong types so that
// every trap is reached too. The same seed gives the same module on every machine.

#include <cstdint>
#include <vector>

#include "vm/vm.h"

namespace civitas::vm::testing {

// The address at which the differential test registers the generated module itself, so that
// `xcall` re-enters it.
Address GeneratedSelfAddress();

struct GeneratedProgram {
  Bytes module;             // encoded; Validate accepts it
  std::vector<Value> args;  // arguments for the exported function "f0"
  uint64_t gas_limit;
};

GeneratedProgram GenerateProgram(uint64_t seed);

}  // namespace civitas::vm::testing
