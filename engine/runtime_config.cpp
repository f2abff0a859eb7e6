#include "engine/runtime_config.h"

#include <utility>

#include "engine/env_merge.h"

namespace aim::engine {
namespace {

using nlohmann::json;

bool present(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && !it->is_null();
}

// RFC 7386-style merge with override winning, except that null means "not set" in the override.
json merge_present(const json& base, const json& over) {
  if (!base.is_object() || !over.is_object()) return over.is_null() ? base : over;
  json out = base;
  for (const auto& [k, v] : over.items()) {
    if (v.is_null()) continue;
    auto it = out.find(k);
    if (it != out.end() && it->is_object() && v.is_object()) {
      *it = merge_present(*it, v);
    } else {
      out[k] = v;
    }
  }
  return out;
}

}  // namespace

std::string effective_runtime_config_name(std::string_view name) {
  return name.empty() ? std::string(kDefaultRuntimeConfigName) : std::string(name);
}

json migrate_runtime_config(json spec) {
  if (!spec.is_object()) return spec;
  if (present(spec, "defaultStorageClassName")) {
    if (!present(spec, "storage")) spec["storage"] = json::object();
    if (spec["storage"].is_object() && !present(spec["storage"], "defaultStorageClassName")) {
      spec["storage"]["defaultStorageClassName"] = spec["defaultStorageClassName"];
    }
  }
  if (present(spec, "pvcHeadroomPercent")) {
    if (!present(spec, "storage")) spec["storage"] = json::object();
    if (spec["storage"].is_object() && !present(spec["storage"], "pvcHeadroomPercent")) {
      spec["storage"]["pvcHeadroomPercent"] = spec["pvcHeadroomPercent"];
    }
  }
  return spec;
}

json merge_runtime_config(const json& cluster, const json& ns) {
  if (!cluster.is_object()) return ns;
  if (!ns.is_object()) return cluster;
  json out = cluster;
  for (const auto& [k, v] : ns.items()) {
    if (v.is_null()) continue;
    if (k == "env") {
      out[k] = merge_env(out.value("env", json::array()), v);
      continue;
    }
    auto it = out.find(k);
    if (it != out.end() && it->is_object() && v.is_object()) {
      *it = merge_present(*it, v);
    } else {
      out[k] = v;  // scalars (even false / 0 / ""), lists and new keys: presence wins
    }
  }
  return out;
}

ResolvedRuntimeConfig resolve_runtime_config(std::string_view requested_name,
                                             const std::optional<json>& namespace_spec,
                                             const std::optional<json>& cluster_spec) {
  ResolvedRuntimeConfig r;
  r.name = effective_runtime_config_name(requested_name);
  r.from_namespace = namespace_spec.has_value();
  r.from_cluster = cluster_spec.has_value();
  if (!r.from_namespace && !r.from_cluster) {
    if (r.name == kDefaultRuntimeConfigName) {
      r.outcome = RuntimeConfigOutcome::kDefaultNotFound;
      r.reason = "DefaultConfigNotFound";
      r.message = "Default config was not found";
    } else {
      r.outcome = RuntimeConfigOutcome::kNotFound;
      r.reason = "ConfigNotFound";
      r.message = "RuntimeConfig " + r.name + " not found";
    }
    return r;
  }
  r.outcome = RuntimeConfigOutcome::kFound;
  r.reason = "ConfigFound";
  r.message = "RuntimeConfig " + r.name + " found";
  json cl = cluster_spec ? migrate_runtime_config(*cluster_spec) : json(nullptr);
  json ns = namespace_spec ? migrate_runtime_config(*namespace_spec) : json(nullptr);
  if (cl.is_null()) {
    r.spec = ns;
  } else if (ns.is_null()) {
    r.spec = cl;
  } else {
    r.spec = merge_runtime_config(cl, ns);
  }
  if (!r.spec.is_object()) r.spec = json::object();
  return r;
}

std::optional<std::string> runtime_storage_class(const json& spec) {
  if (!spec.is_object()) return std::nullopt;
  if (present(spec, "storage") && spec["storage"].is_object()) {
    const auto& s = spec["storage"];
    if (present(s, "defaultStorageClassName") && s["defaultStorageClassName"].is_string() &&
        !s["defaultStorageClassName"].get<std::string>().empty()) {
      return s["defaultStorageClassName"].get<std::string>();
    }
  }
  if (present(spec, "defaultStorageClassName") && spec["defaultStorageClassName"].is_string() &&
      !spec["defaultStorageClassName"].get<std::string>().empty()) {
    return spec["defaultStorageClassName"].get<std::string>();
  }
  return std::nullopt;
}

int runtime_pvc_headroom_percent(const json& spec) {
  if (!spec.is_object()) return 10;
  if (present(spec, "storage") && spec["storage"].is_object() &&
      spec["storage"].contains("pvcHeadroomPercent") &&
      spec["storage"]["pvcHeadroomPercent"].is_number_integer()) {
    return spec["storage"]["pvcHeadroomPercent"].get<int>();
  }
  if (spec.contains("pvcHeadroomPercent") && spec["pvcHeadroomPercent"].is_number_integer()) {
    return spec["pvcHeadroomPercent"].get<int>();
  }
  return 10;
}

}  // namespace aim::engine
