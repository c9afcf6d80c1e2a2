#pragma once

// The instruction set, defined once. Everything else is generated from this table: the Opcode
// enum (an opcode's byte is its row number), the interpreter's dispatch table, base gas, the
// validator's stack effects and immediates, and the assembler's and disassembler's mnemonics.
// docs/VM.md describes each instruction; keep the two in step.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace civitas::vm {

// Immediate operand layouts (all little-endian).
enum class Imm : uint8_t {
  kNone,    // no operand
  kI64,     // 8 bytes: signed integer
  kConst,   // u16: constant-pool index
  kLocal,   // u8: local index
  kTarget,  // u16: byte offset of an instruction in the same function
  kFunc,    // u16: function index
  kArity,   // u8 argument count, u8 result count (xcall)
};

inline constexpr int kVariable = -1;  // stack effect depends on the immediate or the callee

// X(Name, mnemonic, immediate, pops, pushes, base gas)
#define CIVITAS_VM_OPCODES(X)                          \
  X(Nop, "nop", kNone, 0, 0, 1)                        \
  X(Pop, "pop", kNone, 1, 0, 1)                        \
  X(Dup, "dup", kNone, 1, 2, 1)                        \
  X(Over, "over", kNone, 2, 3, 1)                      \
  X(Swap, "swap", kNone, 2, 2, 3)                      \
  X(PushI, "push", kI64, 0, 1, 1)                      \
  X(PushC, "push", kConst, 0, 1, 2)                    \
  X(Get, "get", kLocal, 0, 1, 1)                       \
  X(Set, "set", kLocal, 1, 0, 1)                       \
  X(Add, "add", kNone, 2, 1, 2)                        \
  X(Sub, "sub", kNone, 2, 1, 2)                        \
  X(Mul, "mul", kNone, 2, 1, 3)                        \
  X(Div, "div", kNone, 2, 1, 4)                        \
  X(Mod, "mod", kNone, 2, 1, 4)                        \
  X(Neg, "neg", kNone, 1, 1, 2)                        \
  X(Eq, "eq", kNone, 2, 1, 2)                          \
  X(Ne, "ne", kNone, 2, 1, 2)                          \
  X(Lt, "lt", kNone, 2, 1, 2)                          \
  X(Le, "le", kNone, 2, 1, 2)                          \
  X(Gt, "gt", kNone, 2, 1, 2)                          \
  X(Ge, "ge", kNone, 2, 1, 2)                          \
  X(And, "and", kNone, 2, 1, 2)                        \
  X(Or, "or", kNone, 2, 1, 2)                          \
  X(Xor, "xor", kNone, 2, 1, 2)                        \
  X(BNot, "bnot", kNone, 1, 1, 2)                      \
  X(Not, "not", kNone, 1, 1, 2)                        \
  X(Shl, "shl", kNone, 2, 1, 2)                        \
  X(Shr, "shr", kNone, 2, 1, 2)                        \
  X(Len, "len", kNone, 1, 1, 2)                        \
  X(Concat, "concat", kNone, 2, 1, 3)                  \
  X(Slice, "slice", kNone, 3, 1, 3)                    \
  X(ByteAt, "byteat", kNone, 2, 1, 2)                  \
  X(Itob, "itob", kNone, 1, 1, 4)                      \
  X(Btoi, "btoi", kNone, 1, 1, 3)                      \
  X(TypeOf, "typeof", kNone, 1, 1, 1)                  \
  X(Jmp, "jmp", kTarget, 0, 0, 2)                      \
  X(Jz, "jz", kTarget, 1, 0, 2)                        \
  X(Jnz, "jnz", kTarget, 1, 0, 2)                      \
  X(Call, "call", kFunc, kVariable, kVariable, 10)     \
  X(Ret, "ret", kNone, kVariable, 0, 2)                \
  X(Revert, "revert", kNone, 1, 0, 2)                  \
  X(SLoad, "sload", kNone, 1, 2, 1600)                 \
  X(SStore, "sstore", kNone, 2, 0, 10000)              \
  X(SDel, "sdel", kNone, 1, 0, 8000)                   \
  X(Caller, "caller", kNone, 0, 1, 5)                  \
  X(Origin, "origin", kNone, 0, 1, 5)                  \
  X(Self, "self", kNone, 0, 1, 5)                      \
  X(Height, "height", kNone, 0, 1, 2)                  \
  X(Time, "time", kNone, 0, 1, 2)                      \
  X(Emit, "emit", kNone, 2, 0, 1000)                   \
  X(Balance, "balance", kNone, 1, 1, 1500)             \
  X(Transfer, "transfer", kNone, 2, 1, 25000)          \
  X(Sha256, "sha256", kNone, 1, 1, 30)                 \
  X(Verify, "verify", kNone, 3, 1, 14000)              \
  X(XCall, "xcall", kArity, kVariable, kVariable, 700) \
  X(SetCode, "setcode", kNone, 2, 1, 5000)             \
  X(IsKey, "iskey", kNone, 1, 1, 2000)

enum class Opcode : uint8_t {
#define CIVITAS_VM_ENUM(name, mnemonic, imm, pops, pushes, gas) k##name,
  CIVITAS_VM_OPCODES(CIVITAS_VM_ENUM)
#undef CIVITAS_VM_ENUM
};

struct OpInfo {
  std::string_view mnemonic;
  Imm imm;
  int pops;
  int pushes;
  uint32_t gas;
};

inline constexpr OpInfo kOpTable[] = {
#define CIVITAS_VM_INFO(name, mnemonic, imm, pops, pushes, gas) \
  {mnemonic, Imm::imm, pops, pushes, gas},
    CIVITAS_VM_OPCODES(CIVITAS_VM_INFO)
#undef CIVITAS_VM_INFO
};
inline constexpr size_t kNumOpcodes = sizeof(kOpTable) / sizeof(kOpTable[0]);

// Bytes an immediate occupies after the opcode byte.
constexpr size_t ImmSize(Imm imm) {
  switch (imm) {
    case Imm::kNone:
      return 0;
    case Imm::kI64:
      return 8;
    case Imm::kLocal:
      return 1;
    case Imm::kConst:
    case Imm::kTarget:
    case Imm::kFunc:
    case Imm::kArity:
      return 2;
  }
  return 0;
}

// True for instructions after which control never falls through to the next one.
constexpr bool IsTerminal(Opcode op) {
  return op == Opcode::kJmp || op == Opcode::kRet || op == Opcode::kRevert;
}

// The opcode with this mnemonic; "push" is ambiguous (PushI or PushC) and yields PushI.
std::optional<Opcode> OpcodeByMnemonic(std::string_view mnemonic);

}  // namespace civitas::vm
