// Environment-variable merging for the inference container and for service-created caches
// (behavior.md §4.9 "Env merge", api.md §3.9 env precedence).
//
// Env lists are JSON arrays of core/v1 EnvVar objects ({name, value?, valueFrom?}). A keyed merge
// replaces a base entry with the same name in place and appends new names in override order;
// AIM_ENGINE_ARGS values that are both JSON objects are deep-merged instead (override wins).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace aim::engine {

// Keyed merge of two env lists (null counts as empty). Entries without a name are kept as is.
nlohmann::json merge_env(const nlohmann::json& base, const nlohmann::json& overrides);

// Deep merge of two JSON object texts (AIM_ENGINE_ARGS). When either side is not a JSON object,
// the override wins unchanged. The merged text is compact with sorted keys, as Go prints it.
std::string merge_engine_args(const std::string& base, const std::string& override_value);

// Deep merge of JSON objects: nested objects merge recursively, everything else is replaced.
nlohmann::json deep_merge(const nlohmann::json& base, const nlohmann::json& overrides);

// Inputs of the inference-container env, lowest precedence first.
struct InferenceEnvInput {
  nlohmann::json runtime_config_env;    // merged runtime config env
  std::string profile_id;               // template spec.profileId  -> AIM_PROFILE_ID
  std::string metric;                   // template spec.metric     -> AIM_METRIC
  std::string precision;                // template spec.precision  -> AIM_PRECISION
  nlohmann::json template_env;          // template spec.env
  std::optional<std::string> model_id;  // template spec.modelSources[0].modelId -> AIM_MODEL_ID
  nlohmann::json service_env;           // service spec.env (highest)
};

// The container env: system defaults (AIM_CACHE_PATH=/workspace/cache, VLLM_ENABLE_METRICS=true)
// < runtime config < AIM_PROFILE_ID/AIM_METRIC/AIM_PRECISION < template env < AIM_MODEL_ID <
// service env; sorted by name.
nlohmann::json inference_env(const InferenceEnvInput& in);

// Env of a service-created AIMTemplateCache: template spec.env < template spec.caching.env
// (namespace templates only; pass null for cluster templates) < service spec.env.
nlohmann::json template_cache_env(const nlohmann::json& template_env,
                                  const nlohmann::json& template_caching_env,
                                  const nlohmann::json& service_env);

}  // namespace aim::engine
