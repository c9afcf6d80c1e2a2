#pragma once

// Command-line parsing shared by every binary (docs/OPERATIONS.md, "Operator conventions"):
// --version prints node/build_info.h's line, and a usage error exits 2 (CLI11's own codes are
// 100 and up, which scripts cannot tell from a failed command).

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "node/build_info.h"

namespace civitas::node {

// The exit status of a command line that was not understood.
inline constexpr int kUsageExit = 2;

// Adds --version to `app`, printing VersionLine(program).
inline void AddVersionFlag(CLI::App& app, const std::string& program) {
  app.set_version_flag("--version", VersionLine(program), "print the version and exit");
}

// Parses argv into `app`. nullopt: parsed, run the command. Otherwise the process's exit status:
// 0 after --help or --version (printed on standard output), kUsageExit after a usage error
// (CLI11's message on standard error).
inline std::optional<int> ParseCommandLine(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
    return std::nullopt;
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == static_cast<int>(CLI::ExitCodes::Success) ? 0 : kUsageExit;
  }
}

}  // namespace civitas::node
