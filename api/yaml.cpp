#include "api/yaml.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cstdio>
#include <regex>

namespace aim::api {
namespace {

bool looks_special(const std::string& s) {
  static const std::regex kReserved(
      "^(~|null|Null|NULL|true|True|TRUE|false|False|FALSE|yes|Yes|YES|no|No|NO|on|On|ON|off|"
      "Off|OFF|y|Y|n|N)$");
  static const std::regex kNumberish(R"(^[-+.0-9].*$)");
  return std::regex_match(s, kReserved) || std::regex_match(s, kNumberish);
}

bool plain_safe(const std::string& s) {
  if (s.empty() || looks_special(s)) return false;
  if (s.front() == ' ' || s.back() == ' ') return false;
  const char first = s.front();
  if (!(std::isalnum(static_cast<unsigned char>(first)) || first == '/' || first == '_')) {
    return false;
  }
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == ' ' || c == '_' || c == '.' ||
          c == '/' || c == '-' || c == '(' || c == ')' || c == ',' || c == '=' || c == '+')) {
      return false;
    }
  }
  return true;
}

// A JSON string is a YAML double-quoted one, except for characters JSON leaves as they are and
// YAML does not: DEL and the C1 controls are outside YAML's printable set (a reader refuses the
// document), and NEL, U+2028 and U+2029 are line breaks to a YAML 1.1 reader such as kubectl's
// (inside quotes they fold to a space). Those are written as \u escapes.
std::string double_quoted(const std::string& s) {
  const std::string json = Json(s).dump();
  std::string out;
  out.reserve(json.size());
  auto byte = [&](std::size_t i) {
    return i < json.size() ? static_cast<unsigned char>(json[i]) : 0u;
  };
  char escape[8];
  for (std::size_t i = 0; i < json.size(); ++i) {
    unsigned cp = 0;
    std::size_t len = 0;
    if (byte(i) == 0x7F) {
      cp = 0x7F, len = 1;
    } else if (byte(i) == 0xC2 && byte(i + 1) >= 0x80 && byte(i + 1) <= 0x9F) {
      cp = byte(i + 1), len = 2;
    } else if (byte(i) == 0xE2 && byte(i + 1) == 0x80 &&
               (byte(i + 2) == 0xA8 || byte(i + 2) == 0xA9)) {
      cp = 0x2000 | (byte(i + 2) & 0x3F), len = 3;
    } else if (byte(i) == 0xEF && byte(i + 1) == 0xBF &&
               (byte(i + 2) == 0xBE || byte(i + 2) == 0xBF)) {
      cp = 0xFFC0 | (byte(i + 2) & 0x3F), len = 3;
    }
    if (len == 0) {
      out.push_back(json[i]);
      continue;
    }
    std::snprintf(escape, sizeof escape, "\\u%04X", cp);
    out += escape;
    i += len - 1;
  }
  return out;
}

std::string scalar(const Json& v) {
  if (v.is_string()) {
    const auto s = v.get<std::string>();
    return plain_safe(s) ? s : double_quoted(s);
  }
  if (v.is_object()) return "{}";
  if (v.is_array()) return "[]";
  return v.dump();  // numbers, booleans, null
}

bool is_block(const Json& v) {
  return (v.is_object() || v.is_array()) && !v.empty();
}

void emit(const Json& v, int indent, std::string& out) {
  const std::string pad(static_cast<size_t>(indent), ' ');
  if (v.is_object()) {
    for (const auto& [k, val] : v.items()) {
      out += pad + scalar(Json(k)) + ":";
      if (is_block(val)) {
        out += "\n";
        emit(val, val.is_array() ? indent : indent + 2, out);
      } else {
        out += " " + scalar(val) + "\n";
      }
    }
    return;
  }
  for (const auto& item : v) {
    if (is_block(item)) {
      std::string nested;
      emit(item, indent + 2, nested);
      // The first line of the nested block starts with indent+2 spaces; turn them into "- ".
      out += pad + "- " + nested.substr(static_cast<size_t>(indent) + 2);
    } else {
      out += pad + "- " + scalar(item) + "\n";
    }
  }
}

Json scalar_to_json(const YAML::Node& n) {
  const std::string& s = n.Scalar();
  if (n.Tag() == "!") return s;  // quoted or block scalar: always a string
  static const std::regex kNull("^(~|null|Null|NULL|)$");
  static const std::regex kTrue("^(true|True|TRUE)$");
  static const std::regex kFalse("^(false|False|FALSE)$");
  static const std::regex kInt("^[-+]?[0-9]+$");
  static const std::regex kFloat(R"(^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$)");
  if (std::regex_match(s, kNull)) return nullptr;
  if (std::regex_match(s, kTrue)) return true;
  if (std::regex_match(s, kFalse)) return false;
  if (std::regex_match(s, kInt)) {
    try {
      return std::stoll(s);
    } catch (...) {
      return s;
    }
  }
  if (std::regex_match(s, kFloat)) return std::stod(s);
  return s;
}

Json node_to_json(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      Json o = Json::object();
      for (const auto& kv : n) o[kv.first.as<std::string>()] = node_to_json(kv.second);
      return o;
    }
    case YAML::NodeType::Sequence: {
      Json a = Json::array();
      for (const auto& item : n) a.push_back(node_to_json(item));
      return a;
    }
    case YAML::NodeType::Scalar:
      return scalar_to_json(n);
    default:
      return nullptr;
  }
}

}  // namespace

std::string to_yaml(const Json& value) {
  if (!is_block(value)) return scalar(value) + "\n";
  std::string out;
  emit(value, 0, out);
  return out;
}

YamlDocuments parse_yaml(const std::string& text) {
  YamlDocuments out;
  try {
    for (const auto& doc : YAML::LoadAll(text)) {
      if (!doc || doc.IsNull()) continue;
      out.documents.push_back(node_to_json(doc));
    }
  } catch (const YAML::Exception& e) {
    out.error = e.what();
  }
  return out;
}

}  // namespace aim::api
