// Structured logging for the operator: one line per record, either JSON (for log pipelines,
// the default in a cluster) or a human-readable text form (for terminals). Each record has a
// level, a logger name ("controller.model", "leader-election"), a message and key-value fields.
//
//   auto log = aim::kube::log::Logger("controller.model").with({{"namespace", ns}});
//   log.info("reconciled", {{"name", name}, {"duration_ms", 12}});
//
// Fields are JSON values, so strings, numbers and booleans keep their types in JSON output.
// Never put a secret in a field.
#pragma once

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aim::kube::log {

enum class Format { kJson, kText };
enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };

using Field = std::pair<std::string, nlohmann::json>;
using Fields = std::vector<Field>;

// Process-wide settings; safe to call at any time (later records use the new settings).
void init(Format format, Level level);
// "debug", "info", "warn"/"warning", "error" (case-insensitive); nullopt-like false on bad input.
bool parse_level(std::string_view text, Level& out);
bool parse_format(std::string_view text, Format& out);
Level level();

// Renders one record without writing it (exposed for tests).
std::string format_record(Format format, Level level, std::string_view logger,
                          std::string_view message, const Fields& base, const Fields& fields);

class Logger {
 public:
  explicit Logger(std::string name = "aim-engine") : name_(std::move(name)) {}

  // A child logger with extra fields attached to every record.
  Logger with(std::initializer_list<Field> fields) const;
  // A child logger named "<this>.<suffix>".
  Logger named(std::string_view suffix) const;
  const std::string& name() const { return name_; }

  void debug(std::string_view msg, std::initializer_list<Field> fields = {}) const {
    write(Level::kDebug, msg, fields);
  }
  void info(std::string_view msg, std::initializer_list<Field> fields = {}) const {
    write(Level::kInfo, msg, fields);
  }
  void warn(std::string_view msg, std::initializer_list<Field> fields = {}) const {
    write(Level::kWarn, msg, fields);
  }
  void error(std::string_view msg, std::initializer_list<Field> fields = {}) const {
    write(Level::kError, msg, fields);
  }
  bool enabled(Level l) const { return l >= level(); }

 private:
  void write(Level l, std::string_view msg, std::initializer_list<Field> fields) const;

  std::string name_;
  Fields base_;
};

}  // namespace aim::kube::log
