#include "registry/image_metadata.h"

#include <array>
#include <cctype>
#include <cstdint>

#include "core/strings.h"

namespace aim::registry {
namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 2> kAmdPrefixes{"com.amd.aim.", "org.amd.silogen."};

std::string trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

std::string label(const std::map<std::string, std::string>& labels, std::string_view key) {
  auto it = labels.find(std::string(key));
  return it == labels.end() ? std::string() : it->second;
}

// The AMD label `suffix` under its prefixes, then the seed's `aim.eai.amd.com/` key if given.
std::string amd_label(const std::map<std::string, std::string>& labels, std::string_view suffix,
                      std::string_view seed_key = {}) {
  for (auto prefix : kAmdPrefixes) {
    std::string v = label(labels, std::string(prefix) + std::string(suffix));
    if (!v.empty()) return v;
  }
  if (!seed_key.empty()) return label(labels, seed_key);
  return "";
}

json comma_list(std::string_view text) {
  json out = json::array();
  std::size_t start = 0;
  while (start <= text.size()) {
    auto comma = text.find(',', start);
    std::string item = trim(text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (!item.empty()) out.push_back(item);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

// Go's strconv.ParseBool.
std::optional<bool> parse_bool(std::string_view s) {
  for (auto t : {"1", "t", "T", "TRUE", "true", "True"}) {
    if (s == t) return true;
  }
  for (auto f : {"0", "f", "F", "FALSE", "false", "False"}) {
    if (s == f) return false;
  }
  return std::nullopt;
}

// Go's encoding/json matches field names exactly first, then case-insensitively.
const json* field(const json& obj, std::string_view name) {
  if (auto it = obj.find(std::string(name)); it != obj.end()) return &*it;
  std::string want = ascii_lower(name);
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (ascii_lower(it.key()) == want) return &*it;
  }
  return nullptr;
}

Result<json, std::string> decode_deployment(const json& item, std::size_t index) {
  json out = json::object();
  if (item.is_null()) return out;
  std::string where = "recommendedDeployments[" + std::to_string(index) + "]";
  if (!item.is_object()) return fail(where + " is not an object");
  for (auto name : {"gpuModel", "precision", "metric", "profileId", "description"}) {
    const json* v = field(item, name);
    if (v == nullptr || v->is_null()) continue;
    if (!v->is_string()) return fail(where + "." + name + " is not a string");
    if (!v->get<std::string>().empty()) out[name] = *v;
  }
  if (const json* c = field(item, "gpuCount"); c != nullptr && !c->is_null()) {
    if (!c->is_number_integer()) return fail(where + ".gpuCount is not an integer");
    auto n = c->get<std::int64_t>();
    if (n < INT32_MIN || n > INT32_MAX) return fail(where + ".gpuCount is out of range");
    if (n != 0) out["gpuCount"] = n;
  }
  return out;
}

}  // namespace

Result<json, std::string> parse_recommended_deployments(std::string_view text) {
  std::string s = trim(text);
  for (auto& c : s) {
    if (c == '\'') c = '"';
  }
  if (s.empty() || s.front() != '[') s = "[" + s + "]";
  json doc = json::parse(s, nullptr, false);
  if (doc.is_discarded()) return fail(std::string("recommendedDeployments is not valid JSON"));
  json out = json::array();
  if (doc.is_null()) return out;
  if (!doc.is_array()) return fail(std::string("recommendedDeployments is not a JSON array"));
  for (std::size_t i = 0; i < doc.size(); ++i) {
    auto d = decode_deployment(doc[i], i);
    if (!d) return fail(d.error());
    out.push_back(std::move(*d));
  }
  return out;
}

Result<json, std::string> image_metadata_from_labels(
    const std::map<std::string, std::string>& labels) {
  json model = json::object();
  auto set = [&](const char* key, const std::string& value) {
    if (!value.empty()) model[key] = value;
  };
  set("canonicalName", amd_label(labels, "model.canonicalName", "aim.eai.amd.com/model.name"));
  set("source", amd_label(labels, "model.source"));
  set("title", amd_label(labels, "title"));
  set("descriptionFull", amd_label(labels, "description.full"));
  set("releaseNotes", amd_label(labels, "release.notes"));
  set("family", amd_label(labels, "model.family", "aim.eai.amd.com/model.family"));
  for (auto [key, suffix] :
       {std::pair{"tags", "model.tags"}, std::pair{"versions", "model.versions"},
        std::pair{"variants", "model.variants"}}) {
    std::string v = amd_label(labels, suffix);
    if (v.empty()) continue;
    json list = comma_list(v);
    if (!list.empty()) model[key] = std::move(list);
  }
  if (std::string v = amd_label(labels, "hfToken.required"); !v.empty()) {
    if (auto b = parse_bool(v); b && *b) model["hfTokenRequired"] = true;
  }
  std::string deployments = amd_label(labels, "model.recommendedDeployments",
                                      "aim.eai.amd.com/model.recommended-deployments");
  if (!deployments.empty()) {
    auto parsed = parse_recommended_deployments(deployments);
    if (!parsed) return fail("failed to parse image labels: " + parsed.error());
    if (!parsed->empty()) model["recommendedDeployments"] = std::move(*parsed);
  }

  json oci = json::object();
  for (auto name : {"title", "description", "licenses", "vendor", "authors", "source",
                    "documentation", "created", "revision", "version"}) {
    std::string v = label(labels, std::string("org.opencontainers.image.") + name);
    if (!v.empty()) oci[name] = v;
  }

  json out = {{"model", std::move(model)}, {"oci", std::move(oci)}};
  if (!labels.empty()) out["originalLabels"] = labels;
  return out;
}

}  // namespace aim::registry
