#pragma once

// The nation's system contracts as built from genesis/contracts/*.casm (docs/NATION.md). The
// bytecode is embedded at build time (genesis/CMakeLists.txt: civitas_system_contracts, part of
// civitas_civic below the ledger); genesis deploys each at SystemAddress(name). The library
// depends on nothing else of ours.

#include <span>
#include <string_view>

namespace civitas::nation {

struct SystemContract {
  std::string_view name;  // "did_registry", "citizenship", "governance", "treasury"
  std::string_view code;  // module bytes, valid for vm::Validate
};

// In deployment order. The storage lives for the whole program.
std::span<const SystemContract> SystemContracts();

}  // namespace civitas::nation
