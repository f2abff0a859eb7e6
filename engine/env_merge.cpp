#include "engine/env_merge.h"

#include <algorithm>

#include "engine/service_names.h"

namespace aim::engine {
namespace {

constexpr const char* kEngineArgs = "AIM_ENGINE_ARGS";

nlohmann::json env_var(const std::string& name, const std::string& value) {
  return nlohmann::json{{"name", name}, {"value", value}};
}

const std::string* plain_value(const nlohmann::json& e) {
  if (e.contains("valueFrom")) return nullptr;
  auto it = e.find("value");
  if (it == e.end() || !it->is_string()) return nullptr;
  return &it->get_ref<const std::string&>();
}

std::string name_of(const nlohmann::json& e) {
  if (!e.is_object()) return "";
  auto it = e.find("name");
  return it != e.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

nlohmann::json deep_merge(const nlohmann::json& base, const nlohmann::json& overrides) {
  if (!base.is_object() || !overrides.is_object()) return overrides;
  nlohmann::json out = base;
  for (const auto& [k, v] : overrides.items()) {
    auto it = out.find(k);
    out[k] = it != out.end() ? deep_merge(*it, v) : v;
  }
  return out;
}

std::string merge_engine_args(const std::string& base, const std::string& override_value) {
  auto b = nlohmann::json::parse(base, nullptr, false);
  auto o = nlohmann::json::parse(override_value, nullptr, false);
  if (b.is_discarded() || o.is_discarded() || !b.is_object() || !o.is_object()) {
    return override_value;
  }
  return service_names::go_json(deep_merge(b, o));
}

nlohmann::json merge_env(const nlohmann::json& base, const nlohmann::json& overrides) {
  nlohmann::json out = base.is_array() ? base : nlohmann::json::array();
  if (!overrides.is_array()) return out;
  for (const auto& e : overrides) {
    std::string name = name_of(e);
    auto it = name.empty() ? out.end() : std::find_if(out.begin(), out.end(), [&](const auto& x) {
      return name_of(x) == name;
    });
    if (it == out.end()) {
      out.push_back(e);
      continue;
    }
    if (name == kEngineArgs) {
      const std::string* bv = plain_value(*it);
      const std::string* ov = plain_value(e);
      if (bv != nullptr && ov != nullptr) {
        *it = env_var(name, merge_engine_args(*bv, *ov));
        continue;
      }
    }
    *it = e;
  }
  return out;
}

nlohmann::json inference_env(const InferenceEnvInput& in) {
  nlohmann::json env = nlohmann::json::array(
      {env_var("AIM_CACHE_PATH", "/workspace/cache"), env_var("VLLM_ENABLE_METRICS", "true")});
  env = merge_env(env, in.runtime_config_env);
  // The reference appends these without de-duplication, which can leave two AIM_METRIC entries
  // when a runtime config sets one; a keyed merge gives the documented precedence instead.
  nlohmann::json derived = nlohmann::json::array();
  if (!in.profile_id.empty()) derived.push_back(env_var("AIM_PROFILE_ID", in.profile_id));
  if (!in.metric.empty()) derived.push_back(env_var("AIM_METRIC", in.metric));
  if (!in.precision.empty()) derived.push_back(env_var("AIM_PRECISION", in.precision));
  env = merge_env(env, derived);
  env = merge_env(env, in.template_env);
  if (in.model_id && !in.model_id->empty()) {
    env = merge_env(env, nlohmann::json::array({env_var("AIM_MODEL_ID", *in.model_id)}));
  }
  env = merge_env(env, in.service_env);
  std::stable_sort(env.begin(), env.end(),
                   [](const auto& a, const auto& b) { return name_of(a) < name_of(b); });
  return env;
}

nlohmann::json template_cache_env(const nlohmann::json& template_env,
                                  const nlohmann::json& template_caching_env,
                                  const nlohmann::json& service_env) {
  return merge_env(
      merge_env(merge_env(nlohmann::json::array(), template_env), template_caching_env),
      service_env);
}

}  // namespace aim::engine
