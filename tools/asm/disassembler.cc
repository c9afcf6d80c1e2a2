// The disassembler: prints a validated module so that assembling the text gives back the same
// bytes. The constant pool is printed first (it fixes the pool's order); instructions then quote
// constants inline, which is unambiguous because the validator refuses duplicate constants.

#include <set>
#include <string>

#include "tools/asm/assembler.h"
#include "vm/opcodes.h"

namespace civitas::casm {
namespace {

std::string Literal(const vm::Bytes& b) {
  bool printable = true;
  for (uint8_t c : b) printable = printable && c >= 0x20 && c <= 0x7e;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  if (printable) {
    s.push_back('"');
    for (uint8_t c : b) {
      if (c == '"' || c == '\\') s.push_back('\\');
      s.push_back(static_cast<char>(c));
    }
    s.push_back('"');
  } else {
    s = "0x";
    for (uint8_t c : b) {
      s.push_back(kHex[c >> 4]);
      s.push_back(kHex[c & 15]);
    }
  }
  return s;
}

uint16_t U16At(const vm::Bytes& code, size_t pos) {
  return static_cast<uint16_t>(code[pos] | (code[pos + 1] << 8));
}

}  // namespace

vm::Result<std::string> Disassemble(vm::ByteView bytes) {
  auto validated = vm::Validate(bytes);
  if (!validated.ok()) {
    return vm::Result<std::string>::Error(validated.reason(), validated.message());
  }
  const vm::ModuleDef& def = validated->def();
  std::string out;
  out += "; civitas vm module: " + std::to_string(def.functions.size()) + " function(s), " +
         std::to_string(def.constants.size()) + " constant(s)\n";
  for (const vm::Bytes& c : def.constants) out += "const " + Literal(c) + "\n";
  for (const vm::FunctionDef& f : def.functions) {
    out += "\n";
    if (f.exported) out += "export ";
    out += "func " + f.name + "(";
    for (size_t i = 0; i < f.num_params; ++i) out += (i ? ", " : "") + f.locals[i];
    out += ")";
    if (f.num_results > 0) out += " -> " + std::to_string(f.num_results);
    out += "\n";
    if (f.locals.size() > f.num_params) {
      out += "  local ";
      for (size_t i = f.num_params; i < f.locals.size(); ++i) {
        out += (i > f.num_params ? ", " : "") + f.locals[i];
      }
      out += "\n";
    }
    const vm::Bytes& code = f.code;
    std::set<size_t> targets;
    for (size_t pc = 0; pc < code.size();) {
      const vm::OpInfo& info = vm::kOpTable[code[pc]];
      if (info.imm == vm::Imm::kTarget) targets.insert(U16At(code, pc + 1));
      pc += 1 + vm::ImmSize(info.imm);
    }
    for (size_t pc = 0; pc < code.size();) {
      if (targets.count(pc)) out += "L" + std::to_string(pc) + ":\n";
      const vm::OpInfo& info = vm::kOpTable[code[pc]];
      out += "  " + std::string(info.mnemonic);
      switch (info.imm) {
        case vm::Imm::kNone:
          break;
        case vm::Imm::kI64: {
          uint64_t v = 0;
          for (int i = 7; i >= 0; --i) v = (v << 8) | code[pc + 1 + i];
          out += " " + std::to_string(static_cast<int64_t>(v));
          break;
        }
        case vm::Imm::kConst:
          out += " " + Literal(def.constants[U16At(code, pc + 1)]);
          break;
        case vm::Imm::kLocal:
          out += " " + f.locals[code[pc + 1]];
          break;
        case vm::Imm::kTarget:
          out += " L" + std::to_string(U16At(code, pc + 1));
          break;
        case vm::Imm::kFunc:
          out += " " + def.functions[U16At(code, pc + 1)].name;
          break;
        case vm::Imm::kArity:
          out += " " + std::to_string(code[pc + 1]) + " " + std::to_string(code[pc + 2]);
          break;
      }
      out += "\n";
      pc += 1 + vm::ImmSize(info.imm);
    }
    out += "end\n";
  }
  return out;
}

}  // namespace civitas::casm
