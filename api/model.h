// AIMModel (namespaced) and AIMClusterModel (cluster-scoped): catalogue entries for one AIM
// container image (api.md §4.1). Both kinds share AIMModelSpec / AIMModelStatus.
#pragma once

#include "api/common.h"
#include "api/resource.h"

namespace aim::api {

struct ModelDiscovery {
  std::optional<bool> extract_metadata;
  std::optional<bool> create_service_templates;
  std::optional<bool> create_templates;  // seed 000 spelling; wins when set
  Json extra;
  static void describe(Fields<ModelDiscovery>& f);
};

struct CustomModelSpec {
  std::optional<HardwareRequirements> hardware;
  std::optional<std::string> type;
  Json extra;
  static void describe(Fields<CustomModelSpec>& f);
};

struct TemplateProfile {
  std::optional<std::string> metric;
  std::optional<std::string> precision;
  Json extra;
  static void describe(Fields<TemplateProfile>& f);
};

struct CustomTemplate {
  std::optional<std::string> name;
  std::optional<std::string> type;
  std::optional<EnvList> env;
  std::optional<HardwareRequirements> hardware;
  std::optional<TemplateProfile> profile;
  Json extra;
  static void describe(Fields<CustomTemplate>& f);
};

struct AIMModelSpec {
  std::string image;
  std::optional<ModelDiscovery> discovery;
  std::optional<std::string> default_service_template;
  std::optional<CustomModelSpec> custom;
  std::optional<std::vector<CustomTemplate>> custom_templates;
  std::optional<std::vector<ModelSource>> model_sources;
  std::optional<std::string> runtime_config_name;
  std::optional<std::vector<LocalObjectReference>> image_pull_secrets;
  std::optional<EnvList> env;
  std::optional<std::string> service_account_name;
  std::optional<ResourceRequirements> resources;
  std::optional<ImageMetadata> image_metadata;
  Json extra;
  static void describe(Fields<AIMModelSpec>& f);
};

struct AIMModelStatus {
  std::optional<int64_t> observed_generation;
  std::optional<std::string> status;
  std::vector<Condition> conditions;
  std::optional<ResolvedReference> resolved_runtime_config;
  std::optional<ImageMetadata> image_metadata;
  std::optional<std::string> source_type;
  Json extra;
  static void describe(Fields<AIMModelStatus>& f);
};

inline constexpr std::array<PrinterColumn, 8> kModelColumns = {{
    {"Status", "string", ".status.status"},
    {"Source", "string", ".status.sourceType"},
    {"Image", "string", ".spec.image"},
    {"Model", "string", ".status.imageMetadata.model.canonicalName"},
    {"Age", "date", ".metadata.creationTimestamp"},
}};

struct AIMModelTag {
  using Spec = AIMModelSpec;
  using Status = AIMModelStatus;
  static constexpr KindInfo info = {
      kGroup,
      kVersion,
      "AIMModel",
      "aimmodels",
      "aimmodel",
      "AIMModelList",
      true,
      {"aimmdl"},
      kAimCategories,
      kModelColumns,
      "AIMModel is a namespaced catalogue entry for one AIM container image: the operator reads "
      "the image labels to learn the model and its recommended deployments and generates "
      "AIMServiceTemplates from them."};
};

struct AIMClusterModelTag {
  using Spec = AIMModelSpec;
  using Status = AIMModelStatus;
  static constexpr KindInfo info = {
      kGroup,
      kVersion,
      "AIMClusterModel",
      "aimclustermodels",
      "aimclustermodel",
      "AIMClusterModelList",
      false,
      {"aimclmdl"},
      kAimCategories,
      kModelColumns,
      "AIMClusterModel is the cluster-scoped AIMModel: an organisation-wide catalogue entry that "
      "generates AIMClusterServiceTemplates usable from every namespace."};
};

using AIMModel = Resource<AIMModelTag>;
using AIMClusterModel = Resource<AIMClusterModelTag>;

}  // namespace aim::api
