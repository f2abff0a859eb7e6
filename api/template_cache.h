// AIMTemplateCache (namespaced): pre-warms every model source of one template into AIMArtifacts
// (api.md §4.4).
#pragma once

#include "api/common.h"
#include "api/resource.h"

namespace aim::api {

struct AIMTemplateCacheSpec {
  std::string template_name;
  std::string template_scope;  // Namespace, Cluster, Unknown
  std::optional<EnvList> env;
  std::optional<std::vector<LocalObjectReference>> image_pull_secrets;
  std::optional<std::string> storage_class_name;
  std::optional<std::string> download_image;
  std::optional<std::vector<ModelSource>> model_sources;
  std::optional<std::string> runtime_config_name;
  std::optional<std::string> mode;
  Json extra;
  static void describe(Fields<AIMTemplateCacheSpec>& f);
};

struct ResolvedArtifact {
  std::string uid;
  std::string name;
  std::string model;
  std::string status;
  std::optional<std::string> persistent_volume_claim;
  std::optional<std::string> mount_point;
  Json extra;
  static void describe(Fields<ResolvedArtifact>& f);
};

struct AIMTemplateCacheStatus {
  std::optional<int64_t> observed_generation;
  std::vector<Condition> conditions;
  std::optional<ResolvedReference> resolved_runtime_config;
  std::optional<std::string> status;
  std::optional<std::string> resolved_template_kind;
  std::optional<std::map<std::string, ResolvedArtifact>> artifacts;
  Json extra;
  static void describe(Fields<AIMTemplateCacheStatus>& f);
};

struct AIMTemplateCacheTag {
  using Spec = AIMTemplateCacheSpec;
  using Status = AIMTemplateCacheStatus;
  static constexpr KindInfo info = {
      kGroup,
      kVersion,
      "AIMTemplateCache",
      "aimtemplatecaches",
      "aimtemplatecache",
      "AIMTemplateCacheList",
      true,
      {"aimtc"},
      kAimCategories,
      {{{"Template", "string", ".spec.templateName"},
        {"Mode", "string", ".spec.mode"},
        {"Status", "string", ".status.status"},
        {"Kind", "string", ".status.resolvedTemplateKind"},
        {"Age", "date", ".metadata.creationTimestamp"}}},
      "AIMTemplateCache downloads every model source of one service template into AIMArtifacts "
      "so services start from a warm cache."};
};

using AIMTemplateCache = Resource<AIMTemplateCacheTag>;

}  // namespace aim::api
