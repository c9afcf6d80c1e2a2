#pragma once

// Files in tests: what a test reads back from disk (logs, ledger files, certificates).

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace civitas::testing {

// The whole file at `path`, bytes as stored; empty when it cannot be opened.
inline std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace civitas::testing
