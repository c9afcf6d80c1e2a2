#pragma once

// Per-module loggers. Each module logs through Log(kModule); the level of each is set from the
// config's `log.level`, e.g. "info" or "info,p2p=debug,consensus=warn" (docs/OPERATIONS.md).
// Until SetUpLoggers runs (tests, tools) every module logs through spdlog's default logger.
//
// Thread safety: SetUpLoggers once at start-up, before other threads log; Log from any thread.

#include <spdlog/spdlog.h>

#include <array>
#include <memory>
#include <string>
#include <string_view>

#include "ledger/status.h"

namespace civitas::node {

enum class Module { kNode, kConsensus, kP2p, kMempool, kApi, kCount };
inline constexpr std::array<std::string_view, static_cast<size_t>(Module::kCount)> kModuleNames = {
    "node", "consensus", "p2p", "mempool", "api"};

// The parsed `log.level`: a default level and per-module overrides.
struct LogLevels {
  spdlog::level::level_enum fallback = spdlog::level::info;
  std::array<spdlog::level::level_enum, static_cast<size_t>(Module::kCount)> modules{};
};
// Reason: bad_config, naming the unknown level or module.
Result<LogLevels> ParseLogLevels(std::string_view spec);

// The layout of a log line, by the config's `log.format`: "plain" (a timestamp, the level,
// "[moniker module]" and the message) or "json" (one object per line: ts, level, node, module,
// msg). In JSON the message and the moniker are escaped as JSON strings, invalid UTF-8 as
// U+FFFD, so text from a peer or a client (quotes, newlines, any bytes) stays inside its field
// and every line parses. Any other `format` is read as "plain" (ValidateConfig refuses it).
std::unique_ptr<spdlog::formatter> MakeLogFormatter(std::string_view format,
                                                    std::string_view moniker);

// Creates one logger per module sharing `sink`'s output, formatted by MakeLogFormatter.
void SetUpLoggers(const LogLevels& levels, spdlog::sink_ptr sink, std::string_view format,
                  std::string_view moniker);

// Changes the modules' levels after SetUpLoggers (SIGHUP reloads `log.level`). Any thread.
void SetLogLevels(const LogLevels& levels);

spdlog::logger& Log(Module m);

}  // namespace civitas::node
