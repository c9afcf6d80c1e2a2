#pragma once

// What this binary is: the project version (CMake `project(VERSION ...)`), the git commit the
// build was configured from ("unknown" outside a git checkout) and the CMake build type. Every
// binary prints it for --version; civitasd exports it as the civitas_build_info metric and in
// GetStatus (docs/OPERATIONS.md, "Versions"). A target of its own without dependencies, so that
// a new commit recompiles one file.

#include <string>
#include <string_view>

namespace civitas::node {

std::string_view BuildVersion();  // "0.1.0"
std::string_view BuildCommit();   // 12 hex digits, or "unknown"
std::string_view BuildType();     // "RelWithDebInfo", "Release", "Debug", ...
// "<program> <version> (commit <commit>, <build type>)": what --version prints.
std::string VersionLine(std::string_view program);

}  // namespace civitas::node
