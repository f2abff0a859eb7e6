#include "api/schema.h"

namespace aim::api {

std::string presence_rule(const std::vector<std::string>& keys) {
  if (keys.size() == 1) return "has(self." + keys[0] + ") == has(oldSelf." + keys[0] + ")";
  // has(a.b.c) fails when a.b is absent, so every step is tested; && short-circuits.
  auto chain = [&](const std::string& root) {
    std::string out, path = root;
    for (const auto& k : keys) {
      path += "." + k;
      out += (out.empty() ? "" : " && ") + ("has(" + path + ")");
    }
    return "(" + out + ")";
  };
  return chain("self") + " == " + chain("oldSelf");
}

}  // namespace aim::api

namespace aim::api::detail {

Json apply_field_options(Json s, const FieldOptions& o) {
  std::string description = o.description;
  if (description.empty() && s.contains("description")) description = s["description"];
  if (!o.extension.empty()) {
    description +=
        (description.empty() ? "" : " ") + std::string(kExtensionMarker) + " " + o.extension;
  }
  if (o.deprecated && description.find("Deprecated") == std::string::npos) {
    description = "Deprecated: " + description;
  }
  if (!description.empty()) s["description"] = description;
  if (o.default_value) s["default"] = *o.default_value;
  if (!o.enum_values.empty()) {
    if (o.enum_all_of) {
      Json e = {{"enum", o.enum_values}};
      s["allOf"] = Json::array({e, e});
    } else {
      s["enum"] = o.enum_values;
    }
  }
  if (o.pattern) s["pattern"] = *o.pattern;
  if (o.format) {
    if (o.format->empty())
      s.erase("format");
    else
      s["format"] = *o.format;
  }
  if (o.min_length) s["minLength"] = *o.min_length;
  if (o.max_length) s["maxLength"] = *o.max_length;
  if (o.minimum) s["minimum"] = *o.minimum;
  if (o.maximum) s["maximum"] = *o.maximum;
  if (o.min_items) s["minItems"] = *o.min_items;
  if (o.max_items) s["maxItems"] = *o.max_items;
  if (o.list_type) s["x-kubernetes-list-type"] = *o.list_type;
  if (!o.list_map_keys.empty()) s["x-kubernetes-list-map-keys"] = o.list_map_keys;
  if (o.map_type) s["x-kubernetes-map-type"] = *o.map_type;
  if (!o.rules.empty()) {
    Json rules = Json::array();
    for (const auto& r : o.rules) rules.push_back({{"rule", r.rule}, {"message", r.message}});
    if (s.contains("x-kubernetes-validations")) {
      for (const auto& r : s["x-kubernetes-validations"]) rules.push_back(r);
    }
    s["x-kubernetes-validations"] = rules;
  }
  return s;
}

}  // namespace aim::api::detail
