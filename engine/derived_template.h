// Derived templates: the namespace-scoped copy of a template with a service's spec.overrides
// applied (seed 001 "Derived Templates", behavior.md §4.5).
//
// The name is the reference's `<base>-ovr-<parts>-<4 hex>` (at most 63 characters), computed
// only from the base name and the override values, so two services with identical overrides
// share one derived template. Following the seed, a derived template has no owner reference
// (it is kept for reuse) and is created for namespace and cluster base templates alike.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/selection.h"

namespace aim::engine {

inline constexpr const char* kLabelOrigin = "aim.eai.amd.com/origin";
inline constexpr const char* kOriginDerived = "derived";

// spec.overrides of an AIMService. `hardware` is the overrides' hardware object (null if unset);
// its gpu.model and gpu.requests enter the name.
struct TemplateOverrides {
  std::string metric;
  std::string precision;
  nlohmann::json hardware;
};

// "<base>-ovr-[<gpu model lowercased>-][<n>gpu-][<precision>-][<metric>-]<4 hex>", or nullopt
// when the overrides contribute no part (then no derived template is needed).
std::optional<std::string> derived_template_name(const std::string& base_name,
                                                 const TemplateOverrides& overrides);

// The labels say the template was derived (aim.eai.amd.com/origin=derived): never derive again.
bool is_derived_template(const nlohmann::json& labels);

// Where to look for a template named explicitly (spec.template.name), in order. With overrides
// that give a derived name: the derived template (Namespace) first, then the base in the
// namespace, then the base in the cluster. (The reference skips the namespace base, so an
// explicit namespace template with overrides never resolves.)
struct TemplateRef {
  std::string name;
  TemplateScope scope = TemplateScope::Namespace;
};
std::vector<TemplateRef> explicit_template_lookup(
    const std::string& base_name, const std::optional<TemplateOverrides>& overrides);

struct DerivedTemplateInput {
  std::string base_name;
  nlohmann::json base_spec;         // the base template's spec
  std::string resolved_model_name;  // used when the base spec has no modelName
  TemplateOverrides overrides;
  std::string service_runtime_config_name;    // empty: keep the base's
  nlohmann::json service_image_pull_secrets;  // used when non-empty
  nlohmann::json service_resources;           // used when set (non-null, non-empty)
  bool shared_caching = true;  // Shared service: caching = {enabled: true}; else base caching kept
};

struct DerivedTemplate {
  std::string name;
  nlohmann::json
      labels;  // {app.kubernetes.io/managed-by: aim-engine, aim.eai.amd.com/origin: derived}
  nlohmann::json spec;
};

// The AIMServiceTemplate to apply (namespace = the service's, no owner reference), or nullopt
// when the overrides contribute nothing.
std::optional<DerivedTemplate> derive_template(const DerivedTemplateInput& in);

}  // namespace aim::engine
