// AIMService (namespaced): runs an inference endpoint for a model and template (api.md §4.3).
#pragma once

#include "api/common.h"
#include "api/resource.h"

namespace aim::api {

struct ServiceModelCustom {
  std::string base_image;
  std::vector<ModelSource> model_sources;
  HardwareRequirements hardware;
  Json extra;
  static void describe(Fields<ServiceModelCustom>& f);
};

struct ServiceModel {
  std::optional<std::string> name;
  std::optional<std::string> image;
  std::optional<ServiceModelCustom> custom;
  Json extra;
  static void describe(Fields<ServiceModel>& f);
};

struct ServiceTemplateConfig {
  std::optional<std::string> name;
  std::optional<bool> allow_unoptimized;
  Json extra;
  static void describe(Fields<ServiceTemplateConfig>& f);
};

struct ServiceCachingConfig {
  std::optional<std::string> mode;
  Json extra;
  static void describe(Fields<ServiceCachingConfig>& f);
};

struct GpuSelector {
  std::optional<std::string> model;
  std::optional<int32_t> count;
  Json extra;
  static void describe(Fields<GpuSelector>& f);
};

struct ServiceOverrides {
  std::optional<std::string> metric;
  std::optional<std::string> precision;
  std::optional<HardwareRequirements> hardware;
  std::optional<GpuSelector> gpu_selector;  // extension (seed 001)
  Json extra;
  static void describe(Fields<ServiceOverrides>& f);
};

struct AIMServiceSpec {
  ServiceModel model;
  std::optional<ServiceTemplateConfig> template_;
  std::optional<ServiceCachingConfig> caching;
  std::optional<bool> cache_model;
  std::optional<int32_t> replicas;
  std::optional<int32_t> min_replicas;
  std::optional<int32_t> max_replicas;
  std::optional<AutoScaling> auto_scaling;
  std::optional<std::string> runtime_config_name;
  std::optional<StorageConfig> storage;
  std::optional<RoutingConfig> routing;
  std::optional<EnvList> env;
  std::optional<ResourceRequirements> resources;
  std::optional<ServiceOverrides> overrides;
  std::optional<std::vector<LocalObjectReference>> image_pull_secrets;
  std::optional<std::string> service_account_name;
  Json extra;
  static void describe(Fields<AIMServiceSpec>& f);
};

struct ServiceRoutingStatus {
  std::optional<std::string> path;
  Json extra;
  static void describe(Fields<ServiceRoutingStatus>& f);
};

struct ServiceCacheStatus {
  std::optional<ResolvedReference> template_cache_ref;
  std::optional<int64_t> retry_attempts;
  Json extra;
  static void describe(Fields<ServiceCacheStatus>& f);
};

struct ServiceRuntimeStatus {
  std::optional<int32_t> current_replicas;
  std::optional<int32_t> desired_replicas;
  std::optional<int32_t> min_replicas;
  std::optional<int32_t> max_replicas;
  std::optional<std::string> replicas;
  Json extra;
  static void describe(Fields<ServiceRuntimeStatus>& f);
};

// Extension: one candidate considered by automatic template selection.
struct TemplateCandidate {
  std::string name;
  std::optional<std::string> scope;
  std::string status;  // chosen, rejected
  std::optional<int32_t> stage;
  std::optional<std::string> reason;
  Json extra;
  static void describe(Fields<TemplateCandidate>& f);
};

// Extension: the explanation of automatic template selection (engine::selection_to_json).
struct TemplateSelectionStatus {
  std::string outcome;
  std::optional<std::string> chosen;
  std::optional<std::string> chosen_scope;
  std::optional<std::string> summary;
  std::optional<std::vector<TemplateCandidate>> candidates;
  std::optional<int32_t> omitted_candidates;
  Json extra;
  static void describe(Fields<TemplateSelectionStatus>& f);
};

struct AIMServiceStatus {
  std::optional<int64_t> observed_generation;
  std::vector<Condition> conditions;
  std::optional<ResolvedReference> resolved_runtime_config;
  std::optional<ResolvedReference> resolved_model;
  std::optional<std::string> status;
  std::optional<ServiceRoutingStatus> routing;
  std::optional<ResolvedReference> resolved_template;
  std::optional<ServiceCacheStatus> cache;
  std::optional<ServiceRuntimeStatus> runtime;
  std::optional<TemplateSelectionStatus> template_selection;  // extension
  Json extra;
  static void describe(Fields<AIMServiceStatus>& f);
};

inline constexpr std::array<PrinterColumn, 8> kServiceColumns = {{
    {"Status", "string", ".status.status"},
    {"Model", "string", ".status.resolvedModel.name"},
    {"Template", "string", ".status.resolvedTemplate.name"},
    {"Replicas", "string", ".status.runtime.replicas"},
    {"Age", "date", ".metadata.creationTimestamp"},
}};

struct AIMServiceTag {
  using Spec = AIMServiceSpec;
  using Status = AIMServiceStatus;
  static constexpr KindInfo info = {
      kGroup,
      kVersion,
      "AIMService",
      "aimservices",
      "aimservice",
      "AIMServiceList",
      true,
      {"aimsvc"},
      kAimCategories,
      kServiceColumns,
      "AIMService deploys a model as an inference endpoint: it resolves the model (by name, "
      "image or custom sources) and a template (explicit or automatically selected), caches the "
      "model artifacts and runs a KServe InferenceService, optionally behind an HTTPRoute."};
};

using AIMService = Resource<AIMServiceTag>;

}  // namespace aim::api
