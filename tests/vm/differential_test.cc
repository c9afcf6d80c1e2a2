// The differential check: thousands of random programs, each run by vm::Execute and by the
// reference interpreter against identical mock hosts. Status, reason, gas, results, every host
// call (storage writes, events, transfers, nested calls, in order) and the final host state must
// be identical.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

#include "tests/vm/program_generator.h"
#include "tests/vm/reference_interpreter.h"
#include "tests/vm/test_util.h"

// GCC 12 reports a false -Wstringop-overread when std::map compares short constant keys.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wstringop-overread"
#endif

namespace civitas::vm::testing {
namespace {

constexpr uint64_t kPrograms = 20000;

void Prepare(MockHost& host, const Module* self, MockHost::Executor executor) {
  host.self = GeneratedSelfAddress();
  host.state.storage[ToBytes("key")] = Bytes(8, 9);
  host.state.storage[ToBytes("a")] = Bytes(50, 'z');
  host.state.balances[host.self] = 50;
  host.contracts[host.self] = self;
  host.executor = executor;
}

TEST(DifferentialTest, FastAndReferenceInterpretersAgree) {
  std::map<std::string, int> outcomes;
  int rejected = 0;
  for (uint64_t seed = 1; seed <= kPrograms; ++seed) {
    GeneratedProgram p = GenerateProgram(seed);
    auto m = Validate(p.module);
    if (!m.ok()) {
      ++rejected;
      ADD_FAILURE() << "seed " << seed << ": generator made an invalid module: " << m.ToString();
      continue;
    }
    MockHost fast_host, ref_host;
    Prepare(fast_host, &*m, &vm::Execute);
    Prepare(ref_host, &*m, &reference::Execute);
    ExecResult fast = vm::Execute(*m, "f0", p.args, p.gas_limit, fast_host);
    ExecResult ref = reference::Execute(*m, "f0", p.args, p.gas_limit, ref_host);
    SCOPED_TRACE("seed " + std::to_string(seed));
    ASSERT_EQ(Describe(fast), Describe(ref)) << *casm::Disassemble(p.module);
    ASSERT_EQ(fast.returns, ref.returns);
    ASSERT_EQ(fast_host.log, ref_host.log);
    ASSERT_TRUE(fast_host.state == ref_host.state);
    ++outcomes[std::string(ExecStatusName(fast.status)) + " " + fast.reason];
  }
  EXPECT_EQ(rejected, 0);
  // The generator must reach the interesting outcomes, or the check proves little.
  std::string summary;
  for (const auto& [k, n] : outcomes) summary += k + ": " + std::to_string(n) + "\n";
  std::cout << summary;
  EXPECT_GT(outcomes["ok "], static_cast<int>(kPrograms / 10)) << summary;
  EXPECT_GT(outcomes["out_of_gas out_of_gas"], 10) << summary;
  EXPECT_GT(outcomes["trap type_mismatch"], 10) << summary;
  EXPECT_GT(outcomes["trap integer_overflow"], 10) << summary;
  EXPECT_GT(outcomes["revert no"], 10) << summary;
}

// Inputs the fuzzer once crashed on (tests/vm/fuzz_regressions): each is refused, or survives the
// same checks as in tests/fuzz/vm_fuzz.cc.
TEST(DifferentialTest, FuzzRegressionsStayFixed) {
  int count = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(CIVITAS_VM_PROGRAMS "/../fuzz_regressions")) {
    std::ifstream in(entry.path(), std::ios::binary);
    Bytes input((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    SCOPED_TRACE(entry.path().string());
    ++count;
    auto m = Validate(input);
    if (!m.ok()) continue;
    EXPECT_EQ(EncodeModule(m->def()), input);
    auto text = casm::Disassemble(input);
    ASSERT_TRUE(text.ok());
    auto again = casm::Assemble(*text);
    ASSERT_TRUE(again.ok()) << again.ToString();
    EXPECT_EQ(*again, input);
  }
  EXPECT_GE(count, 1);
}

}  // namespace
}  // namespace civitas::vm::testing
