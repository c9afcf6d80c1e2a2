#pragma once

// Helpers shared by the VM tests: assemble-or-fail, run one function against a MockHost.

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "tests/vm/mock_host.h"
#include "tools/asm/assembler.h"
#include "vm/vm.h"

namespace civitas::vm::testing {

inline Module MustAssemble(std::string_view source) {
  auto bytes = casm::Assemble(source);
  EXPECT_TRUE(bytes.ok()) << bytes.ToString() << "\n" << source;
  if (!bytes.ok()) return Module();
  auto m = Validate(*bytes);
  EXPECT_TRUE(m.ok()) << m.ToString();
  return m.ok() ? std::move(m).value() : Module();
}

inline ExecResult RunAsm(std::string_view source, std::string_view fn, std::vector<Value> args,
                         MockHost& host, uint64_t gas = 1'000'000) {
  Module m = MustAssemble(source);
  return Execute(m, fn, std::move(args), gas, host);
}

// Runs `body` as `export func f() -> results` with a fresh host.
inline ExecResult RunBody(std::string_view body, int results = 1, uint64_t gas = 1'000'000) {
  MockHost host;
  std::string src =
      "export func f() -> " + std::to_string(results) + "\n" + std::string(body) + "\nend\n";
  return RunAsm(src, "f", {}, host, gas);
}

inline Value I(int64_t v) { return Value::Int(v); }
inline Value S(std::string_view s) { return Value::FromString(s); }
inline Value B(std::initializer_list<uint8_t> b) { return Value::FromBytes(Bytes(b)); }

inline std::string Describe(const ExecResult& r) {
  std::string s = std::string(ExecStatusName(r.status)) + "(" + r.reason +
                  ") gas=" + std::to_string(r.gas_used) + " [";
  for (const Value& v : r.returns) s += v.ToString() + " ";
  return s + "]";
}

}  // namespace civitas::vm::testing
