#include "node/log.h"

#include <spdlog/pattern_formatter.h>

#include <atomic>
#include <nlohmann/json.hpp>

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

// `text` as a JSON string literal, quotes included; invalid UTF-8 becomes U+FFFD.
std::string JsonString(std::string_view text) {
  return nlohmann::json(std::string(text))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// `text` taken literally inside an spdlog pattern.
std::string PatternLiteral(std::string_view text) {
  std::string out;
  for (char c : text) out += c == '%' ? std::string("%%") : std::string(1, c);
  return out;
}

// "%*" in a JSON pattern: the message as a JSON string.
class JsonMessageFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    const std::string quoted = JsonString(std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(quoted.data(), quoted.data() + quoted.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonMessageFlag>();
  }
};

}  // namespace

std::unique_ptr<spdlog::formatter> MakeLogFormatter(std::string_view format,
                                                    std::string_view moniker) {
  auto f = std::make_unique<spdlog::pattern_formatter>();
  if (format == "json") {
    // Module names (%n) and level names (%l) are fixed ASCII words: no escaping needed.
    f->add_flag<JsonMessageFlag>('*').set_pattern(
        R"({"ts":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","node":)" +
        PatternLiteral(JsonString(moniker)) + R"(,"module":"%n","msg":%*})");
  } else {
    f->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ [" + PatternLiteral(moniker) + " %n] %v");
  }
  return f;
}

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

void SetUpLoggers(const LogLevels& levels, spdlog::sink_ptr sink, std::string_view format,
                  std::string_view moniker) {
  for (size_t m = 0; m < loggers.size(); ++m) {
    auto logger = std::make_shared<spdlog::logger>(std::string(kModuleNames[m]), sink);
    logger->set_formatter(MakeLogFormatter(format, moniker));
    logger->set_level(levels.modules[m]);
    loggers[m] = logger;
  }
  ready.store(true, std::memory_order_release);
}

void SetLogLevels(const LogLevels& levels) {
  if (!ready.load(std::memory_order_acquire)) return;
  for (size_t m = 0; m < loggers.size(); ++m) loggers[m]->set_level(levels.modules[m]);
  spdlog::default_logger_raw()->set_level(levels.modules[0]);
}

spdlog::logger& Log(Module m) {
  if (!ready.load(std::memory_order_acquire)) return *spdlog::default_logger_raw();
  return *loggers[static_cast<size_t>(m)];
}

}  // namespace civitas::node
