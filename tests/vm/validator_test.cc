// The deploy-time validator: the documented test vector, and one refusal per reason.

#include <gtest/gtest.h>

#include <string>

#include "tests/vm/test_util.h"
#include "vm/opcodes.h"

namespace civitas::vm::testing {
namespace {

Bytes FromHexString(std::string_view hex) {
  Bytes out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

uint8_t Op(Opcode op) { return static_cast<uint8_t>(op); }

ModuleDef OneFunction(Bytes code, uint8_t params = 0, uint8_t results = 0,
                      std::vector<std::string> locals = {}) {
  FunctionDef f;
  f.name = "f";
  f.exported = true;
  f.num_params = params;
  f.num_results = results;
  f.locals = std::move(locals);
  f.code = std::move(code);
  ModuleDef def;
  def.functions.push_back(std::move(f));
  return def;
}

void ExpectRefused(const Bytes& bytes, std::string_view reason) {
  auto m = Validate(bytes);
  ASSERT_FALSE(m.ok()) << "accepted; expected " << reason;
  EXPECT_EQ(m.reason(), reason) << m.message();
  EXPECT_FALSE(m.message().empty());
}

void ExpectRefused(const ModuleDef& def, std::string_view reason) {
  ExpectRefused(EncodeModule(def), reason);
}

// docs/VM.md, "Test vector": keep in step.
constexpr std::string_view kVectorSource = R"(
export func greet(name) -> 1
  push "hi "
  get name
  concat
  ret
end
)";
constexpr std::string_view kVectorHex =
    "43564d0001"  // magic, version
    "0100"
    "0300"
    "686920"  // 1 constant: "hi "
    "0100"    // 1 function
    "05"
    "6772656574"  // name "greet"
    "01"
    "01"
    "01"  // exported, 1 parameter, 1 result
    "01"
    "04"
    "6e616d65"  // 1 local: "name"
    "0700"
    "060000"
    "0700"
    "1d"
    "27";  // 7 bytes of code

TEST(ValidatorTest, DocumentedTestVector) {
  auto bytes = casm::Assemble(kVectorSource);
  ASSERT_TRUE(bytes.ok()) << bytes.ToString();
  EXPECT_EQ(Hex(*bytes), kVectorHex);
  auto m = Validate(FromHexString(kVectorHex));
  ASSERT_TRUE(m.ok()) << m.ToString();
  MockHost host;
  ExecResult r = Execute(*m, "greet", {S("citizen")}, 1000, host);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.returns[0], S("hi citizen"));
  // push const 2 + 1 word, get 1 + 1 word, concat 3 + 2 words (10 bytes), ret 2.
  EXPECT_EQ(r.gas_used, 12u);
}

TEST(ValidatorTest, EncodeDecodeRoundTrip) {
  Bytes b = FromHexString(kVectorHex);
  auto def = DecodeModule(b);
  ASSERT_TRUE(def.ok());
  EXPECT_EQ(EncodeModule(*def), b);
}

TEST(ValidatorTest, FormatRefusals) {
  Bytes good = FromHexString(kVectorHex);
  ExpectRefused(Bytes{}, "bad_magic");
  Bytes b = good;
  b[0] = 'X';
  ExpectRefused(b, "bad_magic");
  b = good;
  b[4] = 2;
  ExpectRefused(b, "bad_version");
  for (size_t n = 4; n < good.size(); ++n) {
    ExpectRefused(Bytes(good.begin(), good.begin() + n), "truncated");
  }
  b = good;
  b.push_back(0);
  ExpectRefused(b, "trailing_bytes");
  ExpectRefused(Bytes(kMaxModuleSize + 1, 0), "module_too_large");
  b = FromHexString(
      "43564d0001"
      "0000"
      "0000");
  ExpectRefused(b, "no_functions");
  b = FromHexString(
      "43564d0001"
      "0104");  // 1025 constants
  b.resize(b.size() + 2);
  ExpectRefused(b, "too_many_constants");
  b = FromHexString(
      "43564d0001"
      "0100"
      "0110");  // a 4097-byte constant
  b.resize(b.size() + 4097 + 2);
  ExpectRefused(b, "constant_too_large");
  b = FromHexString(
      "43564d0001"
      "0000"
      "0101");  // 257 functions
  ExpectRefused(b, "too_many_functions");
  b = good;
  b[20] = 3;  // flags byte of "greet"
  ExpectRefused(b, "bad_flags");
}

TEST(ValidatorTest, ModuleRefusals) {
  ModuleDef def = OneFunction({Op(Opcode::kRet)});
  def.constants = {Bytes{1}, Bytes{1}};
  ExpectRefused(def, "duplicate_constant");
  def = OneFunction({Op(Opcode::kRet)});
  def.functions[0].name = "9lives";
  ExpectRefused(def, "bad_name");
  def.functions[0].name = std::string(kMaxNameLength + 1, 'a');
  ExpectRefused(def, "bad_name");
  def = OneFunction({Op(Opcode::kRet)});
  def.functions.push_back(def.functions[0]);
  ExpectRefused(def, "duplicate_function");
}

TEST(ValidatorTest, SignatureRefusals) {
  std::vector<std::string> many;
  for (size_t i = 0; i <= kMaxLocals; ++i) many.push_back("l" + std::to_string(i));
  ExpectRefused(OneFunction({Op(Opcode::kRet)}, kMaxParams + 1, 0, many), "too_many_params");
  ExpectRefused(OneFunction({Op(Opcode::kRet)}, 0, kMaxResults + 1), "too_many_results");
  ExpectRefused(OneFunction({Op(Opcode::kRet)}, 0, 0, many), "too_many_locals");
  ExpectRefused(OneFunction({Op(Opcode::kRet)}, 2, 0, {"a"}), "bad_locals");
  ExpectRefused(OneFunction({Op(Opcode::kRet)}, 0, 0, {"a b"}), "bad_name");
  ExpectRefused(OneFunction({Op(Opcode::kRet)}, 0, 0, {"a", "a"}), "duplicate_local");
}

TEST(ValidatorTest, CodeRefusals) {
  ExpectRefused(OneFunction({}), "falls_off_end");
  ExpectRefused(OneFunction({Op(Opcode::kNop)}), "falls_off_end");
  ExpectRefused(OneFunction({static_cast<uint8_t>(kNumOpcodes)}), "bad_opcode");
  ExpectRefused(OneFunction({0xff}), "bad_opcode");
  ExpectRefused(OneFunction({Op(Opcode::kPushI), 1, 2, 3}), "truncated_instruction");
  ExpectRefused(OneFunction({Op(Opcode::kGet), 0, Op(Opcode::kRet)}, 0, 1), "bad_local_index");
  ExpectRefused(OneFunction({Op(Opcode::kPushC), 0, 0, Op(Opcode::kRet)}, 0, 1),
                "bad_constant_index");
  ExpectRefused(OneFunction({Op(Opcode::kCall), 1, 0, Op(Opcode::kRet)}), "bad_function_index");
  ExpectRefused(OneFunction({Op(Opcode::kXCall), kMaxParams + 1, 0, Op(Opcode::kRet)}),
                "bad_arity");
  ExpectRefused(OneFunction({Op(Opcode::kJmp), 9, 0}), "bad_jump_target");
  // A jump into the middle of an instruction (the immediate of push).
  ExpectRefused(OneFunction({Op(Opcode::kJmp), 4, 0, Op(Opcode::kPushI), 0, 0, 0, 0, 0, 0, 0, 0,
                             Op(Opcode::kRet)},
                            0, 1),
                "bad_jump_target");
  // Two paths reach `ret` with different heights.
  ExpectRefused(OneFunction({Op(Opcode::kPushI), 0,  0, 0, 0, 0, 0, 0, 0,  // 0
                             Op(Opcode::kJz),    13, 0,                    // 9
                             Op(Opcode::kPushI), 0,  0, 0, 0, 0, 0, 0, 0,  // 12?
                             Op(Opcode::kRet)},
                            0, 0),
                "bad_jump_target");
  ExpectRefused(OneFunction({Op(Opcode::kPushI), 0,  0, 0, 0, 0, 0, 0, 0,  // 0
                             Op(Opcode::kJz),    21, 0,                    // 9
                             Op(Opcode::kPushI), 0,  0, 0, 0, 0, 0, 0, 0,  // 12
                             Op(Opcode::kRet)},                            // 21
                            0, 1),
                "stack_mismatch");
  ExpectRefused(OneFunction({Op(Opcode::kRet)}, 0, 1), "bad_return_height");
  ExpectRefused(OneFunction({Op(Opcode::kAdd), Op(Opcode::kRet)}), "stack_underflow");
  ExpectRefused(OneFunction({Op(Opcode::kRevert)}), "stack_underflow");
  ExpectRefused(OneFunction({Op(Opcode::kXCall), 0, 0, Op(Opcode::kRet)}), "stack_underflow");
  // A loop that pushes forever is caught as a mismatch; a long straight line as overflow.
  Bytes code;
  for (size_t i = 0; i <= kMaxStackHeight; ++i) code.push_back(Op(Opcode::kCaller));
  code.push_back(Op(Opcode::kRet));
  ExpectRefused(OneFunction(code), "stack_overflow");
  ExpectRefused(OneFunction({Op(Opcode::kCaller), Op(Opcode::kJmp), 0, 0}), "stack_mismatch");
}

TEST(ValidatorTest, UnreachableJumpsMustStillLandOnInstructions) {
  // Found by the fuzzer: an unreachable jump to nowhere was accepted and could not be
  // disassembled into a label that exists.
  ExpectRefused(OneFunction({Op(Opcode::kRet), Op(Opcode::kJmp), 0x06, 0x07}), "bad_jump_target");
}

TEST(ValidatorTest, UnreachableCodeIsAllowedButNeverRuns) {
  // `add` after `ret` is unreachable; its underflow is harmless and accepted.
  auto m = Validate(EncodeModule(OneFunction({Op(Opcode::kRet), Op(Opcode::kAdd)})));
  EXPECT_TRUE(m.ok()) << m.ToString();
}

TEST(ValidatorTest, ValuesEncoding) {
  std::vector<Value> v = {I(-1), S("ab"), I(0), Value::FromBytes({})};
  Bytes enc = EncodeValues(v);
  EXPECT_EQ(Hex(enc),
            "04"
            "00ffffffffffffffff"
            "010200"
            "6162"
            "000000000000000000"
            "010000");
  auto dec = DecodeValues(enc);
  ASSERT_TRUE(dec.ok());
  EXPECT_EQ(*dec, v);
  EXPECT_EQ(DecodeValues(Bytes{}).reason(), "truncated");
  EXPECT_EQ(DecodeValues(Bytes{1, 2}).reason(), "bad_tag");
  EXPECT_EQ(DecodeValues(Bytes{1, 0, 1}).reason(), "truncated");
  EXPECT_EQ(DecodeValues(Bytes{0, 0}).reason(), "trailing_bytes");
  EXPECT_EQ(DecodeValues(Bytes{1, 1, 0x01, 0x10}).reason(), "value_too_large");
}

}  // namespace
}  // namespace civitas::vm::testing
