// Records are formatted here and handed to spdlog as finished lines ("%v" pattern), so spdlog
// provides the thread-safe, flushed stderr sink and we control the exact line shape.
#include "kube/log.h"

#include <fmt/format.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <ctime>
#include <mutex>

#include "core/strings.h"

namespace aim::kube::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
std::atomic<int> g_format{static_cast<int>(Format::kJson)};

spdlog::logger& sink() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto l =
        std::make_shared<spdlog::logger>("aim", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    l->set_pattern("%v");
    l->set_level(spdlog::level::trace);
    l->flush_on(spdlog::level::trace);
    return l;
  }();
  return *logger;
}

std::string_view level_name(Level l) {
  switch (l) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
    case Level::kOff:
      break;
  }
  return "off";
}

std::string timestamp() {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03d}Z", buf, ms);
}

std::string text_value(const nlohmann::json& v) {
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    bool plain = !s.empty() && std::none_of(s.begin(), s.end(), [](unsigned char c) {
      return std::isspace(c) || c == '"' || c == '=';
    });
    return plain ? s : v.dump();
  }
  return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

void init(Format format, Level level) {
  g_format.store(static_cast<int>(format));
  g_level.store(static_cast<int>(level));
}

Level level() {
  return static_cast<Level>(g_level.load(std::memory_order_relaxed));
}

bool parse_level(std::string_view text, Level& out) {
  auto t = ascii_lower(text);
  if (t == "debug") {
    out = Level::kDebug;
  } else if (t == "info") {
    out = Level::kInfo;
  } else if (t == "warn" || t == "warning") {
    out = Level::kWarn;
  } else if (t == "error") {
    out = Level::kError;
  } else {
    return false;
  }
  return true;
}

bool parse_format(std::string_view text, Format& out) {
  auto t = ascii_lower(text);
  if (t == "json") {
    out = Format::kJson;
  } else if (t == "text" || t == "console") {
    out = Format::kText;
  } else {
    return false;
  }
  return true;
}

std::string format_record(Format format, Level level, std::string_view logger,
                          std::string_view message, const Fields& base, const Fields& fields) {
  if (format == Format::kJson) {
    // Field order: the fixed keys first, then fields in the order given (ordered_json).
    nlohmann::ordered_json j;
    j["ts"] = timestamp();
    j["level"] = std::string(level_name(level));
    j["logger"] = std::string(logger);
    j["msg"] = std::string(message);
    for (const auto* list : {&base, &fields}) {
      for (const auto& [k, v] : *list) {
        // Reserved keys cannot be overwritten by a field; prefix them instead.
        const bool reserved = k == "ts" || k == "level" || k == "logger" || k == "msg";
        j[reserved ? "field." + k : k] = v;
      }
    }
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  std::string out =
      fmt::format("{} {:<5} {} {}", timestamp(), ascii_lower(level_name(level)), logger, message);
  for (const auto* list : {&base, &fields}) {
    for (const auto& [k, v] : *list) out += fmt::format(" {}={}", k, text_value(v));
  }
  return out;
}

Logger Logger::with(std::initializer_list<Field> fields) const {
  Logger child = *this;
  child.base_.insert(child.base_.end(), fields.begin(), fields.end());
  return child;
}

Logger Logger::named(std::string_view suffix) const {
  Logger child = *this;
  child.name_ = name_.empty() ? std::string(suffix) : name_ + "." + std::string(suffix);
  return child;
}

void Logger::write(Level l, std::string_view msg, std::initializer_list<Field> fields) const {
  if (!enabled(l)) return;
  Fields extra(fields.begin(), fields.end());
  auto line = format_record(static_cast<Format>(g_format.load(std::memory_order_relaxed)), l, name_,
                            msg, base_, extra);
  sink().log(spdlog::level::info, "{}", line);
}

}  // namespace aim::kube::log
