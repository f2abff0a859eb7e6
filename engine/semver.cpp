#include "engine/semver.h"

#include <cctype>
#include <charconv>

namespace aim::engine {
namespace {

constexpr std::string_view kNumbers = "0123456789";
constexpr std::string_view kAlphanum =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789";

bool contains_only(std::string_view s, std::string_view set) {
  return s.find_first_not_of(set) == std::string_view::npos;
}

bool leading_zero(std::string_view s) {
  return s.size() > 1 && s[0] == '0';
}

std::optional<std::uint64_t> parse_u64(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.emplace_back(s.substr(start));
      return out;
    }
    out.emplace_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

Result<std::uint64_t, std::string> parse_number(std::string_view what, std::string_view s) {
  if (!contains_only(s, kNumbers)) {
    return fail("Invalid character(s) found in " + std::string(what) + " number \"" +
                std::string(s) + "\"");
  }
  if (leading_zero(s)) {
    return fail(std::string(what) + " number must not contain leading zeroes \"" + std::string(s) +
                "\"");
  }
  auto v = parse_u64(s);
  if (!v) return fail("invalid " + std::string(what) + " number \"" + std::string(s) + "\"");
  return *v;
}

// blang splitAndTrim: split on spaces, except a space right after '>', '<' or '='; then remove
// the remaining spaces inside each part. A trailing one-character part is dropped (as in blang).
std::vector<std::string> split_and_trim(std::string_view s) {
  std::vector<std::string> result;
  std::size_t last = 0;
  char last_char = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == ' ' && last_char != '>' && last_char != '<' && last_char != '=') {
      if (i > 0 && last < i - 1) result.emplace_back(s.substr(last, i - last));
      last = i + 1;
    } else if (s[i] != ' ') {
      last_char = s[i];
    }
  }
  if (s.size() > 0 && last < s.size() - 1) result.emplace_back(s.substr(last));
  for (auto& r : result) {
    std::string no_space;
    for (char c : r) {
      if (c != ' ') no_space.push_back(c);
    }
    r = no_space;
  }
  return result;
}

Result<std::pair<std::string, std::string>, std::string> split_comparator_version(
    const std::string& s) {
  std::size_t i = 0;
  while (i < s.size() && !std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  if (i == s.size()) return fail("Could not get version from string: \"" + s + "\"");
  std::string op = s.substr(0, i);
  while (!op.empty() && std::isspace(static_cast<unsigned char>(op.back()))) op.pop_back();
  while (!op.empty() && std::isspace(static_cast<unsigned char>(op.front()))) op.erase(0, 1);
  return std::make_pair(op, s.substr(i));
}

enum class Wildcard { kNone, kMajor, kMinor, kPatch };

Wildcard wildcard_type(const std::string& v) {
  auto parts = split(v, '.');
  if (parts.back() != "x") return Wildcard::kNone;
  switch (parts.size()) {
    case 1:
      return Wildcard::kMajor;
    case 2:
      return Wildcard::kMinor;
    case 3:
      return Wildcard::kPatch;
    default:
      return Wildcard::kNone;
  }
}

std::string replace_first(std::string s, std::string_view from, std::string_view to) {
  auto pos = s.find(from);
  if (pos != std::string::npos) s.replace(pos, from.size(), to);
  return s;
}

std::string version_from_wildcard(const std::string& v) {
  std::string s = replace_first(v, ".x.x", ".x");
  s = replace_first(s, ".x", ".0");
  if (split(s, '.').size() == 2) return s + ".0";
  return s;
}

std::string increment_major(const std::string& v) {
  auto parts = split(v, '.');
  auto n = parse_u64(parts[0]);
  if (!n) return "";
  return std::to_string(*n + 1) + ".0.0";
}

std::string increment_minor(const std::string& v) {
  auto parts = split(v, '.');
  if (parts.size() < 2) return "";
  auto n = parse_u64(parts[1]);
  if (!n) return "";
  return parts[0] + "." + std::to_string(*n + 1) + ".0";
}

using Comparator = std::function<bool(const Semver&, const Semver&)>;

std::optional<Comparator> comparator(const std::string& op) {
  if (op.empty() || op == "=" || op == "==") {
    return Comparator([](const Semver& v, const Semver& c) { return compare_semver(v, c) == 0; });
  }
  if (op == ">")
    return Comparator([](const Semver& v, const Semver& c) { return compare_semver(v, c) > 0; });
  if (op == ">=")
    return Comparator([](const Semver& v, const Semver& c) { return compare_semver(v, c) >= 0; });
  if (op == "<")
    return Comparator([](const Semver& v, const Semver& c) { return compare_semver(v, c) < 0; });
  if (op == "<=")
    return Comparator([](const Semver& v, const Semver& c) { return compare_semver(v, c) <= 0; });
  if (op == "!" || op == "!=") {
    return Comparator([](const Semver& v, const Semver& c) { return compare_semver(v, c) != 0; });
  }
  return std::nullopt;
}

}  // namespace

Result<Semver, std::string> parse_semver(std::string_view s) {
  if (s.empty()) return fail(std::string("Version string empty"));
  auto parts = split(s, '.');
  if (parts.size() < 3) return fail(std::string("No Major.Minor.Patch elements found"));
  // SplitN(s, ".", 3): the third part keeps any further dots.
  std::string patch_part(s.substr(parts[0].size() + parts[1].size() + 2));
  Semver v;
  auto major = parse_number("major", parts[0]);
  if (!major) return fail(major.error());
  auto minor = parse_number("minor", parts[1]);
  if (!minor) return fail(minor.error());
  v.major = *major;
  v.minor = *minor;

  std::string patch = patch_part;
  std::vector<std::string> build, pre;
  if (auto b = patch.find('+'); b != std::string::npos) {
    build = split(patch.substr(b + 1), '.');
    patch = patch.substr(0, b);
  }
  if (auto p = patch.find('-'); p != std::string::npos) {
    pre = split(patch.substr(p + 1), '.');
    patch = patch.substr(0, p);
  }
  auto patch_num = parse_number("patch", patch);
  if (!patch_num) return fail(patch_num.error());
  v.patch = *patch_num;

  for (const auto& p : pre) {
    if (p.empty()) return fail(std::string("Prerelease is empty"));
    SemverPre pr;
    if (contains_only(p, kNumbers)) {
      if (leading_zero(p))
        return fail("Numeric PreRelease version must not contain leading zeroes \"" + p + "\"");
      auto n = parse_u64(p);
      if (!n) return fail("invalid prerelease number \"" + p + "\"");
      pr.numeric = true;
      pr.num = *n;
    } else if (contains_only(p, kAlphanum)) {
      pr.str = p;
    } else {
      return fail("Invalid character(s) found in prerelease \"" + p + "\"");
    }
    v.pre.push_back(std::move(pr));
  }
  for (const auto& b : build) {
    if (b.empty()) return fail(std::string("Build meta data is empty"));
    if (!contains_only(b, kAlphanum))
      return fail("Invalid character(s) found in build meta data \"" + b + "\"");
    v.build.push_back(b);
  }
  return v;
}

int compare_semver(const Semver& a, const Semver& b) {
  auto cmp = [](std::uint64_t x, std::uint64_t y) { return x < y ? -1 : (x > y ? 1 : 0); };
  if (int c = cmp(a.major, b.major)) return c;
  if (int c = cmp(a.minor, b.minor)) return c;
  if (int c = cmp(a.patch, b.patch)) return c;
  if (a.pre.empty() && b.pre.empty()) return 0;
  if (a.pre.empty()) return 1;
  if (b.pre.empty()) return -1;
  std::size_t i = 0;
  for (; i < a.pre.size() && i < b.pre.size(); ++i) {
    const auto& x = a.pre[i];
    const auto& y = b.pre[i];
    int c = 0;
    if (x.numeric && y.numeric) {
      c = cmp(x.num, y.num);
    } else if (!x.numeric && !y.numeric) {
      c = x.str < y.str ? -1 : (x.str > y.str ? 1 : 0);
    } else {
      c = x.numeric ? -1 : 1;
    }
    if (c != 0) return c;
  }
  if (i == a.pre.size() && i == b.pre.size()) return 0;
  return i == a.pre.size() ? -1 : 1;
}

Result<SemverRange, std::string> parse_semver_range(std::string_view s) {
  auto parts = split_and_trim(s);
  // splitORParts
  std::vector<std::vector<std::string>> ors;
  std::size_t last = 0;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (parts[i] == "||") {
      if (i == 0) return fail(std::string("First element in range is '||'"));
      ors.emplace_back(parts.begin() + static_cast<long>(last),
                       parts.begin() + static_cast<long>(i));
      last = i + 1;
    }
  }
  if (last == parts.size()) return fail(std::string("Last element in range is '||'"));
  ors.emplace_back(parts.begin() + static_cast<long>(last), parts.end());

  // expandWildcardVersion
  for (auto& group : ors) {
    std::vector<std::string> expanded;
    for (auto ap : group) {
      if (ap.find('x') != std::string::npos) {
        auto split_cv = split_comparator_version(ap);
        if (!split_cv) return fail(split_cv.error());
        const auto& [op, ver] = *split_cv;
        Wildcard type = wildcard_type(ver);
        std::string flat = version_from_wildcard(ver);
        std::string result_op;
        bool increment = false;
        if (op == ">") {
          result_op = ">=";
          increment = true;
        } else if (op == ">=") {
          result_op = ">=";
        } else if (op == "<") {
          result_op = "<";
        } else if (op == "<=") {
          result_op = "<";
          increment = true;
        } else if (op.empty() || op == "=" || op == "==") {
          expanded.push_back(">=" + flat);
          result_op = "<";
          increment = true;
        } else if (op == "!=" || op == "!") {
          expanded.push_back("<" + flat);
          result_op = ">=";
          increment = true;
        }
        std::string result_version;
        if (increment) {
          if (type == Wildcard::kPatch) result_version = increment_minor(flat);
          if (type == Wildcard::kMinor) result_version = increment_major(flat);
        } else {
          result_version = flat;
        }
        ap = result_op + result_version;
      }
      expanded.push_back(ap);
    }
    group = std::move(expanded);
  }

  std::vector<std::vector<std::pair<Comparator, Semver>>> compiled;
  for (const auto& group : ors) {
    std::vector<std::pair<Comparator, Semver>> ands;
    for (const auto& ap : group) {
      auto split_cv = split_comparator_version(ap);
      if (!split_cv) return fail(split_cv.error());
      auto cmp = comparator(split_cv->first);
      if (!cmp)
        return fail("Could not parse comparator \"" + split_cv->first + "\" in \"" + ap + "\"");
      auto v = parse_semver(split_cv->second);
      if (!v)
        return fail("Could not parse version \"" + split_cv->second + "\" in \"" + ap +
                    "\": " + v.error());
      ands.emplace_back(*cmp, *v);
    }
    compiled.push_back(std::move(ands));
  }
  return SemverRange([compiled](const Semver& v) {
    for (const auto& group : compiled) {
      bool all = true;
      for (const auto& [cmp, c] : group) {
        if (!cmp(v, c)) {
          all = false;
          break;
        }
      }
      if (all) return true;
    }
    return false;
  });
}

}  // namespace aim::engine
