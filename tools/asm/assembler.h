#pragma once

// The Civitas contract assembly language (.casm) and its assembler and disassembler.
// The language is described in docs/VM.md ("Assembly language"). In short:
//
//   ; a comment runs to the end of the line
//   const "balance"                   ; optional: fixes the constant pool's order
//   export func add(a, b) -> 1        ; parameters are locals; "-> N" declares N results
//     local sum                       ; more named locals, initialised to 0
//     get a
//     get b
//     add
//     ret
//   end
//
// Integers are decimal (`push -5`); byte strings are "quoted" (escapes \" \\ \n \t \xNN) or
// 0x-hex (`push 0xdead`). Jumps name a label (`loop:` on its own line); calls name a function.
//
// Disassemble(Assemble(text)) assembles back to the same bytes, and so does the disassembly of
// any module that vm::Validate accepts.

#include <string>
#include <string_view>

#include "vm/vm.h"

namespace civitas::casm {

// Assembles `source` into module bytes that vm::Validate accepts. On failure reason() is
// "syntax" (message "line N: ...") or the validator's reason.
vm::Result<vm::Bytes> Assemble(std::string_view source);

// Validates `module` and prints it as assembly text.
vm::Result<std::string> Disassemble(vm::ByteView module);

}  // namespace civitas::casm
