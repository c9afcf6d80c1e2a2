#include "node/build_info.h"

// Set by node/CMakeLists.txt on this file alone.
#ifndef CIVITAS_BUILD_VERSION
#error "CIVITAS_BUILD_VERSION is defined by the build"
#endif

namespace civitas::node {

std::string_view BuildVersion() { return CIVITAS_BUILD_VERSION; }
std::string_view BuildCommit() { return CIVITAS_BUILD_COMMIT; }
std::string_view BuildType() { return CIVITAS_BUILD_TYPE; }

std::string VersionLine(std::string_view program) {
  std::string line(program);
  line += " ";
  line += BuildVersion();
  line += " (commit ";
  line += BuildCommit();
  line += ", ";
  line += BuildType();
  line += ")";
  return line;
}

}  // namespace civitas::node
