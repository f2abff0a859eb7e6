#include "engine/service_names.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>

#include "core/digest.h"

namespace aim::engine::service_names {
namespace {

bool is_lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

std::string trim_char_set(std::string s, std::string_view set) {
  std::size_t b = s.find_first_not_of(set);
  if (b == std::string::npos) return "";
  std::size_t e = s.find_last_not_of(set);
  return s.substr(b, e - b + 1);
}

void trim_trailing(std::string& s, char c) {
  while (!s.empty() && s.back() == c) s.pop_back();
}

void append_go_string(std::string& out, const std::string& s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        out += "\\\"";
        continue;
      case '\\':
        out += "\\\\";
        continue;
      case '\n':
        out += "\\n";
        continue;
      case '\r':
        out += "\\r";
        continue;
      case '\t':
        out += "\\t";
        continue;
      case '\b':
        out += "\\b";
        continue;
      case '\f':
        out += "\\f";
        continue;
      default:
        break;
    }
    if (c < 0x20 || c == '<' || c == '>' || c == '&') {
      out += "\\u00";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
      continue;
    }
    // U+2028 and U+2029 (E2 80 A8 / E2 80 A9) are escaped by Go as well.
    if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(s[i + 2]) == 0xA8 ||
         static_cast<unsigned char>(s[i + 2]) == 0xA9)) {
      out += static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029";
      i += 2;
      continue;
    }
    out.push_back(static_cast<char>(c));
  }
  out.push_back('"');
}

void append_go_json(std::string& out, const nlohmann::json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::string:
      append_go_string(out, v.get_ref<const std::string&>());
      return;
    case nlohmann::json::value_t::object: {
      out.push_back('{');
      bool first = true;
      for (const auto& [k, item] : v.items()) {  // nlohmann objects iterate in key order
        if (!first) out.push_back(',');
        first = false;
        append_go_string(out, k);
        out.push_back(':');
        append_go_json(out, item);
      }
      out.push_back('}');
      return;
    }
    case nlohmann::json::value_t::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& item : v) {
        if (!first) out.push_back(',');
        first = false;
        append_go_json(out, item);
      }
      out.push_back(']');
      return;
    }
    default:
      out += v.dump();  // null, booleans, numbers print the same way
      return;
  }
}

bool is_gpu_token(const std::string& t) {
  // ^[A-Z]*[0-9]+[A-Z0-9]*$ (the reference's optional vendor prefix is subsumed by [A-Z]*).
  std::size_t i = 0;
  while (i < t.size() && t[i] >= 'A' && t[i] <= 'Z') ++i;
  std::size_t digits = i;
  while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
  if (i == digits) return false;
  while (i < t.size() && ((t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= '0' && t[i] <= '9'))) ++i;
  return i == t.size();
}

}  // namespace

std::string rfc1123_part(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    char c = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    out.push_back(is_lower_alnum(c) || c == '-' ? c : '-');
  }
  out = trim_char_set(std::move(out), "-");
  if (out.size() > 63) out.resize(63);
  trim_trailing(out, '-');
  if (out.empty()) return "part";
  return out;
}

std::string go_json(const nlohmann::json& v) {
  std::string out;
  append_go_json(out, v);
  return out;
}

std::string derived_name(std::vector<std::string> parts,
                         const std::vector<nlohmann::json>& hash_inputs, std::size_t hash_len,
                         std::size_t max_len) {
  for (auto& p : parts) p = rfc1123_part(p);
  std::string hash;
  if (!hash_inputs.empty() && hash_len > 0) {
    std::string joined;
    for (std::size_t i = 0; i < hash_inputs.size(); ++i) {
      if (i > 0) joined.push_back('|');
      joined += go_json(hash_inputs[i]);
    }
    hash = sha256_hex(joined).substr(0, hash_len);
  }
  auto total = [&] {
    std::size_t n = 0;
    for (const auto& p : parts) n += p.size() + 1;
    return hash.empty() ? (n == 0 ? 0 : n - 1) : n + hash.size();
  };
  while (total() > max_len && !parts.empty()) {
    auto longest = std::max_element(parts.begin(), parts.end(), [](const auto& a, const auto& b) {
      return a.size() < b.size();  // max_element returns the first of equal maxima
    });
    if (longest->size() <= 1) break;
    longest->pop_back();
    trim_trailing(*longest, '-');
  }
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out.push_back('-');
    out += parts[i];
  }
  if (!hash.empty()) {
    if (!out.empty()) out.push_back('-');
    out += hash;
  }
  return out;
}

Result<std::string, std::string> sanitize_label_value(std::string_view s) {
  std::string out;
  bool in_run = false;
  for (char ch : s) {
    char c = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (is_lower_alnum(c) || c == '.' || c == '_' || c == '-') {
      out.push_back(c);
      in_run = false;
    } else if (!in_run) {
      out.push_back('_');
      in_run = true;
    }
  }
  out = trim_char_set(std::move(out), "_.-");
  if (out.size() > 63) out = trim_char_set(out.substr(0, 63), "_.-");
  if (out.empty())
    return fail(std::string("label value \"") + std::string(s) + "\" is empty after sanitizing");
  return out;
}

std::string normalize_gpu_model(std::string_view s) {
  std::string up = trim_char_set(std::string(s), " \t\r\n");
  for (auto& c : up) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (c == '_') c = '-';
  }
  std::vector<std::string> tokens;
  std::string cur;
  for (char c : up) {
    if (c == '-' || c == ' ' || c == '/' || c == ':') {
      if (!cur.empty()) tokens.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) tokens.push_back(cur);
  for (auto t : tokens) {
    if (t == "AMD" || t == "INSTINCT") continue;
    if (t.rfind("INSTINCT", 0) == 0) t = t.substr(8);
    if (is_gpu_token(t)) return t;
  }
  if (!tokens.empty()) return tokens.front();
  return up;
}

Result<std::string, std::string> inference_service_name(std::string_view service,
                                                        std::string_view ns) {
  if (ns.size() > 42) {
    return fail("namespace \"" + std::string(ns) +
                "\" is longer than 42 characters; the InferenceService name would not fit");
  }
  std::size_t max_len = 63 - 11 - ns.size();
  return derived_name({std::string(service)}, {nlohmann::json(std::string(ns))}, 8, max_len);
}

std::string http_route_name(std::string_view service, std::string_view ns) {
  return derived_name({std::string(service)}, {nlohmann::json(std::string(ns))});
}

std::string shared_template_cache_name(std::string_view template_name, std::string_view ns) {
  return derived_name({std::string(template_name)}, {nlohmann::json(std::string(ns))});
}

std::string dedicated_template_cache_name(std::string_view template_name, std::string_view service,
                                          std::string_view service_uid) {
  return derived_name({std::string(template_name), std::string(service)},
                      {nlohmann::json(std::string(service_uid))});
}

std::string service_pvc_name(std::string_view service, std::string_view service_uid) {
  return derived_name({std::string(service), "model-cache"},
                      {nlohmann::json(std::string(service_uid))});
}

}  // namespace aim::engine::service_names
