#include "node/log.h"

#include <atomic>

namespace civitas::node {
namespace {

std::array<std::shared_ptr<spdlog::logger>, static_cast<size_t>(Module::kCount)> loggers;
std::atomic<bool> ready{false};

bool Level(std::string_view name, spdlog::level::level_enum& out) {
  for (auto [text, level] : {std::pair{"trace", spdlog::level::trace},
                             {"debug", spdlog::level::debug},
                             {"info", spdlog::level::info},
                             {"warn", spdlog::level::warn},
                             {"error", spdlog::level::err},
                             {"off", spdlog::level::off}}) {
    if (name == text) {
      out = level;
      return true;
    }
  }
  return false;
}

}  // namespace

Result<LogLevels> ParseLogLevels(std::string_view spec) {
  LogLevels out;
  bool have_default = false;
  std::array<bool, static_cast<size_t>(Module::kCount)> set{};
  while (!spec.empty()) {
    size_t comma = spec.find(',');
    std::string_view item = spec.substr(0, comma);
    spec = comma == std::string_view::npos ? std::string_view() : spec.substr(comma + 1);
    size_t eq = item.find('=');
    spdlog::level::level_enum level;
    if (eq == std::string_view::npos) {
      if (have_default || !Level(item, level)) {
        return Status::Invalid("bad_config", "log level '" + std::string(item) +
                                                 "' is not one of trace, debug, info, warn, "
                                                 "error, off (or module=level)");
      }
      out.fallback = level;
      have_default = true;
      continue;
    }
    std::string_view module = item.substr(0, eq);
    size_t m = 0;
    while (m < kModuleNames.size() && kModuleNames[m] != module) ++m;
    if (m == kModuleNames.size()) {
      return Status::Invalid("bad_config", "unknown log module '" + std::string(module) +
                                               "' (node, consensus, p2p, mempool, api)");
    }
    if (!Level(item.substr(eq + 1), level)) {
      return Status::Invalid("bad_config", "bad level in '" + std::string(item) + "'");
    }
    out.modules[m] = level;
    set[m] = true;
  }
  for (size_t m = 0; m < set.size(); ++m) {
    if (!set[m]) out.modules[m] = out.fallback;
  }
  return out;
}

void SetUpLoggers(const LogLevels& levels, spdlog::sink_ptr sink, const std::string& pattern) {
  for (size_t m = 0; m < loggers.size(); ++m) {
    auto logger = std::make_shared<spdlog::logger>(std::string(kModuleNames[m]), sink);
    logger->set_pattern(pattern);
    logger->set_level(levels.modules[m]);
    loggers[m] = logger;
  }
  ready.store(true, std::memory_order_release);
}

spdlog::logger& Log(Module m) {
  if (!ready.load(std::memory_order_acquire)) return *spdlog::default_logger_raw();
  return *loggers[static_cast<size_t>(m)];
}

}  // namespace civitas::node
