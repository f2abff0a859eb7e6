#include "engine/secret_check.h"

#include <algorithm>
#include <map>
#include <set>

namespace aim::engine {
namespace {

using Json = nlohmann::json;

std::string secret_name(const Json& secret) {
  if (!secret.is_object()) return "";
  const Json& md = secret.value("metadata", Json::object());
  return md.is_object() ? md.value("name", std::string()) : std::string();
}

// Key -> is its value non-empty. `data` holds base64 (empty stays empty); `stringData` only
// appears in objects that were never stored, as in tests.
std::map<std::string, bool> keys_of(const Json& secret) {
  std::map<std::string, bool> out;
  if (!secret.is_object()) return out;
  for (const char* field : {"data", "stringData"}) {
    auto it = secret.find(field);
    if (it == secret.end() || !it->is_object()) continue;
    for (auto kv = it->begin(); kv != it->end(); ++kv) {
      bool filled = kv->is_string() && !kv->get_ref<const std::string&>().empty();
      out[kv.key()] = out[kv.key()] || filled;
    }
  }
  return out;
}

// "A, B and C" of at most `max` names, then "and N more".
std::string name_list(const std::vector<std::string>& names, std::string_view conjunction) {
  constexpr size_t kMax = 8;
  std::string out;
  size_t shown = std::min(names.size(), kMax);
  for (size_t i = 0; i < shown; ++i) {
    if (i > 0) out += (i + 1 == shown && names.size() <= kMax) ? std::string(conjunction) : ", ";
    out += names[i];
  }
  if (names.size() > kMax) out += " and " + std::to_string(names.size() - kMax) + " more";
  return out;
}

std::string present_keys(const std::map<std::string, bool>& keys) {
  if (keys.empty()) return "it has no keys";
  std::vector<std::string> names;
  for (const auto& [k, filled] : keys) names.push_back(filled ? k : k + " (empty)");
  return "it has " + name_list(names, " and ");
}

}  // namespace

std::optional<SecretProblem> check_pull_secret(const Json& secret) {
  const std::string name = secret_name(secret);
  const std::string type = secret.is_object() ? secret.value("type", std::string()) : "";
  std::string key;
  if (type == "kubernetes.io/dockerconfigjson") key = ".dockerconfigjson";
  if (type == "kubernetes.io/dockercfg") key = ".dockercfg";
  if (key.empty()) {
    return SecretProblem{
        "InvalidPullSecret",
        "imagePullSecret \"" + name + "\" has type " + (type.empty() ? "Opaque" : type) +
            ", which the kubelet ignores: it reads only Secrets of type "
            "kubernetes.io/dockerconfigjson; recreate it with `kubectl create secret "
            "docker-registry`"};
  }
  auto keys = keys_of(secret);
  auto it = keys.find(key);
  if (it == keys.end() || !it->second) {
    return SecretProblem{"InvalidPullSecret", "imagePullSecret \"" + name + "\" of type " + type +
                                                  " has no value in key " + key + "; " +
                                                  present_keys(keys)};
  }
  return std::nullopt;
}

std::vector<std::vector<std::string>> credential_keys(std::string_view scheme) {
  if (scheme == "hf") return {{"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"}};
  if (scheme == "s3") return {{"AWS_ACCESS_KEY_ID"}, {"AWS_SECRET_ACCESS_KEY"}};
  if (scheme == "ngc") return {{"NGC_API_KEY", "NGC_CLI_API_KEY"}};
  if (scheme == "https" || scheme == "http") return {{"HTTPS_TOKEN", "AIM_SIGNED_URL"}};
  return {};
}

std::optional<SecretProblem> check_credentials_secret(const Json& secret, std::string_view scheme) {
  const auto keys = keys_of(secret);
  std::vector<std::string> missing;
  for (const auto& group : credential_keys(scheme)) {
    bool found = std::any_of(group.begin(), group.end(), [&](const std::string& k) {
      auto it = keys.find(k);
      return it != keys.end() && it->second;
    });
    if (!found) missing.push_back(name_list(group, " or "));
  }
  if (missing.empty()) return std::nullopt;
  return SecretProblem{
      "MissingSecretKey",
      "credentials Secret \"" + secret_name(secret) + "\" lacks " + name_list(missing, " and ") +
          ", which a " + std::string(scheme) + ":// download reads; " + present_keys(keys) +
          ". Add the key, or remove spec.credentialsSecretRef for a public source"};
}

}  // namespace aim::engine
