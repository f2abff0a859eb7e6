// AIMServiceTemplate (namespaced) and AIMClusterServiceTemplate (cluster-scoped): a runtime
// profile for one model (api.md §4.2). The namespaced kind adds spec.caching.
#pragma once

#include "api/common.h"
#include "api/resource.h"

namespace aim::api {

struct TemplateCachingConfig {
  std::optional<bool> enabled;
  std::optional<EnvList> env;
  Json extra;
  static void describe(Fields<TemplateCachingConfig>& f);
};

// AIMServiceTemplateSpecCommon; the cluster kind uses it as is.
struct AIMClusterServiceTemplateSpec {
  std::string model_name;
  std::optional<std::string> metric;
  std::optional<std::string> precision;
  std::optional<HardwareRequirements> hardware;
  std::optional<std::string> runtime_config_name;
  std::optional<std::vector<LocalObjectReference>> image_pull_secrets;
  std::optional<std::string> service_account_name;
  std::optional<ResourceRequirements> resources;
  std::optional<std::vector<ModelSource>> model_sources;
  std::optional<std::string> profile_id;
  std::optional<std::string> type;
  std::optional<EnvList> env;
  Json extra;
  static void describe(Fields<AIMClusterServiceTemplateSpec>& f);
  template <class T>
  static void describe_common(Fields<T>& f);
};

struct AIMServiceTemplateSpec {
  std::string model_name;
  std::optional<std::string> metric;
  std::optional<std::string> precision;
  std::optional<HardwareRequirements> hardware;
  std::optional<std::string> runtime_config_name;
  std::optional<std::vector<LocalObjectReference>> image_pull_secrets;
  std::optional<std::string> service_account_name;
  std::optional<ResourceRequirements> resources;
  std::optional<std::vector<ModelSource>> model_sources;
  std::optional<std::string> profile_id;
  std::optional<std::string> type;
  std::optional<EnvList> env;
  std::optional<TemplateCachingConfig> caching;
  Json extra;
  static void describe(Fields<AIMServiceTemplateSpec>& f);
};

struct AIMServiceTemplateStatus {
  std::optional<int64_t> observed_generation;
  std::vector<Condition> conditions;
  std::optional<ResolvedReference> resolved_runtime_config;
  std::optional<ResolvedReference> resolved_model;
  std::optional<ResolvedReference> resolved_cache;
  std::optional<HardwareRequirements> resolved_hardware;
  std::optional<NodeAffinity> resolved_node_affinity;
  std::optional<std::string> hardware_summary;
  std::optional<std::string> status;
  std::optional<std::vector<ModelSource>> model_sources;
  std::optional<Profile> profile;
  std::optional<ResolvedReference> discovery_job;
  std::optional<DiscoveryState> discovery;
  Json extra;
  static void describe(Fields<AIMServiceTemplateStatus>& f);
};

inline constexpr std::array<PrinterColumn, 8> kTemplateColumns = {{
    {"Model", "string", ".spec.modelName"},
    {"Status", "string", ".status.status"},
    {"Hardware", "string", ".status.hardwareSummary"},
    {"Metric", "string", ".status.profile.metadata.metric"},
    {"Precision", "string", ".status.profile.metadata.precision"},
}};

struct AIMServiceTemplateTag {
  using Spec = AIMServiceTemplateSpec;
  using Status = AIMServiceTemplateStatus;
  static constexpr KindInfo info = {
      kGroup,
      kVersion,
      "AIMServiceTemplate",
      "aimservicetemplates",
      "aimservicetemplate",
      "AIMServiceTemplateList",
      true,
      {"aimtpl"},
      kAimCategories,
      kTemplateColumns,
      "AIMServiceTemplate selects a runtime profile (metric, precision, hardware) for one "
      "model; discovery records the model artifacts it needs. A namespaced template shadows a "
      "cluster template of the same name."};
};

struct AIMClusterServiceTemplateTag {
  using Spec = AIMClusterServiceTemplateSpec;
  using Status = AIMServiceTemplateStatus;
  static constexpr KindInfo info = {
      kGroup,
      kVersion,
      "AIMClusterServiceTemplate",
      "aimclusterservicetemplates",
      "aimclusterservicetemplate",
      "AIMClusterServiceTemplateList",
      false,
      {"aimcltpl"},
      kAimCategories,
      kTemplateColumns,
      "AIMClusterServiceTemplate is the cluster-scoped AIMServiceTemplate, usually installed by "
      "administrators as part of a model catalogue; discovery runs in the operator namespace."};
};

using AIMServiceTemplate = Resource<AIMServiceTemplateTag>;
using AIMClusterServiceTemplate = Resource<AIMClusterServiceTemplateTag>;

}  // namespace aim::api
