// Reading a string member of JSON someone else wrote (a registry, the API server, NGC, an object
// from the informer's cache) without trusting its shape: json::value(key, default) throws
// type_error when the member has another type, which the fuzzers found ending the process
// (docs/fuzzing.md, findings 5 and 6).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace aim {

// The string member `key` of `j`; null when `j` is not an object or the member is absent or not a
// string.
inline const std::string* find_string(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get_ptr<const std::string*>() : nullptr;
}

// The same as a value: `fallback` when there is no such string.
inline std::string string_member(const nlohmann::json& j, const char* key,
                                 std::string fallback = {}) {
  const std::string* s = find_string(j, key);
  return s != nullptr ? *s : fallback;
}

// The string at `j[a][b]` (e.g. "metadata", "name"), or empty when either level is missing or
// of another type.
inline std::string string_at(const nlohmann::json& j, const char* a, const char* b) {
  if (!j.is_object()) return {};
  auto it = j.find(a);
  if (it == j.end()) return {};
  const std::string* s = find_string(*it, b);
  return s != nullptr ? *s : std::string();
}

}  // namespace aim
