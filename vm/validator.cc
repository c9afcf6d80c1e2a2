// The deploy-time validator. What it proves (docs/VM.md, "Validation") is what lets the
// interpreter skip bounds checks: every instruction decodes, every immediate is in range, every
// jump lands on an instruction, the operand stack height at each reachable instruction is one
// fixed number within [0, kMaxStackHeight], pops never exceed it, `ret` leaves exactly the
// declared results, and no path runs past the end of a function.

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "vm/opcodes.h"
#include "vm/vm.h"

namespace civitas::vm {
namespace {

using R = Result<Module>;

bool IsIdentifier(std::string_view s) {
  if (s.empty() || s.size() > kMaxNameLength) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    bool digit = c >= '0' && c <= '9';
    if (!(alpha || (digit && i > 0))) return false;
  }
  return true;
}

uint16_t U16At(const Bytes& code, size_t pos) {
  return static_cast<uint16_t>(code[pos] | (code[pos + 1] << 8));
}

// Checks function `index`; on success stores its maximal stack height in *max_stack.
R CheckFunction(const ModuleDef& def, size_t index, uint16_t* max_stack) {
  const FunctionDef& f = def.functions[index];
  const std::string fn = "function '" + f.name + "'";
  auto at = [&](size_t pc) { return fn + " at offset " + std::to_string(pc); };

  if (f.num_params > kMaxParams) {
    return R::Error("too_many_params", fn + " has " + std::to_string(f.num_params));
  }
  if (f.num_results > kMaxResults) {
    return R::Error("too_many_results", fn + " has " + std::to_string(f.num_results));
  }
  if (f.locals.size() > kMaxLocals) {
    return R::Error("too_many_locals", fn + " has " + std::to_string(f.locals.size()));
  }
  if (f.locals.size() < f.num_params) {
    return R::Error("bad_locals", fn + " names fewer locals than it has parameters");
  }
  std::set<std::string_view> names;
  for (const std::string& l : f.locals) {
    if (!IsIdentifier(l)) return R::Error("bad_name", fn + " has local name '" + l + "'");
    if (!names.insert(l).second) {
      return R::Error("duplicate_local", fn + " declares local '" + l + "' twice");
    }
  }
  const Bytes& code = f.code;
  if (code.empty()) return R::Error("falls_off_end", fn + " has no code");

  // Pass 1: instruction boundaries and immediates.
  std::vector<bool> is_start(code.size(), false);
  for (size_t pc = 0; pc < code.size();) {
    uint8_t op = code[pc];
    if (op >= kNumOpcodes) {
      return R::Error("bad_opcode", at(pc) + ": unknown opcode " + std::to_string(op));
    }
    const OpInfo& info = kOpTable[op];
    size_t size = 1 + ImmSize(info.imm);
    if (pc + size > code.size()) {
      return R::Error("truncated_instruction", at(pc) + ": '" + std::string(info.mnemonic) +
                                                   "' runs past the end of the code");
    }
    is_start[pc] = true;
    switch (info.imm) {
      case Imm::kLocal:
        if (code[pc + 1] >= f.locals.size()) {
          return R::Error("bad_local_index", at(pc) + ": local " + std::to_string(code[pc + 1]));
        }
        break;
      case Imm::kConst:
        if (U16At(code, pc + 1) >= def.constants.size()) {
          return R::Error("bad_constant_index",
                          at(pc) + ": constant " + std::to_string(U16At(code, pc + 1)));
        }
        break;
      case Imm::kFunc:
        if (U16At(code, pc + 1) >= def.functions.size()) {
          return R::Error("bad_function_index",
                          at(pc) + ": function " + std::to_string(U16At(code, pc + 1)));
        }
        break;
      case Imm::kArity:
        if (code[pc + 1] > kMaxParams || code[pc + 2] > kMaxResults) {
          return R::Error("bad_arity", at(pc) + ": xcall with " + std::to_string(code[pc + 1]) +
                                           " arguments and " + std::to_string(code[pc + 2]) +
                                           " results");
        }
        break;
      case Imm::kNone:
      case Imm::kI64:
      case Imm::kTarget:
        break;
    }
    pc += size;
  }

  // Every jump target, reachable or not, is an instruction (so any valid module disassembles to
  // labels that exist).
  for (size_t pc = 0; pc < code.size(); pc += 1 + ImmSize(kOpTable[code[pc]].imm)) {
    if (kOpTable[code[pc]].imm != Imm::kTarget) continue;
    const size_t target = U16At(code, pc + 1);
    if (target >= code.size() || !is_start[target]) {
      return R::Error("bad_jump_target",
                      at(pc) + ": target " + std::to_string(target) + " is not an instruction");
    }
  }

  // Pass 2: stack heights along every path from the entry.
  std::vector<int> height(code.size(), -1);
  std::vector<size_t> work;
  int max_height = 0;
  auto reach = [&](size_t target, int h, size_t from) -> R {
    if (target >= code.size() || !is_start[target]) {
      return R::Error("bad_jump_target",
                      at(from) + ": target " + std::to_string(target) + " is not an instruction");
    }
    if (height[target] < 0) {
      height[target] = h;
      work.push_back(target);
    } else if (height[target] != h) {
      return R::Error("stack_mismatch", at(target) + ": reached with stack heights " +
                                            std::to_string(height[target]) + " and " +
                                            std::to_string(h));
    }
    return Module();
  };
  height[0] = 0;
  work.push_back(0);
  while (!work.empty()) {
    size_t pc = work.back();
    work.pop_back();
    const int h = height[pc];
    const Opcode op = static_cast<Opcode>(code[pc]);
    const OpInfo& info = kOpTable[code[pc]];
    int pops = info.pops;
    int pushes = info.pushes;
    if (op == Opcode::kCall) {
      const FunctionDef& callee = def.functions[U16At(code, pc + 1)];
      pops = callee.num_params;
      pushes = callee.num_results;
    } else if (op == Opcode::kXCall) {
      pops = code[pc + 1] + 3;
      pushes = code[pc + 2] + 1;
    } else if (op == Opcode::kRet) {
      if (h != f.num_results) {
        return R::Error("bad_return_height", at(pc) + ": ret with " + std::to_string(h) +
                                                 " values on the stack, function returns " +
                                                 std::to_string(f.num_results));
      }
      pops = h;
    }
    if (h < pops) {
      return R::Error("stack_underflow", at(pc) + ": '" + std::string(info.mnemonic) + "' needs " +
                                             std::to_string(pops) + " values, stack has " +
                                             std::to_string(h));
    }
    const int nh = h - pops + pushes;
    if (nh > static_cast<int>(kMaxStackHeight)) {
      return R::Error("stack_overflow", at(pc) + ": stack height " + std::to_string(nh));
    }
    max_height = std::max(max_height, nh);
    const size_t next = pc + 1 + ImmSize(info.imm);
    if (info.imm == Imm::kTarget) {
      R r = reach(U16At(code, pc + 1), nh, pc);
      if (!r.ok()) return r;
    }
    if (!IsTerminal(op)) {
      if (next >= code.size()) {
        return R::Error("falls_off_end", at(pc) + ": execution can run past the end");
      }
      R r = reach(next, nh, pc);
      if (!r.ok()) return r;
    }
  }
  *max_stack = static_cast<uint16_t>(max_height);
  return Module();
}

}  // namespace

Result<Module> Validate(ByteView bytes) {
  auto decoded = DecodeModule(bytes);
  if (!decoded.ok()) return R::Error(decoded.reason(), decoded.message());
  Module m;
  m.def_ = std::move(decoded).value();
  const ModuleDef& def = m.def_;

  std::vector<const Bytes*> sorted;
  for (const Bytes& c : def.constants) sorted.push_back(&c);
  std::sort(sorted.begin(), sorted.end(), [](const Bytes* a, const Bytes* b) { return *a < *b; });
  for (size_t i = 1; i < sorted.size(); ++i) {
    if (*sorted[i] == *sorted[i - 1]) {
      return R::Error("duplicate_constant", "the constant pool holds a value twice");
    }
  }
  std::set<std::string_view> names;
  for (const FunctionDef& f : def.functions) {
    if (!IsIdentifier(f.name)) return R::Error("bad_name", "function name '" + f.name + "'");
    if (!names.insert(f.name).second) {
      return R::Error("duplicate_function", "function '" + f.name + "' is defined twice");
    }
  }
  m.max_stack_.resize(def.functions.size());
  for (size_t i = 0; i < def.functions.size(); ++i) {
    R r = CheckFunction(def, i, &m.max_stack_[i]);
    if (!r.ok()) return r;
  }
  return m;
}

}  // namespace civitas::vm
