// The assembly language: assemble -> disassemble -> assemble is the identity on every example
// program and on hand-made modules; errors name the line.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/vm/test_util.h"
#include "vm/opcodes.h"

namespace civitas::vm::testing {
namespace {

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void ExpectRoundTrip(const Bytes& bytes) {
  auto text = casm::Disassemble(bytes);
  ASSERT_TRUE(text.ok()) << text.ToString();
  auto again = casm::Assemble(*text);
  ASSERT_TRUE(again.ok()) << again.ToString() << "\n" << *text;
  EXPECT_EQ(*again, bytes) << *text;
  auto text2 = casm::Disassemble(*again);
  ASSERT_TRUE(text2.ok());
  EXPECT_EQ(*text2, *text);
}

TEST(AsmTest, ExampleProgramsRoundTrip) {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(CIVITAS_VM_PROGRAMS)) {
    if (entry.path().extension() != ".casm") continue;
    SCOPED_TRACE(entry.path().string());
    auto bytes = casm::Assemble(ReadFile(entry.path()));
    ASSERT_TRUE(bytes.ok()) << bytes.ToString();
    ExpectRoundTrip(*bytes);
    ++count;
  }
  EXPECT_GE(count, 3);
}

TEST(AsmTest, HandMadeModuleRoundTrips) {
  // Unused constants, unreachable code and a non-printable constant survive the round trip.
  ModuleDef def;
  def.constants = {Bytes{0, 1, 2}, Bytes{'u', 'n', 'u', 's', 'e', 'd'}, Bytes{'q', '"', '\\'}};
  FunctionDef f;
  f.name = "main";
  f.exported = true;
  f.num_results = 1;
  f.locals = {"x"};
  auto op = [](Opcode o) { return static_cast<uint8_t>(o); };
  f.code = {op(Opcode::kPushC),
            2,
            0,
            op(Opcode::kPop),
            op(Opcode::kPushC),
            0,
            0,
            op(Opcode::kRet),
            op(Opcode::kAdd),
            op(Opcode::kXCall),
            2,
            3};
  def.functions.push_back(f);
  ExpectRoundTrip(EncodeModule(def));
}

TEST(AsmTest, EveryMnemonicAssembles) {
  // One line per instruction, only checking that the text form is accepted by the assembler
  // (the validator then refuses most of it for stack reasons, which is fine here).
  for (size_t i = 0; i < kNumOpcodes; ++i) {
    std::string line(kOpTable[i].mnemonic);
    switch (kOpTable[i].imm) {
      case Imm::kI64:
        line += " 1";
        break;
      case Imm::kConst:
        line += " \"c\"";
        break;
      case Imm::kLocal:
        line += " x";
        break;
      case Imm::kTarget:
        line += " top";
        break;
      case Imm::kFunc:
        line += " f";
        break;
      case Imm::kArity:
        line += " 0 0";
        break;
      case Imm::kNone:
        break;
    }
    auto r = casm::Assemble("func f(x)\ntop:\n  " + line + "\n  ret\nend\n");
    EXPECT_NE(r.reason(), "syntax") << line << ": " << r.message();
  }
}

TEST(AsmTest, SyntaxErrorsNameTheLine) {
  struct Case {
    const char* source;
    const char* message;
  };
  const Case cases[] = {
      {"func f()\n  frobnicate\n  ret\nend", "line 2: unknown instruction 'frobnicate'"},
      {"func f()\n  jmp nowhere\n  ret\nend", "line 2: unknown label 'nowhere'"},
      {"func f()\n  get y\n  ret\nend", "line 2: unknown local 'y'"},
      {"func f()\n  call g\n  ret\nend", "line 2: unknown function 'g'"},
      {"func f()\n  push \"abc\n  ret\nend", "line 2: unterminated string"},
      {"func f()\n  ret\n", "line 1: function 'f' has no 'end'"},
      {"func f()\na:\na:\n  ret\nend", "line 3: label 'a' defined twice"},
      {"func f()\n  push 0xabc\n  ret\nend", "line 2: hex bytes need an even number of digits"},
      {"func f()\n  push 99999999999999999999\n  ret\nend",
       "line 2: bad integer '99999999999999999999'"},
      {"func f()\n  add 1\n  ret\nend", "line 2: 'add' takes 0 operand(s)"},
      {"func f(\n  ret\nend", "line 1: ')' expected"},
      {"oops\n", "line 1: 'const' or 'func' expected"},
      {"", "line 0: no functions"},
  };
  for (const Case& c : cases) {
    auto r = casm::Assemble(c.source);
    ASSERT_FALSE(r.ok()) << c.source;
    EXPECT_EQ(r.reason(), "syntax");
    EXPECT_EQ(r.message(), c.message);
  }
}

TEST(AsmTest, ValidatorErrorsPassThrough) {
  auto r = casm::Assemble("func f() -> 1\n  add\n  ret\nend");
  EXPECT_EQ(r.reason(), "stack_underflow");
  r = casm::Assemble("func f()\n  push 1\nend");
  EXPECT_EQ(r.reason(), "falls_off_end");
}

TEST(AsmTest, DisassembleRefusesInvalidBytes) {
  EXPECT_EQ(casm::Disassemble(Bytes{1, 2, 3}).reason(), "bad_magic");
}

}  // namespace
}  // namespace civitas::vm::testing
