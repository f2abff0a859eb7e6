// Runtime configuration resolution and merging (behavior.md §4.12, api.md §4.6), over the
// `spec` objects of AIMRuntimeConfig / AIMClusterRuntimeConfig as JSON.
//
// Resolution: the name is `spec.runtimeConfigName` or `default`; a namespaced object reads the
// AIMRuntimeConfig of that name in its namespace and the AIMClusterRuntimeConfig of that name;
// a cluster-scoped object reads only the cluster one. Neither found is fine for `default` and an
// error (ConfigNotFound) for any other name.
//
// Merging fixes the reference (spec README §4): a field the namespace config *sets* wins, even
// when it is false, 0 or "" (presence, not Go's zero value); objects merge field by field; maps
// are a key union; lists are replaced; `env` is merged by variable name, with AIM_ENGINE_ARGS
// values deep-merged as JSON objects (engine/env_merge.h).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace aim::engine {

inline constexpr std::string_view kDefaultRuntimeConfigName = "default";

// `name` or "default" when empty.
std::string effective_runtime_config_name(std::string_view name);

// Copies the deprecated top-level `defaultStorageClassName` / `pvcHeadroomPercent` into
// `storage` when the new fields are unset.
nlohmann::json migrate_runtime_config(nlohmann::json spec);

enum class RuntimeConfigOutcome {
  kFound,            // at least one config exists; `spec` is the merged result
  kDefaultNotFound,  // name is "default" and neither exists: use built-in defaults
  kNotFound,         // a named config that does not exist
};

struct ResolvedRuntimeConfig {
  RuntimeConfigOutcome outcome = RuntimeConfigOutcome::kDefaultNotFound;
  std::string name;
  nlohmann::json spec;  // null unless kFound
  bool from_namespace = false;
  bool from_cluster = false;
  // Condition reason and message of the RuntimeConfig component: ConfigFound /
  // DefaultConfigNotFound ("Default config was not found") / ConfigNotFound
  // ("RuntimeConfig <name> not found").
  std::string reason;
  std::string message;
};

// `namespace_spec` must be nullopt for cluster-scoped objects.
ResolvedRuntimeConfig resolve_runtime_config(std::string_view requested_name,
                                             const std::optional<nlohmann::json>& namespace_spec,
                                             const std::optional<nlohmann::json>& cluster_spec);

// cluster (base) < namespace (override), with the presence rules above. Both already migrated.
nlohmann::json merge_runtime_config(const nlohmann::json& cluster, const nlohmann::json& ns);

// Effective values with their documented fallbacks.
std::optional<std::string> runtime_storage_class(const nlohmann::json& spec);
int runtime_pvc_headroom_percent(const nlohmann::json& spec);  // default 10

}  // namespace aim::engine
