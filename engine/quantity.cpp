#include "engine/quantity.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>

namespace aim::engine {

std::optional<std::int64_t> quantity_value(const nlohmann::json& q) {
  // Everything below 2^63 fits in int64 (long double holds such integers exactly). The bound
  // was 9.2e18, so "9223192238622286222" was rejected while the same JSON number was accepted
  // (found by fuzz/quantity_fuzz.cpp).
  constexpr long double kLimit = 9223372036854775808.0L;
  if (q.is_number_integer()) {
    auto v = q.get<std::int64_t>();
    return v >= 0 ? std::optional<std::int64_t>(v) : std::nullopt;
  }
  if (q.is_number_float()) {
    long double v = q.get<double>();
    if (!(v >= 0) || v >= kLimit) return std::nullopt;
    return static_cast<std::int64_t>(std::ceil(v));
  }
  if (!q.is_string()) return std::nullopt;
  std::string s = q.get<std::string>();
  const auto b = s.find_first_not_of(" \t");
  const auto e = s.find_last_not_of(" \t");
  s = b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
  std::size_t i = 0;
  if (i < s.size() && s[i] == '+') ++i;
  const std::size_t digits_begin = i;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  const std::string number = s.substr(digits_begin, i - digits_begin);
  if (number.empty() || number == "." || std::count(number.begin(), number.end(), '.') > 1) {
    return std::nullopt;
  }
  static constexpr std::pair<std::string_view, long double> kSuffixes[] = {
      {"", 1.0L},
      {"m", 1e-3L},
      {"k", 1e3L},
      {"M", 1e6L},
      {"G", 1e9L},
      {"T", 1e12L},
      {"P", 1e15L},
      {"E", 1e18L},
      {"Ki", 1024.0L},
      {"Mi", 1048576.0L},
      {"Gi", 1073741824.0L},
      {"Ti", 1099511627776.0L},
      {"Pi", 1125899906842624.0L},
      {"Ei", 1152921504606846976.0L},
  };
  const std::string_view suffix = std::string_view(s).substr(i);
  for (const auto& [sfx, mult] : kSuffixes) {
    if (suffix != sfx) continue;
    long double v = std::strtold(number.c_str(), nullptr) * mult;
    if (!(v >= 0) || v >= kLimit) return std::nullopt;
    return static_cast<std::int64_t>(std::ceil(v));
  }
  return std::nullopt;
}

}  // namespace aim::engine
