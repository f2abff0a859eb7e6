#include "core/chrono.h"

#include <cstdio>
#include <ctime>
#include <limits>
#include <utility>

namespace aim {
namespace {

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

bool leap(int year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int days_in_month(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && leap(year) ? 29 : kDays[month - 1];
}

}  // namespace

namespace {

// Unix seconds and microseconds of an RFC 3339 timestamp.
std::optional<std::pair<int64_t, int64_t>> parse_parts(std::string_view s) {
  int year, mon, day, hour, min, sec;
  if (s.size() < 20 || !digits(s, 0, 4, year) || s[4] != '-' || !digits(s, 5, 2, mon) ||
      s[7] != '-' || !digits(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !digits(s, 11, 2, hour) || s[13] != ':' || !digits(s, 14, 2, min) || s[16] != ':' ||
      !digits(s, 17, 2, sec))
    return std::nullopt;
  if (mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon) || hour > 23 || min > 59 ||
      sec > 60)  // 60: a leap second, as RFC 3339 allows
    return std::nullopt;
  std::size_t pos = 19;
  int64_t micros = 0;
  if (s[pos] == '.') {
    const std::size_t first = ++pos;
    for (; pos < s.size() && s[pos] >= '0' && s[pos] <= '9'; ++pos)
      if (pos - first < 6) micros = micros * 10 + (s[pos] - '0');
    if (pos == first) return std::nullopt;
    for (std::size_t n = pos - first; n < 6; ++n) micros *= 10;
  }
  int64_t offset = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !digits(s, pos + 4, 2, om) || oh > 23 || om > 59)
      return std::nullopt;
    offset = (oh * int64_t{3600} + om * int64_t{60}) * (s[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  const int64_t unix_seconds = static_cast<int64_t>(timegm(&tm)) - offset;
  // Callers hold times as std::chrono::system_clock time points: nanoseconds in 64 bits, about
  // 1677-09-21 to 2262-04-11. Converting a time outside ("0226-01-01T00:00:00Z", year 9999)
  // overflows, so it is rejected here (found by fuzz/chrono_fuzz.cpp).
  constexpr int64_t kLimit = std::numeric_limits<int64_t>::max() / 1000000000 - 1;
  if (unix_seconds < -kLimit || unix_seconds > kLimit) return std::nullopt;
  return std::make_pair(unix_seconds, micros);
}

}  // namespace

std::optional<int64_t> parse_rfc3339(std::string_view text) {
  auto parts = parse_parts(text);
  if (!parts) return std::nullopt;
  return parts->first;
}

std::optional<std::chrono::system_clock::time_point> parse_rfc3339_time(std::string_view text) {
  auto parts = parse_parts(text);
  if (!parts) return std::nullopt;
  return std::chrono::system_clock::from_time_t(static_cast<std::time_t>(parts->first)) +
         std::chrono::microseconds(parts->second);
}

std::string format_rfc3339(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string format_rfc3339_micro(std::chrono::system_clock::time_point t) {
  const auto us =
      std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  const int64_t secs = us >= 0 ? us / 1000000 : (us - 999999) / 1000000;
  std::string out = format_rfc3339(secs);
  char frac[24];  // ".123456"; sized for any long long, so -O2 sees no truncation
  std::snprintf(frac, sizeof frac, ".%06lld", static_cast<long long>(us - secs * 1000000));
  out.insert(out.size() - 1, frac);
  return out;
}

Result<std::chrono::nanoseconds, std::string> parse_go_duration(std::string_view text) {
  auto invalid = [&](const std::string& why) {
    return fail("invalid duration \"" + std::string(text) + "\"" + (why.empty() ? "" : ": " + why));
  };
  std::string_view s = text;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return std::chrono::nanoseconds(0);
  if (s.empty()) return invalid(text.empty() ? "empty" : "");
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  uint64_t total = 0;
  while (!s.empty()) {
    // The number: integer part, then an optional fraction (at least one digit in all).
    uint64_t whole = 0;
    std::size_t i = 0;
    bool overflow = false;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
      if (whole > (kMax - static_cast<uint64_t>(s[i] - '0')) / 10) overflow = true;
      if (!overflow) whole = whole * 10 + static_cast<uint64_t>(s[i] - '0');
    }
    if (overflow) return invalid("too large");
    const bool had_whole = i > 0;
    uint64_t frac = 0, frac_scale = 1;
    bool had_frac = false;
    if (i < s.size() && s[i] == '.') {
      for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
        had_frac = true;
        if (frac_scale > kMax / 10) continue;  // digits beyond int64 precision are dropped
        frac = frac * 10 + static_cast<uint64_t>(s[i] - '0');
        frac_scale *= 10;
      }
    }
    if (!had_whole && !had_frac) return invalid("");
    s.remove_prefix(i);
    // The unit: everything up to the next digit or '.'.
    std::size_t u = 0;
    while (u < s.size() && s[u] != '.' && (s[u] < '0' || s[u] > '9')) ++u;
    std::string_view unit = s.substr(0, u);
    s.remove_prefix(u);
    uint64_t scale = 0;
    if (unit == "ns")
      scale = 1;
    else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs")
      scale = 1000;
    else if (unit == "ms")
      scale = 1000000;
    else if (unit == "s")
      scale = 1000000000;
    else if (unit == "m")
      scale = 60000000000ULL;
    else if (unit == "h")
      scale = 3600000000000ULL;
    else if (unit.empty())
      return invalid("missing unit");
    else
      return invalid("unknown unit \"" + std::string(unit) + "\"");
    if (whole > kMax / scale) return invalid("too large");
    uint64_t v = whole * scale;
    if (frac > 0) {
      // frac / frac_scale of a unit, rounded as Go rounds it (through floating point).
      long double part = static_cast<long double>(frac) *
                         (static_cast<long double>(scale) / static_cast<long double>(frac_scale));
      v += static_cast<uint64_t>(part);
      if (v > kMax) return invalid("too large");
    }
    total += v;
    if (total > kMax) return invalid("too large");
  }
  const auto n = static_cast<int64_t>(total);
  return std::chrono::nanoseconds(neg ? -n : n);
}

std::string format_go_duration(std::chrono::nanoseconds d) {
  const int64_t ns = d.count();
  if (ns == 0) return "0s";
  std::string sign = ns < 0 ? "-" : "";
  uint64_t u = ns < 0 ? static_cast<uint64_t>(-(ns + 1)) + 1 : static_cast<uint64_t>(ns);
  auto frac = [](uint64_t v, uint64_t unit) {
    std::string s = std::to_string(v / unit);
    uint64_t rest = v % unit;
    if (rest == 0) return s;
    std::string digits = std::to_string(rest);
    std::string width = std::to_string(unit - 1);
    digits.insert(0, width.size() - digits.size(), '0');
    while (!digits.empty() && digits.back() == '0') digits.pop_back();
    return s + "." + digits;
  };
  if (u < 1000) return sign + std::to_string(u) + "ns";
  if (u < 1000000) return sign + frac(u, 1000) + "\xC2\xB5s";
  if (u < 1000000000) return sign + frac(u, 1000000) + "ms";
  uint64_t h = u / 3600000000000ULL;
  uint64_t rem = u % 3600000000000ULL;
  uint64_t m = rem / 60000000000ULL;
  rem %= 60000000000ULL;
  std::string out = sign;
  if (h > 0) out += std::to_string(h) + "h";
  if (h > 0 || m > 0) out += std::to_string(m) + "m";
  return out + frac(rem, 1000000000) + "s";
}

}  // namespace aim
