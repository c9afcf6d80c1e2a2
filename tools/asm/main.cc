// civitas-asm: assemble .casm source into module bytes, or disassemble module bytes.
//   civitas-asm assemble IN.casm -o OUT.bin
//   civitas-asm disassemble IN.bin

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>

#include "node/build_info.h"
#include "tools/asm/assembler.h"

namespace {

int Usage() {
  std::cerr << "usage: civitas-asm assemble IN.casm -o OUT.bin\n"
               "       civitas-asm disassemble IN.bin\n"
               "       civitas-asm --version\n";
  return 2;
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::string(argv[1]) == "--version") {
    std::cout << civitas::node::VersionLine("civitas-asm") << "\n";
    return 0;
  }
  if (argc < 3) return Usage();
  const std::string cmd = argv[1];
  std::string input;
  if (!ReadFile(argv[2], &input)) {
    std::cerr << "civitas-asm: cannot read " << argv[2] << "\n";
    return 1;
  }
  if (cmd == "assemble") {
    if (argc != 5 || std::string(argv[3]) != "-o") return Usage();
    auto bytes = civitas::casm::Assemble(input);
    if (!bytes.ok()) {
      std::cerr << argv[2] << ": " << bytes.ToString() << "\n";
      return 1;
    }
    std::ofstream out(argv[4], std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes->data()),
              static_cast<std::streamsize>(bytes->size()));
    if (!out) {
      std::cerr << "civitas-asm: cannot write " << argv[4] << "\n";
      return 1;
    }
    return 0;
  }
  if (cmd == "disassemble") {
    if (argc != 3) return Usage();
    auto text = civitas::casm::Disassemble(
        civitas::vm::ByteView(reinterpret_cast<const uint8_t*>(input.data()), input.size()));
    if (!text.ok()) {
      std::cerr << argv[2] << ": " << text.ToString() << "\n";
      return 1;
    }
    std::cout << *text;
    return 0;
  }
  return Usage();
}
